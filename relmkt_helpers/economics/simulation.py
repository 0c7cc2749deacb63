"""What a retention uplift does to profit: the "5 % more retention -> 25-95 % more profit" claim.

Reichheld & Sasser (1990, "Zero Defections: Quality Comes to Services",
*Harvard Business Review* 68(5), 105-111) report that cutting the defection
rate by 5 points raised the net present value of a customer by 25 % to 85 %
across nine service industries; Reichheld & Schefter (2000, "E-Loyalty: Your
Secret Weapon on the Web", *HBR* 78(4), 105-113) quote "25 % to 95 %". Their
argument rests on profit per customer **growing with tenure** (more purchases,
referrals, price premium, lower service cost) on top of the longer lifetime.
This module reproduces the arithmetic under stated assumptions, so that the
number can be shown to depend on them.

The model (time unit: **years**; every input is an assumption)
---------------------------------------------------------------
* At the start, the base is in **steady state** at the baseline retention
  ``r``: ``base_customers`` B customers, of whom ``A r^(j-1)`` have tenure
  ``j = 1, 2, ...`` years, with ``A = B (1 - r)`` new customers per year.
* Every year ``t = 1 .. years``: the customers of year ``t - 1`` stay with
  probability ``rho`` (``r`` in the baseline, ``r + uplift`` in the improved
  scenario: the higher rate acts from the first transition on), and ``A_t``
  new customers arrive at tenure 1. ``acquisition="constant"`` keeps the
  baseline's ``A`` in both scenarios (acquisition as before; the base grows to
  ``A / (1 - rho)``); ``acquisition="hold_base"`` acquires only enough to hold
  the base at B (``A = B (1 - rho)``), so the gain is saved acquisition cost.
* A customer of tenure ``j`` yields margin ``m_j = margin_per_customer_year (1 + margin_growth)
  ^ (min(j, growth_years) - 1)`` in the year (growth stops after
  ``growth_years`` years of tenure; None = never).
* Profit of year ``t`` = margin of all customers - ``A_t * acquisition_cost``
  - ``retention_cost * existing customers`` (tenure >= 2), where the improved
  scenario also pays ``uplift_cost`` per existing customer (what the uplift
  costs; 0 = free).

Reported increases (improved vs baseline, relative to the baseline's profit):
the profit of the final year, the discounted profit of years 1..N (year ``t``
weighted by ``(1 + discount) ** -(t - 1)``), the steady-state profit, and the
customer net present value ``sum_j rho^(j-1) m_j / (1 + d)^(j-1) -
acquisition_cost - retention costs`` (Reichheld & Sasser's measure). With
constant acquisitions and ``discount = 0`` the steady-state increase equals the
customer-NPV increase: steady-state profit is ``A`` times the lifetime profit
of one customer.
"""
from __future__ import annotations

import warnings

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ._common import check_choice, check_discount, check_number, check_retention

__all__ = ["UpliftSimulation", "profit_uplift_simulation", "profit_uplift_grid", "FOLK_PROFIT_RANGE"]

#: "+5 % retention -> +25 % to +95 % profit" (Reichheld & Schefter 2000), as fractions.
FOLK_PROFIT_RANGE: tuple[float, float] = (0.25, 0.95)
_ACQ = ("constant", "hold_base")


