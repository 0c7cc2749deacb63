"""Acquisition cohorts, retention triangles, realised LTV and period KPIs.

Every function takes the canonical transaction frame of
:func:`relmkt_helpers.load_transactions` (one row per order: ``customer_id``,
``order_date``, ``amount``, ``order_id``, plus any extra columns) and returns
plain pandas objects. Nothing reads the clock: the as-of date is an argument,
and defaults to the last order date in the data.

Conventions
-----------
Periods (``period=``)
    ``"W"``: calendar weeks running **Monday to Sunday** (pandas ``W-SUN``);
    ``"M"``: calendar months; ``"Q"``: calendar quarters (Jan–Mar, Apr–Jun, ...).
    A date belongs to the period that contains it: an order on 31 January is a
    January order, and a customer whose first order is on 31 January belongs to
    January's cohort.
Cohort
    The period of the customer's first order (their earliest ``order_date`` up to
    ``as_of``). Cohorts are labelled by a :class:`pandas.Period`.
Period ``k`` (age)
    Whole periods since acquisition: ``k = period of the activity - cohort``.
    Period 0 is the acquisition period. The first order counts as activity in
    period 0, and its revenue counts in period 0.
Active
    Placed at least one order in the period. Several orders in one period (or on
    one day) make a customer active once; for revenue every order counts.
``as_of`` (inclusive)
    Orders dated after ``as_of`` are ignored, so a past month can be analysed on a
    longer log; an order dated on ``as_of`` counts. Default: the last order date.
Complete period
    A period is complete when its last day is on or before ``as_of``. The period
    that contains ``as_of`` is therefore **partial** unless ``as_of`` is its last
    day (for example 31 March for ``"M"``, a Sunday for ``"W"``).
Complete cell
    Cell ``(cohort c, k)`` is complete when period ``c + k`` is complete.
    Incomplete cells are NaN, never 0, so the current partial period is never
    shown as a drop in retention. The cohort of the partial current period is
    listed (with its size so far) but all its cells are NaN.
Segment
    A customer's segment (``segment=``, e.g. acquisition channel) is the value
    of that column on their **first order** (the first row of the first day,
    in frame order), so a customer belongs to exactly one segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._arrays import factorize_ids, order_days
from .errors import DataValidationError, ParameterError
from .io import resolve_column

__all__ = [
    "latest_cohorts_start",
    "CohortMatrix",
    "assign_cohorts",
    "retention_matrix",
    "realised_ltv_matrix",
    "average_curve",
    "segment_comparison",
    "period_kpis",
]

_FREQ = {"W": "W-SUN", "M": "M", "Q": "Q-DEC"}
_KINDS = ("exact", "unbounded")
_METRICS = ("customers", "revenue")
_REQUIRED = ("customer_id", "order_date", "amount")
_NS_PER_DAY = 86_400_000_000_000


# ----------------------------------------------------------------------------
# result type
# ----------------------------------------------------------------------------

@dataclass(frozen=True, repr=False, eq=False)
class CohortMatrix:
    """A cohort × periods-since-acquisition table with the cohort sizes alongside.

    Returned by :func:`retention_matrix` and :func:`realised_ltv_matrix`.

    Attributes
    ----------
    matrix : DataFrame
        The values: rows are cohorts (a ``PeriodIndex`` named ``"cohort"``, or a
        ``MultiIndex`` ``(<segment>, "cohort")`` when segmented), columns are
        ``0, 1, 2, ...`` (named ``"periods_since_acquisition"``). Incomplete
        cells are NaN.
    sizes : Series
        ``cohort_size``: customers acquired in each cohort (same index as
        ``matrix``). For the cohort of a partial period, the size so far.
    numerator : DataFrame
        What the rates are made of, same shape and NaN pattern as ``matrix``:
        active customers (``metric="customers"``), revenue in period ``k``
        (``"revenue"``) or cumulative revenue through period ``k`` (``"ltv"``).
    metric : str
        ``"customers"``, ``"revenue"`` or ``"ltv"``.
    kind : str
        ``"exact"`` or ``"unbounded"`` (``"exact"`` for revenue and LTV).
    period : str
        ``"W"``, ``"M"`` or ``"Q"``.
    as_of : Timestamp
        The inclusive as-of date used.
    last_complete_period : Period or None
        The last complete period at ``as_of`` (None if none is complete yet).
    segment : str or None
        Name of the segment index level, or None.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10", "2024-02-12"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> res = retention_matrix(tx, as_of="2024-02-29")
    >>> res.summary  # doctest: +NORMALIZE_WHITESPACE
             cohort_size    0    1
    cohort
    2024-01            2  1.0  0.5
    2024-02            1  1.0  NaN
    """

    matrix: pd.DataFrame
    sizes: pd.Series
    numerator: pd.DataFrame
    metric: str
    kind: str
    period: str
    as_of: pd.Timestamp
    last_complete_period: pd.Period | None
    segment: str | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """``cohort_size`` followed by the matrix columns: the table to display."""
        out = self.matrix.copy()
        out.columns = list(out.columns)
        out.insert(0, "cohort_size", self.sizes)
        out.columns.name = None
        return out

    @property
    def complete(self) -> pd.DataFrame:
        """Boolean mask of complete cells (same shape as ``matrix``)."""
        cohorts = self.matrix.index.get_level_values("cohort")
        if self.last_complete_period is None:
            return pd.DataFrame(False, index=self.matrix.index, columns=self.matrix.columns)
        last = self.last_complete_period.ordinal
        ages = np.asarray(self.matrix.columns, dtype=np.int64)
        mask = (cohorts.asi8[:, None] + ages[None, :]) <= last
        return pd.DataFrame(mask, index=self.matrix.index, columns=self.matrix.columns)

    def __repr__(self) -> str:
        return (
            f"CohortMatrix(metric={self.metric!r}, kind={self.kind!r}, period={self.period!r}, "
            f"as_of={self.as_of.date()}, cohorts={len(self.matrix)}, periods={self.matrix.shape[1]}, "
            f"segment={self.segment!r})\n{self.summary!r}"
        )

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


# ----------------------------------------------------------------------------
# parameter checks
# ----------------------------------------------------------------------------

def _check_period(period: Any) -> str:
    if isinstance(period, str) and period.strip().upper() in _FREQ:
        return period.strip().upper()
    raise ParameterError(
        f"period={period!r} is not supported. Use period='W' (weeks, Monday to Sunday), "
        "'M' (calendar months) or 'Q' (calendar quarters)."
    )


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    opts = ", ".join(repr(a) for a in allowed)
    raise ParameterError(f"{name}={value!r} is not supported. Use {name}= one of {opts}.")


def _check_max_periods(max_periods: Any) -> int | None:
    if max_periods is None:
        return None
    if isinstance(max_periods, (bool, np.bool_)) or not isinstance(max_periods, (int, np.integer)):
        raise ParameterError(
            f"max_periods={max_periods!r} must be a whole number of periods (e.g. 12) or None for all."
        )
    if max_periods < 0:
        raise ParameterError(
            f"max_periods={max_periods} gives an empty period range; pass 0 or more "
            "(columns are 0..max_periods), or None for all periods."
        )
    return int(max_periods)


def _to_day(value: Any, name: str) -> int:
    """A date-like parameter as days since 1970-01-01 (tz-naive calendar day)."""
    if isinstance(value, pd.Period):
        value = value.start_time
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"{name}={value!r} is not a date ({exc}). Pass a date such as '2024-06-30'."
        ) from None
    if ts is pd.NaT:
        raise ParameterError(f"{name} is missing (NaT). Pass a date such as '2024-06-30', or None.")
    if ts.tzinfo is not None:
        raise ParameterError(
            f"{name}={value!r} carries a time zone; transactions are tz-naive calendar days. "
            f"Pass the local date, e.g. {name}='{ts.date()}'."
        )
    return int(ts.normalize().value // _NS_PER_DAY)


def _day_ts(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D"))


# ----------------------------------------------------------------------------
# integer period codes
# ----------------------------------------------------------------------------

def _period_of_days(days: np.ndarray, per: str) -> np.ndarray:
    """Absolute integer period code of each day (days since 1970-01-01).

    The codes equal pandas' Period ordinals for "M" and "Q" (months/quarters
    since 1970), and weeks since the Monday 1969-12-29 for "W".
    """
    days = np.asarray(days, dtype=np.int64)
    if per == "W":
        return (days + 3) // 7  # 1970-01-01 was a Thursday; weeks start on Monday
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months if per == "M" else months // 3


def _period_codes(days: np.ndarray, per: str, lo: int, hi: int) -> np.ndarray:
    """Vectorised period codes; a day -> code lookup table when it is smaller than the data."""
    span = hi - lo + 1
    if per != "W" and span < len(days):
        table = _period_of_days(np.arange(lo, hi + 1, dtype=np.int64), per)
        return table[days - lo]
    return _period_of_days(days, per)


def _week_offset() -> int:
    return pd.Period(pd.Timestamp("1970-01-01"), "W-SUN").ordinal - int(_period_of_days(np.array([0]), "W")[0])


def _periods(codes: np.ndarray, per: str, name: str) -> pd.PeriodIndex:
    codes = np.asarray(codes, dtype=np.int64)
    if per == "W":
        codes = codes + _week_offset()
    return pd.PeriodIndex.from_ordinals(codes, freq=_FREQ[per], name=name)


# ----------------------------------------------------------------------------
# preparation: the whole computation runs on int64 codes
# ----------------------------------------------------------------------------

@dataclass
class _Prep:
    per: str
    cust: np.ndarray            # customer code of each order, 0..n_customers-1
    p: np.ndarray               # period of each order, relative to p0 (0..n_periods-1)
    days: np.ndarray            # order day (days since epoch)
    amount: np.ndarray          # order amount
    customers: pd.Index         # customer ids, by code
    rows: np.ndarray | None     # positions in tx of the kept orders (None: all)
    p0: int                     # absolute code of the first order's period
    n_periods: int              # periods from p0 to the period containing as_of
    last_complete: int          # relative code of the last complete period (-1: none)
    as_of_day: int
    first_day: int

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    @property
    def as_of(self) -> pd.Timestamp:
        return _day_ts(self.as_of_day)


def _prepare(tx: pd.DataFrame, period: Any, as_of: Any) -> _Prep:
    if not isinstance(tx, pd.DataFrame):
        raise ParameterError(
            f"tx must be the transaction DataFrame from load_transactions, got {type(tx).__name__}."
        )
    missing = [c for c in _REQUIRED if c not in tx.columns]
    if missing:
        raise DataValidationError(
            f"transactions: column(s) {', '.join(repr(c) for c in missing)} missing. "
            "Load the data with relmkt_helpers.load_transactions, which returns the canonical frame."
        )
    if len(tx) == 0:
        raise DataValidationError("transactions: the frame has no orders. Check the source and as_of.")
    per = _check_period(period)
    days = order_days(tx)
    first_day, last_day = int(days.min()), int(days.max())
    if as_of is None:
        as_of_day = last_day
    else:
        as_of_day = _to_day(as_of, "as_of")
        if as_of_day < first_day:
            raise ParameterError(
                f"as_of={_day_ts(as_of_day).date()} is before the first order ({_day_ts(first_day).date()}), "
                "so there is nothing to analyse. Pass a later as_of, or None for the last order date."
            )
    rows = None
    cust_ids = tx["customer_id"]
    amount = tx["amount"].to_numpy(dtype=np.float64)
    if as_of_day < last_day:
        keep = days <= as_of_day
        rows = np.flatnonzero(keep)
        days, amount = days[rows], amount[rows]
        cust_ids = cust_ids.iloc[rows]
        last_day = int(days.max())
    # a cut frame is new data; the whole column's factorization is remembered across calls
    cust, customers = pd.factorize(cust_ids, sort=False) if rows is not None else factorize_ids(cust_ids)
    if len(cust) and cust.min() < 0:
        raise DataValidationError(
            "transactions: column 'customer_id' has missing values. Load the data with "
            "relmkt_helpers.load_transactions, which drops or reports them."
        )
    cust = cust.astype(np.int64, copy=False)
    codes = _period_codes(days, per, first_day, last_day)
    p0 = int(_period_of_days(np.array([first_day]), per)[0])
    end = _period_of_days(np.array([as_of_day, as_of_day + 1]), per)
    n_periods = int(end[0]) - p0 + 1
    last_complete = int(end[1]) - 1 - p0
    return _Prep(per=per, cust=cust, p=codes - p0, days=days, amount=amount,
                 customers=pd.Index(customers, name="customer_id"), rows=rows, p0=p0,
                 n_periods=n_periods, last_complete=last_complete, as_of_day=as_of_day,
                 first_day=first_day)


@dataclass
class _Pairs:
    cust: np.ndarray    # customer of each distinct (customer, period) pair, sorted by (customer, period)
    p: np.ndarray       # period of each pair
    orders: np.ndarray  # orders in each pair
    first: np.ndarray   # bool: the customer's first pair (acquisition)
    cohort: np.ndarray  # per customer: cohort (relative period code)
    last: np.ndarray    # per customer: last active period


def _pairs(prep: _Prep) -> _Pairs:
    P = prep.n_periods
    keys, orders = np.unique(prep.cust * P + prep.p, return_counts=True)  # sorted by (customer, period)
    pc, pp = keys // P, keys % P
    new_cust = np.empty(len(keys), dtype=bool)
    new_cust[0] = True
    np.not_equal(pc[1:], pc[:-1], out=new_cust[1:])
    is_last = np.empty(len(keys), dtype=bool)
    is_last[-1] = True
    is_last[:-1] = new_cust[1:]
    return _Pairs(cust=pc, p=pp, orders=orders, first=new_cust, cohort=pp[new_cust], last=pp[is_last])


def _first_rows(prep: _Prep) -> np.ndarray:
    """Row (in the kept orders) of each customer's first order, by customer code."""
    if np.all(prep.days[1:] >= prep.days[:-1]):
        # factorize numbers customers in order of first appearance: a new customer
        # is a code above every code before it.
        running = np.maximum.accumulate(prep.cust)
        first = np.empty(len(prep.cust), dtype=bool)
        first[0] = True
        np.greater(running[1:], running[:-1], out=first[1:])
        return np.flatnonzero(first)
    order = np.argsort(prep.days, kind="stable")
    _, idx = np.unique(prep.cust[order], return_index=True)
    return order[idx]


