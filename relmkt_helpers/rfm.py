"""RFM scores, named segments, segment value, VIPs and customers who dropped off.

Every function takes the canonical transaction frame of
:func:`relmkt_helpers.load_transactions` (one row per order: ``customer_id``,
``order_date``, ``amount``, ``order_id``, plus any extra columns), or the table
:func:`rfm_table` makes from it, and returns plain pandas objects. Nothing reads
the clock: the as-of date is an argument and defaults to the last order date.

Conventions
-----------
``as_of`` (inclusive)
    Orders dated after ``as_of`` are ignored (a past date can be analysed on a
    longer log); an order dated on ``as_of`` counts. Customers whose first order
    is after ``as_of`` are not in the table.
Recency
    ``recency_days`` = days from the customer's last order to ``as_of``: 0 for a
    customer who ordered on ``as_of``.
Frequency
    ``frequency`` = number of **orders** up to ``as_of``, the first one included
    (so it is at least 1; note this is *not* lifetimes' ``frequency``, which
    counts repeat purchase days). Two orders on one day are two orders.
Monetary
    ``monetary_total`` = the sum of order amounts; ``monetary_mean`` = that sum
    divided by ``frequency`` (mean order value). The M score uses the total by
    default (``monetary="total"``) or the mean (``monetary="mean"``).
Scores (1 .. ``bins``, higher is better)
    R: more recent is better; F: more orders is better; M: more money is better.
    Each score is a quantile score computed from **ranks with ties sharing the
    lowest rank** (``rank(method="min")``): with ``n`` customers and ``below``
    of them having a strictly worse value,

        score = 1 + floor(bins * below / n).

    This is "rank, then cut the ranks into ``bins`` equal bands", with tied
    values ranked together: equal values always get equal scores, the worst
    value always gets 1, and without ties each score holds ``n / bins``
    customers (to within one). Monetary values are compared after rounding to
    6 decimals, so float summation noise does not split a tie.
Degenerate frequency
    Most shops have many one-order customers, so the F quantiles collapse: the
    quantile edges are all "1 order". The formula above handles this
    explicitly: every one-order customer gets F = 1 (nobody has fewer orders),
    and the next frequency starts at the score its rank earns. In the bundled
    sample shop at 2025-06-30, 32% of customers have one order and 30% two, so
    one order -> F 1, two orders -> F 2, three or four -> F 4, five or more ->
    F 5 (F 3 is empty: nobody's rank falls in that band). Pass
    ``frequency_breaks=`` to use fixed breakpoints instead (e.g. ``(1, 2, 3, 5,
    8)``: 1 order -> F 1, 2 -> 2, 3-4 -> 3, 5-7 -> 4, 8 or more -> 5).
Relative scores
    Scores rank customers against each other. A tie at the top shares the
    lowest rank too, so when more than ``n / bins`` customers share the best
    value they score below ``bins`` (see the example of :func:`rfm_table`).
    With very few customers, or when every customer has the same value, the
    scores carry little information (all tied customers get score 1).

Segments
--------
Segments use the R and F scores only (M is reported, and drives the VIP list),
on the 5 × 5 R × F grid that is common in marketing practice (for example the
ten-segment grid of Champions, Loyal customers, Potential loyalists, New
customers, Promising, Need attention, About to sleep, At risk, Can't lose them,
Hibernating and Lost described in vendor manuals such as
http://help.edrone.me/faq-english/rfm-segmentation and
https://docs.churned.io/churned-docs/dashboard-and-features/rfv-model-segment-best-practices/rfm-model).
relmkt folds it into eight segments, every cell in exactly one (rows R, columns F):

=====  =============  ===================  ===================  ===============  ===============
R \\ F  1              2                    3                    4                5
=====  =============  ===================  ===================  ===============  ===============
5      New            Potential loyalist   Potential loyalist   Champions        Champions
4      New            Potential loyalist   Potential loyalist   Loyal            Loyal
3      Hibernating    Hibernating          Potential loyalist   Loyal            Loyal
2      Hibernating    Hibernating          At risk              At risk          Can't lose them
1      Lost           Lost                 At risk              At risk          Can't lose them
=====  =============  ===================  ===================  ===============  ===============

In words: **Champions** bought very recently and often; **Loyal** buy often and
not long ago; **Potential loyalist** recent, with a few orders; **New** recent,
one-order (lowest F) customers; **At risk** used to buy fairly often but not
lately; **Can't lose them** were the most frequent buyers and have gone quiet;
**Hibernating** low frequency and fading recency; **Lost** the least recent and
least frequent. (The ten-segment grid's "Promising" is folded into New, "Need
attention" into Potential loyalist and "About to sleep" into Hibernating.)

With ``bins`` other than 5, each score is placed on the 1-5 grid at the centre of
its percentile band: level = 1 + floor(5 (score - 0.5) / bins). Deciles map
two-to-one onto quintiles exactly; with ``bins=3`` the levels are 1, 3 and 5, so
some segments cannot occur. :func:`segment_grid` shows the grid for any ``bins``.

Dropped-off customers
---------------------
See :func:`dropped_off`: each customer's recent window is compared with their
own baseline (the window before it, scaled to the same length).
"""
from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._arrays import factorize_ids, order_days
from .errors import DataValidationError, ParameterError

__all__ = [
    "SEGMENTS",
    "segment_grid",
    "rfm_table",
    "segment_summary",
    "vip_list",
    "dropped_off",
]

#: The eight segment names, best first; the order of every segment table.
SEGMENTS: tuple[str, ...] = (
    "Champions", "Loyal", "Potential loyalist", "New",
    "At risk", "Can't lose them", "Hibernating", "Lost",
)

