"""``metrics.json``: the month's KPIs computed from the data, merged with each notebook's figures."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..io import RowLedger
from ..metrics_io import to_jsonable

__all__ = ["METRICS_SCHEMA_VERSION", "assemble_metrics"]

METRICS_SCHEMA_VERSION = 1
_MONTH_KEYS = ("orders", "revenue", "customers_active", "customers_new", "customers_returning",
               "customers_reactivated", "retention_rate_prev_month", "repeat_purchase_rate", "average_order_value")


def assemble_metrics(m: Mapping[str, Any], ledger: RowLedger, period: pd.Period, metrics_dir: Path,
                     has_spend: bool, has_subs: bool, data_path: Path, currency: str = "") -> dict[str, Any]:
    """The contents of ``metrics.json`` (schema in ``docs/metrics.md``): no timestamps, rounded floats."""
    out: dict[str, Any] = {
        "schema_version": METRICS_SCHEMA_VERSION,
        "month": str(period),
        "as_of": str(period.end_time.date()),
        "data_file": data_path.name,
        "rows_read": ledger.rows_read,
        "rows_used": ledger.rows_used,
        "rows_dropped": ledger.dropped,
        "inputs": {"spend_ledger": has_spend, "subscriptions": has_subs},
    }
    if currency:
        out["currency"] = currency
    for key in _MONTH_KEYS:
        out[key] = m[key]
    for key in ("significance", "previous_counts"):
        if key in m:
            out[key] = m[key]
    out["previous_month"] = m["previous"]
    out["change_vs_previous_month"] = m["change"]
    analyses: dict[str, Any] = {}
    for f in sorted(metrics_dir.glob("*.json")):
        analyses[f.stem] = json.loads(f.read_text(encoding="utf-8"))
    out["analyses"] = analyses
    return to_jsonable(out)
