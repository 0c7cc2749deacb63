"""Gross and net revenue retention (GRR, NRR) of a subscription product.

Input: the subscription table of :func:`relmkt_helpers.load_subscriptions`
(one row per subscription: ``customer_id``, ``plan``, ``start_date``,
``end_date`` with NaT = still active) and a price per month per subscription.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import DataValidationError, ParameterError
from ._common import as_of_day as as_of_day_of
from ._common import check_number

__all__ = ["subscription_revenue_retention"]

_CHUNK = 200_000  # customers per block of the customer x month-end matrix


def _mrr_matrix(cust: np.ndarray, i0: np.ndarray, i1: np.ndarray, price: np.ndarray, n_cust: int,
                T: int) -> np.ndarray:
    """Customer x month-end MRR (``i0 <= t < i1`` active), via a difference array."""
    D = np.zeros((n_cust, T + 1), dtype=np.float64)
    np.add.at(D, (cust, np.clip(i0, 0, T)), price)
    np.add.at(D, (cust, np.clip(i1, 0, T)), -price)
    return np.cumsum(D, axis=1)[:, :T]


def _flows(mrr: np.ndarray, lag: int) -> dict[str, np.ndarray]:
    """Per month-end t >= lag: starting (t - lag), churned, contraction, expansion, new MRR (summed over customers)."""
    s, e = mrr[:, :-lag] if lag else mrr, mrr[:, lag:]
    had = s > 1e-9
    return {
        "starting": s.sum(0),
        "churned": np.where(had & (e <= 1e-9), s, 0.0).sum(0),
        "contraction": np.where(had & (e > 1e-9) & (e < s - 1e-9), s - e, 0.0).sum(0),
        "expansion": np.where(had & (e > s + 1e-9), e - s, 0.0).sum(0),
        "new": np.where(~had, e, 0.0).sum(0),
        "ending": e.sum(0),
    }


def subscription_revenue_retention(subscriptions: pd.DataFrame, *, as_of: Any = None,
                                   price_col: str = "monthly_price", prices: Mapping[str, float] | None = None
                                   ) -> pd.DataFrame:
    """Monthly and trailing-12-month gross and net revenue retention (GRR, NRR) of subscriptions.

    Definitions
    -----------
    MRR at a month's end
        Sum of the monthly prices of the subscriptions active on the **last day
        of the month**: ``start_date <= day < end_date`` (``end_date`` is the
        first unpaid day; NaT = still active at ``as_of``). A subscription that
        starts and ends inside one month is never at a month end and does not
        count.
    Flows over a window (one month, or 12 months), per **customer**
        Starting MRR is the customer's MRR at the end of the month before the
        window, ending MRR at the end of the window's last month. A customer with
        starting MRR > 0 and ending 0 is **churned MRR**; ending below starting
        is **contraction**, above is **expansion** (an upgrade, or a second
        subscription of the same customer); customers with no starting MRR bring
        **new MRR** (not part of retention).
    ``GRR = (starting - churned - contraction) / starting``
    ``NRR = (starting - churned - contraction + expansion) / starting``
        ``grr``, ``nrr`` for the month; ``grr_12m``, ``nrr_12m`` for the 12
        months ending with it (starting MRR of 12 months before).

    With one subscription per customer at a fixed price per plan (the bundled
    sample shop), MRR can only start or stop: contraction and expansion are
    computed, come out 0, and ``note`` says why.

    Parameters
    ----------
    subscriptions : DataFrame
        From :func:`relmkt_helpers.load_subscriptions`.
    as_of : date-like, optional
        Inclusive end of observation; months whose last day is after it are not
        shown. Default: the last day of the month of the latest start or end date
        (an assumption: pass the extraction date when known).
    price_col : str, default "monthly_price"
        Column with each subscription's monthly price.
    prices : dict, optional
        Plan -> monthly price, used when the table has no ``price_col``.

    Returns
    -------
    DataFrame
        Index ``month`` (``Period[M]``, from the first month with MRR at its end);
        columns ``starting_mrr``, ``churned_mrr``, ``contraction_mrr``,
        ``expansion_mrr``, ``new_mrr``, ``ending_mrr``, ``grr``, ``nrr``,
        ``grr_12m``, ``nrr_12m`` (NaN in the first 12 months), ``note``,
        ``basis`` ("measured"). ``ending = starting - churned - contraction +
        expansion + new``.

    Examples
    --------
    Two basic subscribers at 10 a month; ``s2`` cancels, so its last paid month is February:

    >>> import pandas as pd
    >>> subs = pd.DataFrame({"subscription_id": ["s1", "s2"], "customer_id": ["a", "b"], "plan": "basic",
    ...     "start_date": pd.to_datetime(["2024-01-10", "2024-01-15"]),
    ...     "end_date": pd.to_datetime([None, "2024-03-15"]), "monthly_price": 10.0})
    >>> subscription_revenue_retention(subs, as_of="2024-03-31")[["starting_mrr", "churned_mrr", "grr"]]
    ... # doctest: +NORMALIZE_WHITESPACE
             starting_mrr  churned_mrr  grr
    month
    2024-02          20.0          0.0  1.0
    2024-03          20.0         10.0  0.5
    """
    if not isinstance(subscriptions, pd.DataFrame):
        raise ParameterError(f"subscriptions must be the DataFrame of load_subscriptions, got "
                             f"{type(subscriptions).__name__}.")
    missing = [c for c in ("customer_id", "plan", "start_date", "end_date") if c not in subscriptions.columns]
    if missing:
        raise DataValidationError(f"subscriptions: column(s) {missing} missing. Load the table with "
                                  "relmkt_helpers.load_subscriptions.")
    subs = subscriptions
    if len(subs) == 0:
        raise DataValidationError("subscriptions: the table has no rows.")
    if price_col in subs.columns:
        price = pd.to_numeric(subs[price_col], errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(price).any() or (price < 0).any():
            raise DataValidationError(f"subscriptions: column {price_col!r} needs non-negative prices for every row.")
    elif prices is not None:
        plan = subs["plan"].astype(str)
        unknown = sorted(set(plan) - set(map(str, prices)))
        if unknown:
            raise ParameterError(f"prices has no price for plan(s) {unknown}; pass prices={{plan: monthly price}} "
                                 "for every plan.")
        price = plan.map({str(k): float(check_number(v, f"prices[{k!r}]", lo=0.0)) for k, v in prices.items()}
                         ).to_numpy(dtype=np.float64)
    else:
        raise ParameterError(f"subscriptions have no price column {price_col!r}: pass price_col='<column>' or "
                             "prices={'basic': 9.99, ...} (monthly price per plan).")
    start = subs["start_date"].to_numpy().astype("datetime64[D]")
    end = subs["end_date"].to_numpy().astype("datetime64[D]")
    if as_of is None:
        latest = np.nanmax(np.concatenate([start.astype("datetime64[D]"), end[~np.isnat(end)]]))
        as_of_day = (latest.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    else:
        as_of_day = as_of_day_of(None, as_of)
    m_start = start.astype("datetime64[M]").astype(np.int64)
    last_full = int(((as_of_day + 1).astype("datetime64[M]")).astype(np.int64)) - 1  # last month ending <= as_of
    m0 = int(m_start.min())
    T = last_full - m0 + 1
    if T < 1:
        raise ParameterError(f"as_of={as_of_day} leaves no complete month after the first start: pass a later as_of.")
    # active at the end of month t  <=>  month(start) <= t < month(end)  (month ends are the last days)
    i0 = m_start - m0
    i1 = np.where(np.isnat(end), T, end.astype("datetime64[M]").astype(np.int64) - m0)
    i1 = np.where(end > as_of_day, T, i1)  # an end after as_of is not yet observed
    cust, _ = pd.factorize(subs["customer_id"].astype(str))
    n_cust = int(cust.max()) + 1
    flows1 = {k: np.zeros(T - 1) for k in ("starting", "churned", "contraction", "expansion", "new", "ending")}
    flows12 = {k: np.zeros(max(T - 12, 0)) for k in flows1}
    order = np.argsort(cust, kind="stable")
    bounds = np.searchsorted(cust[order], np.arange(0, n_cust + _CHUNK, _CHUNK))
    for b0, b1 in zip(bounds[:-1], bounds[1:]):
        if b1 <= b0:
            continue
        rows = order[b0:b1]
        c = cust[rows] - cust[rows].min()
        mrr = _mrr_matrix(c, i0[rows], i1[rows], price[rows], int(c.max()) + 1, T)
        if T > 1:
            for k, v in _flows(mrr, 1).items():
                flows1[k] += v
        if T > 12:
            for k, v in _flows(mrr, 12).items():
                flows12[k] += v
    months = pd.PeriodIndex.from_ordinals(np.arange(1, T) + m0, freq="M", name="month")
    f = flows1
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "starting_mrr": f["starting"], "churned_mrr": f["churned"], "contraction_mrr": f["contraction"],
            "expansion_mrr": f["expansion"], "new_mrr": f["new"], "ending_mrr": f["ending"],
        }, index=months)
        s = out["starting_mrr"].where(out["starting_mrr"] > 0)
        out["grr"] = (s - out["churned_mrr"] - out["contraction_mrr"]) / s
        out["nrr"] = (s - out["churned_mrr"] - out["contraction_mrr"] + out["expansion_mrr"]) / s
        g12 = np.full(T - 1, np.nan)
        n12 = np.full(T - 1, np.nan)
        if T > 12:
            s12 = np.where(flows12["starting"] > 0, flows12["starting"], np.nan)
            g12[11:] = (s12 - flows12["churned"] - flows12["contraction"]) / s12
            n12[11:] = (s12 - flows12["churned"] - flows12["contraction"] + flows12["expansion"]) / s12
    out["grr_12m"] = g12
    out["nrr_12m"] = n12
    out = out[out["starting_mrr"] > 0]
    no_change = (out["contraction_mrr"] == 0) & (out["expansion_mrr"] == 0)
    multi = bool(pd.Series(cust).duplicated().any())
    plan_prices = pd.Series(price).groupby(subs["plan"].astype(str).to_numpy()).nunique()
    fixed = bool((plan_prices <= 1).all())
    why = ("expansion and contraction are 0: one subscription per customer at a fixed price per plan, so MRR can "
           "only start or stop" if (not multi and fixed) else "expansion and contraction are 0 this month")
    out["note"] = np.where(no_change, why, "")
    out["basis"] = "measured"
    return out