_C, _L, _P, _N, _A, _K, _H, _X = range(8)
# _GRID5[r - 1, f - 1] = segment code of R level r and F level f (see the module docstring).
_GRID5 = np.array([
    [_X, _X, _A, _A, _K],   # R 1
    [_H, _H, _A, _A, _K],   # R 2
    [_H, _H, _P, _L, _L],   # R 3
    [_N, _P, _P, _L, _L],   # R 4
    [_N, _P, _P, _C, _C],   # R 5
], dtype=np.int8)

_REQUIRED = ("customer_id", "order_date", "amount")
_NS_PER_DAY = 86_400_000_000_000
_MONETARY = ("total", "mean")
_MAX_BINS = 100
_RFM_COLUMNS = ("recency_days", "frequency", "monetary_total", "segment")


# ----------------------------------------------------------------------------
# parameter checks
# ----------------------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, (bool, np.bool_))


def _check_bins(bins: Any) -> int:
    if not _is_int(bins) or not 2 <= bins <= _MAX_BINS:
        raise ParameterError(
            f"bins={bins!r}: pass a whole number of score levels from 2 to {_MAX_BINS} "
            "(5 gives the usual 1-5 quintile scores)."
        )
    return int(bins)


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if not _is_int(value) or value < minimum:
        raise ParameterError(f"{name}={value!r}: pass a whole number >= {minimum}.")
    return int(value)


def _check_positive_real(name: str, value: Any, *, upper: float | None = None, allow_zero: bool = False) -> float:
    ok = isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v >= 0 if allow_zero else v > 0) and (upper is None or v <= upper)
    if not ok:
        rng = f"{'0' if allow_zero else 'above 0'}" + (f" up to {upper:g}" if upper is not None else "")
        raise ParameterError(f"{name}={value!r}: pass a number {'from ' if allow_zero else ''}{rng}.")
    return float(value)


def _check_frequency_breaks(breaks: Any, bins: int) -> np.ndarray | None:
    if breaks is None:
        return None
    try:
        arr = np.asarray(list(breaks))
    except TypeError:
        arr = np.asarray([])
    ok = (arr.ndim == 1 and len(arr) == bins and len(arr) > 0
          and all(_is_int(b) or (isinstance(b, Real) and float(b).is_integer()) for b in arr.tolist())
          and not isinstance(breaks, (str, bytes)))
    if ok:
        arr = arr.astype(np.int64)
        ok = arr[0] == 1 and bool(np.all(np.diff(arr) > 0))
    if not ok:
        raise ParameterError(
            f"frequency_breaks={breaks!r}: pass {bins} increasing whole numbers of orders starting at 1, "
            f"one lower bound per F score (bins={bins}), e.g. "
            f"{tuple([1, 2, 3, 5, 8][:bins]) if bins <= 5 else tuple(range(1, bins + 1))}; or None for quantile scores."
        )
    return arr


