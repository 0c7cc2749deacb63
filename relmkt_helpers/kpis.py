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
from typing import Any, Callable

import numpy as np
import pandas as pd

from .errors import DataValidationError, ParameterError
from .io import RowLedger, load_transactions

__all__ = ["monthly_summary", "month_metrics", "month_table", "summary_from_counts", "metrics_from_table",
           "save_month_table", "read_month_table", "cut_at_month", "load_month_table", "headline_table", "last_complete_month", "resolve_month", "load_month",
           "parse_month"]


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


def month_table(tx: pd.DataFrame, *, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """:func:`monthly_summary` with ``revenue_sq``, the sum of the month's squared order values.

    Everything the headline (:func:`metrics_from_table`) and its noise intervals
    (:func:`relmkt_helpers.verdict.noise_from_table`) need: ``relmkt report`` computes it once,
    from the validated data and with whichever engine read them, and hands it to the
    overview notebook (:func:`save_month_table`).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [3.0, 4.0, 1.0],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02"])})
    >>> month_table(tx, as_of="2024-02-29")["revenue_sq"].tolist()
    [25.0, 1.0]
    """
    table = monthly_summary(tx, as_of=as_of)
    codes = pd.PeriodIndex(tx["order_date"], freq="M").asi8 - table.index[0].ordinal
    keep = codes < len(table)
    amount = tx["amount"].to_numpy(dtype="float64")[keep]
    table["revenue_sq"] = np.bincount(codes[keep], weights=amount * amount, minlength=len(table))
    return table


def summary_from_counts(counts: pd.DataFrame, *, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """:func:`month_table` from per-month counts, as an engine computes them.

    Parameters
    ----------
    counts : DataFrame
        Indexed by ``Period[M]``, one row per month with orders, with columns ``orders``,
        ``revenue``, ``revenue_sq``, ``customers_active``, ``customers_new``,
        ``customers_returning``, ``customers_reactivated`` and ``repeaters`` (customers whose
        second order falls in the month).
    as_of : date-like
        The analysis date: the table runs from the first month to ``as_of``'s month, which is
        complete only if ``as_of`` is its last day.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"orders": [2, 1], "revenue": [30.0, 5.0], "revenue_sq": [500.0, 25.0],
    ...     "customers_active": [2, 1], "customers_new": [2, 0], "customers_returning": [0, 1],
    ...     "customers_reactivated": [0, 0], "repeaters": [0, 1]},
    ...     index=pd.PeriodIndex(["2024-01", "2024-03"], freq="M"))
    >>> t = summary_from_counts(counts, as_of="2024-03-31")
    >>> t["orders"].tolist(), t["repeat_purchase_rate"].round(2).tolist()
    ([2, 0, 1], [0.0, 0.0, 0.5])
    """
    end = pd.Timestamp(as_of).normalize()
    last = end.to_period("M")
    months = pd.period_range(counts.index.min(), last, freq="M", name="month")
    c = counts.reindex(months, fill_value=0)
    complete = months <= (last if end == last.end_time.normalize() else last - 1)
    n = {k: c[k].to_numpy(dtype="int64") for k in ("orders", "customers_active", "customers_new",
                                                   "customers_returning", "customers_reactivated", "repeaters")}
    revenue = c["revenue"].to_numpy(dtype="float64")
    prev_active = np.concatenate([[0], n["customers_active"][:-1]])
    to_date = np.cumsum(n["customers_new"])
    with np.errstate(invalid="ignore", divide="ignore"):
        retention = np.where(prev_active > 0, n["customers_returning"] / np.maximum(prev_active, 1), np.nan)
        repeat = np.where(to_date > 0, np.cumsum(n["repeaters"]) / np.maximum(to_date, 1), np.nan)
        aov = np.where(n["orders"] > 0, revenue / np.maximum(n["orders"], 1), np.nan)
    return pd.DataFrame({
        "complete": complete, "orders": n["orders"], "revenue": revenue,
        "customers_active": n["customers_active"], "customers_new": n["customers_new"],
        "customers_returning": n["customers_returning"], "customers_reactivated": n["customers_reactivated"],
        "retention_rate_prev_month": np.where(complete, retention, np.nan),
        "repeat_purchase_rate": np.where(complete, repeat, np.nan), "average_order_value": aov,
        "revenue_sq": c["revenue_sq"].to_numpy(dtype="float64"),
    }, index=months)


def save_month_table(table: pd.DataFrame, ledger: RowLedger, path: str | Path) -> Path:
    """Write a :func:`month_table` and the data's row ledger to one Parquet file (see :func:`read_month_table`).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> tx, ledger = load_transactions(pd.DataFrame({"customer_id": ["a", "b"], "amount": [3.0, 4.0],
    ...     "order_date": ["2024-01-03", "2024-02-01"]}))
    >>> path = save_month_table(month_table(tx), ledger, tempfile.mkdtemp() + "/monthly.parquet")
    >>> table, led = read_month_table(path)
    >>> table.index.astype(str).tolist(), led.customers
    (['2024-01', '2024-02'], 2)
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = table.reset_index()
    frame["month"] = frame["month"].astype(str)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    meta = {**(arrow.schema.metadata or {}), _TABLE_KEY: json.dumps({"ledger": ledger.to_dict()}).encode()}
    pq.write_table(arrow.replace_schema_metadata(meta), path)
    return Path(path)


def read_month_table(path: str | Path) -> tuple[pd.DataFrame, RowLedger]:
    """The table and ledger :func:`save_month_table` wrote (its example reads one back)."""
    import json

    import pyarrow.parquet as pq

    arrow = pq.read_table(path)
    d = json.loads(arrow.schema.metadata[_TABLE_KEY])["ledger"]
    table = arrow.to_pandas()
    table.index = pd.PeriodIndex(table.pop("month"), freq="M", name="month")
    ledger = RowLedger.from_dict(d, loaded_from="report runner")
    return table, ledger


_TABLE_KEY = b"relmkt.month_table"


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
    return metrics_from_table(month_table(tx, as_of=period.end_time.normalize()), period)


def metrics_from_table(table: pd.DataFrame, month: str | pd.Period) -> dict[str, float | int | str | None]:
    """:func:`month_metrics` from a :func:`month_table` that runs to the month's end.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 20.0, 5.0],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02"])})
    >>> metrics_from_table(month_table(tx, as_of="2024-02-29"), "2024-02")["retention_rate_prev_month"]
    0.5
    """
    period = pd.Period(month, "M")
    summary = table.drop(columns=["complete", "revenue_sq"], errors="ignore")
    with_orders = summary.index[summary["orders"].to_numpy() > 0]
    if not len(with_orders) or period < with_orders[0] or period > with_orders[-1]:
        span = f"{with_orders[0]} .. {with_orders[-1]}" if len(with_orders) else "no orders"
        raise ParameterError(f"month {period} is outside the data ({span}). Choose a month in that range.")

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


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def parse_month(text: Any, option: str = "--month") -> pd.Period:
    """A ``YYYY-MM`` month, or a :class:`ParameterError` naming the option.

    Examples
    --------
    >>> str(parse_month("2024-03"))
    '2024-03'
    >>> parse_month("2024-13")
    Traceback (most recent call last):
    ...
    relmkt_helpers.errors.ParameterError: --month '2024-13' is not a month: use YYYY-MM with a month from 01 to 12 (e.g. 2024-03).
    """
    value = str(text).strip()
    if not re.fullmatch(r"\d{4}-\d{2}", value):
        raise ParameterError(f"{option} {text!r} is not of the form YYYY-MM (e.g. 2024-03).")
    if not _MONTH.fullmatch(value):
        raise ParameterError(f"{option} {text!r} is not a month: use YYYY-MM with a month from 01 to 12 (e.g. 2024-03).")
    return pd.Period(value, "M")


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
    period = parse_month(month, "month")
    last_month = pd.Timestamp(last_date).to_period("M")
    if period < first or period > last_month:
        raise ParameterError(
            f"month {period} is outside the data, which covers {first} .. {last_month} "
            f"(complete months up to {last_complete}). Pass --month YYYY-MM within that range."
        )
    return period


#: Orders after a gap of more than this many empty months, and few of them, look like typos (2205 for 2025).
_OUTLIER_GAP_MONTHS = 6
_OUTLIER_SHARE = 0.01


def _late_cut(orders_per_month: pd.Series) -> int | None:
    """The month (ordinal) the bulk of the data ends in, when only a few orders come after a long gap."""
    present = orders_per_month.index.to_numpy(dtype="int64")
    if present.size < 2:
        return None
    big = np.nonzero(np.diff(present) > _OUTLIER_GAP_MONTHS)[0]
    if not big.size:
        return None
    cut = int(present[big[-1]])  # the last month before the last big gap
    n_late, total = int(orders_per_month[present > cut].sum()), int(orders_per_month.sum())
    if n_late > max(_OUTLIER_SHARE * total, 1) and n_late > 100:
        return None
    return cut


def _raise_late(ledger: RowLedger, cut: int, first_late: pd.DataFrame, n_late: int) -> None:
    bulk_end = pd.Period(ordinal=int(cut), freq="M")
    shown = "; ".join(f"order {r.order_id!r} of customer {r.customer_id!r} dated {r.order_date.date()}"
                      for r in first_late.head(5).itertuples())
    more = f"; and {n_late - 5:,} more" if n_late > 5 else ""
    last_day = bulk_end.end_time.date()
    raise DataValidationError(
        f"{ledger.source}: the data runs to {ledger.last_date}, but only because of {n_late:,} order(s) dated "
        f"long after the rest, which ends in {bulk_end}: {shown}{more}. These look like typos in the date column "
        f"(2205 for 2025). Fix them at the source, or leave them out with --as-of {last_day} "
        f"(as_of='{last_day}'), or pass --month YYYY-MM."
    )


def _check_late_outliers(tx: pd.DataFrame, ledger: RowLedger) -> None:
    """Raise if the last month is set by a few orders dated long after the rest of the data."""
    ordinals = pd.PeriodIndex(tx["order_date"].dt.to_period("M")).asi8
    cut = _late_cut(pd.Series(ordinals).value_counts().sort_index())
    if cut is not None:
        late = tx[ordinals > cut]
        _raise_late(ledger, cut, late.head(5), len(late))


def load_month(source: str | Path | pd.DataFrame, month: str | None = None, *,
               as_of: str | pd.Timestamp | None = None, **load_kwargs: Any) -> tuple[pd.DataFrame, RowLedger, pd.Period]:
    """Load transactions for a monthly analysis: everything up to the month's last day.

    Parameters
    ----------
    source : path or DataFrame
        As for :func:`relmkt_helpers.load_transactions`.
    month : str, optional
        ``YYYY-MM``; ``None`` or ``""`` means the last complete month in the data (up to
        ``as_of``). Without a month, a last month set only by a few orders dated long after
        the rest of the data (a typo such as 2205) is an error naming those orders.
    as_of : date-like, optional
        Leave out rows after this date (counted in the ledger); the month must end by then.
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
    load_kwargs.pop("after_as_of", None)
    loaded, period = cut_at_month(lambda **cut: load_transactions(source, **load_kwargs, **cut), month, as_of=as_of,
                                  check_late=lambda got: _check_late_outliers(*got))
    return loaded.transactions, loaded.ledger, period


def load_month_table(source: str | Path | pd.DataFrame, month: str | None = None, *, prepared_monthly: str = "",
                     as_of: str | pd.Timestamp | None = None, **load_kwargs: Any
                     ) -> tuple[pd.DataFrame, RowLedger, pd.Period]:
    """The monthly KPI table up to the report month's end, its row ledger and the month.

    Inside ``relmkt report`` the runner has computed the table once (``prepared_monthly``, see
    :func:`save_month_table`) and this only reads it. Run on its own, it loads ``source`` as
    :func:`load_month` does and computes :func:`month_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": ["2024-01-03", "2024-02-10", "2024-03-02"], "amount": [1.0, 2.0, 3.0]})
    >>> table, ledger, month = load_month_table(raw)
    >>> str(month), table["orders"].tolist(), bool(table["complete"].iloc[-1])
    ('2024-02', [1, 1], True)
    """
    if prepared_monthly and Path(prepared_monthly).is_file():
        table, ledger = read_month_table(prepared_monthly)
        period = parse_month(month, "--month") if month else table.index[-1]
        return table.loc[:period], ledger, period
    tx, ledger, period = load_month(source, month, as_of=as_of, **load_kwargs)
    return month_table(tx, as_of=period.end_time.normalize()), ledger, period


def cut_at_month(load: Callable[..., Any], month: str | None, *, as_of: Any = None,
                 check_late: Callable[[Any], None] | None = None) -> tuple[Any, pd.Period]:
    """Load the data up to the report month's last day, and decide the month: :func:`load_month`'s logic.

    ``load(**cut)`` loads the data, with ``as_of`` and ``after_as_of`` in ``cut`` when it must be cut,
    and returns something with a ``.ledger`` (the pandas frame's :class:`LoadedTransactions`, or an
    engine's orders). ``check_late(loaded)`` raises on a last month set by a few typo dates.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": ["2024-01-03", "2024-02-10", "2024-03-02"], "amount": [1.0, 2.0, 3.0]})
    >>> loaded, month = cut_at_month(lambda **cut: load_transactions(raw, **cut), None)
    >>> str(month), loaded.ledger.last_date
    ('2024-02', '2024-02-10')
    """
    cap = None
    if as_of is not None and str(as_of).strip() != "":
        try:
            cap = pd.Timestamp(as_of).normalize()
        except (ValueError, TypeError):
            raise ParameterError(f"as_of {as_of!r} is not a date; use YYYY-MM-DD (--as-of 2025-12-31).") from None
    if month:
        # One pass: cut at the month's end, then check the month against what was read.
        period = parse_month(month, "--month")
        end = period.end_time.normalize()
        if cap is not None and end > cap:
            raise ParameterError(f"--month {period} ends after --as-of {cap.date()}: pick an earlier month, or a "
                                 "later --as-of.")
        try:
            loaded = load(as_of=end, after_as_of="drop")
        except DataValidationError as exc:
            if "no orders remain" not in str(exc):
                raise
            full = load().ledger
            resolve_month(str(month), full.first_date, full.last_date)  # raises "outside the data"
            raise
        ledger = loaded.ledger
        later = any(reason.startswith("dated after as_of") for reason in ledger.dropped)
        last_seen = str(period.end_time.date()) if later else ledger.last_date
        resolve_month(str(month), ledger.first_date, last_seen)
        return loaded, period
    loaded = load(as_of=cap, after_as_of="drop") if cap is not None else load()
    ledger = loaded.ledger
    if check_late is not None:
        check_late(loaded)
    period = resolve_month(None, ledger.first_date, str(cap.date()) if cap is not None and
                           any(r.startswith("dated after as_of") for r in ledger.dropped) else ledger.last_date)
    if pd.Timestamp(ledger.last_date) > period.end_time:
        loaded = load(as_of=period.end_time.normalize(), after_as_of="drop")
    return loaded, period


_HEADLINE_ROWS = ("customers_active", "customers_new", "orders", "revenue", "average_order_value",
                  "retention_rate_prev_month", "repeat_purchase_rate")


def headline_table(metrics: dict[str, Any], *, currency: str | None = None):
    """The output of :func:`month_metrics` as a readable table: this month, last month, change.

    Labels and kinds come from :data:`relmkt_helpers.display.METRICS`: counts with
    thousands separators, money with ``currency``, rates as percentages. Changes are
    relative (%) for counts and money, and in percentage points for rates.

    Parameters
    ----------
    metrics : dict
        From :func:`month_metrics`.
    currency : str, optional
        ISO code for the money rows (``"EUR"``); none writes bare numbers.

    Returns
    -------
    relmkt_helpers.display.Table
        Renders as HTML in a notebook or report page, as aligned text when printed;
        ``.data`` holds the numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-03", "2024-01-31", "2024-02-02"]),
    ...     "amount": [10.0, 20.0, 5.0], "order_id": ["1", "2", "3"]})
    >>> print(headline_table(month_metrics(tx, "2024-02"), currency="EUR"))
    Figure                       Feb 2024  Jan 2024     Change
    Active customers                    1         2     -50.0%
    New customers                       0         2    -100.0%
    Orders                              1         2     -50.0%
    Revenue                         €5.00    €30.00     -83.3%
    Average order value             €5.00    €15.00     -66.7%
    Retention vs previous month     50.0%         –          –
    Repeat-purchase rate            50.0%      0.0%  +50.0 pts
    """
    from .display import METRICS, Table, fmt_change, fmt_value

    prev = metrics.get("previous") or {}
    this = pd.Period(metrics["month"], "M").strftime("%b %Y")
    before = pd.Period(prev["month"], "M").strftime("%b %Y") if prev.get("month") else "Month before"
    rows, data = [], []
    for key in _HEADLINE_ROWS:
        m = METRICS[key]
        change = metrics["change"].get(key)
        rows.append((m.label, fmt_value(metrics.get(key), m.kind, currency=currency),
                     fmt_value(prev.get(key), m.kind, currency=currency),
                     fmt_change(change, m.kind) if change is not None or not prev else "–"))
        data.append((key, metrics.get(key), prev.get(key), change))
    frame = pd.DataFrame(rows, columns=["Figure", this, before, "Change"])
    return Table(frame, pd.DataFrame(data, columns=["figure", "this_month", "previous_month", "change"]),
                 numeric=[this, before, "Change"])


def ledger_table(ledger: RowLedger):
    """The row ledger for a reader: rows read, used and left out (with the reason), orders, customers, dates.

    Examples
    --------
    >>> led = RowLedger(source="shop.csv", rows_read=1200, rows_used=1190, dropped={"exact duplicate row": 10},
    ...                 orders=1100, customers=400, first_date="2024-01-01", last_date="2024-12-31")
    >>> print(ledger_table(led))
    Source: shop.csv
    Rows and orders                      Count  Share of rows read
    Rows read                            1,200              100.0%
    Rows used                            1,190               99.2%
    Left out: exact duplicate row           10                0.8%
    Orders                               1,100
    Customers                              400
    First order                     1 Jan 2024
    Last order                     31 Dec 2024
    """
    from .display import Table, fmt_value

    read = max(ledger.rows_read, 1)
    rows = [("Rows read", fmt_value(ledger.rows_read, "int"), fmt_value(1.0, "pct")),
            ("Rows used", fmt_value(ledger.rows_used, "int"), fmt_value(ledger.rows_used / read, "pct"))]
    rows += [(f"Left out: {reason}", fmt_value(n, "int"), fmt_value(n / read, "pct"))
             for reason, n in ledger.dropped.items()]
    if ledger.refund_rows_netted:
        rows.append(("Refund rows netted into their orders", fmt_value(ledger.refund_rows_netted, "int"),
                     fmt_value(ledger.refund_rows_netted / read, "pct")))
    rows += [("Orders", fmt_value(ledger.orders, "int"), ""), ("Customers", fmt_value(ledger.customers, "int"), ""),
             ("First order", fmt_value(ledger.first_date, "date"), ""),
             ("Last order", fmt_value(ledger.last_date, "date"), "")]
    frame = pd.DataFrame(rows, columns=["Rows and orders", "Count", "Share of rows read"])
    how = {"refunds": "refunds", "duplicates": "repeated rows", "on_invalid": "invalid rows",
           "date_format": "date format", "timezone": "time zone", "delimiter": "delimiter", "encoding": "encoding"}
    rules = ", ".join(f"{how[k]} {v}" for k, v in ledger.policies.items() if k in how)
    loaded = " (validated once by the report runner)" if ledger.policies.get("loaded_from") else ""
    caption = f"Source: {ledger.source}{loaded}" + (f". Rules applied: {rules}" if rules else "")
    return Table(frame, pd.DataFrame([ledger.to_dict()]), numeric=["Count", "Share of rows read"], caption=caption)