def _segments(tx: pd.DataFrame, segment: Any, prep: _Prep) -> tuple[np.ndarray, pd.Index, str]:
    """Per-customer segment code, the segment labels and the level name."""
    if isinstance(segment, pd.Series):
        if not segment.index.is_unique:
            dup = segment.index[segment.index.duplicated()][:5].tolist()
            raise ParameterError(
                f"segment: the Series must have one value per customer id, but ids repeat (e.g. {dup}). "
                "Pass a Series indexed by unique customer_id."
            )
        values = segment.reindex(prep.customers)
        name = str(segment.name) if segment.name is not None else "segment"
    elif isinstance(segment, str):
        col = resolve_column(tx, segment, role="segment", source="transactions", param="segment")
        if col in ("customer_id", "order_id", "order_date"):
            raise ParameterError(
                f"segment={col!r} is not a customer attribute. Pass a column such as 'channel'."
            )
        first = _first_rows(prep)
        rows = first if prep.rows is None else prep.rows[first]
        values = tx[col].iloc[rows]
        name = col
    else:
        raise ParameterError(
            f"segment={segment!r}: pass a column name of tx (e.g. segment='channel'), "
            "a Series of customer attributes indexed by customer_id, or None."
        )
    try:
        codes, labels = pd.factorize(values, sort=True, use_na_sentinel=False)
    except TypeError:
        codes, labels = pd.factorize(values, sort=False, use_na_sentinel=False)
    return codes.astype(np.int64), pd.Index(labels), name


