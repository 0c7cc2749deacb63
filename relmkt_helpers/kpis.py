"""Headline monthly KPIs: the numbers at the top of every monthly report.

Definitions (also the ``metrics.json`` schema, see ``docs/metrics.md``):

* An **order** is a row of the canonical frame: a distinct order id, or a
  distinct (customer, day) pair where the data has no order ids.
* A customer is **active** in a month if they placed at least one order in it.
* **New** customers placed their first order ever in the month.
* ``retention_rate_prev_month``: of the customers active in the previous
  calendar month, the share also active in this one.
* ``repeat_purchase_rate``: of all customers acquired up to the end of the
  month, the share with two or more orders up to the end of the month.
* Months are calendar months; an order dated on the last day of a month
  belongs to that month.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataValidationError, ParameterError
from .io import RowLedger, load_transactions

__all__ = ["monthly_summary", "month_metrics", "headline_table", "last_complete_month", "resolve_month", "load_month"]


def monthly_summary(tx: pd.DataFrame, *, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per calendar month, from the first order's month to the month of ``as_of``.

    A thin, report-oriented view of :func:`relmkt_helpers.cohorts.period_kpis`
    with ``period="M"`` (one implementation of the definitions, two names).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (see :func:`relmkt_helpers.load_transactions`).
    as_of : date-like, optional
        Inclusive analysis date; default the last order date. The month holding
        ``as_of`` is partial unless ``as_of`` is its last day: its counts are to
        date and its rates are NaN (a partial month never looks like a drop).

    Returns
    -------
    DataFrame
        Indexed by ``month`` (``Period[M]``) with columns ``complete``, ``orders``,
        ``revenue``, ``customers_active``, ``customers_new``, ``customers_returning``
        (active in the previous month too), ``customers_reactivated`` (back after a
        gap), ``retention_rate_prev_month``, ``repeat_purchase_rate`` and
        ``average_order_value``. A month with no orders has zeros, and a retention
        rate of NaN when the previous month had no active customers.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02", "2024-02-29"]),
    ...     "amount": [10.0, 20.0, 5.0, 5.0], "order_id": ["1", "2", "3", "4"]})
    >>> s = monthly_summary(tx)
    >>> s.loc["2024-02", ["customers_active", "retention_rate_prev_month", "repeat_purchase_rate"]].tolist()
    [1.0, 0.5, 0.5]
    """
    from .cohorts import period_kpis

    if len(tx) == 0:
        raise ParameterError("monthly_summary: the transaction frame is empty.")
    k = period_kpis(tx, period="M", as_of=as_of, include_partial=True)
    orders = k["orders"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        aov = np.where(orders > 0, k["revenue"].to_numpy() / np.maximum(orders, 1), np.nan)
    out = pd.DataFrame({
        "complete": k["complete"],
        "orders": k["orders"],
        "revenue": k["revenue"],
        "customers_active": k["active"],
        "customers_new": k["new"],
        "customers_returning": k["returning"],
        "customers_reactivated": k["reactivated"],
        "retention_rate_prev_month": k["retention_rate"],
        "repeat_purchase_rate": k["repeat_purchase_rate"],
        "average_order_value": aov,
    }, index=k.index)
    out.index.name = "month"
    return out


def last_complete_month(last_date: pd.Timestamp | str) -> pd.Period:
    """The last calendar month that ends on or before ``last_date``.

    Data whose last order is on 31 December covers December; data that ends on
    15 December covers November completely.

    Examples
    --------
    >>> str(last_complete_month("2025-12-31")), str(last_complete_month("2025-12-15"))
    ('2025-12', '2025-11')
    """
    ts = pd.Timestamp(last_date)
    month = ts.to_period("M")
    return month if ts.normalize() == month.end_time.normalize() else month - 1


def month_metrics(tx: pd.DataFrame, month: str | pd.Period) -> dict[str, float | int | str | None]:
    """The headline KPIs of one month, with the previous month's values and the change.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions, typically cut at the month's end.
    month : str or Period
        ``"YYYY-MM"``.

    Returns
    -------
    dict
        ``month``, ``orders``, ``revenue``, ``customers_active``, ``customers_new``,
        ``retention_rate_prev_month``, ``repeat_purchase_rate``, ``average_order_value``
        and ``previous`` (the same for the month before, or None) and ``change``
        (relative change for counts and revenue, difference in points for rates).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02"]),
    ...     "amount": [10.0, 20.0, 5.0], "order_id": ["1", "2", "3"]})
    >>> m = month_metrics(tx, "2024-02")
    >>> m["customers_active"], m["retention_rate_prev_month"], m["change"]["customers_active"]
    (1, 0.5, -0.5)
    """
    period = pd.Period(month, "M")
    first = tx["order_date"].min().to_period("M") if len(tx) else None
    if first is None or period < first or period > tx["order_date"].max().to_period("M"):
        last = tx["order_date"].max().to_period("M") if len(tx) else None
        raise ParameterError(
            f"month {period} is outside the data ({first} .. {last}). Choose a month in that range."
        )
    summary = monthly_summary(tx, as_of=period.end_time.normalize()).drop(columns="complete")
    if period not in summary.index:
        raise ParameterError(
            f"month {period} is outside the data ({summary.index[0]} .. {summary.index[-1]}). "
            "Choose a month in that range."
        )

    def row(p: pd.Period) -> dict | None:
        if p not in summary.index:
            return None
        r = summary.loc[p]
        out = {c: (int(r[c]) if c.startswith(("orders", "customers")) else _f(r[c])) for c in summary.columns}
        out["month"] = str(p)
        return out

    cur, prev = row(period), row(period - 1)
    change: dict[str, float | None] = {}
    for key in summary.columns:
        if prev is None or cur[key] is None or prev[key] is None:
            change[key] = None
        elif key.endswith("_rate") or key.startswith("retention"):
            change[key] = _f(cur[key] - prev[key])  # points
        else:
            change[key] = _f((cur[key] - prev[key]) / prev[key]) if prev[key] else None
    cur["previous"] = prev
    cur["change"] = change
    return cur


def _f(x: float) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else x


def resolve_month(month: str | None, first_date: str, last_date: str) -> pd.Period:
    """Check a requested month against the data, or default to the last complete month.

    Examples
    --------
    >>> str(resolve_month(None, "2024-01-03", "2025-12-15"))
    '2025-11'
    >>> resolve_month("2027-01", "2024-01-03", "2025-12-31")
    Traceback (most recent call last):
    ...
    relmkt_helpers.errors.ParameterError: month 2027-01 is outside the data, which covers 2024-01 .. 2025-12 (complete months up to 2025-12). Pass --month YYYY-MM within that range.
    """
    first = pd.Timestamp(first_date).to_period("M")
    last_complete = last_complete_month(last_date)
    if month is None:
        if last_complete < first:
            raise ParameterError(
                f"the data ({first_date} .. {last_date}) holds no complete calendar month. "
                "Pass --month YYYY-MM to report a partial month."
            )
        return last_complete
    try:
        period = pd.Period(str(month), "M")
        if not re.fullmatch(r"\d{4}-\d{2}", str(month)):
            raise ValueError
    except ValueError:
        raise ParameterError(f"month {month!r} is not of the form YYYY-MM (e.g. 2024-03).") from None
    last_month = pd.Timestamp(last_date).to_period("M")
    if period < first or period > last_month:
        raise ParameterError(
            f"month {period} is outside the data, which covers {first} .. {last_month} "
            f"(complete months up to {last_complete}). Pass --month YYYY-MM within that range."
        )
    return period


def load_month(source: str | Path | pd.DataFrame, month: str | None = None,
               **load_kwargs: Any) -> tuple[pd.DataFrame, RowLedger, pd.Period]:
    """Load transactions for a monthly analysis: everything up to the month's last day.

    Parameters
    ----------
    source : path or DataFrame
        As for :func:`relmkt_helpers.load_transactions`.
    month : str, optional
        ``YYYY-MM``; ``None`` or ``""`` means the last complete month in the data.
    **load_kwargs
        Passed to :func:`relmkt_helpers.load_transactions` (column mapping, policies).
        An ``order_col`` of ``""`` means "none".

    Returns
    -------
    (transactions, ledger, month)
        Orders up to and including the month's last day (later rows are counted in
        the ledger as dropped), and the month as a ``Period``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": ["2024-01-03", "2024-02-10", "2024-03-02"], "amount": [1.0, 2.0, 3.0]})
    >>> tx, ledger, month = load_month(raw)
    >>> str(month), len(tx), ledger.dropped
    ('2024-02', 2, {'dated after as_of 2024-02-29': 1})
    """
    if load_kwargs.get("order_col") == "":
        load_kwargs["order_col"] = None
    load_kwargs.pop("as_of", None)
    load_kwargs.pop("after_as_of", None)
    if month:
        # One pass: cut at the month's end, then check the month against what was read.
        period = pd.Period(str(month), "M") if re.fullmatch(r"\d{4}-\d{2}", str(month)) else None
        if period is None:
            resolve_month(str(month), "2000-01-01", "2000-01-31")  # raises the format error
        try:
            tx, ledger = load_transactions(source, **load_kwargs, as_of=period.end_time.normalize(),
                                           after_as_of="drop")
        except DataValidationError as exc:
            if "no orders remain" not in str(exc):
                raise
            _, full = load_transactions(source, **load_kwargs)
            resolve_month(str(month), full.first_date, full.last_date)  # raises "outside the data"
            raise
        later = any(reason.startswith("dated after as_of") for reason in ledger.dropped)
        last_seen = str(period.end_time.date()) if later else ledger.last_date
        resolve_month(str(month), ledger.first_date, last_seen)
        return tx, ledger, period
    tx, ledger = load_transactions(source, **load_kwargs)
    period = resolve_month(None, ledger.first_date, ledger.last_date)
    if pd.Timestamp(ledger.last_date) > period.end_time:
        tx, ledger = load_transactions(source, **load_kwargs, as_of=period.end_time.normalize(),
                                       after_as_of="drop")
    return tx, ledger, period


_HEADLINE_ROWS = (
    ("customers_active", "Active customers"),
    ("customers_new", "New customers"),
    ("orders", "Orders"),
    ("revenue", "Revenue"),
    ("average_order_value", "Average order value"),
    ("retention_rate_prev_month", "Retention vs previous month"),
    ("repeat_purchase_rate", "Repeat-purchase rate"),
)


def headline_table(metrics: dict[str, Any]) -> pd.DataFrame:
    """The output of :func:`month_metrics` as a readable table: this month, last month, change.

    Changes are relative (%) for counts and money, and in percentage points for rates.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02"]),
    ...     "amount": [10.0, 20.0, 5.0], "order_id": ["1", "2", "3"]})
    >>> headline_table(month_metrics(tx, "2024-02")).loc["Active customers", "change"]
    '-50.0%'
    """
    prev = metrics.get("previous") or {}
    rows = []
    for key, label in _HEADLINE_ROWS:
        change = metrics["change"].get(key)
        if change is None:
            text = "n/a"
        elif key.endswith("rate") or key.startswith("retention"):
            text = f"{100 * change:+.1f} pts"
        else:
            text = f"{100 * change:+.1f}%"
        rows.append((label, metrics.get(key), prev.get(key), text))
    out = pd.DataFrame(rows, columns=["kpi", metrics["month"], prev.get("month", "previous"), "change"])
    return out.set_index("kpi")
