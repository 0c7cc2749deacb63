"""The economics figures as tables a marketing manager reads (labels, units, currency; nothing truncated).

Each function takes the :class:`~relmkt_helpers.economics.EconomicsResult` and
returns a :class:`relmkt_helpers.display.Table` (HTML in a page, aligned text in
a terminal). The numbers stay in ``Table.data``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..display import METRICS, Table, fmt_value, label, table
from ._common import ALL


__all__ = ["basis_text", "headline_figures", "assumption_table", "channel_table", "clv_table", "claims_display"]

_WORDS = {"margin_rate": "margin rate", "cac": "CAC", "retention_cost": "retention cost",
          "margin_per_customer_year": "margin per customer-year", "retention": "yearly retention",
          "uplift": "uplift", "margin_growth": "margin growth", "growth_years": "years of margin growth",
          "discount": "discount rate"}


def _text_table(df: pd.DataFrame, numeric: tuple[str, ...] = (), data: pd.DataFrame | None = None) -> Table:
    """A table of already formatted text (columns named as the reader sees them)."""
    return Table(df.astype(str).reset_index(drop=True), df if data is None else data, numeric=numeric)


def _times(v: float) -> str:
    """A ratio as ``0.96×`` (two decimals below 10, so 0.96 is not shown as 1.0)."""
    v = float(v)
    if not np.isfinite(v):
        return "–"
    return f"{v:.2f}×" if abs(v) < 10 else f"{v:,.0f}×"


def _months(v: float) -> str:
    v = float(v)
    if not np.isfinite(v):
        return "not within the data"
    return "1 month" if v == 1 else f"{v:.0f} months"


def basis_text(basis: str) -> str:
    """A figure's basis in words: ``"assumed: cac, margin_rate"`` -> ``"assumed CAC and margin rate"``.

    Examples
    --------
    >>> basis_text("measured"), basis_text("assumed"), basis_text("assumed: cac, margin_rate")
    ('measured', 'assumed', 'measured, with the assumed CAC and margin rate')
    >>> basis_text("measured: blended CAC")
    'measured'
    """
    b = str(basis).strip()
    if b.startswith("measured"):
        return "measured"
    if b.startswith("assumed:"):
        names = [_WORDS.get(n.strip(), n.strip().replace("_", " ")) for n in b.split(":", 1)[1].split(",") if n.strip()]
        said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"measured, with the assumed {said}"
    return b.replace("_", " ")


def headline_figures(result, currency: str | None = None) -> Table:
    """The headline figures (rows with a value), each with its label, its value and what it rests on.

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> t = headline_figures(economics_analysis(), currency="EUR")
    >>> print(t.frame.iloc[0].tolist())
    ['Cost to win a customer (CAC)', '€30.00', 'assumed']
    """
    s = result.summary
    rows = []
    for key, row in s.iterrows():
        v = row["value"]
        if v is None or not np.isfinite(float(v)):
            continue
        m = METRICS.get(str(key))
        kind = m.kind if m else "num"
        text = fmt_value(v, kind, currency=currency)
        if kind == "ratio":
            text = _times(v)
        elif key == "payback_months":
            text = _months(v)
        rows.append((label(str(key)), text, basis_text(row["basis"]), float(v)))
    df = pd.DataFrame(rows, columns=["Figure", "Value", "What it rests on", "number"])
    return _text_table(df[["Figure", "Value", "What it rests on"]], ("Value",), data=df)


_CHECK = {"retention": ("Yearly retention", "pct"), "margin_per_customer_year": ("Margin per customer-year", "money"),
          "cac": ("Cost to win a customer (CAC)", "money"),
          "retention_cost": ("Cost to keep a customer for a year", "money")}


def assumption_table(result, currency: str | None = None) -> Table:
    """Each assumed figure beside the figure measured here that it stands in for, and which one the what-ifs use.

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> print(assumption_table(economics_analysis()).frame.iloc[0, :4].tolist())
    ['Yearly retention', '60.0%', 'not measured', 'assumed']
    """
    chk = result.assumption_check
    rows = []
    for key, (lab, kind) in _CHECK.items():
        r = chk.loc[key]
        meas = float(r["measured"])
        rows.append((lab, fmt_value(r["assumed"], kind, currency=currency),
                     fmt_value(meas, kind, currency=currency) if np.isfinite(meas) else "not measured",
                     "measured" if r["basis"] == "measured" else "assumed", str(r["how_measured"])))
    a = result.assumptions
    for lab, v, kind, why in (
            ("Margin rate", a.margin_rate, "pct", "transactions record revenue, not margin"),
            ("Discount rate, per year", a.discount, "pct", "a financial choice, not in the data"),
            ("Retention uplift tested", a.uplift, "pts", "the what-if itself"),
            ("Margin growth per year of tenure", a.margin_growth, "pct", "needs margins by customer tenure")):
        rows.append((lab, fmt_value(v, kind), "not measured", "assumed", why))
    df = pd.DataFrame(rows, columns=["Figure", "Assumed", "Measured here", "The what-ifs use",
                                     "How it is measured, or what measuring it needs"])
    return _text_table(df, ("Assumed", "Measured here"))


def channel_table(result, currency: str | None = None) -> Table:
    """Per acquisition channel: new customers, CAC, yearly cost to keep, their ratio, payback, 12-month margin, LTV:CAC.

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> print(channel_table(economics_analysis()).frame.columns[:3].tolist())
    ['Channel', 'Cost to win a customer (CAC)', 'Cost to keep one for a year']
    """
    ltc = result.ltv_cac.set_index("channel")
    df = ltc[["customers", "cac", "ltv", "ltv_cac"]].copy()
    ratios = result.cost_ratios.set_index("channel")
    df["retention_cost_year"] = ratios["retention_cost_year"].reindex(df.index)
    df["ratio_year"] = ratios["ratio_year"].reindex(df.index)
    if result.payback is not None:
        df["payback_months"] = result.payback.summary.set_index("channel")["payback_months"].reindex(df.index)
    else:
        df["payback_months"] = np.nan
    df.index = ["all channels" if c == ALL else str(c) for c in df.index]
    out = pd.DataFrame({
        "Channel": df.index,
        "New customers": [fmt_value(v, "int") for v in df["customers"]],
        "Cost to win a customer (CAC)": [fmt_value(v, "money", currency=currency) for v in df["cac"]],
        "Cost to keep one for a year": [fmt_value(v, "money", currency=currency) for v in df["retention_cost_year"]],
        "Winning vs keeping": [_times(v) for v in df["ratio_year"]],
        "CAC payback": [_months(v) for v in df["payback_months"]],
        "Margin per new customer, first 12 months": [fmt_value(v, "money", currency=currency) for v in df["ltv"]],
        "Lifetime value to CAC": [_times(v) for v in df["ltv_cac"]],
    })
    if not (df["customers"] > 0).any():
        out = out.drop(columns="New customers")
    if df["retention_cost_year"].isna().all():
        out = out.drop(columns=["Cost to keep one for a year", "Winning vs keeping"])
    return _text_table(out, tuple(c for c in out.columns if c != "Channel"), data=df.reset_index())


def clv_table(result, currency: str | None = None) -> Table:
    """Customer value at constant retention under both conventions, and the break-even retention spend.

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> print(clv_table(economics_analysis(), currency="USD").frame.iloc[0].tolist())
    ['Customer value, first payment counted', 'm (1 + d) / (1 + d - r)', '$88.00']
    """
    a = result.assumptions
    clv = result.clv.set_index("include_first")["clv"]
    be = result.breakeven.iloc[0]
    up = f"{100 * a.uplift:g} points"
    rows = [("Customer value, first payment counted", "m (1 + d) / (1 + d - r)", float(clv.loc[True])),
            ("Customer value, first payment not counted", "m r / (1 + d - r)", float(clv.loc[False])),
            (f"Most a programme adding {up} of retention may cost per customer, paid once",
             "CLV(r + uplift) - CLV(r)", float(be["breakeven_lifetime"])),
            (f"Most it may cost per customer and year while the customer stays",
             "m (1 - CLV(r) / CLV(r + uplift))", float(be["breakeven_per_period"]))]
    df = pd.DataFrame(rows, columns=["what", "formula", "value"])
    return table(df, {"what": ("Figure", "text"), "formula": ("Formula", "text"), "value": ("Value", "money")},
                 currency=currency)


_CLAIM_KIND = {"acquisition_vs_retention_cost": "times", "renewal_cost_share": "pct",
               "retention_profit_uplift": "change", "email_roi": "times"}


def _status_text(status: str) -> str:
    if status == "measured":
        return "measured on this data"
    if status == "assumption-based":
        return "computed, partly from assumptions"
    return str(status).replace("not measurable from this data: needs", "cannot be measured here: needs")


def claims_display(result, currency: str | None = None) -> Table:
    """The folk claims beside the value computed here: full claim text and source, readable columns.

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> t = claims_display(economics_analysis())
    >>> t.frame.columns.tolist()
    ['Claim', 'Claimed', 'Here', 'How it was computed', 'Holds here?', 'Source']
    >>> t.frame.iloc[0]["Here"], t.frame.iloc[0]["Holds here?"]
    ('2.00×', 'no')
    """
    c = result.claims
    rows = []
    for key, r in c.iterrows():
        v = float(r["value"]) if r["value"] is not None else float("nan")
        kind = _CLAIM_KIND.get(str(key), "num")
        if not np.isfinite(v):
            here = "–"
        elif kind == "times":
            here = _times(v)
        else:
            here = fmt_value(v, kind)
        holds = {True: "yes", False: "no"}.get(r["in_claimed_range"], "cannot tell")
        how = _status_text(str(r["status"]))
        if np.isfinite(v):
            how = f"{how}: {r['measure']}"
        rows.append((str(r["claim"]), str(r["claimed"]).replace(" %", "%"), here, how, holds, str(r["source"])))
    df = pd.DataFrame(rows, columns=["Claim", "Claimed", "Here", "How it was computed", "Holds here?", "Source"])
    return _text_table(df, ("Here",), data=c)
