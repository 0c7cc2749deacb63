"""Customer KPIs per period (active, new, returning, reactivated, retention, churn, repeat rate).

Part of :mod:`relmkt_helpers.cohorts` (re-exported there, and its conventions hold: periods,
``as_of``, complete periods). The per-order counts come from numpy or, for orders kept in the
engine, from one engine query (:func:`relmkt_helpers.engine.analyses.period_counts`); the rates and
changes are computed here from those counts either way.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .cohorts import _check_period, _day_ts, _pairs, _periods, _prepare, _start_rel, _to_day
from .errors import ParameterError

__all__ = ["period_kpis"]


def period_kpis(tx: pd.DataFrame, *, period: str = "M", as_of: Any = None, start: Any = None,
                include_partial: bool = False) -> pd.DataFrame:
    """Customer KPIs per period: active, new, returning, reactivated, retention, churn, repeat rate.

    Definitions, for period ``p``:

    * ``active``: customers with at least one order in ``p``;
      ``active = new + returning + reactivated``.
    * ``new``: first order ever (up to ``as_of``) in ``p``.
    * ``returning``: active in ``p`` and in ``p - 1``.
    * ``reactivated``: active in ``p``, not in ``p - 1``, but active in some
      earlier period (not new).
    * ``retention_rate``: ``returning / active`` of ``p - 1`` (active in the
      previous period and again in this one); ``churn_rate = 1 - retention_rate``.
      NaN for the first period and after a period with nobody active.
    * ``repeat_purchase_rate``: of all customers acquired up to the end of
      ``p`` (``customers_to_date``), the share with two or more orders up to the
      end of ``p``. Two orders on one day are two orders.
    * ``orders`` and ``revenue`` (every order, the first included).
    * ``<rate>_change``: the rate minus the previous period's, in points
      (0.02 = two percentage points). ``active_growth`` and ``revenue_growth``:
      relative change against the previous period (0.1 = +10 %).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    period : {"M", "W", "Q"}, default "M"
        Calendar months, weeks running Monday to Sunday, or calendar quarters.
    as_of : date-like, optional
        Inclusive; later orders are ignored. Default: the last order date.
    start : date-like, optional
        First period to show (earlier orders still count as history, so the
        first row shown has its changes and its returning/reactivated split).
    include_partial : bool, default False
        Also show the partial period containing ``as_of`` (``complete`` False).
        Its counts are to date; its rates and changes are NaN, so a partial
        period never looks like a drop.

    Returns
    -------
    DataFrame
        One row per period (``PeriodIndex`` named ``"period"``, every period
        from the first order's, including periods without orders) with columns
        ``complete``, ``active``, ``new``, ``returning``, ``reactivated``,
        ``customers_to_date``, ``orders``, ``revenue``, ``retention_rate``,
        ``churn_rate``, ``repeat_purchase_rate``, ``retention_rate_change``,
        ``churn_rate_change``, ``repeat_purchase_rate_change``,
        ``active_growth``, ``revenue_growth``.

    Raises
    ------
    ParameterError
        Unknown ``period``; ``as_of`` before the first order; an empty period
        range (no complete period between ``start`` and ``as_of``).

    Examples
    --------
    ``a`` buys in January and March (reactivated), ``b`` in January and February:

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-01", "2024-03-31"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> k = period_kpis(tx)
    >>> k[["active", "new", "returning", "reactivated", "retention_rate"]]  # doctest: +NORMALIZE_WHITESPACE
             active  new  returning  reactivated  retention_rate
    period
    2024-01       2    2          0            0             NaN
    2024-02       1    0          1            0             0.5
    2024-03       1    0          0            1             0.0
    """
    include_partial = bool(include_partial)
    from .engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):
        from .engine.analyses import period_counts

        prep, (active, new, returning, reactivated, orders, revenue, second_in) = period_counts(
            tx, period=_check_period(period), as_of=as_of)
        P = prep.n_periods
    else:
        prep = _prepare(tx, period, as_of)
        pr = _pairs(prep)
        P = prep.n_periods
        active = np.bincount(pr.p, minlength=P)
        new = np.bincount(pr.cohort, minlength=P)
        consecutive = (~pr.first[1:]) & (pr.p[1:] == pr.p[:-1] + 1)
        returning = np.bincount(pr.p[1:][consecutive], minlength=P)
        reactivated = active - new - returning
        orders = np.bincount(prep.p, minlength=P)
        revenue = np.bincount(prep.p, weights=prep.amount, minlength=P)
        # period of each customer's second order: in the first pair if it holds 2+ orders, else the next pair
        fi = np.flatnonzero(pr.first)
        nxt = np.minimum(fi + 1, len(pr.p) - 1)
        has_next = (fi + 1 < len(pr.p)) & (pr.cust[nxt] == pr.cust[fi])
        second = np.where(pr.orders[fi] >= 2, pr.p[fi], np.where(has_next, pr.p[nxt], P))
        second_in = np.bincount(second, minlength=P + 1)[:P]
    repeaters = np.cumsum(second_in)
    to_date = np.cumsum(new)

    prev_active = np.concatenate([[0], active[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        retention = np.where(prev_active > 0, returning / np.maximum(prev_active, 1), np.nan)
        repeat = np.where(to_date > 0, repeaters / np.maximum(to_date, 1), np.nan)
    complete = np.arange(P) <= prep.last_complete
    retention = np.where(complete, retention, np.nan)
    repeat = np.where(complete, repeat, np.nan)
    churn = 1.0 - retention

    def diff(x: np.ndarray) -> np.ndarray:
        return np.concatenate([[np.nan], x[1:] - x[:-1]])

    def growth(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float64)
        prev = np.concatenate([[np.nan], x[:-1]])
        with np.errstate(invalid="ignore", divide="ignore"):
            g = np.where(prev > 0, x / np.where(prev > 0, prev, 1.0) - 1.0, np.nan)
        return np.where(complete, g, np.nan)

    out = pd.DataFrame({
        "complete": complete,
        "active": active.astype(np.int64),
        "new": new.astype(np.int64),
        "returning": returning.astype(np.int64),
        "reactivated": reactivated.astype(np.int64),
        "customers_to_date": to_date.astype(np.int64),
        "orders": orders.astype(np.int64),
        "revenue": revenue,
        "retention_rate": retention,
        "churn_rate": churn,
        "repeat_purchase_rate": repeat,
        "retention_rate_change": diff(retention),
        "churn_rate_change": diff(churn),
        "repeat_purchase_rate_change": diff(repeat),
        "active_growth": growth(active),
        "revenue_growth": growth(revenue),
    }, index=_periods(np.arange(P) + prep.p0, prep.per, "period"))
    lo = _start_rel(start, prep)
    hi = P if include_partial else prep.last_complete + 1
    if hi <= lo:
        raise ParameterError(
            f"no complete {_period_word(prep.per)} between "
            f"{'start=' + str(_day_ts(_to_day(start, 'start')).date()) if start is not None else 'the first order'} "
            f"and as_of={prep.as_of.date()} (an empty period range). Pass a later as_of, an earlier start, "
            "or include_partial=True to see the partial period."
        )
    return out.iloc[lo:hi]


def _period_word(per: str) -> str:
    return {"W": "week", "M": "month", "Q": "quarter"}[per]