def _start_rel(start: Any, prep: Any) -> int:
    if start is None:
        return 0
    day = _to_day(start, "start")
    if day > prep.as_of_day:
        raise ParameterError(
            f"start={_day_ts(day).date()} is after as_of={prep.as_of.date()}: an empty period range. "
            "Pass a start on or before as_of, or None for all periods."
        )
    return max(int(_period_of_days(np.array([day]), prep.per)[0]) - prep.p0, 0)


# ----------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------

def assign_cohorts(tx: pd.DataFrame, *, period: str = "M", as_of: Any = None,
                   segment: str | pd.Series | None = None) -> pd.DataFrame:
    """Assign each customer to an acquisition cohort: the period of their first order.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (see :func:`relmkt_helpers.load_transactions`).
    period : {"M", "W", "Q"}
        Calendar months, weeks running Monday to Sunday, or calendar quarters.
    as_of : date-like, optional
        Inclusive; orders after it are ignored. Default: the last order date.
    segment : str or Series, optional
        A column of ``tx`` (its value on the customer's first order is used) or
        a Series of customer attributes indexed by ``customer_id``.

    Returns
    -------
    DataFrame
        One row per customer, indexed by ``customer_id`` in order of first
        appearance, with columns ``cohort`` (``Period``), ``first_order_date``,
        ``orders`` (orders up to ``as_of``) and, with ``segment``, a column named
        after it.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-31", "2024-02-01", "2024-03-03"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> assign_cohorts(tx)  # doctest: +NORMALIZE_WHITESPACE
                  cohort first_order_date  orders
    customer_id
    a            2024-01       2024-01-31       2
    b            2024-02       2024-02-01       1
    """
    prep = _prepare(tx, period, as_of)
    pr = _pairs(prep)
    first_day = np.full(prep.n_customers, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_day, prep.cust, prep.days)
    out = pd.DataFrame({
        "cohort": _periods(pr.cohort + prep.p0, prep.per, "cohort"),
        "first_order_date": first_day.astype("datetime64[D]").astype("datetime64[ns]"),
        "orders": np.bincount(prep.cust, minlength=prep.n_customers).astype(np.int64),
    }, index=prep.customers)
    if segment is not None:
        codes, labels, name = _segments(tx, segment, prep)
        out[name] = labels.take(codes).to_numpy()
    return out


