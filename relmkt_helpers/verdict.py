"""The index page's verdict: the report's questions answered in sentences, with their numbers.

Two parts:

* :func:`month_noise`: is this month's change larger than month-to-month noise? Each headline
  KPI gets a 95% interval for its change under "nothing changed but chance": a two-proportion
  normal interval for rates (retention, repeat purchase), a Poisson one for counts (customers,
  orders), a compound-Poisson one for revenue (the variance of a sum of orders is the sum of
  squared order values) and the standard error of a mean for the average order value.
* :func:`verdict`: one sentence per question (retention, churn, value, acquisition against
  retention), built from ``metrics.json``: its number, its change against the previous month and
  whether that change is beyond noise. A figure that was assumed rather than measured is never
  stated as a finding; without a spend ledger the sentence says what it would need.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .display import fmt_change, fmt_value

__all__ = ["month_noise", "noise_from_table", "verdict", "Z95"]

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def _month_stats(table: pd.DataFrame, period: pd.Period) -> dict[str, float]:
    if period not in table.index:
        return {}
    row = table.loc[period]
    prev = table.loc[period - 1] if (period - 1) in table.index else None
    n, total, squares = float(row["orders"]), float(row["revenue"]), float(row["revenue_sq"])
    new_cum = table["customers_new"].cumsum()
    return {
        "orders": n, "customers_active": float(row["customers_active"]),
        "customers_new": float(row["customers_new"]), "revenue": total, "revenue_sq": squares,
        # the sample variance of the month's order values, from their sum and sum of squares
        "aov_var": max(squares - total * total / n, 0.0) / (n - 1) if n > 1 else float("nan"),
        "retention_rate_prev_month": float(row["retention_rate_prev_month"]),
        "retention_n": float(prev["customers_active"]) if prev is not None else float("nan"),
        "repeat_purchase_rate": float(row["repeat_purchase_rate"]), "repeat_n": float(new_cum.loc[period]),
        "average_order_value": float(row["average_order_value"]),
    }


def month_noise(tx: pd.DataFrame, month: str | pd.Period) -> dict[str, dict[str, Any]]:
    """How large a change against the previous month chance alone would make, per headline KPI.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions, cut at the month's end.
    month : str or Period

    Returns
    -------
    dict
        KPI -> ``{"change", "noise", "significant"}``: the change (points for rates, relative
        for the rest, as in :func:`relmkt_helpers.kpis.month_metrics`), the half-width of its 95%
        interval under no real change (same units), and whether the change is outside it.
        ``{}`` when there is no previous month.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.to_datetime(["2024-01-05"] * 100 + ["2024-02-05"] * 130)
    >>> tx = pd.DataFrame({"customer_id": [f"c{i}" for i in range(230)], "order_date": days,
    ...                    "amount": 10.0, "order_id": [str(i) for i in range(230)]})
    >>> n = month_noise(tx, "2024-02")["orders"]
    >>> round(n["change"], 2), round(n["noise"], 3), n["significant"]
    (0.3, 0.297, True)
    """
    from .kpis import month_table

    period = pd.Period(month, "M")
    if not len(tx) or (period - 1).end_time.normalize() < tx["order_date"].min():
        return {}  # no month before this one in the data
    # one table serves both months: a month's figures do not depend on later orders
    return noise_from_table(month_table(tx, as_of=period.end_time.normalize()), period)


def noise_from_table(table: pd.DataFrame, month: str | pd.Period) -> dict[str, dict[str, Any]]:
    """:func:`month_noise` from a :func:`relmkt_helpers.kpis.month_table` that runs to the month's end.

    Examples
    --------
    >>> import pandas as pd
    >>> from relmkt_helpers.kpis import month_table
    >>> tx = pd.DataFrame({"customer_id": [f"c{i}" for i in range(230)], "amount": 10.0,
    ...                    "order_date": pd.to_datetime(["2024-01-05"] * 100 + ["2024-02-05"] * 130)})
    >>> noise_from_table(month_table(tx, as_of="2024-02-29"), "2024-02")["orders"]["significant"]
    True
    """
    period = pd.Period(month, "M")
    cur, prev = _month_stats(table, period), _month_stats(table, period - 1)
    if not cur or not prev:
        return {}
    out: dict[str, dict[str, Any]] = {}

    def add(key: str, change: float, noise: float) -> None:
        if math.isfinite(change) and math.isfinite(noise):
            out[key] = {"change": change, "noise": noise, "significant": bool(abs(change) > noise)}

    for key in ("orders", "customers_active", "customers_new"):
        a, b = prev[key], cur[key]
        if a > 0:  # Poisson counts: var(b - a) = a + b under no change; relative to a
            add(key, (b - a) / a, Z95 * math.sqrt(a + b) / a)
    if prev["revenue"] > 0:  # compound Poisson: var(sum of orders) = sum of squared order values
        add("revenue", (cur["revenue"] - prev["revenue"]) / prev["revenue"],
            Z95 * math.sqrt(cur["revenue_sq"] + prev["revenue_sq"]) / prev["revenue"])
    if prev["average_order_value"] > 0 and prev["orders"] > 1 and cur["orders"] > 1:
        se = math.sqrt(cur["aov_var"] / cur["orders"] + prev["aov_var"] / prev["orders"])
        add("average_order_value", (cur["average_order_value"] - prev["average_order_value"])
            / prev["average_order_value"], Z95 * se / prev["average_order_value"])
    for key, n in (("retention_rate_prev_month", "retention_n"), ("repeat_purchase_rate", "repeat_n")):
        p1, p0, n1, n0 = cur[key], prev[key], cur[n], prev[n]
        if all(math.isfinite(v) for v in (p1, p0, n1, n0)) and n1 > 0 and n0 > 0:
            pooled = (p1 * n1 + p0 * n0) / (n1 + n0)
            add(key, p1 - p0, Z95 * math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0)))
    return out


def _change_clause(key: str, kind: str, metrics: Mapping[str, Any]) -> str:
    change = metrics.get("change_vs_previous_month", {}).get(key)
    if change is None:
        return ""
    noise = metrics.get("significance", {}).get(key)
    text = fmt_change(change, kind)
    if noise is None:
        return f" ({text} on the month before)"
    band = fmt_value(noise["noise"], "pts" if kind == "pct" else "change").lstrip("+")
    judged = "more than month-to-month noise" if noise["significant"] else "within month-to-month noise"
    return f" ({text} on the month before, {judged} of ±{band})"


#: Reader's names of the models the analyses may choose (their code names in metrics.json).
MODEL_NAMES = {"bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "mbgnbd": "MBG/NBD", "hgb": "gradient boosting",
               "logistic": "logistic regression", "probabilistic": "the repeat-purchase model"}


def _model(code: Any) -> str:
    return MODEL_NAMES.get(str(code).lower(), str(code))


def _find(metrics: Mapping[str, Any], key: str) -> Any:
    for found in metrics.get("analyses", {}).values():
        if isinstance(found, Mapping) and found.get(key) is not None:
            return found[key]
    return None


def verdict(metrics: Mapping[str, Any], currency: str | None = None) -> list[dict[str, str]]:
    """The report's four questions answered in sentences from ``metrics.json``.

    Returns
    -------
    list of dict
        ``{"question", "answer"}`` for retention, churn, value and acquisition against retention,
        in that order; a question the inputs cannot answer says what is missing.

    Examples
    --------
    >>> m = {"customers_active": 2794, "retention_rate_prev_month": 0.161,
    ...      "change_vs_previous_month": {"retention_rate_prev_month": 0.012},
    ...      "significance": {"retention_rate_prev_month": {"noise": 0.02, "significant": False}},
    ...      "previous_month": {"customers_active": 2588}, "analyses": {}}
    >>> verdict(m)[0]["answer"]  # doctest: +NORMALIZE_WHITESPACE
    'Of the 2,588 customers who bought last month, 16.1% bought again this month (+1.2 pts on the month
    before, within month-to-month noise of ±2.0 pts).'
    """
    out = []
    prev_active = (metrics.get("previous_month") or {}).get("customers_active")
    rate = metrics.get("retention_rate_prev_month")
    if rate is not None and prev_active:
        text = (f"Of the {fmt_value(prev_active, 'int')} customers who bought last month, {fmt_value(rate, 'pct')} "
                f"bought again this month{_change_clause('retention_rate_prev_month', 'pct', metrics)}.")
        yearly = _find(metrics, "retention_period_12")
        if yearly is not None:
            text += f" After 12 months, {fmt_value(yearly, 'pct')} of a typical cohort is still buying."
    else:
        text = "There is no previous month in the data to measure retention against."
    out.append({"question": "Are we keeping our customers?", "answer": text})

    at_risk = _find(metrics, "churn_expected_value_lost")
    chosen = _find(metrics, "churn_model_chosen")
    auc = _find(metrics, "churn_roc_auc_chosen")
    if at_risk is not None:
        text = (f"The customers most likely to leave hold {fmt_value(at_risk, 'money', currency=currency)} of "
                "expected value at risk")
        if chosen:
            text += f", ranked by {_model(chosen)}" + (f" (ROC AUC {fmt_value(auc, 'num')} in the backtest)" if auc else "")
        text += "; the retention priority list names them."
    else:
        text = "The churn analysis did not run on these inputs."
    out.append({"question": "Who is about to leave?", "answer": text})

    mean_clv = _find(metrics, "mean_clv")
    if mean_clv is not None:
        text = f"A customer is worth {fmt_value(mean_clv, 'money', currency=currency)} in margin over the next 12 months on average"
        share = _find(metrics, "vip_value_share")
        if share is not None:
            text += f", and the top 10% hold {fmt_value(share, 'pct')} of that value"
        model = _find(metrics, "clv_model_chosen")
        text += (f" (valued with {_model(model)})." if model else ".")
    else:
        text = "Customer value was not computed on these inputs."
    out.append({"question": "What is each customer worth?", "answer": text})

    econ = _find(metrics, "retention_verdict")
    if not econ:
        econ = ("Not measured: this needs a marketing-spend ledger (a CSV with month, channel, kind and spend, kind "
                "being acquisition or retention), passed with --spend.")
    out.append({"question": "Does retention pay better than acquisition here?", "answer": str(econ)})
    return out
