"""Customer lifetime value: discounted expected margin over a horizon, with bootstrap intervals.

:func:`customer_value` combines a fitted repeat-purchase model
(:class:`~relmkt_helpers.clv.models.RepeatPurchaseModel`) with a fitted spend
model (:class:`~relmkt_helpers.clv.models.SpendModel`). Its conventions, all
explicit (lifetimes' own ``customer_lifetime_value`` hard-codes 30-day months
and a monthly rate; relmkt does not):

* **Month** = 365.25 / 12 days (30.44), converted to the model's time unit with
  the model's ``unit_days_`` (the summary's ``attrs["unit_days"]``): with weeks,
  a month is 4.348 units.
* **Horizon** ``horizon_months`` whole months, split into monthly steps
  ``t_i = i`` months after the end of observation (``i = 1 .. H``).
* **Purchases in month i** = ``E[X(t_i) | history] - E[X(t_(i-1)) | history]``,
  the model's conditional expectation given the customer's ``(frequency,
  recency, T)``. Only **future** purchases count: the customer's past orders
  (including the first) are not part of the value.
* **Spend per order**: the spend model's conditional expectation given
  ``(frequency, monetary_value)``; customers without repeat purchases get the
  population mean ``p gamma / (q - 1)``.
* **Margin** is a fraction of revenue (0.3 = 30 % of each order's value is profit).
* **Discounting**: the cash flow of month ``i`` arrives at the **end** of the
  month and is discounted by ``(1 + m)^-i`` with the monthly rate
  ``m = (1 + annual_discount_rate)^(1/12) - 1`` (equivalent to the annual rate).

``clv = margin_rate * spend * sum_i (1 + m)^-i * purchases_i``.

Uncertainty (parametric bootstrap): ``n_bootstrap`` parameter vectors are drawn
from the asymptotic normal distribution of the **log**-parameters (mean the
estimate, covariance the inverse of the kit's numerical Hessian,
``variance_matrix_log_``) for the repeat-purchase and, independently, the spend
model; the CLV of every customer is recomputed for each draw and the interval
is the ``(1 - interval)/2`` and ``(1 + interval)/2`` quantiles of those values.
It covers *parameter* uncertainty (how well the population is known), not the
randomness of one customer's future purchases. Draws whose spend parameters
have ``q <= 1`` (infinite mean spend) are discarded and counted in
``attrs["bootstrap_draws_discarded"]``. The work is done per unique
``(frequency, T)`` pair for the purchases of a customer alive at ``T`` (the
hypergeometric part, 11x fewer rows than customers on the 1M-customer
benchmark), per unique ``(frequency, recency, T)`` row for P(alive) and per
unique ``(frequency, monetary_value)`` row for spend, then mapped back to
customers; the bootstrap's draws x customers values are formed block by block,
so memory stays bounded, on two threads (1M customers x 200 draws: 9.0 s and
0.97 GB peak, 7x faster than a plain per-draw loop; ``benchmarks/results/clv_value.md``).

Examples
--------
>>> import pandas as pd
>>> from relmkt_helpers.clv.models import RepeatPurchaseModel, SpendModel
>>> from relmkt_helpers.clv.value import customer_value
>>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
>>> gg = SpendModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
>>> s = pd.DataFrame({"frequency": [0.0, 2.0], "recency": [0.0, 30.43], "T": [38.86, 38.86],
...                   "monetary_value": [0.0, 50.0]}, index=pd.Index(["a", "b"], name="customer_id"))
>>> cv = customer_value(bg, gg, s, horizon_months=12, margin_rate=0.3, annual_discount_rate=0.1,
...                     n_bootstrap=0)
>>> cv["expected_spend"].round(2).tolist()  # 6.25*15.44/2.74 and 6.25*(15.44+2*50)/(6.25*2+2.74)
[35.22, 47.34]
>>> bool((cv["clv"] < 0.3 * cv["expected_spend"] * cv["expected_purchases"]).all())  # discounted
True
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .models import (
    NotFittedError,
    RepeatPurchaseModel,
    SpendModel,
    _alive_growth,
    _gg_expected_spend,
    _p_alive,
    _require_columns,
    _rfm_arrays,
)
from .prep import compress_summary

__all__ = ["customer_value", "MONTH_DAYS"]

#: Days in the average Gregorian month: the kit's month for CLV horizons and discounting.
MONTH_DAYS: float = 365.25 / 12

#: Elements per block of (draws x rows) worked on at once (bounds memory).
_BLOCK = 2_000_000


def _check_inputs(model: Any, spend_model: Any, horizon_months: Any, margin: Any, annual_discount_rate: Any,
                  n_bootstrap: Any, interval: Any) -> tuple[int, float, float, int, float]:
    if not isinstance(model, RepeatPurchaseModel):
        raise ParameterError(f"model must be a fitted RepeatPurchaseModel, got {type(model).__name__}.")
    if not isinstance(spend_model, SpendModel):
        raise ParameterError(f"spend_model must be a fitted SpendModel, got {type(spend_model).__name__}.")
    if not hasattr(model, "params_"):
        raise NotFittedError("model is not fitted: call model.fit(summary) first.")
    if not hasattr(spend_model, "params_"):
        raise NotFittedError("spend_model is not fitted: call spend_model.fit(summary) first.")

    def whole(v: Any, name: str) -> int:
        ok = isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0
        if not ok:
            raise ParameterError(f"{name} must be a whole number >= 0, got {v!r}.")
        return int(v)

    def number(v: Any, name: str) -> float:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ParameterError(f"{name} must be a number, got {v!r}.") from None
        if not np.isfinite(f):
            raise ParameterError(f"{name} must be finite, got {v!r}.")
        return f

    h = whole(horizon_months, "horizon_months")
    mg = number(margin, "margin_rate")
    if not 0 <= mg <= 1:
        raise ParameterError(f"margin_rate is a fraction of revenue between 0 and 1 (0.3 = 30 %), got {margin!r}.")
    rate = number(annual_discount_rate, "annual_discount_rate")
    if rate <= -1:
        raise ParameterError(f"annual_discount_rate must be > -1 (0.10 = 10 % a year), got {annual_discount_rate!r}.")
    nb = whole(n_bootstrap, "n_bootstrap")
    iv = number(interval, "interval")
    if not 0 < iv < 1:
        raise ParameterError(f"interval must be between 0 and 1 (0.9 = a 90 % interval), got {interval!r}.")
    if nb > 0:
        for m, name in ((model, "model"), (spend_model, "spend_model")):
            if getattr(m, "variance_matrix_log_", None) is None:
                raise ParameterError(f"{name} has no parameter covariance (made by from_params without "
                                     "variance_matrix_log), so no bootstrap is possible: pass n_bootstrap=0.")
    return h, mg, rate, nb, iv


def _in_threads(work: Any, starts: range) -> None:
    """Run ``work(start)`` for every block start, on up to two threads.

    Each block writes its own slice of preallocated arrays, so the result does not
    depend on the order the blocks finish in. numpy and scipy.special release the GIL
    inside their loops, so two threads use two cores (no OpenMP: no spin-waiting when
    the machine is busy). One block, or one core: a plain loop.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = min(2, os.cpu_count() or 1, len(starts))
    if workers <= 1:
        for lo in starts:
            work(lo)
        return
    with ThreadPoolExecutor(max_workers=workers) as ex:
        for _ in ex.map(work, starts):  # re-raises the first error
            pass