def _geom(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """sum_{i=0}^{n-1} x^i (n may be inf when |x| < 1)."""
    x, n = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(n, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        fin = np.where(np.isinf(n), 1.0 / (1.0 - x), (1.0 - x ** n) / (1.0 - x))
        out = np.where(np.isclose(x, 1.0, rtol=0, atol=1e-15), n, fin)
        out = np.where(np.isinf(n) & (x >= 1.0), np.inf, out)
    return out


def _lifetime_margin(rho: Any, margin: Any, growth: Any, k: float, discount: Any = 0.0,
                     start: Any = 1) -> np.ndarray:
    """sum_{i>=0} y^i m_{start+i}, y = rho / (1 + d): margin from tenure ``start`` on, per customer there.

    ``m_j = margin (1 + growth)^(min(j, k) - 1)``; ``k = inf`` for unlimited growth.
    Infinite when the growing part does not converge.
    """
    rho, margin, growth, d, s = (np.asarray(a, dtype=float) for a in (rho, margin, growth, discount, start))
    y = rho / (1.0 + d)
    x = y * (1.0 + growth)
    growing = np.maximum(k - s, 0.0)  # tenures s .. k-1 still grow (k - s terms), if s < k
    level = margin * (1.0 + growth) ** (np.minimum(s, k) - 1.0)  # margin at tenure s
    with np.errstate(over="ignore", invalid="ignore"):
        head = level * _geom(x, growing)
        if np.isinf(k):
            return np.where(x < 1.0, head, np.inf)
        flat = margin * (1.0 + growth) ** (k - 1.0)
        tail = flat * y ** growing / (1.0 - y)
    return head + tail


@dataclass(frozen=True, eq=False)
class UpliftSimulation:
    """Result of :func:`profit_uplift_simulation`.

    Attributes
    ----------
    yearly : DataFrame
        Index ``year`` (1..N); columns ``customers_<s>``, ``new_<s>``,
        ``profit_<s>`` for ``s`` in ``baseline``/``improved``, and
        ``profit_increase`` (relative to the baseline's profit of the year).
    summary : DataFrame
        One row per measure (``profit_increase_final_year``,
        ``profit_increase_cumulative``, ``profit_increase_steady_state``,
        ``customer_npv_increase``, and the steady-state profits) with
        columns ``value``, ``unit``, ``basis`` ("assumed") and ``note``.
    params : dict
        Every input, so the figure can be labelled with its assumptions.
    """

    yearly: pd.DataFrame
    summary: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def steady_state_increase(self) -> float:
        """Relative steady-state profit increase (0.5 = +50 %)."""
        return float(self.summary.loc["profit_increase_steady_state", "value"])

    @property
    def within_folk_range(self) -> bool:
        """Whether the steady-state increase falls inside the folk 25-95 % range."""
        v = self.steady_state_increase
        return bool(FOLK_PROFIT_RANGE[0] <= v <= FOLK_PROFIT_RANGE[1])

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


def _renamed_margin(new: Any, old: Any, where: str, default: float | None = None) -> Any:
    """``margin_per_customer_year``, accepting the old keyword ``margin`` (deprecated) for one release."""
    if old is not None:
        if new is not None:
            raise ParameterError(f"{where}: pass margin_per_customer_year only (margin is its old name).")
        warnings.warn(f"{where}(margin=...) is deprecated: the margin in money per customer-year is now "
                      "margin_per_customer_year (margin_rate is a share of revenue).", DeprecationWarning, stacklevel=3)
        return old
    if new is None:
        if default is None:
            raise ParameterError(f"{where}: pass margin_per_customer_year, the margin per customer per year in money.")
        return default
    return new


def _check_sim(retention: Any, uplift: Any, margin: Any, acquisition_cost: Any, margin_growth: Any,
               growth_years: Any, retention_cost: Any, uplift_cost: Any, discount: Any) -> tuple:
    r = check_retention(retention)
    up = check_number(uplift, "uplift", hint=" Pass the rise of the retention rate in points as a fraction "
                      "(5 points -> 0.05).")
    check_retention(r + up, "retention + uplift")
    m = check_number(margin, "margin_per_customer_year", hint=" Pass the margin per customer per year in money "
                     "(not a share of revenue).")
    c = check_number(acquisition_cost, "acquisition_cost", lo=0.0, hint=" Pass the cost per new customer, >= 0.")
    g = check_number(margin_growth, "margin_growth", lo=-1.0, lo_open=True,
                     hint=" Pass the yearly growth of margin with tenure as a fraction (10 % -> 0.1).")
    if growth_years is None:
        k = np.inf
    else:
        if isinstance(growth_years, (bool, np.bool_)) or not float(growth_years).is_integer() or growth_years < 1:
            raise ParameterError(f"growth_years={growth_years!r} must be a whole number of years >= 1, or None "
                                 "for growth without limit.")
        k = float(growth_years)
    rc = check_number(retention_cost, "retention_cost", lo=0.0)
    uc = check_number(uplift_cost, "uplift_cost", lo=0.0)
    d = check_discount(discount)
    return r, up, m, c, g, k, rc, uc, d


def _steady(rho, a, m, g, k, c, rc) -> np.ndarray:
    """Steady-state yearly profit with A = a new customers a year at retention rho (undiscounted)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return a * (_lifetime_margin(rho, m, g, k) - c - rc * rho / (1.0 - rho))


def _npv(rho, m, g, k, c, rc, d) -> np.ndarray:
    y = rho / (1.0 + d)
    with np.errstate(invalid="ignore", over="ignore"):
        return _lifetime_margin(rho, m, g, k, d) - c - rc * y / (1.0 - y)


def _rel(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (new - old) / np.abs(old)
    return np.where((old > 0) & np.isfinite(new) & np.isfinite(old), out, np.nan)


def profit_uplift_simulation(*, retention: float, margin_per_customer_year: float | None = None,
                             acquisition_cost: float, uplift: float = 0.05,
                             years: int = 10, margin_growth: float = 0.0, growth_years: int | None = None,
                             base_customers: float = 1000.0, acquisition: str = "constant",
                             retention_cost: float = 0.0, uplift_cost: float = 0.0,
                             discount: float = 0.0, margin: float | None = None) -> UpliftSimulation:
    """Simulate yearly profit at retention ``r`` and at ``r + uplift`` (see the module docstring).

    Parameters
    ----------
    retention : float
        Baseline **yearly** retention rate, in [0, 1).
    margin_per_customer_year : float
        Margin per customer in their first year (money per year, not a share of revenue).
    acquisition_cost : float
        Cost per new customer (CAC), >= 0.
    uplift : float, default 0.05
        Rise of the retention rate in points (0.05 = five points, e.g. 0.80 ->
        0.85; "5 %" in the folk claim is usually read as five points of the
        defection rate). ``retention + uplift`` must stay below 1.
    years : int, default 10
        Years simulated.
    margin_growth : float, default 0
        Yearly growth of a customer's margin with tenure (0.1 = +10 % per year
        of tenure): Reichheld's "profit per customer grows with tenure".
    growth_years : int, optional
        Tenure (years) after which the margin stops growing; None = no limit
        (then ``(r + uplift) (1 + margin_growth)`` must be < 1 for a steady state).
    base_customers : float, default 1000
        Customers at the start (the steady-state base at ``retention``).
    acquisition : {"constant", "hold_base"}
        Keep acquiring the baseline's ``B (1 - r)`` a year, or only enough to
        hold the base at ``B``.
    retention_cost : float, default 0
        Cost per existing customer (tenure >= 2) per year, in both scenarios.
    uplift_cost : float, default 0
        Extra cost per existing customer per year that buys the uplift.
    discount : float, default 0
        Yearly discount rate for the cumulative and customer-NPV measures.
    margin : float, optional
        Deprecated name of ``margin_per_customer_year``.

    Returns
    -------
    UpliftSimulation
        ``yearly`` table, ``summary`` of the increases (``basis`` "assumed") and ``params``.

    Raises
    ------
    ParameterError
        Rates outside their ranges, negative costs, ``years`` < 1.

    Examples
    --------
    1,000 customers, r = 0.8 -> 0.85, margin 100 a year, CAC 50, no growth: the
    baseline makes 1000 * 100 - 200 * 50 = 90,000 a year; the improved base is
    850 + 200 = 1,050 customers in year 1 (95,000) and 1,092.5 in year 2 (99,250).

    >>> sim = profit_uplift_simulation(retention=0.8, margin_per_customer_year=100, acquisition_cost=50,
    ...                                years=2)
    >>> sim.yearly[["profit_baseline", "profit_improved"]].round(2).values.tolist()
    [[90000.0, 95000.0], [90000.0, 99250.0]]
    >>> round(sim.steady_state_increase, 4)
    0.3704
    """
    margin = _renamed_margin(margin_per_customer_year, margin, "profit_uplift_simulation")
    r, up, m, c, g, k, rc, uc, d = _check_sim(retention, uplift, margin, acquisition_cost, margin_growth,
                                               growth_years, retention_cost, uplift_cost, discount)
    acquisition = check_choice("acquisition", acquisition, _ACQ)
    if isinstance(years, (bool, np.bool_)) or not isinstance(years, (int, np.integer)) or years < 1:
        raise ParameterError(f"years={years!r} must be a whole number of years >= 1 (e.g. 10).")
    B = float(check_number(base_customers, "base_customers", lo=0.0, lo_open=True))
    r, up, m, c, g, rc, uc, d = (float(v) for v in (r, up, m, c, g, rc, uc, d))
    base_tail = _lifetime_margin(r, m, g, k, start=2)
    if not np.isfinite(base_tail):
        raise ParameterError(
            f"margin_growth={g:g} with retention={r:g} has no steady state: retention * (1 + margin_growth) "
            f"= {r * (1 + g):.3f} >= 1, so the base's margin is infinite. Lower margin_growth or set "
            "growth_years (the tenure after which margins stop growing)."
        )
    A0 = B * (1.0 - r)
    t = np.arange(1, years + 1, dtype=float)
    tenure_margin = m * (1.0 + g) ** (np.minimum(t, k) - 1.0)  # m_j for j = 1..years
    rows = {}
    steady = {}
    for name, rho, extra in (("baseline", r, 0.0), ("improved", r + up, uc)):
        a = A0 if (acquisition == "constant" or name == "baseline") else B * (1.0 - rho)
        # customers of the initial stock in year t: tenure >= t+1, count B rho^t, margin A0 rho^t f(t+1)
        init_n = B * rho ** t
        init_m = A0 * rho ** t * _lifetime_margin(r, m, g, k, start=t + 1.0)
        # cohorts acquired in years 1..t: tenure j = 1..t, count a rho^(j-1)
        w = rho ** (t - 1.0)
        new_n = a * np.cumsum(w)
        new_m = a * np.cumsum(w * tenure_margin)
        total = init_n + new_n
        existing = total - a
        profit = init_m + new_m - a * c - (rc + extra) * existing
        rows[name] = (total, np.full(years, a), profit)
        steady[name] = float(_steady(rho, a, m, g, k, c, rc + extra))
    yearly = pd.DataFrame({
        "customers_baseline": rows["baseline"][0], "customers_improved": rows["improved"][0],
        "new_baseline": rows["baseline"][1], "new_improved": rows["improved"][1],
        "profit_baseline": rows["baseline"][2], "profit_improved": rows["improved"][2],
    }, index=pd.Index(np.arange(1, years + 1), name="year"))
    yearly["profit_increase"] = _rel(yearly["profit_improved"].to_numpy(), yearly["profit_baseline"].to_numpy())
    disc = (1.0 + d) ** -(t - 1.0)
    cum_b = float(np.sum(yearly["profit_baseline"].to_numpy() * disc))
    cum_i = float(np.sum(yearly["profit_improved"].to_numpy() * disc))
    npv_b = float(_npv(r, m, g, k, c, rc, d))
    npv_i = float(_npv(r + up, m, g, k, c, rc + uc, d))
    nonpos = "baseline profit <= 0: a percentage increase is meaningless (NaN)"
    inf = "no steady state: (retention + uplift) * (1 + margin_growth) >= 1; set growth_years"

    def note(base: float, new: float) -> str:
        return nonpos if base <= 0 else (inf if not np.isfinite(new) else "")

    summary = pd.DataFrame.from_dict({
        "profit_increase_final_year": (float(yearly["profit_increase"].iloc[-1]), "fraction", "",
                                       note(float(yearly["profit_baseline"].iloc[-1]), 0.0)),
        "profit_increase_cumulative": (float(_rel(np.array(cum_i), np.array(cum_b))), "fraction",
                                       "", note(cum_b, 0.0)),
        "profit_increase_steady_state": (float(_rel(np.array(steady["improved"]), np.array(steady["baseline"]))),
                                         "fraction", "", note(steady["baseline"], steady["improved"])),
        "customer_npv_increase": (float(_rel(np.array(npv_i), np.array(npv_b))), "fraction", "",
                                  note(npv_b, npv_i)),
        "profit_steady_state_baseline": (steady["baseline"], "currency per year", "", ""),
        "profit_steady_state_improved": (steady["improved"] if np.isfinite(steady["improved"]) else np.nan,
                                         "currency per year", "", note(1.0, steady["improved"])),
    }, orient="index", columns=["value", "unit", "basis", "note"])
    summary["basis"] = "assumed"
    summary.index.name = "measure"
    params = {"retention": r, "uplift": up, "margin_per_customer_year": m, "acquisition_cost": c, "years": int(years),
              "margin_growth": g, "growth_years": None if np.isinf(k) else int(k), "base_customers": B,
              "acquisition": acquisition, "retention_cost": rc, "uplift_cost": uc, "discount": d}
    return UpliftSimulation(yearly=yearly, summary=summary, params=params)


def profit_uplift_grid(*, retention: Any = (0.6, 0.7, 0.8, 0.9), margin_growth: Any = (0.0, 0.05, 0.1, 0.15),
                       acquisition_cost: Any = (0.0, 50.0, 100.0, 200.0), margin_per_customer_year: float | None = None,
                       uplift: float = 0.05, growth_years: int | None = 10, acquisition: str = "constant",
                       retention_cost: float = 0.0, discount: float = 0.0,
                       measure: str = "steady_state", margin: float | None = None) -> pd.DataFrame:
    """The profit increase of a retention uplift over a grid of assumptions.

    Shows when the folk "+25 % to +95 % profit" (Reichheld & Schefter 2000) is
    and is not reproduced: the increase grows with the baseline retention, with
    margin growth over tenure and with the acquisition cost relative to margin.
    Uses the closed-form steady state of :func:`profit_uplift_simulation` (same
    model and conventions), so a grid of thousands of cells takes milliseconds.

    Parameters
    ----------
    retention, margin_growth, acquisition_cost : sequence of float
        Grid axes: baseline yearly retention, yearly margin growth with tenure,
        cost per new customer.
    margin_per_customer_year : float, default 100
        First-year margin per customer, money (so ``acquisition_cost / margin_per_customer_year``
        is the CAC in years of first-year margin). ``margin`` is its deprecated name.
    uplift, growth_years, acquisition, retention_cost, discount
        As in :func:`profit_uplift_simulation`. ``growth_years`` defaults to 10
        here so that fast growth at high retention keeps a finite steady state.
    measure : {"steady_state", "customer_npv"}
        Steady-state yearly profit of the base, or the net present value of one
        customer at ``discount`` (Reichheld & Sasser's measure).

    Returns
    -------
    DataFrame
        One row per grid cell: ``retention``, ``margin_growth``,
        ``acquisition_cost``, ``profit_increase`` (0.5 = +50 %, NaN when the
        baseline profit is <= 0 or there is no steady state),
        ``in_folk_range`` (between 25 % and 95 %), ``basis`` ("assumed").

    Examples
    --------
    With no margin growth and no acquisition cost, the steady-state profit is
    proportional to the base, A / (1 - r): +33 % from 0.80 to 0.85.

    >>> g = profit_uplift_grid(retention=[0.8], margin_growth=[0.0], acquisition_cost=[0.0])
    >>> round(float(g["profit_increase"].iloc[0]), 4), bool(g["in_folk_range"].iloc[0])
    (0.3333, True)
    """
    measure = check_choice("measure", measure, ("steady_state", "customer_npv"))
    acquisition = check_choice("acquisition", acquisition, _ACQ)
    margin = _renamed_margin(margin_per_customer_year, margin, "profit_uplift_grid", default=100.0)
    r, up, m, c, g, k, rc, _uc, d = _check_sim(retention, uplift, margin, acquisition_cost, margin_growth,
                                                growth_years, retention_cost, 0.0, discount)
    r, g, c = (np.asarray(a, dtype=float).ravel() for a in (r, g, c))
    R, G, C = np.meshgrid(r, g, c, indexing="ij")
    m, up, rc, d = float(m), float(up), float(rc), float(d)
    if measure == "customer_npv":
        old, new = _npv(R, m, G, k, C, rc, d), _npv(R + up, m, G, k, C, rc, d)
    else:
        a_new = (1.0 - R) if acquisition == "constant" else (1.0 - (R + up))
        old, new = _steady(R, 1.0 - R, m, G, k, C, rc), _steady(R + up, a_new, m, G, k, C, rc)
    inc = _rel(new, old)
    out = pd.DataFrame({"retention": R.ravel(), "margin_growth": G.ravel(), "acquisition_cost": C.ravel(),
                        "profit_increase": inc.ravel()})
    out["in_folk_range"] = out["profit_increase"].between(*FOLK_PROFIT_RANGE)
    out["basis"] = "assumed"
    out.attrs.update({"measure": measure, "uplift": up, "margin_per_customer_year": m, "acquisition": acquisition,
                      "growth_years": None if np.isinf(k) else int(k), "discount": d})
    return out