def latest_cohorts_start(tx: pd.DataFrame, n: int, *, period: str = "M", as_of: Any = None) -> pd.Timestamp:
    """First day of the ``n``-th most recent cohort that has customers (for ``start=``).

    Use it to show "the last ``n`` cohorts" in charts. Periods in which nobody
    was acquired are skipped, so a data set whose customers were all acquired
    long ago (CDNOW: Q1 1997 only) still shows its cohorts.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    n : int
        How many of the latest non-empty cohorts to keep (at least 1).
    period : {"M", "W", "Q"}
    as_of : date-like, optional
        Inclusive; default the last order date.

    Returns
    -------
    Timestamp
        Start of the earliest of those cohorts.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "c", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-20", "2024-09-03"]),
    ...     "amount": [1.0, 1.0, 1.0, 1.0]})
    >>> str(latest_cohorts_start(tx, 1).date()), str(latest_cohorts_start(tx, 5).date())
    ('2024-02-01', '2024-01-01')
    """
    if int(n) < 1:
        raise ParameterError(f"n={n!r}: ask for at least one cohort.")
    cells = _cells(tx, period, as_of, None)
    present = np.flatnonzero(cells.sizes > 0)
    return _periods(present[-int(n):][:1] + cells.p0, cells.per, "cohort")[0].start_time