def _growth_sums(kind: str, P: dict, ts: np.ndarray, disc: np.ndarray, x, T) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases over the horizon of a customer alive at ``T``: ``(undiscounted, discounted)``.

    Depends on ``(x, T)`` only (not on recency), so it is computed per unique
    ``(x, T)`` pair, far fewer than the ``(x, t_x, T)`` triples. Broadcasts P
    against rows (P values of shape ``(draws, 1)`` give ``draws x rows``).
    """
    with np.errstate(all="ignore"):
        prev = 0.0
        total = 0.0
        for t, d in zip(ts[1:], disc):
            g = _alive_growth(kind, P, t, x, T)
            total = total + d * (g - prev)
            prev = g
    shape = np.broadcast_shapes(np.shape(x), *(np.shape(v) for v in P.values()))
    return np.broadcast_to(prev, shape), np.broadcast_to(total, shape)


def customer_value(model: RepeatPurchaseModel, spend_model: SpendModel, summary: pd.DataFrame, *,
                   horizon_months: int = 12, margin_rate: float = 0.3, annual_discount_rate: float = 0.10,
                   n_bootstrap: int = 200, interval: float = 0.9, random_state: Any = 0,
                   margin: float | None = None) -> pd.DataFrame:
    """Discounted expected margin of each customer's future purchases, with a bootstrap interval.

    Parameters
    ----------
    model : RepeatPurchaseModel
        Fitted (or ``from_params``) repeat-purchase model.
    spend_model : SpendModel
        Fitted (or ``from_params``) Gamma-Gamma model.
    summary : DataFrame
        One row per customer: ``frequency``, ``recency``, ``T`` (in the model's
        time unit) and ``monetary_value``, as from
        :func:`relmkt_helpers.clv.prep.rfm_summary`. Usually the table the
        models were fitted on (the value is then as of its ``observation_end``).
    horizon_months : int
        Months ahead (of 365.25/12 days); 0 gives a value of 0.
    margin_rate : float
        Profit as a fraction of revenue, 0 to 1.
    annual_discount_rate : float
        Yearly discount rate (0.10 = 10 %); applied monthly, end of month.
    n_bootstrap : int
        Parameter draws for the interval; 0 skips the bootstrap (fast path;
        ``clv_low``/``clv_high`` are then NaN).
    interval : float
        Coverage of the interval (0.9: 5 % and 95 % quantiles of the draws).
    random_state : int, Generator or None
        Seed of the bootstrap draws.
    margin : float, optional
        The older name of ``margin_rate`` (used if given).

    Returns
    -------
    DataFrame
        Indexed like ``summary`` (``customer_id``): ``p_alive`` (now),
        ``expected_purchases`` (over the horizon, undiscounted),
        ``expected_spend`` (per order), ``clv`` (discounted expected margin),
        ``clv_low`` and ``clv_high`` (bootstrap interval). ``attrs`` record
        every convention (time unit, month length, discounting, what counts).

    Raises
    ------
    ParameterError
        Bad parameters, a model with a different time unit from the summary,
        or a bootstrap asked of a model without covariance.
    DataValidationError
        The summary lacks a column or has impossible values.

    Examples
    --------
    >>> from relmkt_helpers import load_cdnow
    >>> from relmkt_helpers.clv.prep import rfm_summary
    >>> from relmkt_helpers.clv.models import RepeatPurchaseModel, SpendModel
    >>> tx, _ = load_cdnow(sample=True)
    >>> s = rfm_summary(tx[tx["order_date"] <= "1997-09-30"], observation_end="1997-09-30",
    ...                 freq="D", freq_multiplier=7)
    >>> bg, gg = RepeatPurchaseModel("bgnbd").fit(s), SpendModel().fit(s)
    >>> cv = customer_value(bg, gg, s, horizon_months=12, n_bootstrap=50)
    >>> cv.columns.tolist()
    ['p_alive', 'expected_purchases', 'expected_spend', 'clv', 'clv_low', 'clv_high']
    >>> bool(((cv["clv_low"] <= cv["clv"]) & (cv["clv"] <= cv["clv_high"])).all())
    True
    >>> cv.attrs["month_days"], cv.attrs["discounting"]
    (30.4375, 'end of month')
    """
    if margin is not None:  # the older name of margin_rate
        margin_rate = margin
    h, mg, rate, nb, iv = _check_inputs(model, spend_model, horizon_months, margin_rate, annual_discount_rate,
                                        n_bootstrap, interval)
    _require_columns(summary, ("frequency", "recency", "T", "monetary_value"), "customer_value")
    x, tx, T = _rfm_arrays(summary, "customer_value")
    unit_days = float(model.unit_days_)
    if "unit_days" in summary.attrs and not np.isclose(float(summary.attrs["unit_days"]), unit_days):
        raise ParameterError(
            f"the summary's time unit is {summary.attrs['unit_days']} days but the model was fitted with "
            f"{unit_days} days per unit; build the summary with the same freq and freq_multiplier as the model's.")
    m = summary["monetary_value"].to_numpy(dtype=float)
    m = np.where(x > 0, m, 0.0)
    if not np.all(np.isfinite(m)):
        raise ParameterError("customer_value: monetary_value has missing or infinite values for repeat customers.")

    kind = model.model
    units_per_month = MONTH_DAYS / unit_days
    ts = units_per_month * np.arange(h + 1, dtype=float)
    monthly_rate = (1.0 + rate) ** (1.0 / 12.0) - 1.0
    disc = (1.0 + rate) ** (-np.arange(1, h + 1) / 12.0)  # = (1 + monthly_rate) ** -i

    # unique rows: P(alive) depends on (x, tx, T), the growth of an alive customer on (x, T), spend on (x, m)
    rfm = pd.DataFrame({"x": x, "tx": tx, "T": T}, copy=False)
    u_rfm, inv_rfm = compress_summary(rfm, ["x", "tx", "T"])
    ux, utx, uT = (u_rfm[c].to_numpy(dtype=float) for c in ("x", "tx", "T"))
    u_xT, g_of_rfm = compress_summary(u_rfm, ["x", "T"])  # unique rfm row -> unique (x, T) row
    gx, gT = (u_xT[c].to_numpy(dtype=float) for c in ("x", "T"))
    u_sp, inv_sp = compress_summary(pd.DataFrame({"x": x, "m": m}, copy=False), ["x", "m"])
    sx, sm = (u_sp[c].to_numpy(dtype=float) for c in ("x", "m"))

    P = {k: float(v) for k, v in model.params_.items()}
    G = {k: float(v) for k, v in spend_model.params_.items()}
    pa = _p_alive(kind, P, ux, utx, uT)
    grow, dgrow = _growth_sums(kind, P, ts, disc, gx, gT) if h > 0 else (np.zeros_like(gx), np.zeros_like(gx))
    n_h = pa * grow[g_of_rfm]
    dpur = pa * dgrow[g_of_rfm]
    spend = _gg_expected_spend(G, sx, sm)
    clv = mg * spend[inv_sp] * dpur[inv_rfm]
    out = pd.DataFrame({
        "p_alive": pa[inv_rfm],
        "expected_purchases": n_h[inv_rfm],
        "expected_spend": spend[inv_sp],
        "clv": clv,
        "clv_low": np.nan,
        "clv_high": np.nan,
    }, index=summary.index)

    discarded = 0
    if nb > 0 and h > 0:
        rng = np.random.default_rng(random_state)
        names = list(model.params_.index)
        th = rng.multivariate_normal(np.log(model.params_.to_numpy(dtype=float)),
                                     model.variance_matrix_log_.loc[names, names].to_numpy(), size=nb,
                                     method="eigh")
        gnames = list(spend_model.params_.index)
        tg = rng.multivariate_normal(np.log(spend_model.params_.to_numpy(dtype=float)),
                                     spend_model.variance_matrix_log_.loc[gnames, gnames].to_numpy(), size=nb,
                                     method="eigh")
        ok = np.exp(tg[:, gnames.index("q")]) > 1.0  # q <= 1: infinite mean spend
        discarded = int((~ok).sum())
        th, tg = th[ok], tg[ok]
        k = th.shape[0]
        if k == 0:
            raise ParameterError("every bootstrap draw of the spend model has q <= 1 (infinite mean spend): the "
                                 "spend model is too uncertain for an interval; pass n_bootstrap=0.")
        Pd = {nm: np.exp(th[:, j])[:, None] for j, nm in enumerate(names)}
        Gd = {nm: np.exp(tg[:, j])[:, None] for j, nm in enumerate(gnames)}
        # 1. discounted growth of an alive customer: draws x unique (x, T) rows (the costly part: 2F1)
        d_grow = np.empty((k, gx.size))
        step = max(1, _BLOCK // max(gx.size, 1))

        def grow_block(lo: int) -> None:
            Pb = {nm: v[lo:lo + step] for nm, v in Pd.items()}
            d_grow[lo:lo + step] = _growth_sums(kind, Pb, ts, disc, gx, gT)[1]

        _in_threads(grow_block, range(0, k, step))
        # 2. per unique (rfm row, spend row) pair, in blocks: P(alive) and spend under each draw, the
        #    CLV draws and their quantiles; pairs are sorted by rfm row, so a block needs a range of rows
        pairs, inv_pair = compress_summary(pd.DataFrame({"r": inv_rfm, "s": inv_sp}, copy=False), ["r", "s"])
        pr, ps = pairs["r"].to_numpy(), pairs["s"].to_numpy()
        qs = [(1.0 - iv) / 2.0, (1.0 + iv) / 2.0]
        low, high = np.empty(pr.size), np.empty(pr.size)
        rows = max(1, _BLOCK // k)

        def pair_block(lo: int) -> None:
            br, bs = pr[lo:lo + rows], ps[lo:lo + rows]
            r0, r1 = int(br[0]), int(br[-1]) + 1
            d_pur = _p_alive(kind, Pd, ux[r0:r1], utx[r0:r1], uT[r0:r1]) * d_grow[:, g_of_rfm[r0:r1]]
            vals = mg * _gg_expected_spend(Gd, sx[bs], sm[bs]) * d_pur[:, br - r0]  # draws x pairs
            low[lo:lo + rows], high[lo:lo + rows] = np.quantile(vals, qs, axis=0)

        _in_threads(pair_block, range(0, pr.size, rows))
        out["clv_low"] = low[inv_pair]
        out["clv_high"] = high[inv_pair]
    elif nb > 0:  # horizon 0: the value is exactly 0 under every draw
        out["clv_low"] = 0.0
        out["clv_high"] = 0.0

    out.attrs = {
        "model": model._spec.label,
        "spend_model": "Gamma-Gamma",
        "unit_days": unit_days,
        "month_days": MONTH_DAYS,
        "units_per_month": units_per_month,
        "horizon_months": h,
        "horizon_units": float(ts[-1]),
        "margin_rate": mg,
        "annual_discount_rate": rate,
        "monthly_discount_rate": monthly_rate,
        "discounting": "end of month",
        "purchases_counted": "future repeat purchases in (T, T + horizon] only; past orders are not included",
        "spend_without_repeat_purchases": "population mean p*gamma/(q-1) of the spend model",
        "interval": iv,
        "n_bootstrap": nb,
        "bootstrap_draws_discarded": discarded,
        "bootstrap": "parametric: log-parameters ~ normal(estimate, inverse Hessian); repeat-purchase and spend "
                     "parameters drawn independently; percentile interval; parameter uncertainty only",
        "random_state": random_state if isinstance(random_state, (int, np.integer, type(None))) else repr(random_state),
    }
    return out
