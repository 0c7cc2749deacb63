"""Everything notebook 04 shows, from (transactions, spend or None, subscriptions or None, assumptions).

:func:`economics_analysis` measures what the inputs allow and falls back on
:class:`Assumptions` for the rest; every figure carries a ``basis`` saying
whether it is measured or which assumptions it rests on. :func:`claims_table`
holds the folk numbers against the figures computed here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError, RelmktError
from ._common import ALL, activity, check_discount, check_number, check_retention
from .formulas import (breakeven_retention_spend, clv_constant_retention, clv_sensitivity, ltv_cac_sensitivity,
                       payback_periods)
from .costs import _cac_pool, _ratios, cac_by_month, retention_costs
from .payback import LtvCurves, PaybackResult, cac_payback, ltv_curves, ltv_to_cac
from .simulation import FOLK_PROFIT_RANGE, UpliftSimulation, profit_uplift_grid, profit_uplift_simulation
from .subscriptions import subscription_revenue_retention

__all__ = ["Assumptions", "EconomicsResult", "economics_analysis", "claims_table", "FOLK_CLAIMS"]

#: A point claim ("11 %", "$40") counts as reproduced within +-10 % of it.
_POINT_TOL = 0.10


@dataclass(frozen=True)
class Assumptions:
    """The assumption parameters (all **per year**, currency as in the data).

    Used wherever the data cannot measure a figure (no spend ledger, no
    margins in transaction data) and for the what-if formulas; every figure
    built on them is labelled ``basis="assumed: ..."``. The defaults are
    illustrative, not estimates.

    Attributes
    ----------
    cac : float
        Acquisition cost per new customer.
    retention_cost : float
        Retention spend per retained customer per year.
    margin_per_customer_year : float
        Margin per customer per year (first year of tenure), money. Stands in for the
        measured figure (revenue per active customer-year x ``margin_rate``) only when
        the data cannot measure it.
    margin_rate : float
        Gross margin as a share of revenue, in (0, 1]: turns measured revenue into margin.
    retention : float
        Yearly retention rate, in [0, 1); stands in for the measured yearly retention only
        when the data does not cover two full calendar years.
    discount : float
        Yearly discount rate, >= 0.
    uplift : float
        Retention uplift for the what-ifs, in points (0.05 = five points).
    margin_growth : float
        Yearly growth of a customer's margin with tenure (Reichheld's argument).
    growth_years : int or None
        Tenure after which margins stop growing (None = never).
    years : int
        Years of the profit-uplift simulation.
    include_first : bool
        CLV convention (see :func:`clv_constant_retention`).

    Examples
    --------
    >>> Assumptions(cac=50.0).cac
    50.0
    >>> Assumptions(retention=1.2)
    Traceback (most recent call last):
    ...
    relmkt_helpers.errors.ParameterError: retention=1.2 is not allowed: it must be in [0, 1). ...
    """

    cac: float = 30.0
    retention_cost: float = 15.0
    margin_per_customer_year: float = 40.0
    margin_rate: float = 0.3
    retention: float = 0.6
    discount: float = 0.1
    uplift: float = 0.05
    margin_growth: float = 0.05
    growth_years: int | None = 10
    years: int = 10
    include_first: bool = True

    def __post_init__(self) -> None:
        check_number(self.cac, "cac", lo=0.0)
        check_number(self.retention_cost, "retention_cost", lo=0.0)
        check_number(self.margin_per_customer_year, "margin_per_customer_year",
                     hint=" Pass the margin per customer per year in money (a share of revenue is margin_rate).")
        check_number(self.margin_rate, "margin_rate", lo=0.0, hi=1.0, lo_open=True,
                     hint=" Pass the gross margin as a share of revenue (30 % -> 0.3).")
        check_retention(self.retention)
        check_discount(self.discount)
        check_number(self.uplift, "uplift", lo=0.0)
        check_retention(self.retention + self.uplift, "retention + uplift")
        check_number(self.margin_growth, "margin_growth", lo=-1.0, lo_open=True)
        if isinstance(self.years, bool) or not isinstance(self.years, (int, np.integer)) or self.years < 1:
            raise ParameterError(f"years={self.years!r} must be a whole number of years >= 1.")


#: The folk claims, with their sources (checked against the data by :func:`claims_table`).
FOLK_CLAIMS: pd.DataFrame = pd.DataFrame([
    {"key": "acquisition_vs_retention_cost",
     "claim": "Acquiring a customer costs 5 times as much as keeping one (also quoted as 6-7 times)",
     "claimed": "5x (6-7x)", "claimed_low": 5.0, "claimed_high": 7.0,
     "source": "As widely quoted; usually attributed to Bain & Company / F. F. Reichheld (cf. Reichheld & Sasser "
               "1990, 'Zero Defections: Quality Comes to Services', HBR 68(5), 105-111); the primary source of "
               "the number itself is uncertain"},
    {"key": "renewal_cost_share",
     "claim": "A renewal costs about 11 % of a new acquisition",
     "claimed": "11 %", "claimed_low": 0.11, "claimed_high": 0.11,
     "source": "As widely quoted in subscription marketing; primary source uncertain"},
    {"key": "retention_profit_uplift",
     "claim": "5 % more retention raises profit by 25 % to 95 %",
     "claimed": "+25 % to +95 %", "claimed_low": FOLK_PROFIT_RANGE[0], "claimed_high": FOLK_PROFIT_RANGE[1],
     "source": "Reichheld & Schefter 2000, 'E-Loyalty: Your Secret Weapon on the Web', HBR 78(4), 105-113 "
               "(25-95 %); Reichheld & Sasser 1990, 'Zero Defections', HBR 68(5), 105-111 (25-85 %: customer "
               "net present value when defections fall by 5 points)"},
    {"key": "email_roi",
     "claim": "Email marketing returns $40 for every $1 spent",
     "claimed": "$40 per $1", "claimed_low": 40.0, "claimed_high": 40.0,
     "source": "Direct Marketing Association (DMA) email tracking studies, as widely quoted; the figure varies "
               "by edition"},
]).set_index("key")


@dataclass(frozen=True, eq=False)
class EconomicsResult:
    """Everything :func:`economics_analysis` computed (None where the inputs did not allow it).

    Attributes
    ----------
    assumptions : Assumptions
    cac_by_month, cac_by_channel, retention_costs, cost_ratios : DataFrame or None
        Measured from the ledger (:mod:`relmkt_helpers.economics.costs`);
        without a ledger ``cac_by_channel`` and ``cost_ratios`` hold one
        ``"all"`` row built from the assumptions (``basis="assumed"``).
    ltv_curves : LtvCurves or None
        Realised revenue curves (with transactions).
    payback : PaybackResult or None
        CAC payback curves (with transactions).
    ltv_cac : DataFrame
        LTV:CAC per channel (``ltv_basis`` names the LTV used).
    revenue_retention : DataFrame or None
        Subscription GRR/NRR (with subscriptions).
    clv : DataFrame
        :func:`clv_constant_retention` under both conventions, from the assumptions.
    breakeven : DataFrame
        :func:`breakeven_retention_spend` from the assumptions.
    uplift : UpliftSimulation
        The profit-uplift simulation.
    uplift_inputs : DataFrame
        The simulation's inputs with their basis (measured or assumed).
    assumption_check : DataFrame
        Index ``figure`` (``retention``, ``margin_per_customer_year``, ``cac``,
        ``retention_cost``: all yearly): the ``assumed`` value, the ``measured``
        one (NaN where the data cannot measure it), the one ``used`` by the
        what-ifs, its ``basis`` and ``how_measured`` (or what measuring it needs).
        The CLV, break-even, simulation and sensitivity grids are centred on ``used``.
    """

    assumptions: Assumptions
    cac_by_month: pd.DataFrame | None
    cac_by_channel: pd.DataFrame
    retention_costs: pd.DataFrame | None
    cost_ratios: pd.DataFrame
    ltv_curves: LtvCurves | None
    payback: PaybackResult | None
    ltv_cac: pd.DataFrame
    revenue_retention: pd.DataFrame | None
    clv: pd.DataFrame
    breakeven: pd.DataFrame
    uplift: UpliftSimulation
    uplift_inputs: pd.DataFrame
    retained: str = "existing"
    notes: tuple[str, ...] = field(default_factory=tuple)
    assumption_check: pd.DataFrame | None = None

    @property
    def has_ledger(self) -> bool:
        return self.cac_by_month is not None

    def used(self, figure: str) -> float:
        """The value of a yearly figure the what-ifs use: measured where the data allows, else assumed."""
        if self.assumption_check is None or figure not in self.assumption_check.index:
            a = self.assumptions
            return float({"retention": a.retention, "margin_per_customer_year": a.margin_per_customer_year,
                          "cac": a.cac, "retention_cost": a.retention_cost}[figure])
        return float(self.assumption_check.loc[figure, "used"])

    def verdict(self, currency: str | None = None) -> str:
        """One sentence or three: does retention pay better than acquisition here (see :func:`retention_verdict`)."""
        from .verdict import retention_verdict

        return retention_verdict(self, currency=currency)

    def clv_grid(self) -> pd.DataFrame:
        """CLV over yearly retention x discount rate, centred on the retention and margin used here."""
        r, d = self.used("retention"), self.assumptions.discount
        g = clv_sensitivity(self.used("margin_per_customer_year"), around(r, 0.05, lo=0.05, hi=0.95),
                            around(d, 0.05, lo=0.0, hi=0.5, n=2), include_first=self.assumptions.include_first,
                            period="year")
        g.attrs.update(center=(r, d), basis=self._grid_basis(("retention", "margin_per_customer_year")))
        return g

    def ltv_cac_grid(self) -> pd.DataFrame:
        """LTV:CAC over CAC x margin per customer-year, centred on the CAC and margin used here."""
        c, m = self.used("cac"), self.used("margin_per_customer_year")
        g = ltv_cac_sensitivity(around(c, 0.25 * c, lo=0.01 * c, n=3), around(m, 0.25 * m, lo=0.01 * abs(m) + 1e-9, n=2),
                                retention=self.used("retention"), discount=self.assumptions.discount,
                                include_first=self.assumptions.include_first, period="year")
        g.attrs.update(center=(c, m), basis=self._grid_basis(("cac", "retention", "margin_per_customer_year")))
        return g

    def uplift_grid(self) -> pd.DataFrame:
        """The profit increase of the uplift over retention x margin growth, centred on the retention used here."""
        a = self.assumptions
        r = self.used("retention")
        growth = sorted({0.0, 0.025, 0.05, 0.1, 0.15, float(a.margin_growth)})
        g = profit_uplift_grid(retention=around(r, 0.05, lo=0.05, hi=0.99 - a.uplift),
                               margin_growth=growth, acquisition_cost=[self.used("cac")],
                               margin_per_customer_year=self.used("margin_per_customer_year"), uplift=a.uplift,
                               growth_years=a.growth_years, retention_cost=self.used("retention_cost"))
        g.attrs.update(center=(r, float(a.margin_growth)),
                       basis=self._grid_basis(("retention", "margin_per_customer_year", "cac", "retention_cost")))
        return g

    def _grid_basis(self, keys: tuple[str, ...]) -> str:
        if self.assumption_check is None:
            return "assumed"
        b = self.assumption_check["basis"]
        return _basis_of({k: str(b.get(k, "assumed")) for k in keys}, keys, self.assumptions)

    @property
    def claims(self) -> pd.DataFrame:
        """:func:`claims_table` of this result."""
        return claims_table(self)

    @property
    def summary(self) -> pd.DataFrame:
        """Headline figures: ``value``, ``unit``, ``basis``, ``note`` per figure."""
        return _summary(self)

    @property
    def headline(self) -> dict[str, Any]:
        """Flat ``name -> number or str`` for :func:`relmkt_helpers.save_metrics` (``<name>_basis`` beside)."""
        out: dict[str, Any] = {}
        for name, row in self.summary.iterrows():
            v = row["value"]
            out[str(name)] = None if v is None or (isinstance(v, float) and not np.isfinite(v)) else float(v)
            out[f"{name}_basis"] = str(row["basis"])
        return out

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


def around(center: float, step: float, *, lo: float | None = None, hi: float | None = None, n: int = 4) -> list[float]:
    """A grid of up to ``2 n + 1`` values ``center + k step`` inside ``[lo, hi]``, the centre itself included.

    Examples
    --------
    >>> around(0.494, 0.05, lo=0.05, hi=0.95, n=2)
    [0.394, 0.444, 0.494, 0.544, 0.594]
    >>> around(0.1, 0.05, lo=0.0, n=3)
    [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]
    """
    vals = [center + k * step for k in range(-n, n + 1)]
    vals = [v for v in vals if (lo is None or v >= lo - 1e-12) and (hi is None or v <= hi + 1e-12)]
    return sorted({round(v, 10) for v in vals} | {round(center, 10)})


def _row(df: pd.DataFrame | None, col: str, channel: str = ALL) -> float:
    if df is None or col not in df.columns:
        return float("nan")
    sel = df.loc[df["channel"] == channel, col]
    return float(sel.iloc[0]) if len(sel) else float("nan")


def _measured_yearly(tx: pd.DataFrame, as_of: Any, margin_rate: float) -> dict[str, float]:
    """Pooled yearly customer retention (active in Y-1 and Y / active in Y-1) and margin per active customer-year,
    over calendar years fully inside the data."""
    act = activity(tx, channel_col=None, as_of=as_of, freq="Y")
    years = act.periods
    full = act.complete & (years.start_time >= pd.Timestamp(act.first_day))
    active, returning, revenue = act.active[:, 0], act.returning[:, 0], act.revenue[:, 0]
    pair = full[1:] & full[:-1]
    prev = active[:-1][pair].sum()
    ret = float(returning[1:][pair].sum() / prev) if prev > 0 else float("nan")
    act_full = active[full].sum()
    margin = float(revenue[full].sum() / act_full * margin_rate) if act_full > 0 else float("nan")
    return {"retention": ret, "margin": margin, "years_full": int(full.sum())}


def economics_analysis(tx: pd.DataFrame | None = None, spend: pd.DataFrame | None = None,
                       subscriptions: pd.DataFrame | None = None, assumptions: Assumptions | None = None, *,
                       clv: pd.Series | pd.DataFrame | None = None, channel_col: str | None = "channel",
                       as_of: Any = None, retained: str = "existing", horizon_months: int = 12) -> EconomicsResult:
    """Compute every acquisition-versus-retention figure the inputs allow; assume the rest, and say so.

    What comes from where:

    * **CAC, retention cost, cost ratio**: measured from ``tx`` + ``spend``
      (:func:`cac_by_month`, :func:`retention_costs`, :func:`cost_ratios`);
      without a ledger, ``assumptions.cac`` and ``assumptions.retention_cost``
      (per year).
    * **Payback**: the realised curves of ``tx`` times ``margin_rate`` against
      the CAC (:func:`cac_payback`); without ``tx``, the constant-retention
      model :func:`payback_periods` (in years).
    * **LTV:CAC**: the ``clv`` input, else the realised margin LTV
      (:func:`ltv_to_cac`); without ``tx``, :func:`clv_constant_retention` / CAC.
    * **GRR / NRR**: from ``subscriptions`` (None without them).
    * **CLV and break-even spend**: always from the assumptions.
    * **Profit uplift**: yearly customer retention and margin per customer-year
      measured on ``tx`` (margin through ``margin_rate``), CAC and yearly
      retention cost from the ledger, the rest (uplift, margin growth) assumed;
      ``uplift_inputs`` lists each input with its basis.

    Parameters
    ----------
    tx : DataFrame, optional
        Canonical transactions (None: everything from assumptions).
    spend : DataFrame, optional
        Spend ledger (:func:`relmkt_helpers.load_spend`); needs ``tx``.
    subscriptions : DataFrame, optional
        Subscription table (:func:`relmkt_helpers.load_subscriptions`) with a ``monthly_price`` column.
    assumptions : Assumptions, optional
        Default ``Assumptions()``.
    clv : Series or DataFrame, optional
        CLV per customer for LTV:CAC (see :func:`ltv_to_cac`).
    channel_col : str or None, default "channel"
        Acquisition-channel column of ``tx``.
    as_of : date-like, optional
        Inclusive end of the data; default the last order date.
    retained : {"existing", "returning", "active"}
        Retained base of the retention cost (see :func:`retention_costs`).
    horizon_months : int, default 12
        Months of life in the realised LTV.

    Returns
    -------
    EconomicsResult
        ``.summary`` (headline figures with their basis), ``.claims``, ``.headline`` and the tables.

    Examples
    --------
    Without any data, every figure is labelled as assumed:

    >>> res = economics_analysis(assumptions=Assumptions(cac=30, retention_cost=15))
    >>> row = res.summary.loc["cost_ratio_year"]
    >>> float(row["value"]), row["basis"]
    (2.0, 'assumed')
    """
    a = assumptions if assumptions is not None else Assumptions()
    if not isinstance(a, Assumptions):
        raise ParameterError(f"assumptions must be an Assumptions(...) object, got {type(a).__name__}.")
    if spend is not None and tx is None:
        raise ParameterError("a spend ledger needs the transactions too (tx=...), to count the customers it bought; "
                             "without transactions pass spend=None and work from assumptions.")
    notes: list[str] = []
    cbm = rc = None
    curves = payback = None
    if spend is not None:
        cbm = cac_by_month(tx, spend, channel_col=channel_col, as_of=as_of)
        cbc = _cac_pool(cbm)
        rc = retention_costs(tx, spend, retained=retained, channel_col=channel_col, as_of=as_of)
        rc_year = retention_costs(tx, spend, retained=retained, period="Y", channel_col=channel_col, as_of=as_of)
        ratios = _ratios(cbc, rc, rc_year, retained)
        n_undef = int((cbm["in_totals"] & cbm["cac"].isna()).sum())
        if n_undef:
            notes.append(f"{n_undef} month-channel rows have spend but no new customers: CAC undefined there "
                         "(see cac_by_month, column note).")
    else:
        cbc = pd.DataFrame({"channel": [ALL], "cac": [float(a.cac)], "note": ["from assumptions.cac"],
                            "basis": ["assumed"]})
        ratios = pd.DataFrame({"channel": [ALL], "cac": [float(a.cac)], "retention_cost_month": [np.nan],
                               "retention_cost_year": [float(a.retention_cost)], "ratio_month": [np.nan],
                               "ratio_year": [a.cac / a.retention_cost if a.retention_cost > 0 else np.nan],
                               "comparable_to_folk_claim": ["ratio_year"], "retained": ["assumed"],
                               "note": ["from assumptions (cac, retention_cost per year); no spend ledger"],
                               "basis": ["assumed"]})
    cac_arg = cbc if spend is not None else float(a.cac)
    # the shop's own yearly figures, and what stands in for each where the data cannot measure it
    measured = {"retention": np.nan, "margin_per_customer_year": np.nan, "cac": np.nan, "retention_cost": np.nan}
    how = {"retention": "needs two full calendar years of transactions",
           "margin_per_customer_year": "needs a full calendar year of transactions",
           "cac": "needs a spend ledger (month, channel, kind, spend)",
           "retention_cost": "needs a spend ledger (month, channel, kind, spend)"}
    if tx is not None:
        y = _measured_yearly(tx, as_of, a.margin_rate)
        if np.isfinite(y["retention"]):
            measured["retention"] = y["retention"]
            how["retention"] = "customers active in one calendar year who buy again the next"
        if np.isfinite(y["margin"]) and y["margin"] > 0:
            measured["margin_per_customer_year"] = y["margin"]
            how["margin_per_customer_year"] = (f"revenue per active customer-year x the assumed margin rate "
                                               f"({a.margin_rate:.0%})")
    if spend is not None:
        c, r_y = _row(cbc, "cac"), _row(ratios, "retention_cost_year")
        if np.isfinite(c):
            measured["cac"], how["cac"] = c, "acquisition spend / new customers, all channels"
        if np.isfinite(r_y):
            measured["retention_cost"] = r_y
            how["retention_cost"] = f"retention spend / retained ({retained}) customers, per calendar year"
    assumed = {"retention": a.retention, "margin_per_customer_year": a.margin_per_customer_year, "cac": a.cac,
               "retention_cost": a.retention_cost}
    used = dict(assumed)
    basis = dict.fromkeys(assumed, "assumed")
    for k, v in measured.items():
        if np.isfinite(v) and not (k == "retention" and v + a.uplift >= 1):
            used[k], basis[k] = float(v), "measured"
    if tx is not None:
        curves = ltv_curves(tx, channel_col=channel_col if spend is None or _has_channels(cbc) else None,
                            as_of=as_of)
        payback = cac_payback(curves, cac_arg, margin_rate=a.margin_rate)
        ltc = ltv_to_cac(tx, cac_arg, margin_rate=a.margin_rate, clv=clv, horizon_months=horizon_months,
                         curves=curves, channel_col=channel_col, as_of=as_of)
    else:
        ltv = float(clv_constant_retention(a.margin_per_customer_year, a.retention, a.discount,
                                           include_first=a.include_first))
        ltc = pd.DataFrame({"channel": [ALL], "ltv": [ltv],
                            "ltv_basis": ["clv_constant_retention(margin_per_customer_year, retention, discount)"],
                            "customers": [0], "cac": [float(a.cac)],
                            "ltv_cac": [ltv / a.cac if a.cac > 0 else np.nan], "basis": ["assumed"], "note": [""]})
    rr = None
    if subscriptions is not None:
        last = None if tx is None else (tx.ledger.last_date if hasattr(tx, "ledger") else tx["order_date"].max())
        sub_as_of = as_of if as_of is not None else last
        rr = subscription_revenue_retention(subscriptions, as_of=sub_as_of)
    r_used, m_used = used["retention"], used["margin_per_customer_year"]
    clv_basis = _basis_of(basis, ("retention", "margin_per_customer_year"), a)
    clv_tab = pd.DataFrame({
        "include_first": [True, False],
        "formula": ["m (1 + d) / (1 + d - r)", "m r / (1 + d - r)"],
        "clv": [float(clv_constant_retention(m_used, r_used, a.discount, include_first=f)) for f in (True, False)],
        "margin_per_customer_year": m_used, "retention": r_used, "discount": a.discount, "period": "year",
        "basis": clv_basis,
    })
    be = breakeven_retention_spend(m_used, r_used, a.uplift, a.discount, include_first=a.include_first)
    be["basis"] = clv_basis
    inputs = {"retention": (r_used, _sim_basis(basis["retention"], how["retention"])),
              "margin_per_customer_year": (m_used, _sim_basis(basis["margin_per_customer_year"],
                                                              how["margin_per_customer_year"])),
              "acquisition_cost": (used["cac"], _sim_basis(basis["cac"], how["cac"])),
              "retention_cost": (used["retention_cost"], _sim_basis(basis["retention_cost"], how["retention_cost"]))}
    for k, v in (("uplift", a.uplift), ("margin_growth", a.margin_growth), ("growth_years", a.growth_years),
                 ("discount", a.discount), ("years", a.years)):
        inputs[k] = (v, "assumed")
    sim_kw = {k: v[0] for k, v in inputs.items()}
    try:
        sim = profit_uplift_simulation(**sim_kw)
    except RelmktError as exc:
        notes.append(f"profit-uplift simulation with the measured inputs failed ({exc}); used the assumptions.")
        sim_kw.update(retention=a.retention, margin_per_customer_year=a.margin_per_customer_year)
        inputs["retention"] = (a.retention, "assumed")
        inputs["margin_per_customer_year"] = (a.margin_per_customer_year, "assumed")
        sim = profit_uplift_simulation(**sim_kw)
    uplift_inputs = pd.DataFrame([(k, v[0], v[1]) for k, v in inputs.items()],
                                 columns=["input", "value", "basis"]).set_index("input")
    check = pd.DataFrame({
        "assumed": pd.Series(assumed), "measured": pd.Series(measured), "used": pd.Series(used),
        "basis": pd.Series(basis), "how_measured": pd.Series(how)})
    check.index.name = "figure"
    return EconomicsResult(assumptions=a, cac_by_month=cbm, cac_by_channel=cbc, retention_costs=rc,
                           cost_ratios=ratios, ltv_curves=curves, payback=payback, ltv_cac=ltc,
                           revenue_retention=rr, clv=clv_tab, breakeven=be, uplift=sim,
                           uplift_inputs=uplift_inputs, retained=retained, notes=tuple(notes),
                           assumption_check=check)


def _sim_basis(basis: str, how: str) -> str:
    return f"measured: {how}" if basis == "measured" else "assumed"


def _basis_of(basis: dict[str, str], keys: tuple[str, ...], a: Assumptions) -> str:
    """``"measured"`` when every key was measured (margin still through the assumed margin rate), else which not."""
    assumed = [k for k in keys if basis[k] != "measured"]
    if len(assumed) == len(keys):
        return "assumed"
    if "margin_per_customer_year" in keys and basis["margin_per_customer_year"] == "measured":
        assumed.append("margin_rate")
    return "assumed: " + ", ".join(assumed) if assumed else "measured"


def _has_channels(cbc: pd.DataFrame) -> bool:
    return list(cbc["channel"]) != [ALL]


def _summary(res: EconomicsResult) -> pd.DataFrame:
    a = res.assumptions
    led = "measured" if res.has_ledger else "assumed"
    rows: list[tuple[str, float, str, str, str]] = []
    rows.append(("cac_blended", _row(res.cac_by_channel, "cac"), "currency per new customer", led, ""))
    rows.append(("retention_cost_month", _row(res.cost_ratios, "retention_cost_month"),
                 "currency per retained customer-month", led, f"retained = {res.retained}" if res.has_ledger else
                 "not defined from yearly assumptions"))
    rows.append(("retention_cost_year", _row(res.cost_ratios, "retention_cost_year"),
                 "currency per retained customer-year", led, ""))
    rows.append(("cost_ratio_month", _row(res.cost_ratios, "ratio_month"), "CAC / retention cost per month", led,
                 "not comparable with the folk 5x: one month of retention"))
    rows.append(("cost_ratio_year", _row(res.cost_ratios, "ratio_year"), "CAC / retention cost per year", led,
                 "the one comparable with the folk 5x (6-7x)"))
    if res.payback is not None:
        s = res.payback.summary.set_index("channel").loc[ALL]
        rows.append(("payback_months", float(s["payback_months"]), "months of life (1 = acquisition month)",
                     str(s["basis"]), str(s["note"])))
    else:
        n = payback_periods(res.used("cac"), res.used("margin_per_customer_year"), res.used("retention"))
        rows.append(("payback_years", float(n), "years (1 = first year)", "assumed", "constant-retention model"))
    lc = res.ltv_cac.set_index("channel").loc[ALL]
    rows.append(("ltv_cac", float(lc["ltv_cac"]), "ratio", str(lc["basis"]), f"LTV: {lc['ltv_basis']}"))
    if res.revenue_retention is not None and len(res.revenue_retention):
        rr = res.revenue_retention
        last = rr.index[-1]
        for col in ("grr", "nrr", "grr_12m", "nrr_12m"):
            rows.append((f"{col}_{'last_month' if col in ('grr', 'nrr') else 'trailing'}", float(rr[col].iloc[-1]),
                         "fraction", "measured", f"month {last}; {rr['note'].iloc[-1]}".rstrip("; ")))
    clv = res.clv.set_index("include_first")["clv"]
    rows.append(("clv_constant_retention", float(clv.loc[a.include_first]), "currency", str(res.clv["basis"].iloc[0]),
                 "first payment counted" if a.include_first else "first payment not counted"))
    be = res.breakeven.iloc[0]
    rows.append(("breakeven_retention_spend_lifetime", float(be["breakeven_lifetime"]), "currency per customer",
                 str(be["basis"]), f"one-off, present value, for +{a.uplift:g} retention"))
    rows.append(("breakeven_retention_spend_per_year", float(be["breakeven_per_period"]),
                 "currency per customer-year", str(be["basis"]), f"recurring, for +{a.uplift:g} retention"))
    measured = [k for k, b in res.uplift_inputs["basis"].items() if str(b).startswith("measured")]
    rows.append(("profit_increase_steady_state", res.uplift.steady_state_increase, "fraction",
                 "assumed: uplift, margin_growth, growth_years, margin_rate" if measured else "assumed",
                 "simulation; measured inputs: " + (", ".join(measured) if measured else "none")))
    out = pd.DataFrame(rows, columns=["figure", "value", "unit", "basis", "note"]).set_index("figure")
    return out


def claims_table(result: EconomicsResult) -> pd.DataFrame:
    """Each folk claim, its source, and the value computed on the loaded data (never quoted).

    ``status`` is ``"measured"`` (computed from the data), ``"assumption-based"``
    (computed from :class:`Assumptions`, wholly or in part) or ``"not
    measurable from this data: needs ..."`` (value NaN).

    Parameters
    ----------
    result : EconomicsResult
        From :func:`economics_analysis`.

    Returns
    -------
    DataFrame
        Index ``key``; columns ``claim``, ``claimed``, ``claimed_low``,
        ``claimed_high``, ``source``, ``value``, ``measure``, ``status``,
        ``in_claimed_range`` (None when not measurable; a point claim such as
        "11 %" counts as reproduced within +-10 % of it), ``note``.

    Examples
    --------
    >>> t = claims_table(economics_analysis())
    >>> t.loc["email_roi", "status"]
    'not measurable from this data: needs revenue attributed to email and the email spend'
    """
    if not isinstance(result, EconomicsResult):
        raise ParameterError(f"claims_table expects the EconomicsResult of economics_analysis(), "
                             f"got {type(result).__name__}.")
    a = result.assumptions
    out = FOLK_CLAIMS.copy()
    val, measure, status, note = {}, {}, {}, {}
    # 1. acquisition vs retention cost
    k = "acquisition_vs_retention_cost"
    ry, rm = _row(result.cost_ratios, "ratio_year"), _row(result.cost_ratios, "ratio_month")
    measure[k] = "blended CAC / retention cost per retained customer-year"
    if result.has_ledger:
        if np.isfinite(ry):
            val[k], status[k] = ry, "measured"
        else:
            val[k], status[k] = np.nan, "not measurable from this data: needs a ledger and data covering a full year"
        note[k] = (f"retained = {result.retained}; per retained customer-month the ratio is {rm:.2f} "
                   "(not comparable: one month of retention against a one-off acquisition)")
    else:
        val[k], status[k] = ry, "assumption-based"
        note[k] = "no spend ledger: assumptions.cac / assumptions.retention_cost (per year)"
    # 2. renewal cost share
    k = "renewal_cost_share"
    measure[k] = "retention cost per retained customer-month / blended CAC (one monthly renewal vs one acquisition)"
    if result.has_ledger and result.revenue_retention is not None:
        val[k] = 1.0 / rm if rm and np.isfinite(rm) and rm > 0 else np.nan
        status[k] = "measured"
        note[k] = ("proxy: the ledger does not separate the spend on subscription renewals, so all retention spend "
                   "per retained customer-month is used (the subscriptions renew monthly)")
    elif result.has_ledger:
        val[k], status[k] = np.nan, "not measurable from this data: needs a subscription product (renewals)"
        note[k] = "no subscription table given"
    else:
        val[k] = a.retention_cost / a.cac if a.cac > 0 else np.nan
        measure[k] = "assumed retention cost per year / assumed CAC (a yearly renewal vs one acquisition)"
        status[k] = "assumption-based"
        note[k] = "no spend ledger"
    # 3. profit uplift
    k = "retention_profit_uplift"
    p = result.uplift.params
    val[k] = result.uplift.steady_state_increase
    measure[k] = (f"steady-state profit increase when yearly retention rises from {100 * p['retention']:.1f}% "
                  f"by {100 * p['uplift']:g} points (simulation)")
    status[k] = "assumption-based"
    ub = result.uplift_inputs["basis"]
    note[k] = ("measured inputs: " + (", ".join(i for i, b in ub.items() if str(b).startswith("measured")) or "none")
               + "; assumed: " + ", ".join(i for i, b in ub.items() if not str(b).startswith("measured"))
               + ". See profit_uplift_grid for how the number moves with the assumptions.")
    # 4. email ROI
    k = "email_roi"
    val[k], measure[k] = np.nan, "revenue attributed to email / email spend"
    status[k] = "not measurable from this data: needs revenue attributed to email and the email spend"
    note[k] = ("the ledger is split by acquisition channel and kind, not by medium, and orders carry no campaign "
               "attribution")
    out["value"] = pd.Series(val, dtype=float)
    out["measure"] = pd.Series(measure)
    out["status"] = pd.Series(status)
    v = out["value"]
    point = out["claimed_low"] == out["claimed_high"]
    lo = np.where(point, out["claimed_low"] * (1 - _POINT_TOL), out["claimed_low"])
    hi = np.where(point, out["claimed_high"] * (1 + _POINT_TOL), out["claimed_high"])
    out["in_claimed_range"] = pd.Series(np.where(v.isna(), None, (v >= lo) & (v <= hi)), index=out.index,
                                        dtype=object)
    out["note"] = pd.Series(note)
    return out
