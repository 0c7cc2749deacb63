"""relmkt_helpers: the package behind the relmkt notebooks.

Flat public API: everything an analyst calls is importable from here.
"""
from __future__ import annotations

from .errors import ConvergenceError, DataValidationError, ParameterError, RelmktError, ReportError
from .churn import ChurnResult, churn_analysis, churn_features, churn_labels, choose_scorer
from .clv import (
    CLVResult,
    ModelChoice,
    RepeatPurchaseModel,
    SpendModel,
    calibration_holdout,
    choose_model,
    clv_analysis,
    compare_models,
    customer_value,
    rfm_summary,
)
from .cohort_result import CohortResult, cohort_analysis, yearly_retention
from .cohorts import (
    CohortMatrix,
    assign_cohorts,
    average_curve,
    latest_cohorts_start,
    period_kpis,
    realised_ltv_matrix,
    retention_matrix,
    segment_comparison,
)
from .contractual import SBGModel, contractual_churn, fit_sbg, kaplan_meier, median_survival
from .datasets import (
    SampleShop,
    ShopParams,
    generate_sample_shop,
    load_cdnow,
    load_sample_shop,
    write_sample_shop,
)
from .economics import (
    Assumptions,
    EconomicsResult,
    breakeven_retention_spend,
    cac_by_channel,
    cac_by_month,
    claims_table,
    clv_constant_retention,
    economics_analysis,
    profit_uplift_simulation,
    retention_costs,
)
from .io import (
    LoadedTransactions,
    RowLedger,
    is_canonical,
    load_spend,
    load_subscriptions,
    load_transactions,
    open_transactions,
    read_table,
    save_canonical,
)
from .display import METRICS, fmt_value, table
from .kpis import headline_table, load_month, month_metrics, monthly_summary
from .metrics_io import save_metrics, save_table
from .rfm import SEGMENTS, dropped_off, rfm_table, segment_summary, vip_list

__version__ = "0.1.0"

__all__ = [
    "METRICS",
    "fmt_value",
    "table",
    "ConvergenceError",
    "DataValidationError",
    "ParameterError",
    "RelmktError",
    "ReportError",
    "LoadedTransactions",
    "RowLedger",
    "load_transactions",
    "open_transactions",
    "load_spend",
    "load_subscriptions",
    "read_table",
    "save_canonical",
    "is_canonical",
    "SampleShop",
    "ShopParams",
    "generate_sample_shop",
    "write_sample_shop",
    "load_sample_shop",
    "load_cdnow",
    "CohortMatrix",
    "CohortResult",
    "cohort_analysis",
    "yearly_retention",
    "assign_cohorts",
    "retention_matrix",
    "realised_ltv_matrix",
    "average_curve",
    "latest_cohorts_start",
    "segment_comparison",
    "period_kpis",
    "monthly_summary",
    "month_metrics",
    "headline_table",
    "load_month",
    "save_metrics",
    "save_table",
    "SEGMENTS",
    "rfm_table",
    "segment_summary",
    "vip_list",
    "dropped_off",
    "rfm_summary",
    "calibration_holdout",
    "RepeatPurchaseModel",
    "SpendModel",
    "compare_models",
    "customer_value",
    "clv_analysis",
    "CLVResult",
    "choose_model",
    "ModelChoice",
    "choose_scorer",
    "churn_analysis",
    "ChurnResult",
    "churn_features",
    "churn_labels",
    "SBGModel",
    "fit_sbg",
    "kaplan_meier",
    "median_survival",
    "contractual_churn",
    "Assumptions",
    "EconomicsResult",
    "economics_analysis",
    "claims_table",
    "clv_constant_retention",
    "breakeven_retention_spend",
    "profit_uplift_simulation",
    "cac_by_month",
    "cac_by_channel",
    "retention_costs",
]
