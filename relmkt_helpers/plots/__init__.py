"""Plot helpers: ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``.

Every helper draws on the Axes it is given (or a new one) with ``ax.set_*``
and never touches global ``plt`` state, so notebooks stay "compute, then plot"
and tests can draw headlessly.
"""
from __future__ import annotations

from ._common import PALETTE, format_axis_percent, get_ax
from .cohorts import (
    plot_kpi_trends,
    plot_ltv_curves,
    plot_retention_curves,
    plot_retention_heatmap,
    plot_revenue_retention,
    plot_segment_comparison,
)
from .churn import (
    plot_calibration_curve,
    plot_churn_distribution,
    plot_gains,
    plot_lift,
    plot_permutation_importance,
    plot_roc_curves,
)
from .clv import (
    plot_calibration_holdout,
    plot_cumulative_tracking,
    plot_frequency_recency_matrix,
    plot_incremental_tracking,
    plot_probability_alive_matrix,
    plot_repeat_purchase_distribution,
)
from .contractual import plot_km, plot_retention_rate, plot_sbg_fit, plot_value_by_tenure
from .economics import (
    plot_cac_over_time,
    plot_cost_comparison,
    plot_payback_curves,
    plot_profit_uplift,
    plot_profit_uplift_grid,
    plot_sensitivity_heatmap,
    plot_subscription_retention,
)
from .overview import plot_customer_mix, plot_monthly_rates, plot_monthly_revenue
from .rfm import plot_rf_grid, plot_segment_shares, plot_segment_summary

__all__ = [
    "get_ax",
    "PALETTE",
    "format_axis_percent",
    "plot_retention_heatmap",
    "plot_retention_curves",
    "plot_revenue_retention",
    "plot_ltv_curves",
    "plot_segment_comparison",
    "plot_kpi_trends",
    "plot_customer_mix",
    "plot_monthly_revenue",
    "plot_monthly_rates",
    "plot_repeat_purchase_distribution",
    "plot_calibration_holdout",
    "plot_cumulative_tracking",
    "plot_incremental_tracking",
    "plot_probability_alive_matrix",
    "plot_frequency_recency_matrix",
    "plot_cac_over_time",
    "plot_cost_comparison",
    "plot_payback_curves",
    "plot_profit_uplift",
    "plot_profit_uplift_grid",
    "plot_sensitivity_heatmap",
    "plot_subscription_retention",
    "plot_rf_grid",
    "plot_segment_summary",
    "plot_segment_shares",
    "plot_roc_curves",
    "plot_calibration_curve",
    "plot_lift",
    "plot_gains",
    "plot_permutation_importance",
    "plot_churn_distribution",
    "plot_sbg_fit",
    "plot_retention_rate",
    "plot_km",
    "plot_value_by_tenure",
]
