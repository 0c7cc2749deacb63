"""Shared checks and the customer-activity counts behind the measured economics.

Internal module: the public names live in :mod:`relmkt_helpers.economics`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._arrays import factorize_ids, unique_sorted
from ..errors import DataValidationError, ParameterError

#: Label of the blended (all channels) rows, and the ledger channel meaning "not split by channel".
ALL = "all"

#: Notes that flag a row whose figure is undefined or to be read with care.
NOTE_NO_NEW = "spend but no new customers: CAC undefined"
NOTE_NO_SPEND_NO_NEW = "no spend and no new customers: CAC undefined"
NOTE_ORGANIC = "no acquisition spend recorded: CAC 0"
NOTE_NO_ROW = "no ledger row for this channel and month: spend unknown, CAC undefined"
NOTE_BEFORE = "month before the transaction data starts: not comparable, left out of totals"
NOTE_AFTER = "month after the transaction data ends (as_of): not comparable, left out of totals"
NOTE_PARTIAL = "partial month in the transaction data (as_of inside it): left out of totals"
NOTE_NO_RETAINED = "no retained customers: cost per retained customer undefined"
NOTE_FIRST = "first period of the transaction data: nobody acquired earlier can be seen, left out of totals"


def check_number(value: Any, name: str, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, hint: str = "") -> np.ndarray:
    """``value`` as a float array, every element finite and inside the stated bounds.

    Raises :class:`ParameterError` naming the parameter, the first bad value and the fix.
    """
    if isinstance(value, (bool, np.bool_)):
        raise ParameterError(f"{name}={value!r} must be a number, not a bool.{hint}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} must be a number (or an array of numbers).{hint}") from None
    if arr.size == 0:
        raise ParameterError(f"{name} is empty: pass at least one value.{hint}")
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= (arr >= hi) if hi_open else (arr > hi)
    if bad.any():
        first = float(arr[bad].ravel()[0])
        if not math.isfinite(first):
            need = "a finite number"
        else:
            left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
            need = (f"in {left}{'-inf' if lo is None else f'{lo:g}'}, "
                    f"{'inf' if hi is None else f'{hi:g}'}{right}")
        shown = f"{first:g}" if arr.ndim == 0 else f"{first:g} (among {arr.size} values)"
        raise ParameterError(f"{name}={shown} is not allowed: it must be {need}.{hint}")
    return arr


_RET_HINT = (" A retention rate is the share of customers kept from one period to the next, as a fraction"
             " in [0, 1) (80 % -> 0.8); a rate of 1 means nobody ever leaves and the value is infinite.")
_DISC_HINT = " Pass the discount rate per period as a non-negative fraction (10 % -> 0.1)."


def check_retention(value: Any, name: str = "retention") -> np.ndarray:
    """A retention rate (array) in [0, 1)."""
    return check_number(value, name, lo=0.0, hi=1.0, hi_open=True, hint=_RET_HINT)


def check_discount(value: Any, name: str = "discount") -> np.ndarray:
    """A discount rate (array) >= 0."""
    return check_number(value, name, lo=0.0, hint=_DISC_HINT)


def scalar_or_array(arr: np.ndarray) -> float | np.ndarray:
    """A 0-d result as a Python float, else the array."""
    return float(arr) if np.ndim(arr) == 0 else arr


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if isinstance(value, str) and value in allowed:
        return value
    raise ParameterError(f"{name}={value!r} is not supported. Use {name}= one of "
                         + ", ".join(repr(a) for a in allowed) + ".")


def check_tx(tx: Any) -> pd.DataFrame:
    from ..engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):  # validated when it was opened; reduced in the engine
        return tx
    if not isinstance(tx, pd.DataFrame):
        raise ParameterError(
            f"tx must be the transaction DataFrame from load_transactions, got {type(tx).__name__}."
        )
    missing = [c for c in ("customer_id", "order_date", "amount") if c not in tx.columns]
    if missing:
        raise DataValidationError(
            f"transactions: column(s) {', '.join(repr(c) for c in missing)} missing. Load the data with "
            "relmkt_helpers.load_transactions, which returns the canonical frame."
        )
    if len(tx) == 0:
        raise DataValidationError("transactions: the frame has no orders. Check the source and as_of.")
    return tx


def as_of_day(tx: pd.DataFrame | None, as_of: Any) -> np.datetime64:
    """The inclusive as-of day (default: the last order date of ``tx``)."""
    if as_of is None:
        return np.datetime64(tx["order_date"].max(), "D")
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ParameterError(f"as_of={as_of!r} is not a date. Pass a date such as '2025-12-31', or None.") from None
    if ts is pd.NaT or ts.tzinfo is not None:
        raise ParameterError(f"as_of={as_of!r} must be a tz-naive date such as '2025-12-31', or None.")
    return np.datetime64(ts.normalize().date(), "D")


def to_month_period(values: pd.Series, where: str) -> pd.Series:
    """Ledger months as ``Period[M]`` (accepts Period, ``YYYY-MM`` text or dates)."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq("M")
    try:
        return pd.Series(pd.PeriodIndex(pd.to_datetime(values.astype(str), format="ISO8601"), freq="M"),
                         index=values.index)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"{where}: column 'month' must hold months (YYYY-MM). Load the ledger with "
            "relmkt_helpers.load_spend."
        ) from None