def _as_of_day(value: Any) -> int:
    if isinstance(value, pd.Period):
        value = value.end_time
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"as_of={value!r} is not a date ({exc}). Pass a date such as '2025-06-30'.") from None
    if ts is pd.NaT:
        raise ParameterError(
            "as_of is missing (NaT). Pass a date such as '2025-06-30', or None for the last order date."
        )
    if ts.tzinfo is not None:
        raise ParameterError(
            f"as_of={value!r} carries a time zone; transactions are tz-naive calendar days. "
            f"Pass the local date, e.g. as_of='{ts.date()}'."
        )
    return int(ts.normalize().value // _NS_PER_DAY)


def _day_ts(day: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(int(day), "D")).as_unit("ns")


def _days_to_datetime(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")


# ----------------------------------------------------------------------------
# per-customer aggregates (vectorised: no per-customer Python loop)
# ----------------------------------------------------------------------------

class _Orders:
    """Orders up to ``as_of`` as integer arrays, customers coded 0..n-1 in customer_id order."""

    def __init__(self, tx: Any, as_of: Any, where: str):
        if not isinstance(tx, pd.DataFrame):
            raise ParameterError(
                f"{where}: tx must be the transaction DataFrame from load_transactions, got {type(tx).__name__}."
            )
        missing = [c for c in _REQUIRED if c not in tx.columns]
        if missing:
            raise DataValidationError(
                f"transactions: column(s) {', '.join(repr(c) for c in missing)} missing. "
                "Load the data with relmkt_helpers.load_transactions, which returns the canonical frame."
            )
        if len(tx) == 0:
            raise DataValidationError(
                "transactions: the frame has no orders, so there are no customers to score. "
                "Check the source file and the as_of / month you cut it at."
            )
        days = order_days(tx)
        first_day, last_day = int(days.min()), int(days.max())
        if as_of is None:
            as_of_day = last_day
        else:
            as_of_day = _as_of_day(as_of)
            if as_of_day < first_day:
                raise ParameterError(
                    f"as_of={_day_ts(as_of_day).date()} is before the first order ({_day_ts(first_day).date()}), "
                    "so no customer exists yet. Pass a later as_of, or None for the last order date."
                )
        amount = tx["amount"].to_numpy(dtype=np.float64)
        codes, uniques = factorize_ids(tx["customer_id"], sort=True)
        if len(codes) and codes.min() < 0:
            raise DataValidationError(
                "transactions: column 'customer_id' has missing values. Load the data with "
                "relmkt_helpers.load_transactions, which drops or reports them."
            )
        codes = codes.astype(np.int64, copy=False)
        if as_of_day < last_day:
            keep = days <= as_of_day
            codes, days, amount = codes[keep], days[keep], amount[keep]
            # customers whose first order is after as_of do not exist yet: renumber the rest
            present = np.zeros(len(uniques), dtype=bool)
            present[codes] = True
            remap = np.cumsum(present) - 1
            codes = remap[codes]
            uniques = uniques[present]
        self.cust = codes
        self.days = days
        self.amount = amount
        self.customers = pd.Index(uniques, name="customer_id")
        self.as_of_day = as_of_day
        self.first_day = int(days.min())

    @property
    def n(self) -> int:
        return len(self.customers)

    @property
    def as_of(self) -> pd.Timestamp:
        return _day_ts(self.as_of_day)

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        cust = self.cust if mask is None else self.cust[mask]
        return np.bincount(cust, minlength=self.n).astype(np.int64)

    def spend(self, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is None:
            return np.bincount(self.cust, weights=self.amount, minlength=self.n)
        return np.bincount(self.cust[mask], weights=self.amount[mask], minlength=self.n)

    def last_day(self, mask: np.ndarray | None = None) -> np.ndarray:
        out = np.full(self.n, np.iinfo(np.int64).min, dtype=np.int64)
        cust, days = (self.cust, self.days) if mask is None else (self.cust[mask], self.days[mask])
        np.maximum.at(out, cust, days)
        return out

    def first(self) -> np.ndarray:
        out = np.full(self.n, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(out, self.cust, self.days)
        return out


def _quantile_scores(values: np.ndarray, bins: int) -> np.ndarray:
    """1 + floor(bins * (customers with a strictly lower value) / n); higher value = higher score."""
    n = len(values)
    below = np.searchsorted(np.sort(values), values, side="left").astype(np.int64)
    return 1 + (below * bins) // n


def _grid_level(scores: np.ndarray, bins: int) -> np.ndarray:
    """Place a 1..bins score on the 1..5 segment grid at the centre of its percentile band."""
    return 1 + (5 * (2 * np.asarray(scores, dtype=np.int64) - 1)) // (2 * bins)


def _segment_codes(r: np.ndarray, f: np.ndarray, bins: int) -> np.ndarray:
    return _GRID5[_grid_level(r, bins) - 1, _grid_level(f, bins) - 1]


def _segment_categorical(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(SEGMENTS))


def segment_grid(bins: int = 5) -> pd.DataFrame:
    """The R × F grid that names segments: which segment each pair of scores falls in.

    Parameters
    ----------
    bins : int, default 5
        Score levels, as passed to :func:`rfm_table`.

    Returns
    -------
    DataFrame
        Index ``R`` from ``bins`` (most recent) down to 1, columns ``F`` from 1 to
        ``bins``; each cell the segment name. Every cell holds exactly one segment.

    Examples
    --------
    >>> grid = segment_grid()
    >>> grid.loc[5, 5], grid.loc[5, 1], grid.loc[1, 5], grid.loc[1, 1]
    ('Champions', 'New', "Can't lose them", 'Lost')
    >>> segment_grid(3)  # doctest: +NORMALIZE_WHITESPACE
    F            1                   2                3
    R
    3          New  Potential loyalist        Champions
    2  Hibernating  Potential loyalist            Loyal
    1         Lost             At risk  Can't lose them
    """
    bins = _check_bins(bins)
    levels = np.arange(1, bins + 1)
    codes = _segment_codes(levels[:, None].repeat(bins, 1), levels[None, :].repeat(bins, 0), bins)
    names = np.asarray(SEGMENTS, dtype=object)[codes]
    out = pd.DataFrame(names[::-1], index=pd.Index(levels[::-1], name="R"), columns=pd.Index(levels, name="F"))
    return out


# ----------------------------------------------------------------------------
# RFM table
# ----------------------------------------------------------------------------

def rfm_table(tx: pd.DataFrame, *, as_of: Any = None, bins: int = 5, monetary: str = "total",
              frequency_breaks: Sequence[int] | None = None, engine: str = "auto") -> pd.DataFrame:
    """Per-customer recency, frequency and monetary value, their scores and segment.

    Parameters
    ----------
    tx : DataFrame
        The canonical transaction frame (``load_transactions``).
    as_of : date-like, optional
        Inclusive as-of date; orders after it are ignored. Default: the last
        order date. Must not be before the first order.
    bins : int, default 5
        Score levels (2 to 100); 5 gives quintile scores 1-5, 5 = best.
    monetary : {"total", "mean"}, default "total"
        Which money column the M score ranks: ``monetary_total`` (sum of
        order amounts) or ``monetary_mean`` (mean order value). Both columns
        are always returned.
    frequency_breaks : sequence of int, optional
        Fixed F breakpoints instead of quantiles: ``bins`` increasing lower
        bounds in orders, starting at 1. ``(1, 2, 3, 5, 8)`` gives F 1 for one
        order, 2 for two, 3 for 3-4, 4 for 5-7 and 5 for 8 or more.

    engine : {"auto", "pandas", "duckdb"}
        ``"auto"`` (default): numpy for a DataFrame; the engine for orders opened with
        :func:`relmkt_helpers.engine.open_orders` (they stay in DuckDB). ``"duckdb"`` runs the
        same definition (:mod:`relmkt_helpers.engine.reductions`) on DuckDB; results are equal.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (sorted), one row per customer with an order
        on or before ``as_of``. Columns: ``first_order``, ``last_order``,
        ``recency_days`` (days from last order to ``as_of``), ``tenure_days``
        (days from first order to ``as_of``), ``frequency`` (orders),
        ``monetary_total``, ``monetary_mean``, ``R``, ``F``, ``M`` (1..bins),
        ``rfm_code`` (e.g. ``"545"``; scores joined with ``"-"`` when
        ``bins >= 10``) and ``segment`` (categorical, categories
        :data:`SEGMENTS`). ``attrs`` holds ``as_of``, ``bins``, ``monetary``
        and ``frequency_breaks``. See the module docstring for the score
        formula, ties and the segment grid.

    Raises
    ------
    DataValidationError
        Empty frame, or a frame that is not canonical.
    ParameterError
        ``as_of`` before the first order, ``bins`` < 2, unknown ``monetary``,
        malformed ``frequency_breaks``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01",
    ...                                   "2024-03-01", "2024-01-15", "2024-01-20"]),
    ...     "amount": [10.0, 20.0, 30.0, 5.0, 8.0, 8.0]})
    >>> rfm = rfm_table(tx, as_of="2024-03-31", bins=3)
    >>> rfm[["recency_days", "frequency", "monetary_total", "R", "F", "M", "rfm_code"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 recency_days  frequency  monetary_total  R  F  M rfm_code
    customer_id
    a                      30          3            60.0  2  3  3      233
    b                      30          1             5.0  2  1  1      211
    c                      71          2            16.0  1  2  2      122
    """
    from .engine.api import on_engine, run_on_engine

    if on_engine(tx, engine):
        return run_on_engine("rfm_table", tx, engine=engine, as_of=as_of, bins=bins, monetary=monetary,
                             frequency_breaks=frequency_breaks)
    bins = _check_bins(bins)
    if not (isinstance(monetary, str) and monetary in _MONETARY):
        raise ParameterError(
            f"monetary={monetary!r} is not supported. Use monetary='total' (sum of order amounts, the "
            "default) or monetary='mean' (mean order value)."
        )
    breaks = _check_frequency_breaks(frequency_breaks, bins)
    od = _Orders(tx, as_of, "rfm_table")
    return rfm_frame(od.customers, first=od.first(), last=od.last_day(), freq=od.count(), total=od.spend(),
                     as_of_day=od.as_of_day, as_of=od.as_of, bins=bins, monetary=monetary, breaks=breaks)


def rfm_frame(customers: pd.Index, *, first: np.ndarray, last: np.ndarray, freq: np.ndarray, total: np.ndarray,
              as_of_day: int, as_of: str, bins: int, monetary: str, breaks: np.ndarray | None) -> pd.DataFrame:
    """Scores and segments from per-customer first/last order day, orders and total (shared with the engine)."""
    mean = total / freq
    recency = as_of_day - last
    r = _quantile_scores(-recency, bins)
    if breaks is None:
        f = _quantile_scores(freq, bins)
    else:
        f = np.searchsorted(breaks, freq, side="right").astype(np.int64)
    m = _quantile_scores(np.round(total if monetary == "total" else mean, 6), bins)
    out = pd.DataFrame({
        "first_order": _days_to_datetime(first),
        "last_order": _days_to_datetime(last),
        "recency_days": recency,
        "tenure_days": as_of_day - first,
        "frequency": freq,
        "monetary_total": total,
        "monetary_mean": mean,
        "R": r,
        "F": f,
        "M": m,
    }, index=customers)
    out["rfm_code"] = _rfm_codes(r, f, m, bins)
    out["segment"] = _segment_categorical(_segment_codes(r, f, bins))
    out.attrs.update({"as_of": as_of, "bins": bins, "monetary": monetary,
                      "frequency_breaks": None if breaks is None else tuple(int(b) for b in breaks)})
    return out


def _rfm_codes(r: np.ndarray, f: np.ndarray, m: np.ndarray, bins: int) -> pd.Categorical:
    """``"RFM"`` strings as a categorical (built once per observed code, not once per customer)."""
    key = ((r - 1) * bins + (f - 1)) * bins + (m - 1)
    present = np.flatnonzero(np.bincount(key, minlength=bins ** 3))
    sep = "" if bins < 10 else "-"
    labels = [sep.join(str(x + 1) for x in (k // (bins * bins), (k // bins) % bins, k % bins)) for k in present]
    lookup = np.full(bins ** 3, -1, dtype=np.int32)
    lookup[present] = np.arange(len(present), dtype=np.int32)
    return pd.Categorical.from_codes(lookup[key], categories=labels)


# ----------------------------------------------------------------------------
# segment table and VIPs
# ----------------------------------------------------------------------------

def _check_rfm(rfm: Any, where: str) -> pd.DataFrame:
    if not isinstance(rfm, pd.DataFrame) or any(c not in rfm.columns for c in _RFM_COLUMNS):
        got = type(rfm).__name__ if not isinstance(rfm, pd.DataFrame) else f"columns {list(rfm.columns)[:12]}"
        raise ParameterError(
            f"{where}: rfm must be the table returned by rfm_table(tx) (with columns "
            f"{', '.join(_RFM_COLUMNS)}), got {got}."
        )
    if len(rfm) == 0:
        raise DataValidationError(f"{where}: the RFM table has no customers. Check the transactions and as_of.")
    return rfm


def _segment_codes_of(rfm: pd.DataFrame, where: str) -> np.ndarray:
    seg = rfm["segment"]
    if isinstance(seg.dtype, pd.CategoricalDtype) and list(seg.cat.categories) == list(SEGMENTS):
        codes = seg.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = pd.Index(list(SEGMENTS)).get_indexer(seg.astype(object)).astype(np.int64)
    bad = codes < 0
    if bad.any():
        shown = sorted({str(v) for v in seg[bad].tolist()})[:5]
        raise ParameterError(
            f"{where}: column 'segment' holds value(s) {shown} that are not segments "
            f"({', '.join(SEGMENTS)}). Pass the table returned by rfm_table(tx)."
        )
    return codes


def _check_clv(clv: Any, customers: pd.Index, where: str) -> np.ndarray:
    """CLV values aligned to ``customers``; raise naming what is missing."""
    if isinstance(clv, pd.DataFrame):
        if "clv" not in clv.columns:
            raise ParameterError(
                f"{where}: clv must be a Series of CLV per customer indexed by customer_id (or the frame of "
                f"relmkt_helpers.clv.customer_value, with a 'clv' column), got a DataFrame with columns "
                f"{list(clv.columns)[:8]}. Pass one column, e.g. clv=<frame>['<column>']."
            )
        clv = clv["clv"]
    if not isinstance(clv, pd.Series):
        raise ParameterError(
            f"{where}: clv must be a pandas Series of CLV per customer indexed by customer_id "
            f"(e.g. from relmkt_helpers.clv), got {type(clv).__name__}."
        )
    if not pd.api.types.is_numeric_dtype(clv.dtype) or pd.api.types.is_bool_dtype(clv.dtype):
        raise ParameterError(f"{where}: clv has dtype {clv.dtype}; pass numeric CLV values (currency per customer).")
    if not clv.index.is_unique:
        dup = clv.index[clv.index.duplicated()][:5].tolist()
        raise ParameterError(
            f"{where}: clv has more than one value for some customer ids (e.g. {dup}). "
            "Pass one CLV per customer_id."
        )
    values = clv.reindex(customers).to_numpy(dtype=np.float64, na_value=np.nan)
    missing = ~np.isfinite(values)
    if missing.any():
        k, n = int(missing.sum()), len(customers)
        shown = customers[missing][:5].tolist()
        overlap = "" if k < n else (
            " None of the ids match: check that the clv index holds customer_id values of the same type "
            f"(the RFM index has dtype {customers.dtype}, clv's index has dtype {clv.index.dtype})."
        )
        raise ParameterError(
            f"{where}: clv is missing (or not finite) for {k:,} of the {n:,} customers in the RFM table, "
            f"e.g. {shown}.{overlap} Compute CLV for the same customers and as_of as the RFM table, "
            "or fill the gaps on purpose, e.g. clv.reindex(rfm.index, fill_value=0.0)."
        )
    return values


def _share(part: np.ndarray, total: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(part, dtype=np.float64) / total if total != 0 else np.full(np.shape(part), np.nan)


def segment_summary(rfm: pd.DataFrame, *, clv: pd.Series | None = None) -> pd.DataFrame:
    """Size, share of customers, revenue share and mean CLV of each segment.

    Parameters
    ----------
    rfm : DataFrame
        From :func:`rfm_table`.
    clv : Series, optional
        CLV per customer indexed by ``customer_id``, for every customer in
        ``rfm``; ids not in ``rfm`` are ignored. A DataFrame with a ``clv``
        column (the output of ``relmkt_helpers.clv.value.customer_value``) is
        accepted too. Without it the CLV columns are NaN.

    Returns
    -------
    DataFrame
        One row per segment, in :data:`SEGMENTS` order (empty segments kept,
        with 0 customers). Columns: ``customers``, ``share_customers``,
        ``revenue`` (sum of ``monetary_total``: historic revenue up to
        ``as_of``), ``share_revenue``, ``revenue_per_customer``,
        ``mean_recency_days``, ``mean_frequency``, ``clv_total``, ``share_clv``
        and ``mean_clv`` (NaN without ``clv``). Shares are of all customers in
        ``rfm`` and sum to 1 (segments partition the customers).

    Raises
    ------
    ParameterError
        ``rfm`` is not an RFM table, or ``clv`` is not a numeric Series covering
        every customer (the message says how many are missing).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-02"]),
    ...     "amount": [30.0, 30.0, 40.0]})
    >>> rfm = rfm_table(tx, bins=2)
    >>> rfm["segment"].tolist()
    ['Loyal', 'Hibernating']
    >>> table = segment_summary(rfm, clv=pd.Series({"a": 90.0, "b": 10.0}))
    >>> table.loc[["Loyal", "Hibernating"], ["customers", "share_revenue", "mean_clv"]]
    ... # doctest: +NORMALIZE_WHITESPACE
                 customers  share_revenue  mean_clv
    segment
    Loyal                1            0.6      90.0
    Hibernating          1            0.4      10.0
    >>> int(table["customers"].sum())
    2
    """
    rfm = _check_rfm(rfm, "segment_summary")
    codes = _segment_codes_of(rfm, "segment_summary")
    k = len(SEGMENTS)
    n = len(rfm)
    size = np.bincount(codes, minlength=k)
    revenue = np.bincount(codes, weights=rfm["monetary_total"].to_numpy(dtype=np.float64), minlength=k)
    rec = np.bincount(codes, weights=rfm["recency_days"].to_numpy(dtype=np.float64), minlength=k)
    freq = np.bincount(codes, weights=rfm["frequency"].to_numpy(dtype=np.float64), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(size > 0, 1.0 / np.maximum(size, 1), np.nan)
    if clv is None:
        clv_total = np.full(k, np.nan)
        share_clv = np.full(k, np.nan)
        mean_clv = np.full(k, np.nan)
    else:
        values = _check_clv(clv, rfm.index, "segment_summary")
        clv_total = np.bincount(codes, weights=values, minlength=k)
        share_clv = _share(clv_total, float(values.sum()))
        mean_clv = clv_total * per
    out = pd.DataFrame({
        "customers": size.astype(np.int64),
        "share_customers": size / n,
        "revenue": revenue,
        "share_revenue": _share(revenue, float(revenue.sum())),
        "revenue_per_customer": revenue * per,
        "mean_recency_days": rec * per,
        "mean_frequency": freq * per,
        "clv_total": clv_total,
        "share_clv": share_clv,
        "mean_clv": mean_clv,
    }, index=pd.Index(list(SEGMENTS), name="segment"))
    out.attrs.update({k_: v for k_, v in rfm.attrs.items() if k_ in ("as_of", "bins")})
    out.attrs["clv"] = clv is not None
    return out


def vip_list(rfm: pd.DataFrame, *, clv: pd.Series | None = None, top: float = 0.10) -> pd.DataFrame:
    """The most valuable customers: the top share by CLV, or by historic revenue without CLV.

    Parameters
    ----------
    rfm : DataFrame
        From :func:`rfm_table`.
    clv : Series, optional
        CLV per customer indexed by ``customer_id`` (expected future value), for
        every customer in ``rfm`` (or a DataFrame with a ``clv`` column, as
        ``customer_value`` returns). Without it customers are ranked by
        ``monetary_total`` (historic revenue up to ``as_of``).
    top : float, default 0.10
        Share of customers to list, in (0, 1]: ``ceil(top * n)`` customers
        (at least one). 0.10 is the top decile.

    Returns
    -------
    DataFrame
        The VIPs, most valuable first, indexed by ``customer_id``. Columns:
        ``rank`` (1 = most valuable), the ranking value in a column named
        ``clv`` or ``historic_revenue`` (which one is also in the ``basis``
        column and ``attrs["basis"]``), ``share_of_total`` (the customer's share
        of the total over **all** customers), ``cumulative_share``, and from
        ``rfm``: ``segment``, ``R``, ``F``, ``M``, ``rfm_code``,
        ``recency_days``, ``frequency``, ``monetary_total``. ``attrs`` holds
        ``value_share`` (the VIPs' share of total expected value, or of
        historic revenue: the last ``cumulative_share``), ``basis``, ``top``,
        ``n_vip`` and ``n_customers``. Equal values at the cut keep the order
        of ``rfm`` (customer_id order for :func:`rfm_table` output).

    Raises
    ------
    ParameterError
        ``top`` outside (0, 1], or a ``clv`` that does not cover every customer.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": list("abcd"),
    ...     "order_date": pd.to_datetime(["2024-01-01"] * 4), "amount": [10.0, 40.0, 30.0, 20.0]})
    >>> vips = vip_list(rfm_table(tx), top=0.5)
    >>> vips[["rank", "historic_revenue", "cumulative_share"]]  # doctest: +NORMALIZE_WHITESPACE
                 rank  historic_revenue  cumulative_share
    customer_id
    b               1              40.0               0.4
    c               2              30.0               0.7
    >>> vips.attrs["value_share"], vips.attrs["basis"]
    (0.7, 'historic_revenue')
    """
    rfm = _check_rfm(rfm, "vip_list")
    if (isinstance(top, (bool, np.bool_)) or not isinstance(top, Real) or not math.isfinite(float(top))
            or not 0 < float(top) <= 1):
        raise ParameterError(
            f"top={top!r}: pass the share of customers to list, above 0 and at most 1 (0.10 = top decile)."
        )
    n = len(rfm)
    if clv is None:
        basis = "historic_revenue"
        values = rfm["monetary_total"].to_numpy(dtype=np.float64)
    else:
        basis = "clv"
        values = _check_clv(clv, rfm.index, "vip_list")
    # ceil(top * n), guarding against float noise such as 0.1 * 30 = 3.0000000000000004
    k = min(n, max(1, math.ceil(round(float(top) * n, 9))))
    # money to a millionth: values equal but for float noise tie, and keep the customers' order (any engine)
    order = np.argsort(-np.round(values, 6), kind="stable")[:k]
    total = float(values.sum())
    chosen = values[order]
    share = _share(chosen, total)
    out = pd.DataFrame({"rank": np.arange(1, k + 1, dtype=np.int64), basis: chosen,
                        "basis": basis, "share_of_total": share, "cumulative_share": np.cumsum(share)},
                       index=rfm.index[order])
    for col in ("segment", "R", "F", "M", "rfm_code", "recency_days", "frequency", "monetary_total"):
        if col in rfm.columns and col not in out.columns:
            out[col] = rfm[col].iloc[order].to_numpy()
    out["segment"] = pd.Categorical(out["segment"], categories=list(SEGMENTS))
    value_share = float(chosen.sum() / total) if total != 0 else float("nan")
    out.attrs.update({"basis": basis, "top": float(top), "n_vip": int(k), "n_customers": int(n),
                      "value_share": value_share, "total_value": total})
    return out


# ----------------------------------------------------------------------------
# dropped-off customers
# ----------------------------------------------------------------------------

_REASONS = np.array([
    "", "spend_drop", "frequency_drop", "frequency_drop, spend_drop",
    "stopped", "stopped, spend_drop", "stopped, frequency_drop", "stopped, frequency_drop, spend_drop",
], dtype=object)


def dropped_off(tx: pd.DataFrame, *, as_of: Any = None, recent_days: int = 90, baseline_days: int = 365,
                stop_factor: float = 3.0, drop_threshold: float = 0.5, min_orders: int = 3,
                min_expected_orders: float = 1.0, max_p_value: float | None = None,
                include_all: bool = False, engine: str = "auto") -> pd.DataFrame:
    """Customers who stopped, or sharply cut their frequency or spend, against their own history.

    Windows (all inclusive, in calendar days; ``A`` = ``as_of``):

    * **recent window**: the ``recent_days`` days ending on ``A``,
      ``A - recent_days + 1 .. A``;
    * **baseline**: the ``baseline_days`` days just before it,
      ``A - recent_days - baseline_days + 1 .. A - recent_days``;
    * **history**: every order before the recent window (on or before
      ``A - recent_days``).

    Only customers with at least ``min_orders`` orders in their history are
    evaluated (the others have too little history to judge). For them:

    * ``usual_gap_days``: median gap in days between consecutive distinct
      order days in the history (NaN with fewer than two distinct days);
    * **stopped**: no order in the recent window, and ``days_since_last``
      (``A`` - last order) > ``stop_factor`` × ``usual_gap_days``;
    * ``expected_orders`` = baseline orders × ``recent_days / baseline_days``
      (the baseline rate scaled to the recent window's length), and likewise
      ``expected_spend`` from baseline spend;
    * **frequency_drop**: ``recent_orders / expected_orders`` <
      ``drop_threshold``; **spend_drop**: ``recent_spend / expected_spend`` <
      ``drop_threshold``. Both only when ``expected_orders`` >=
      ``min_expected_orders``: a customer expected to place half an order in
      the window and placing none has not visibly dropped.
    * ``frequency_p_value``: how surprising so few orders would be if the
      baseline rate had simply continued, P(N <= ``recent_orders``) for N
      Poisson with mean ``expected_orders``. It is evidence only, unless
      ``max_p_value`` is set, when ``frequency_drop`` also needs
      ``frequency_p_value <= max_p_value``. (A ratio rule alone flags noise:
      a customer expected to place 2 orders places none about 14% of the time.)

    A customer who was acquired during the baseline has it diluted (the whole
    baseline length counts), so the rule errs towards not flagging new customers.
    A customer who went quiet long before the recent window is still
    ``stopped`` (with ``baseline_orders`` 0 if silent through the whole
    baseline); the sort by baseline value puts them last, and
    ``days_since_last`` says how long ago they stopped.

    Parameters
    ----------
    tx : DataFrame
        The canonical transaction frame.
    as_of : date-like, optional
        Inclusive as-of date (end of the recent window). Default: the last order date.
    recent_days : int, default 90
        Length of the recent window in days.
    baseline_days : int, default 365
        Length of the baseline window in days.
    stop_factor : float, default 3.0
        ``stopped`` needs ``days_since_last > stop_factor * usual_gap_days``.
    drop_threshold : float, default 0.5
        A drop is a recent rate below this share of the baseline rate, in (0, 1].
    min_orders : int, default 3
        Orders needed before the recent window to be evaluated.
    min_expected_orders : float, default 1.0
        Baseline orders, scaled to the recent window, needed to judge a
        frequency or spend drop.
    max_p_value : float, optional
        If set (e.g. 0.05), a frequency drop must also have
        ``frequency_p_value <= max_p_value``.
    include_all : bool, default False
        Return every evaluated customer (flagged or not) instead of the flagged ones.
    engine : {"auto", "pandas", "duckdb"}
        Where the per-order work runs (see :func:`relmkt_helpers.rfm_table`).

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``, sorted by ``baseline_spend`` (most valuable
        first; ties by history spend, then customer_id). Evidence columns:
        ``history_orders``, ``history_spend``, ``first_order``, ``last_order``,
        ``days_since_last``, ``usual_gap_days``, ``gap_ratio``
        (``days_since_last / usual_gap_days``), ``baseline_orders``,
        ``baseline_spend``, ``expected_orders``, ``recent_orders``,
        ``frequency_ratio``, ``frequency_p_value``, ``expected_spend``, ``recent_spend``,
        ``spend_ratio``; flags ``stopped``, ``frequency_drop``, ``spend_drop``,
        ``flagged`` and ``reasons`` (the flags in words). ``attrs`` holds the
        window dates and the parameters.

    Raises
    ------
    DataValidationError
        Empty or non-canonical frame.
    ParameterError
        ``as_of`` before the first order, or a parameter out of range.

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.to_datetime("2024-01-01") + pd.to_timedelta(range(0, 280, 7), unit="D")
    >>> tx = pd.DataFrame({"customer_id": "weekly", "order_date": days, "amount": 10.0})
    >>> out = dropped_off(tx, as_of="2024-12-31")
    >>> row = out.loc["weekly"]
    >>> int(row["recent_orders"]), int(row["days_since_last"]), float(row["usual_gap_days"]), row["reasons"]
    (0, 92, 7.0, 'stopped, frequency_drop, spend_drop')
    """
    recent_days = _check_positive_int("recent_days", recent_days)
    baseline_days = _check_positive_int("baseline_days", baseline_days)
    stop_factor = _check_positive_real("stop_factor", stop_factor)
    drop_threshold = _check_positive_real("drop_threshold", drop_threshold, upper=1.0)
    min_orders = _check_positive_int("min_orders", min_orders)
    min_expected_orders = _check_positive_real("min_expected_orders", min_expected_orders, allow_zero=True)
    if max_p_value is not None:
        max_p_value = _check_positive_real("max_p_value", max_p_value, upper=1.0)
    if not isinstance(include_all, (bool, np.bool_)):
        raise ParameterError(f"include_all={include_all!r}: pass True or False.")
    from .engine.api import on_engine, run_on_engine

    window = dict(as_of=as_of, recent_days=recent_days, baseline_days=baseline_days, min_orders=min_orders)
    if on_engine(tx, engine):
        h, A = run_on_engine("history_windows", tx, engine=engine, **window)
    else:
        h, A = _history_windows(tx, **window)
    recent_start = A - recent_days + 1
    base_start = recent_start - baseline_days
    gap, last = h["usual_gap_days"].to_numpy(dtype=np.float64), h["last_day"].to_numpy(dtype=np.int64)
    days_since = A - last
    base_orders, base_spend = h["baseline_orders"].to_numpy(dtype=np.int64), h["baseline_spend"].to_numpy(np.float64)
    rec_orders, rec_spend = h["recent_orders"].to_numpy(dtype=np.int64), h["recent_spend"].to_numpy(np.float64)
    scale = recent_days / baseline_days
    exp_orders = base_orders * scale
    exp_spend = base_spend * scale
    with np.errstate(invalid="ignore", divide="ignore"):
        freq_ratio = np.where(exp_orders > 0, rec_orders / exp_orders, np.nan)
        spend_ratio = np.where(exp_spend > 0, rec_spend / exp_spend, np.nan)
        gap_ratio = np.where(gap > 0, days_since / gap, np.nan)
    judged = (exp_orders >= min_expected_orders) & (exp_orders > 0)
    stopped = (rec_orders == 0) & np.isfinite(gap) & (days_since > stop_factor * gap)
    p_value = np.where(exp_orders > 0, stats.poisson.cdf(rec_orders, np.where(exp_orders > 0, exp_orders, 1.0)),
                       np.nan)
    freq_drop = judged & (freq_ratio < drop_threshold)
    if max_p_value is not None:
        freq_drop &= p_value <= max_p_value
    spend_drop = judged & (exp_spend > 0) & (spend_ratio < drop_threshold)
    flagged = stopped | freq_drop | spend_drop
    hist_spend = h["history_spend"].to_numpy(dtype=np.float64)

    out = pd.DataFrame({
        "history_orders": h["history_orders"].to_numpy(dtype=np.int64),
        "history_spend": hist_spend,
        "first_order": _days_to_datetime(h["first_day"].to_numpy(dtype=np.int64)),
        "last_order": _days_to_datetime(last),
        "days_since_last": days_since,
        "usual_gap_days": gap,
        "gap_ratio": gap_ratio,
        "baseline_orders": base_orders,
        "baseline_spend": base_spend,
        "expected_orders": exp_orders,
        "recent_orders": rec_orders,
        "frequency_ratio": freq_ratio,
        "frequency_p_value": p_value,
        "expected_spend": exp_spend,
        "recent_spend": rec_spend,
        "spend_ratio": spend_ratio,
        "stopped": stopped,
        "frequency_drop": freq_drop,
        "spend_drop": spend_drop,
        "flagged": flagged,
    }, index=h.index)
    reason_code = stopped.astype(np.int64) * 4 + freq_drop * 2 + spend_drop
    out["reasons"] = _REASONS[reason_code]
    # most valuable baseline first; ties: history spend, then customer_id (the index is sorted)
    order = np.lexsort((np.arange(len(h)), -np.round(hist_spend, 6), -np.round(base_spend, 6)))
    if not include_all:
        order = order[flagged[order]]
    out = out.iloc[order]
    out.attrs.update({
        "as_of": _day_ts(A), "recent_window": (_day_ts(recent_start), _day_ts(A)),
        "baseline_window": (_day_ts(base_start), _day_ts(recent_start - 1)),
        "recent_days": recent_days, "baseline_days": baseline_days, "stop_factor": stop_factor,
        "drop_threshold": drop_threshold, "min_orders": min_orders,
        "min_expected_orders": min_expected_orders, "max_p_value": max_p_value,
        "evaluated": int(len(h)), "flagged": int(flagged.sum()),
    })
    return out


def _history_windows(tx: pd.DataFrame, *, as_of: Any, recent_days: int, baseline_days: int,
                     min_orders: int) -> tuple[pd.DataFrame, int]:
    """:func:`dropped_off`'s per-customer inputs on numpy (the engine's: ``history_windows_expr``), and as_of's day."""
    od = _Orders(tx, as_of, "dropped_off")
    A = od.as_of_day
    recent_start = A - recent_days + 1
    in_hist = od.days < recent_start
    in_recent = ~in_hist
    in_base = in_hist & (od.days >= recent_start - baseline_days)
    hist_orders = od.count(in_hist)
    qualifies = hist_orders >= min_orders
    idx = np.flatnonzero(qualifies)
    return pd.DataFrame({
        "history_orders": hist_orders[idx], "history_spend": od.spend(in_hist)[idx], "first_day": od.first()[idx],
        "last_day": od.last_day()[idx], "baseline_orders": od.count(in_base)[idx],
        "baseline_spend": od.spend(in_base)[idx], "recent_orders": od.count(in_recent)[idx],
        "recent_spend": od.spend(in_recent)[idx],
        # usual gap: median gap between consecutive distinct order days in the history
        "usual_gap_days": _median_gaps(od, in_hist & qualifies[od.cust])[idx],
    }, index=od.customers[idx]), A


def _median_gaps(od: _Orders, mask: np.ndarray) -> np.ndarray:
    """Per customer: median gap between consecutive distinct order days among ``mask`` orders (NaN if < 2 days).

    Works on one sorted int64 key per order, ``customer << bits | day``, with bit shifts
    rather than divisions (about 1 s less on 10M orders).
    """
    out = np.full(od.n, np.nan)
    cust, days = od.cust[mask], od.days[mask]
    if len(cust) == 0:
        return out
    bits = max(int(od.as_of_day - od.first_day + 1).bit_length(), 1)
    low = (1 << bits) - 1
    key = np.sort((cust << bits) | (days - od.first_day))
    key = key[np.r_[True, key[1:] != key[:-1]]]  # distinct (customer, day), sorted by customer then day
    c = key >> bits
    same = c[1:] == c[:-1]
    gaps = np.diff(key & low)[same]
    if len(gaps) == 0:
        return out
    key2 = np.sort((c[1:][same] << bits) | gaps)  # gaps sorted within each customer
    gc = key2 >> bits
    gaps = key2 & low
    starts = np.flatnonzero(np.r_[True, gc[1:] != gc[:-1]])
    counts = np.diff(np.r_[starts, len(gc)])
    lo = gaps[starts + (counts - 1) // 2]
    hi = gaps[starts + counts // 2]
    out[gc[starts]] = (lo + hi) / 2.0
    return out