@dataclass
class _Cells:
    """Cohort x age counts for orders up to ``as_of``, the one reduction behind every matrix (numpy or engine).

    Groups ``g = segment * n_periods + cohort``; ages ``0 .. n_periods - 1``.
    """
    per: str
    p0: int
    n_periods: int
    last_complete: int
    as_of_day: int
    sizes: np.ndarray       # (G,) customers acquired
    active: np.ndarray      # (G, P) customers active at each age
    last_age: np.ndarray    # (G, P) customers whose last active period is at that age
    revenue: np.ndarray     # (G, P) revenue at each age
    seg_labels: pd.Index | None
    seg_name: str | None

    @property
    def as_of(self) -> pd.Timestamp:
        return _day_ts(self.as_of_day)


def _cells(tx: Any, period: Any, as_of: Any, segment: Any) -> _Cells:
    from .engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):
        from .engine.analyses import cohort_cells

        return cohort_cells(tx, period=_check_period(period), as_of=as_of, segment=segment)
    prep = _prepare(tx, period, as_of)
    pr = _pairs(prep)
    P = prep.n_periods
    seg_labels, seg_name, n_seg, group = None, None, 1, pr.cohort
    if segment is not None:
        seg, seg_labels, seg_name = _segments(tx, segment, prep)
        n_seg, group = len(seg_labels), seg * P + pr.cohort
    G = n_seg * P
    k = pr.p - pr.cohort[pr.cust]
    return _Cells(per=prep.per, p0=prep.p0, n_periods=P, last_complete=prep.last_complete, as_of_day=prep.as_of_day,
                  sizes=np.bincount(group, minlength=G),
                  active=np.bincount(group[pr.cust] * P + k, minlength=G * P).reshape(G, P),
                  last_age=np.bincount(group * P + (pr.last - pr.cohort), minlength=G * P).reshape(G, P),
                  revenue=np.bincount(group[prep.cust] * P + (prep.p - pr.cohort[prep.cust]), weights=prep.amount,
                                      minlength=G * P).reshape(G, P),
                  seg_labels=seg_labels, seg_name=seg_name)