def check_spend(spend: Any) -> pd.DataFrame:
    """The spend ledger with ``month`` as ``Period[M]``, ``channel`` and ``kind`` as str."""
    if not isinstance(spend, pd.DataFrame):
        raise ParameterError(
            f"spend must be the ledger DataFrame from load_spend, got {type(spend).__name__}. "
            "Pass spend=None to work from assumptions."
        )
    missing = [c for c in ("month", "channel", "kind", "spend") if c not in spend.columns]
    if missing:
        raise DataValidationError(
            f"spend ledger: column(s) {', '.join(repr(c) for c in missing)} missing. Load it with "
            "relmkt_helpers.load_spend (columns month, channel, kind, spend)."
        )
    out = pd.DataFrame({
        "month": to_month_period(spend["month"], "spend ledger"),
        "channel": spend["channel"].astype(str).str.strip(),
        "kind": spend["kind"].astype(str).str.strip().str.lower(),
        "spend": pd.to_numeric(spend["spend"], errors="coerce").astype(np.float64),
    })
    bad = ~out["kind"].isin(("acquisition", "retention"))
    if bad.any():
        raise DataValidationError(
            f"spend ledger: column 'kind' must be 'acquisition' or 'retention', found "
            f"{sorted(out.loc[bad, 'kind'].unique())[:5]}. Load it with relmkt_helpers.load_spend."
        )
    if out["spend"].isna().any() or (out["spend"] < 0).any():
        raise DataValidationError("spend ledger: column 'spend' needs non-negative numbers. "
                                  "Load it with relmkt_helpers.load_spend.")
    return out.groupby(["month", "channel", "kind"], sort=True, as_index=False)["spend"].sum()


# ----------------------------------------------------------------------------
# customer activity by month and by year, per acquisition channel
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Activity:
    """Counts per (period, channel): arrays of shape (n_periods, n_channels).

    ``periods`` are months (``Period[M]``) or years (``Period[Y]``) from the first
    order's period to the period containing ``as_of``.
    """

    periods: pd.PeriodIndex
    channels: list[str]
    new: np.ndarray          # first order ever in the period
    active: np.ndarray       # >= 1 order in the period
    returning: np.ndarray    # active in the period and in the previous one
    revenue: np.ndarray      # order amounts in the period
    complete: np.ndarray     # bool per period: the period's last day <= as_of
    first_day: np.datetime64
    as_of: np.datetime64

    @property
    def existing(self) -> np.ndarray:
        """Active customers acquired in an earlier period (returning + reactivated)."""
        return self.active - self.new

    def retained(self, basis: str) -> np.ndarray:
        return {"active": self.active, "existing": self.existing, "returning": self.returning}[basis]


