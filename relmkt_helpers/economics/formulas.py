"""Closed-form CLV, payback and break-even formulas, and their sensitivity grids.

Every function here is a pure, vectorised formula on assumption parameters
(numpy broadcasting: pass arrays to evaluate a grid at once), fast enough to
recompute on every move of a notebook slider. Every result is built on
assumptions, and grids say so in ``DataFrame.attrs["basis"] == "assumed"``.

Conventions (Fader & Hardie 2012, "Reconciling and Clarifying CLV Formulas",
http://brucehardie.com/notes/024/): a period is any fixed length (a month, a
year); ``margin_per_period`` m is the margin (money, not a share of revenue) a customer yields
per period while active (``margin_per_customer_year`` when the period is a year),
received at the **start** of each period; ``retention`` r is the constant
probability that a customer active in one period is active in the next;
``discount`` d is the discount rate per period (so a payment t periods ahead
is worth ``1 / (1 + d) ** t`` now).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import check_choice, check_discount, check_number, check_retention, scalar_or_array

__all__ = [
    "clv_constant_retention",
    "payback_periods",
    "breakeven_retention_spend",
    "clv_sensitivity",
    "ltv_cac_sensitivity",
]

DEFAULT_RETENTION_GRID: tuple[float, ...] = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
DEFAULT_DISCOUNT_GRID: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2)


def clv_constant_retention(margin_per_period: Any, retention: Any, discount: Any, *,
                           include_first: bool = True) -> float | np.ndarray:
    """Customer lifetime value under a constant retention rate (geometric lifetime).

    Two conventions, both in use in the literature (Fader & Hardie 2012,
    "Reconciling and Clarifying CLV Formulas", http://brucehardie.com/notes/024/):

    ``include_first=True`` (value **at acquisition**, the first payment counted)
        The customer pays ``m`` now (t = 0, undiscounted) and then at the start
        of every later period while still active; they are still active at
        period t with probability ``r ** t``::

            CLV = sum_{t>=0} m r^t / (1 + d)^t = m (1 + d) / (1 + d - r)

    ``include_first=False`` (the first payment **not** counted)
        Only the payments after the first retention decision count: the value of
        a customer just after their current payment, or the formula
        ``m r / (1 + i - r)`` of Gupta & Lehmann (2003, "Customers as assets",
        *Journal of Interactive Marketing* 17(1), 9-24)::

            CLV = sum_{t>=1} m r^t / (1 + d)^t = m r / (1 + d - r)

    The two differ by exactly one payment ``m``. The expected number of payments
    is ``1 / (1 - r)`` with the first counted and ``r / (1 - r)`` without.

    Parameters
    ----------
    margin_per_period : float or array
        ``m``: margin (money, not revenue and not a share of it) per customer per period.
    retention : float or array
        ``r``: retention rate per period, in [0, 1) (0.8 = 80 % kept each period).
    discount : float or array
        ``d``: discount rate per period, >= 0 (0.1 = 10 % per period).
    include_first : bool, default True
        Count the payment at acquisition (see above).

    Returns
    -------
    float or ndarray
        The CLV in currency, broadcast over the inputs (a float for scalar inputs).

    Raises
    ------
    ParameterError
        ``retention`` outside [0, 1), ``discount`` < 0, or a non-finite input.

    Examples
    --------
    m = 100 per year, r = 0.8, d = 0.1: 100 * 1.1 / 0.3 and 100 * 0.8 / 0.3.

    >>> round(clv_constant_retention(100, 0.8, 0.1), 2)
    366.67
    >>> round(clv_constant_retention(100, 0.8, 0.1, include_first=False), 2)
    266.67
    >>> clv_constant_retention(100, [0.0, 0.5], 0.0).tolist()
    [100.0, 200.0]
    """
    m = check_number(margin_per_period, "margin_per_period", hint=" Pass the margin per customer per period in money.")
    r = check_retention(retention)
    d = check_discount(discount)
    num = m * (1.0 + d) if include_first else m * r
    return scalar_or_array(num / (1.0 + d - r))


def payback_periods(cac: Any, margin_per_period: Any, retention: Any, discount: Any = 0.0) -> float | np.ndarray:
    """Periods of expected margin needed to recover the acquisition cost (constant retention).

    Under the ``include_first=True`` convention of :func:`clv_constant_retention`,
    the expected (discounted) margin collected in the first ``n`` periods of a
    new customer's life, the acquisition period counted as period 1, is
    ``m (1 - q^n) / (1 - q)`` with ``q = r / (1 + d)``. The payback is the
    smallest ``n >= 1`` where this reaches ``cac``:
    ``n = ceil(log(1 - cac (1 - q) / m) / log(q))``. It is NaN ("never") when
    even the whole lifetime value ``m / (1 - q)`` does not exceed ``cac``.

    Parameters
    ----------
    cac : float or array
        Acquisition cost per new customer (>= 0).
    margin_per_period : float or array
        Margin per customer per period (money).
    retention : float or array
        Retention rate per period, in [0, 1).
    discount : float or array, default 0
        Discount rate per period (0 = undiscounted payback, the usual convention).

    Returns
    -------
    float or ndarray
        Whole periods (1 = recovered in the acquisition period), NaN if never.

    Examples
    --------
    CAC 100, margin 40 per period, r = 0.5: cumulative 40, 60, 70, 75, ... never
    reaches 100; with r = 0.9: 40, 76, 108.4 -> 3 periods.

    >>> payback_periods(100, 40, [0.5, 0.9]).tolist()
    [nan, 3.0]
    """
    c = check_number(cac, "cac", lo=0.0, hint=" Pass the acquisition cost per new customer, >= 0.")
    m = check_number(margin_per_period, "margin_per_period", hint=" Pass the margin per customer per period in money.")
    r = check_retention(retention)
    d = check_discount(discount)
    c, m, r, d = np.broadcast_arrays(c, m, r, d)
    q = r / (1.0 + d)
    limit = np.where(m > 0, m / (1.0 - q), m)
    out = np.full(c.shape, np.nan)
    first = c <= m
    out[first] = 1.0
    grow = (~first) & (m > 0) & (q > 0) & (c < limit * (1.0 - 1e-12))
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.log(1.0 - c * (1.0 - q) / np.where(m > 0, m, 1.0)) / np.log(np.where(q > 0, q, 0.5))
    n = np.maximum(np.ceil(n - 1e-9), 1.0)
    # guard against rounding: step up while the cumulative margin is still short of the CAC
    cum = m * (1.0 - q ** n) / np.where(q < 1, 1.0 - q, 1.0)
    n = np.where(cum < c * (1.0 - 1e-12), n + 1.0, n)
    out[grow] = n[grow]
    return scalar_or_array(out)


def breakeven_retention_spend(margin_per_period: Any, retention: Any, uplift: Any, discount: Any, *,
                              include_first: bool = True) -> pd.DataFrame:
    """The most a retention programme may cost per customer and still pay for itself.

    Raising the retention rate from ``r`` to ``r + uplift`` raises each
    customer's CLV (:func:`clv_constant_retention`, same convention). Two
    break-even figures follow:

    ``breakeven_lifetime`` (one-off, present value, per customer)
        ``CLV(r + uplift) - CLV(r)``; with the first payment counted this is
        ``m (1 + d) uplift / ((1 + d - r) (1 + d - r - uplift))``. A programme
        costing less than this per customer, paid once now, pays for itself.
    ``breakeven_per_period`` (recurring, per customer per period while active)
        The spend ``s`` paid on the same schedule as the margin (every period the
        customer is active, the first period included when ``include_first``)
        that leaves the CLV unchanged: ``(m - s) CLV1(r + uplift) = m CLV1(r)``,
        so ``s = m (1 - CLV(r) / CLV(r + uplift))``; with the first payment
        counted, ``s = m uplift / (1 + d - r)``.

    Parameters
    ----------
    margin_per_period, retention, discount : float or array
        As in :func:`clv_constant_retention` (per period).
    uplift : float or array
        Rise of the retention rate in points of the rate (0.05 = from 0.80 to
        0.85), >= 0, with ``retention + uplift < 1``.
    include_first : bool, default True
        CLV convention (see :func:`clv_constant_retention`).

    Returns
    -------
    DataFrame
        One row per broadcast input combination: ``margin_per_period``, ``retention``,
        ``uplift``, ``discount``, ``improved_retention``, ``clv_base``,
        ``clv_improved``, ``breakeven_lifetime``, ``breakeven_per_period``,
        ``include_first``, ``basis`` (``"assumed"``).

    Examples
    --------
    m = 100, r = 0.8 -> 0.85, d = 0.1: CLV 366.67 -> 440.00, so a one-off 73.33 per
    customer, or 100 * 0.05 / 0.3 = 16.67 per customer per period.

    >>> be = breakeven_retention_spend(100, 0.8, 0.05, 0.1)
    >>> be[["clv_base", "clv_improved", "breakeven_lifetime", "breakeven_per_period"]].round(2).iloc[0].tolist()
    [366.67, 440.0, 73.33, 16.67]
    """
    m = check_number(margin_per_period, "margin_per_period", hint=" Pass the margin per customer per period in money.")
    r = check_retention(retention)
    up = check_number(uplift, "uplift", lo=0.0, hint=" Pass the rise of the retention rate as a fraction "
                      "(5 points -> 0.05).")
    d = check_discount(discount)
    m, r, up, d = (np.array(a).ravel() for a in np.broadcast_arrays(m, r, up, d))
    r2 = r + up
    check_retention(r2, "retention + uplift")
    base = clv_constant_retention(m, r, d, include_first=include_first)
    better = clv_constant_retention(m, r2, d, include_first=include_first)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_period = np.where(better != 0, m * (1.0 - base / np.where(better != 0, better, 1.0)), np.nan)
    return pd.DataFrame({
        "margin_per_period": m, "retention": r, "uplift": up, "discount": d, "improved_retention": r2,
        "clv_base": base, "clv_improved": better, "breakeven_lifetime": better - base,
        "breakeven_per_period": per_period, "include_first": bool(include_first), "basis": "assumed",
    })


def clv_sensitivity(margin_per_period: float, retention: Any = DEFAULT_RETENTION_GRID,
                    discount: Any = DEFAULT_DISCOUNT_GRID, *, include_first: bool = True, period: str = "period") -> pd.DataFrame:
    """CLV over a grid of retention rates (rows) and discount rates (columns).

    Parameters
    ----------
    margin_per_period : float
        Margin per customer per period (money).
    retention : sequence of float
        Retention rates per period (rows), each in [0, 1).
    discount : sequence of float
        Discount rates per period (columns), each >= 0.
    include_first : bool, default True
        CLV convention (see :func:`clv_constant_retention`).

    Returns
    -------
    DataFrame
        Index ``retention``, columns ``discount``; ``attrs`` carry ``metric``
        ("clv"), ``basis`` ("assumed"), ``include_first``, ``margin_per_period`` and ``period``.

    Examples
    --------
    >>> g = clv_sensitivity(100, [0.5, 0.8], [0.0, 0.1])
    >>> g.round(1).values.tolist()
    [[200.0, 183.3], [500.0, 366.7]]
    """
    r = check_retention(retention).ravel()
    d = check_discount(discount).ravel()
    values = clv_constant_retention(float(check_number(margin_per_period, "margin_per_period")), r[:, None], d[None, :],
                                    include_first=include_first)
    out = pd.DataFrame(np.asarray(values), index=pd.Index(r, name="retention"), columns=pd.Index(d, name="discount"))
    out.attrs.update({"metric": "clv", "basis": "assumed", "include_first": bool(include_first),
                      "margin_per_period": float(margin_per_period), "period": str(period)})
    return out


def ltv_cac_sensitivity(cac: Any, margin_per_period: Any, *, retention: float, discount: float,
                        include_first: bool = True, metric: str = "ltv_cac", period: str = "period") -> pd.DataFrame:
    """LTV:CAC (or payback periods) over a grid of CAC (rows) and margin per period (columns).

    LTV is :func:`clv_constant_retention` of the margin at the given retention
    and discount rates; ``metric="payback"`` gives :func:`payback_periods`
    (undiscounted, the usual payback convention) instead.

    Parameters
    ----------
    cac : sequence of float
        Acquisition costs per new customer (rows), > 0.
    margin_per_period : sequence of float
        Margins per customer per period (columns), money.
    retention, discount : float
        Retention and discount rate per period.
    include_first : bool, default True
        CLV convention for the LTV.
    metric : {"ltv_cac", "payback"}
        What the cells hold.

    Returns
    -------
    DataFrame
        Index ``cac``, columns ``margin_per_period``; ``attrs`` carry ``metric``, ``basis``
        ("assumed"), ``retention``, ``discount``, ``include_first`` and ``period``.

    Examples
    --------
    >>> g = ltv_cac_sensitivity([100, 200], [30, 60], retention=0.8, discount=0.1)
    >>> g.round(2).values.tolist()
    [[1.1, 2.2], [0.55, 1.1]]
    >>> ltv_cac_sensitivity([100], [60], retention=0.8, discount=0.1, metric="payback").iloc[0, 0]
    np.float64(2.0)
    """
    metric = check_choice("metric", metric, ("ltv_cac", "payback"))
    c = check_number(cac, "cac", lo=0.0, lo_open=True,
                     hint=" Pass acquisition costs per new customer, > 0.").ravel()
    m = check_number(margin_per_period, "margin_per_period").ravel()
    r = float(check_retention(retention))
    d = float(check_discount(discount))
    if metric == "ltv_cac":
        values = np.asarray(clv_constant_retention(m, r, d, include_first=include_first))[None, :] / c[:, None]
    else:
        values = np.asarray(payback_periods(c[:, None], m[None, :], r, 0.0))
    out = pd.DataFrame(values, index=pd.Index(c, name="cac"), columns=pd.Index(m, name="margin_per_period"))
    out.attrs.update({"metric": metric, "basis": "assumed", "retention": r, "discount": d,
                      "include_first": bool(include_first), "period": str(period)})
    return out
