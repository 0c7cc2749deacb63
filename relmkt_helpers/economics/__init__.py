"""Acquisition versus retention economics: measured on the data, or assumed and labelled as such.

Three kinds of function live here:

* **measured** (``costs.py``, ``payback.py``, ``subscriptions.py``): CAC, retention cost per
  retained customer, their ratio, CAC payback, LTV:CAC and subscription
  GRR/NRR, from the canonical transactions, the spend ledger and the
  subscription table. Pure: DataFrame in, DataFrame out.
* **formulas and what-ifs** (``formulas.py``, ``simulation.py``): CLV under
  constant retention, payback, break-even retention spend, the
  "5 % retention -> 25-95 % profit" simulation and sensitivity grids. Pure
  numpy on assumption parameters, each call well under a millisecond to a few
  milliseconds, so a workshop can recompute on every slider move.
* **the analysis** (``analysis.py``): :func:`economics_analysis` computes
  everything notebook 04 shows from ``(tx, spend or None, subscriptions or
  None, Assumptions)``; :func:`claims_table` holds the folk numbers against
  the data.

Every table has a ``basis`` column (or ``attrs["basis"]``): ``"measured"``, or
``"assumed"`` / ``"assumed: <the assumptions it rests on>"``.

Definitions
-----------
=====================  ==============================================================================
figure                 definition (calendar months; ``as_of`` inclusive; channel = value on first order)
=====================  ==============================================================================
new customer           first order ever (in the data up to ``as_of``) falls in the month; a log that
                       starts mid-life counts earlier customers as new in its first month
CAC (month, channel)   acquisition spend / new customers. Spend but nobody new: **undefined** (NaN,
                       ``note``), never inf. ``"all"`` = blended over channels. Pooled CAC per channel
                       = sum spend / sum new over complete months inside the data (spend of months
                       without acquisitions included)
retained customer      ``retained="existing"`` (default): active in the period and acquired earlier
                       (returning + reactivated); ``"returning"``: active in this and the previous
                       period; ``"active"``: every active customer, new ones included (the sample
                       shop's basis: its true cost is per *active* customer-month)
retention cost         retention spend / retained customers, per month; per year: yearly spend /
                       distinct retained customers of the calendar year (the cost of keeping one
                       customer for a year, not 12 monthly costs). Pooled = sum spend / sum retained
                       over complete periods inside the data (the data's first period left out for
                       "existing" and "returning": nobody acquired earlier can be seen there)
cost ratio             CAC / retention cost: ``ratio_month`` (per retained customer-month) and
                       ``ratio_year`` (per retained customer-year). ``ratio_year`` is the one
                       comparable with the folk "5x": the claim sets winning a customer against
                       keeping one, with retention measured per year in its sources
payback                first month of life n (1 = acquisition month) where margin_rate x cumulative
                       revenue per acquired customer (realised, size-weighted across monthly cohorts,
                       by channel) >= CAC; NaN "not within data" if never. Gross margin, retention
                       spend not deducted
LTV:CAC                mean CLV per customer (input, e.g. ``clv.customer_value``) / CAC, or else
                       realised margin over the first ``horizon_months`` months of life / CAC;
                       ``ltv_basis`` says which
GRR, NRR               per customer, MRR on month-end days: (start - churn - contraction [+ expansion])
                       / start, for each month and for trailing 12 months; new customers excluded
CLV                    ``m (1 + d) / (1 + d - r)`` with the first payment counted (at acquisition,
                       undiscounted), ``m r / (1 + d - r)`` without (Fader & Hardie 2012)
break-even spend       CLV(r + uplift) - CLV(r) once (present value), or ``m (1 - CLV(r) /
                       CLV(r + uplift))`` per period while the customer is active
profit uplift          yearly cohort simulation from a steady-state base, constant acquisitions,
                       margin growing with tenure (see :mod:`.simulation`)
=====================  ==============================================================================

References
----------
Fader, P. S. & Hardie, B. G. S. (2012). Reconciling and clarifying CLV formulas.
http://brucehardie.com/notes/024/
Gupta, S. & Lehmann, D. R. (2003). Customers as assets. *Journal of Interactive
Marketing* 17(1), 9-24.
Reichheld, F. F. & Sasser, W. E. (1990). Zero defections: Quality comes to
services. *Harvard Business Review* 68(5), 105-111.
Reichheld, F. F. & Schefter, P. (2000). E-loyalty: Your secret weapon on the web.
*Harvard Business Review* 78(4), 105-113.

Examples
--------
>>> from relmkt_helpers.economics import clv_constant_retention
>>> round(clv_constant_retention(100, 0.8, 0.1), 2)
366.67
"""
from __future__ import annotations

from .analysis import FOLK_CLAIMS, Assumptions, EconomicsResult, claims_table, economics_analysis
from .formulas import (
    breakeven_retention_spend,
    clv_constant_retention,
    clv_sensitivity,
    ltv_cac_sensitivity,
    payback_periods,
)
from .costs import RETAINED_BASES, cac_by_channel, cac_by_month, cost_ratios, retention_costs
from .payback import LtvCurves, PaybackResult, cac_payback, ltv_curves, ltv_to_cac
from .simulation import FOLK_PROFIT_RANGE, UpliftSimulation, profit_uplift_grid, profit_uplift_simulation
from .subscriptions import subscription_revenue_retention
from .verdict import SPEND_LEDGER_NEEDED, retention_verdict
from .tables import assumption_table, basis_text, channel_table, claims_display, clv_table, headline_figures

__all__ = [
    "Assumptions",
    "EconomicsResult",
    "economics_analysis",
    "claims_table",
    "retention_verdict",
    "SPEND_LEDGER_NEEDED",
    "headline_figures",
    "assumption_table",
    "channel_table",
    "clv_table",
    "claims_display",
    "basis_text",
    "FOLK_CLAIMS",
    "clv_constant_retention",
    "payback_periods",
    "breakeven_retention_spend",
    "clv_sensitivity",
    "ltv_cac_sensitivity",
    "RETAINED_BASES",
    "cac_by_month",
    "cac_by_channel",
    "retention_costs",
    "cost_ratios",
    "LtvCurves",
    "ltv_curves",
    "PaybackResult",
    "cac_payback",
    "ltv_to_cac",
    "subscription_revenue_retention",
    "UpliftSimulation",
    "profit_uplift_simulation",
    "profit_uplift_grid",
    "FOLK_PROFIT_RANGE",
]