def _cohort_table(tx: pd.DataFrame, *, period: Any, as_of: Any, segment: Any, max_periods: Any,
                  start: Any, metric: str, kind: str) -> CohortMatrix:
    max_periods = _check_max_periods(max_periods)
    cells = _cells(tx, period, as_of, segment)
    P, seg_labels, seg_name = cells.n_periods, cells.seg_labels, cells.seg_name
    sizes_all = cells.sizes
    row_cohort_all = np.tile(np.arange(P, dtype=np.int64), len(sizes_all) // P)
    start_rel = _start_rel(start, cells)
    sel = np.flatnonzero((sizes_all > 0) & (row_cohort_all >= start_rel))
    if sel.size == 0:
        raise ParameterError(
            f"start={start!r}: no customer was acquired between start and as_of={cells.as_of.date()} "
            "(an empty cohort range). Pass an earlier start, or None."
        )
    row_cohort = row_cohort_all[sel]
    K = max(cells.last_complete - int(row_cohort.min()) + 1, 1)
    if max_periods is not None:
        K = min(K, max_periods + 1)
    if metric == "customers" and kind == "exact":
        num = cells.active.astype(np.float64)
    elif metric == "customers":  # unbounded: active in k or later <=> last active age >= k
        num = np.cumsum(cells.last_age[:, ::-1], axis=1)[:, ::-1].astype(np.float64)
    else:  # revenue per period of age, from every order (the first included)
        num = np.cumsum(cells.revenue, axis=1) if metric == "ltv" else cells.revenue
    num = num[:, :K]

    num = num[sel]
    sizes = sizes_all[sel]
    complete = (row_cohort[:, None] + np.arange(K)[None, :]) <= cells.last_complete
    num = np.where(complete, num, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "revenue":
            base = num[:, :1]
            values = np.where(base > 0, num / np.where(base > 0, base, 1.0), np.nan)
        else:
            values = num / sizes[:, None]

    cohorts = _periods(row_cohort + cells.p0, cells.per, "cohort")
    if seg_labels is not None:
        index = pd.MultiIndex.from_arrays([seg_labels.take(sel // P), cohorts], names=[seg_name, "cohort"])
    else:
        index = cohorts
    columns = pd.RangeIndex(K, name="periods_since_acquisition")
    last_complete = (_periods(np.array([cells.last_complete + cells.p0]), cells.per, "p")[0]
                     if cells.last_complete >= 0 else None)
    return CohortMatrix(
        matrix=pd.DataFrame(values, index=index, columns=columns),
        sizes=pd.Series(sizes.astype(np.int64), index=index, name="cohort_size"),
        numerator=pd.DataFrame(num, index=index, columns=columns),
        metric=metric, kind=kind, period=cells.per, as_of=cells.as_of,
        last_complete_period=last_complete, segment=seg_name,
    )


def retention_matrix(tx: pd.DataFrame, *, period: str = "M", as_of: Any = None, kind: str = "exact",
                     metric: str = "customers", segment: str | pd.Series | None = None,
                     max_periods: int | None = None, start: Any = None) -> CohortMatrix:
    """Retention by acquisition cohort and periods since acquisition (the retention triangle).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions (see :func:`relmkt_helpers.load_transactions`).
    period : {"M", "W", "Q"}, default "M"
        Calendar months, weeks running Monday to Sunday, or calendar quarters.
        A date belongs to the period containing it (31 January is January).
    as_of : date-like, optional
        Inclusive: an order on ``as_of`` counts, later orders are ignored.
        Default: the last order date in ``tx``. A cell is complete when its
        period ended on or before ``as_of``; incomplete cells are NaN.
    kind : {"exact", "unbounded"}, default "exact"
        For ``metric="customers"``: share of the cohort active in period ``k``
        (``"exact"``), or active in period ``k`` or any later period up to
        ``as_of`` (``"unbounded"``, Amplitude's "on or after"; it never
        increases with ``k``). Activity in the partial current period counts
        towards "later".
    metric : {"customers", "revenue"}, default "customers"
        ``"customers"``: active customers / cohort size (period 0 is 1).
        ``"revenue"``: the cohort's revenue in period ``k`` divided by its
        revenue in period 0, all orders including the first (can exceed 1; NaN
        when period-0 revenue is 0). Only ``kind="exact"``.
    segment : str or Series, optional
        Split cohorts by a customer attribute: a column of ``tx`` (the value on
        the customer's first order is used, e.g. acquisition ``"channel"``) or
        a Series indexed by ``customer_id``. Rows become ``(segment, cohort)``.
    max_periods : int, optional
        Keep columns ``0..max_periods`` only. Default: all ages that have a
        complete cell.
    start : date-like, optional
        Show cohorts from the one containing ``start`` on. Earlier orders still
        decide who is new. Default: all cohorts.

    Returns
    -------
    CohortMatrix
        ``.matrix`` (cohort × ``0, 1, 2, ...``, float, NaN where incomplete),
        ``.sizes`` (``cohort_size``), ``.numerator`` (active customers or
        revenue) and ``.summary`` (sizes alongside the matrix). Columns run to
        the oldest cohort's last complete period. The cohort of a partial
        current period is listed with its size so far and NaN cells; periods
        in which nobody was acquired have no row.

    Raises
    ------
    ParameterError
        Unknown ``period``, ``kind`` or ``metric``; ``as_of`` before the first
        order; an empty period range (``start`` after ``as_of``, negative
        ``max_periods``).
    DataValidationError
        ``segment`` names a column that ``tx`` does not have.

    Examples
    --------
    Customer ``a`` buys in January and March, ``b`` only in January:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> retention_matrix(tx, as_of="2024-03-31").matrix  # doctest: +NORMALIZE_WHITESPACE
    periods_since_acquisition    0    1    2
    cohort
    2024-01                    1.0  0.0  0.5
    >>> retention_matrix(tx, as_of="2024-03-31", kind="unbounded").matrix.iloc[0].tolist()
    [1.0, 0.5, 0.5]

    On 15 March, March is partial: its cell is NaN, not a drop to zero.

    >>> retention_matrix(tx, as_of="2024-03-15").matrix.iloc[0].tolist()
    [1.0, 0.0]
    """
    metric = _check_choice("metric", metric, _METRICS)
    kind = _check_choice("kind", kind, _KINDS)
    if metric == "revenue" and kind != "exact":
        raise ParameterError(
            "kind='unbounded' is defined for metric='customers' only. Use kind='exact' with "
            "metric='revenue', or realised_ltv_matrix() for cumulative revenue."
        )
    return _cohort_table(tx, period=period, as_of=as_of, segment=segment, max_periods=max_periods,
                         start=start, metric=metric, kind=kind)


def realised_ltv_matrix(tx: pd.DataFrame, *, period: str = "M", as_of: Any = None,
                        segment: str | pd.Series | None = None, max_periods: int | None = None,
                        start: Any = None) -> CohortMatrix:
    """Realised LTV curves: cumulative revenue per acquired customer, by cohort.

    Cell ``(c, k)`` is the revenue of cohort ``c`` from acquisition through the
    end of period ``k`` (every order, the first included), divided by the
    cohort's size. It is a realised (historical) value, not a forecast.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    period, as_of, segment, max_periods, start
        As in :func:`retention_matrix`; incomplete cells are NaN.

    Returns
    -------
    CohortMatrix
        ``metric="ltv"``; ``.matrix`` holds currency per acquired customer and
        ``.numerator`` the cumulative revenue.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> realised_ltv_matrix(tx, as_of="2024-03-31").matrix.iloc[0].tolist()
    [15.0, 15.0, 17.5]
    """
    return _cohort_table(tx, period=period, as_of=as_of, segment=segment, max_periods=max_periods,
                         start=start, metric="ltv", kind="exact")


def average_curve(result: CohortMatrix) -> pd.DataFrame:
    """Size-weighted average curve across cohorts, over complete cells only.

    At age ``k`` the average is ``sum(size_c * value_ck) / sum(size_c)`` over the
    cohorts whose cell ``k`` is complete (not NaN). For customer retention this
    is the pooled rate (active customers / customers); for LTV, the pooled
    cumulative revenue per customer. Late ages rest on the oldest cohorts
    only: read them with ``n_cohorts`` in mind. A segmented result is pooled
    across segments (see :func:`segment_comparison` for one curve per segment).

    Parameters
    ----------
    result : CohortMatrix
        From :func:`retention_matrix` or :func:`realised_ltv_matrix`.

    Returns
    -------
    DataFrame
        Indexed by age ``k`` (``periods_since_acquisition``), with columns
        ``weighted_mean``, ``n_cohorts`` and ``n_customers`` (the cohorts and
        customers behind each point).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10", "2024-02-11", "2024-03-02"]),
    ...     "amount": [10.0, 20.0, 5.0, 7.0, 3.0]})
    >>> average_curve(retention_matrix(tx, as_of="2024-03-31"))  # doctest: +NORMALIZE_WHITESPACE
                               weighted_mean  n_cohorts  n_customers
    periods_since_acquisition
    0                               1.000000          2            3
    1                               0.666667          2            3
    2                               0.000000          1            2
    """
    if not isinstance(result, CohortMatrix):
        raise ParameterError(
            f"average_curve expects the CohortMatrix from retention_matrix() or realised_ltv_matrix(), "
            f"got {type(result).__name__}."
        )
    return _weighted(result.matrix.to_numpy(), result.sizes.to_numpy(dtype=np.float64), result.matrix.columns)


def _weighted(values: np.ndarray, sizes: np.ndarray, columns: pd.Index) -> pd.DataFrame:
    ok = ~np.isnan(values)
    w = np.where(ok, sizes[:, None], 0.0)
    wsum = w.sum(axis=0)
    total = (np.where(ok, values, 0.0) * w).sum(axis=0)
    mean = np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), np.nan)
    return pd.DataFrame({
        "weighted_mean": mean,
        "n_cohorts": ok.sum(axis=0).astype(np.int64),
        "n_customers": wsum.astype(np.int64),
    }, index=pd.Index(np.asarray(columns), name="periods_since_acquisition"))


def segment_comparison(result: CohortMatrix) -> pd.DataFrame:
    """The size-weighted average curve of each segment, side by side.

    Parameters
    ----------
    result : CohortMatrix
        A segmented result, e.g. ``retention_matrix(tx, segment="channel")``.

    Returns
    -------
    DataFrame
        Indexed by age ``k`` (``periods_since_acquisition``); one column per
        segment value (columns named after the segment) holding that segment's
        :func:`average_curve` ``weighted_mean``. The customers behind each
        segment are ``result.sizes.groupby(level=0).sum()``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10", "2024-01-11"]),
    ...     "amount": [10.0, 20.0, 5.0, 7.0], "channel": ["ads", "email", "ads", "ads"]})
    >>> segment_comparison(retention_matrix(tx, segment="channel", as_of="2024-02-29"))  # doctest: +NORMALIZE_WHITESPACE
    channel                    ads  email
    periods_since_acquisition
    0                          1.0    1.0
    1                          0.5    0.0
    """
    if not isinstance(result, CohortMatrix):
        raise ParameterError(
            f"segment_comparison expects a CohortMatrix, got {type(result).__name__}."
        )
    if result.segment is None:
        raise ParameterError(
            "segment_comparison needs a segmented result: pass segment='<column>' (e.g. 'channel') "
            "to retention_matrix() or realised_ltv_matrix()."
        )
    seg = result.matrix.index.get_level_values(0)
    values = result.matrix.to_numpy()
    sizes = result.sizes.to_numpy(dtype=np.float64)
    labels = seg.unique()
    cols = {}
    for lab in labels:  # one pass per segment value (a handful), not per cohort
        m = np.asarray(seg == lab) if not pd.isna(lab) else np.asarray(pd.isna(seg))
        cols[lab] = _weighted(values[m], sizes[m], result.matrix.columns)["weighted_mean"]
    out = pd.DataFrame(cols)
    out.columns = pd.Index(labels, name=result.segment)
    return out


# period_kpis lives in its own module (cohort_kpis.py); it is part of this module's API
from .cohort_kpis import period_kpis  # noqa: E402