def customer_channels(tx: pd.DataFrame, channel_col: str | None
                      ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Customer code per order, the first-order row per customer and each customer's channel code.

    The channel is the value of ``channel_col`` on the customer's first order
    (the first row, in frame order, of their earliest day), as in
    :mod:`relmkt_helpers.cohorts`. Without ``channel_col`` every customer is in ``"all"``.
    Returns ``(cust, first_rows, channel_labels, channel_code_per_customer)``.
    """
    cust, _ = factorize_ids(tx["customer_id"])
    cust = cust.astype(np.int64)
    days = tx["order_date"].to_numpy().astype("datetime64[D]").view(np.int64)
    if len(days) and np.all(days[1:] >= days[:-1]):
        # Sorted by date (as load_transactions returns it), and codes numbered by first appearance:
        # a customer's first order is where the running maximum of the codes grows. One pass, no sort.
        top = np.maximum.accumulate(cust)
        first_rows = np.flatnonzero(np.r_[True, top[1:] > top[:-1]])
    else:
        order = np.argsort(days, kind="stable")
        c = cust[order]
        by_cust = np.argsort(c, kind="stable")  # keeps date order within a customer
        starts = np.r_[True, c[by_cust][1:] != c[by_cust][:-1]]
        first_rows = order[by_cust[starts]]
    if channel_col is None:
        return cust, first_rows, [ALL], np.zeros(len(first_rows), dtype=np.int64)
    values = tx[channel_col].iloc[first_rows].astype("string").fillna("(missing)").str.strip()
    codes, labels = pd.factorize(values, sort=True)
    return cust, first_rows, [str(x) for x in labels], codes.astype(np.int64)


def activity(tx: pd.DataFrame, *, channel_col: str | None, as_of: Any, freq: str = "M") -> Activity:
    """Count new, active and returning customers and revenue per period and channel (numpy, or the engine
    for orders kept there)."""
    tx = check_tx(tx)
    if not isinstance(tx, pd.DataFrame):
        from ..engine.analyses import activity as in_engine

        return in_engine(tx, channel_col=channel_col, as_of=as_of, freq=freq)
    if channel_col is not None and channel_col not in tx.columns:
        raise DataValidationError(
            f"transactions: the channel column {channel_col!r} is missing. Pass channel_col='<column>', "
            "or channel_col=None and a spend ledger with channel 'all'."
        )
    end = as_of_day(tx, as_of)
    days_all = tx["order_date"].to_numpy().astype("datetime64[D]")
    keep = days_all <= end
    if not keep.all():
        tx = tx.loc[keep]
        days_all = days_all[keep]
    if len(tx) == 0:
        raise ParameterError(f"as_of={end} is before the first order: nothing to analyse. Pass a later as_of.")
    cust, _first, channels, ch = customer_channels(tx, channel_col)
    months = days_all.astype("datetime64[M]").astype(np.int64)
    code = months if freq == "M" else months // 12
    p0 = int(code.min())
    end_m = int(end.astype("datetime64[M]").astype(np.int64))
    p_end = end_m if freq == "M" else end_m // 12
    P, C = p_end - p0 + 1, len(channels)
    rel = code - p0
    key = unique_sorted(cust * P + rel)
    pc, pp = key // P, key % P
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(pc[1:], pc[:-1], out=first[1:])
    flat = pp * C + ch[pc]
    active = np.bincount(flat, minlength=P * C).reshape(P, C)
    new = np.bincount(flat[first], minlength=P * C).reshape(P, C)
    consecutive = np.zeros(len(key), dtype=bool)
    consecutive[1:] = (~first[1:]) & (pp[1:] == pp[:-1] + 1)
    returning = np.bincount(flat[consecutive], minlength=P * C).reshape(P, C)
    revenue = np.bincount(rel * C + ch[cust], weights=tx["amount"].to_numpy(dtype=np.float64),
                          minlength=P * C).reshape(P, C)
    freq_pd = "M" if freq == "M" else "Y"
    ords = np.arange(P) + p0
    periods = pd.PeriodIndex.from_ordinals(ords, freq=freq_pd, name="month" if freq == "M" else "year")
    last_days = (periods + 1).start_time.to_numpy().astype("datetime64[D]") - np.timedelta64(1, "D")
    return Activity(periods=periods, channels=channels, new=new, active=active, returning=returning,
                    revenue=revenue, complete=last_days <= end, first_day=days_all.min(), as_of=end)


def match_channels(ledger_channels: list[str], tx_channels: list[str] | None, channel_col: str | None) -> bool:
    """Check the ledger's channels against the transactions'; True when the ledger is blended ("all").

    Raises :class:`DataValidationError` naming the channels on each side and the fix.
    """
    led = sorted(set(ledger_channels))
    if led == [ALL]:
        return True
    if ALL in led:
        raise DataValidationError(
            f"spend ledger: channel 'all' is mixed with named channels {[c for c in led if c != ALL]}. "
            "Either split the 'all' spend over the channels, or aggregate the whole ledger to channel 'all' "
            "(spend.assign(channel='all'))."
        )
    if tx_channels is None:
        raise DataValidationError(
            f"spend ledger has channels {led} but the transactions have no channel column "
            f"(channel_col={channel_col!r}). Pass channel_col='<column>' naming the acquisition channel in the "
            "transactions, or aggregate the ledger to channel 'all' (spend.assign(channel='all'))."
        )
    txc = sorted(set(tx_channels))
    if led != txc:
        only_led = [c for c in led if c not in txc]
        only_tx = [c for c in txc if c not in led]
        raise DataValidationError(
            "spend ledger channels do not match the transactions' acquisition channels: "
            f"only in the ledger {only_led}, only in the transactions {only_tx} "
            f"(ledger: {led}; transactions, column {channel_col!r}: {txc}). Rename the channels on one side so "
            "they match, add zero-spend ledger rows for channels without spend (e.g. organic), or aggregate the "
            "ledger to channel 'all' (spend.assign(channel='all')) and pass channel_col=None."
        )
    return False
