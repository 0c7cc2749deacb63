"""Readable numbers and tables for report pages and notebooks: one formatter, one label table.

A report page is for a marketing manager, not a programmer. Every number on a
page goes through :func:`fmt_value` (thousands separators, percentages, a
currency, dates as dates, never more than four decimals) and every table through
:func:`table`, which renders a clean HTML table in JupyterLab and in the report,
and aligned plain text where there is no HTML (a terminal, nbval's comparison).

:data:`METRICS` is the one table of human labels and kinds for the figures the
kit computes; the index page and the notebooks read it, so a figure has one name
everywhere.

Kinds
-----
``int``      2,794
``money``    €1,234 (no decimals from 1,000 up, two below), or 1,234 without a currency
``pct``      49.4%   (the value is a share: 0.494)
``pts``      +1.2 pts (a change of a share, in percentage points)
``change``   +8.0%   (a relative change: 0.08)
``ratio``    5.3×
``num``      a plain number: 3 significant decimals at most, never more than 4 decimals
``months``   7.5 months
``days``     42 days
``date``     11 Oct 2025
``text``     as it is
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

__all__ = ["Metric", "METRICS", "KINDS", "fmt_value", "fmt_change", "currency_prefix", "table", "Table", "label"]

KINDS = ("int", "money", "pct", "pts", "change", "ratio", "num", "months", "days", "date", "text")

#: ISO 4217 code -> symbol written before the amount. Other codes are written as "CHF 1,234".
_SYMBOLS = {
    "EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "BDT": "৳", "KRW": "₩",
    "NGN": "₦", "PHP": "₱", "TRY": "₺", "ILS": "₪", "VND": "₫", "UAH": "₴", "PLN": "zł ", "BRL": "R$",
    "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$", "ZAR": "R ",
}


@dataclass(frozen=True)
class Metric:
    """A figure the kit computes: its code name, the label a reader sees, and how it is written."""

    key: str
    label: str
    kind: str
    help: str = ""


def _metrics(*rows: tuple[str, str, str] | tuple[str, str, str, str]) -> dict[str, Metric]:
    return {r[0]: Metric(*r) for r in rows}


#: Human label and kind of every headline figure, keyed by the name the analyses give it.
METRICS: dict[str, Metric] = _metrics(
    # the month at a glance (kpis.month_metrics)
    ("customers_active", "Active customers", "int", "customers with at least one order in the month"),
    ("customers_new", "New customers", "int", "first order ever in the month"),
    ("customers_returning", "Returning customers", "int", "also bought the month before"),
    ("customers_reactivated", "Reactivated customers", "int", "bought before, but not the month before"),
    ("revenue", "Revenue", "money", "net of refunds"),
    ("orders", "Orders", "int"),
    ("retention_rate_prev_month", "Retention vs previous month", "pct",
     "of last month's customers, the share who bought again this month"),
    ("repeat_purchase_rate", "Repeat-purchase rate", "pct", "customers acquired so far with two or more orders"),
    ("average_order_value", "Average order value", "money"),
    # cohorts
    ("retention_period_1", "Cohort retention after 1 month", "pct", "size-weighted over cohorts"),
    ("retention_period_12", "Cohort retention after 12 months", "pct", "size-weighted over cohorts"),
    ("yearly_retention", "Yearly retention", "pct", "customers of one year who buy again the next"),
    ("cohort_period", "Cohort period", "text", "M months, W weeks, Q quarters"),
    ("retention_period_3", "Cohort retention after 3 months", "pct", "size-weighted over cohorts"),
    ("retention_period_6", "Cohort retention after 6 months", "pct", "size-weighted over cohorts"),
    ("realised_ltv_period_12", "Revenue per acquired customer, first 12 months", "money",
     "realised, size-weighted over cohorts"),
    ("latest_period", "Latest complete period", "text"),
    ("latest_retention_rate", "Retention in the latest period", "pct", "of the previous period's active customers"),
    ("latest_churn_rate", "Churn in the latest period", "pct", "1 - retention"),
    ("latest_repeat_purchase_rate", "Repeat-purchase rate, latest period", "pct",
     "customers acquired so far with two or more orders"),
    # churn
    ("churn_roc_auc_hgb", "Churn model ROC AUC (gradient boosting)", "num"),
    ("churn_roc_auc_bgnbd", "Churn baseline ROC AUC (BG/NBD)", "num"),
    ("churn_expected_value_lost", "Expected value at risk", "money", "churn probability × customer value"),
    ("churn_as_of", "Churn scored on", "date"),
    ("churn_horizon_days", "Churn horizon", "days", "no order within this many days"),
    ("churn_model", "Model that scores the retention list", "text"),
    ("churn_model_chosen", "Model that scores the retention list", "text",
     "the backtest's best ROC AUC; ties go to the simpler model"),
    ("churn_value_model", "Repeat-purchase model of the values", "text", "the same as the CLV page's"),
    ("churn_evaluation", "How the churn models were checked", "text"),
    ("churn_eval_base_rate", "Churn rate in the backtest", "pct"),
    ("churn_roc_auc_logistic", "Churn model ROC AUC (logistic regression)", "num"),
    ("churn_roc_auc_pnbd", "Churn ROC AUC (Pareto/NBD)", "num"),
    ("churn_roc_auc_mbgnbd", "Churn ROC AUC (MBG/NBD)", "num"),
    ("churn_roc_auc_chosen", "ROC AUC of the model that scores the list", "num"),
    ("churn_pr_auc", "PR AUC of the model that scores the list", "num"),
    ("churn_brier", "Brier score of the model that scores the list", "num", "lower is better"),
    ("churn_top_decile_capture", "Churners found in the riskiest 10%", "pct"),
    ("churn_customers_scored", "Customers scored for churn", "int"),
    ("churn_expected_churners", "Expected churners", "int", "sum of churn probabilities"),
    ("contractual_all_survival_month_12", "Subscribers still active after 12 months", "pct", "sBG model"),
    # value
    ("mean_clv", "Mean customer value, next 12 months", "money", "margin, discounted"),
    ("vip_value_share", "Share of value held by the top 10%", "pct"),
    ("clv_model", "Repeat-purchase model", "text"),
    ("clv_model_chosen", "Repeat-purchase model", "text", "lowest AIC on the calibration period, unless set"),
    ("clv_time_unit_days", "Model time unit", "days"),
    ("holdout_error_pct", "Holdout forecast error (%)", "num", "expected vs actual repeat purchases, in per cent"),
    ("model_comparison_customers", "Customers in the model comparison", "int"),
    ("total_clv", "Total customer value, next 12 months", "money", "margin, discounted"),
    ("clv_horizon_months", "CLV horizon", "months"),
    ("customers_valued", "Customers valued", "int"),
    ("vip_count", "VIP customers", "int", "the top 10% by value"),
    ("dropped_off_count", "Customers who dropped off", "int", "against their own history"),
    ("gamma_gamma_spend_correlation", "Frequency-spend correlation", "num", "close to 0 is what Gamma-Gamma assumes"),
    # economics
    ("cac_blended", "Cost to win a customer (CAC)", "money", "acquisition spend / new customers"),
    ("retention_cost_year", "Cost to keep a customer for a year", "money", "retention spend / retained customers"),
    ("cost_ratio_year", "Winning vs keeping, cost ratio", "ratio", "CAC / yearly retention cost"),
    ("payback_months", "CAC payback", "months", "months of margin to earn back the CAC"),
    ("ltv_cac", "Lifetime value to CAC", "ratio"),
    ("grr_12m_trailing", "Gross revenue retention, last 12 months", "pct"),
    ("nrr_12m_trailing", "Net revenue retention, last 12 months", "pct"),
    ("retention_cost_month", "Cost to keep a customer for a month", "money", "retention spend / retained customers"),
    ("cost_ratio_month", "Winning vs keeping for a month, cost ratio", "ratio", "CAC / monthly retention cost"),
    ("payback_years", "CAC payback, years", "num", "years of margin to earn back the CAC (constant retention)"),
    ("grr_last_month", "Gross revenue retention, last month", "pct"),
    ("nrr_last_month", "Net revenue retention, last month", "pct"),
    ("margin_per_customer_year", "Margin per customer-year", "money", "revenue per active customer-year x margin rate"),
    ("clv_constant_retention", "Customer lifetime value at constant retention", "money",
     "margin per customer-year, yearly retention and discount rate; first payment counted"),
    ("breakeven_retention_spend_lifetime", "Break-even retention spend per customer, once", "money",
     "the most a programme adding the uplift to retention may cost per customer, paid once"),
    ("breakeven_retention_spend_per_year", "Break-even retention spend per customer-year", "money",
     "the most a programme adding the uplift to retention may cost per customer each year"),
    ("profit_increase_steady_state", "Profit increase from the retention uplift (simulated)", "change",
     "steady-state yearly profit, before vs after the uplift"),
    ("retention_verdict", "Does retention pay better than acquisition here?", "text"),
)


def label(key: str) -> str:
    """The reader's label for a figure's code name (the name itself, tidied, if unknown).

    Examples
    --------
    >>> label("cac_blended")
    'Cost to win a customer (CAC)'
    >>> label("some_new_figure")
    'Some new figure'
    """
    m = METRICS.get(key)
    return m.label if m else key.replace("_", " ").strip().capitalize()


def currency_prefix(currency: str | None) -> str:
    """What is written before a money amount: ``"€"``, ``"$"``, ``"CHF "`` or nothing.

    Examples
    --------
    >>> currency_prefix("EUR"), currency_prefix("bdt"), currency_prefix("CHF"), currency_prefix(None)
    ('€', '৳', 'CHF ', '')
    """
    if not currency:
        return ""
    code = str(currency).strip().upper()
    return _SYMBOLS.get(code, f"{code} ")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _num(value: float) -> str:
    """A plain number: integers with separators, else 3 significant decimals (4 decimals at most)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    a = abs(value)
    if a >= 100:
        return f"{value:,.1f}"
    if a >= 1:
        return f"{value:,.2f}"
    if a >= 0.001:
        return f"{value:.3f}"
    return f"{value:.4f}" if a >= 0.0001 else f"{value:.1e}"


def fmt_value(value: Any, kind: str = "num", *, currency: str | None = None, missing: str = "–") -> str:
    """Write one value for a reader.

    Parameters
    ----------
    value : number, date or text
    kind : str
        One of :data:`KINDS` (see the module docstring).
    currency : str, optional
        ISO code (``"EUR"``, ``"USD"``, ``"BDT"``) for ``money``; none writes the bare number.
    missing : str
        What a missing value (None, NaN, NaT) is written as.

    Examples
    --------
    >>> fmt_value(2794.0, "int"), fmt_value(167731.36, "money", currency="EUR"), fmt_value(42.5, "money")
    ('2,794', '€167,731', '42.50')
    >>> fmt_value(0.4937, "pct"), fmt_value(0.012, "pts"), fmt_value(-0.08, "change"), fmt_value(5.27, "ratio")
    ('49.4%', '+1.2 pts', '-8.0%', '5.3×')
    >>> fmt_value(pd.Timestamp("2025-10-11"), "date"), fmt_value(0.123456789), fmt_value(None, "pct")
    ('11 Oct 2025', '0.123', '–')
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if _is_missing(value):
        return missing
    if kind == "text":
        return str(value)
    if kind == "date":
        ts = pd.Timestamp(value)
        return f"{ts.day} {ts:%b %Y}"
    if isinstance(value, (pd.Period,)):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return missing
    if kind == "int":
        return f"{int(round(v)):,}"
    if kind == "money":
        sign = "-" if v < 0 else ""
        body = f"{abs(v):,.0f}" if abs(v) >= 1000 else f"{abs(v):,.2f}"
        return f"{sign}{currency_prefix(currency)}{body}"
    if kind == "pct":
        return f"{100 * v:.1f}%"
    if kind == "pts":
        return f"{100 * v:+.1f} pts"
    if kind == "change":
        return f"{100 * v:+.1f}%"
    if kind == "ratio":
        return f"{v:.1f}×"
    if kind == "months":
        return f"{v:.1f} months"
    if kind == "days":
        return f"{v:,.0f} days"
    return _num(v)


def fmt_change(value: Any, kind: str) -> str:
    """The change of a figure against the month before: points for shares, per cent otherwise.

    Examples
    --------
    >>> fmt_change(0.021, "pct"), fmt_change(0.104, "money"), fmt_change(None, "int")
    ('+2.1 pts', '+10.4%', 'no previous month')
    """
    if _is_missing(value):
        return "no previous month"
    return fmt_value(value, "pts" if kind == "pct" else "change")


def _infer_kind(s: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        vals = s.dropna().to_numpy()
        return "int" if vals.size and np.all(np.mod(vals, 1) == 0) and np.all(np.abs(vals) < 1e15) else "num"
    return "text"


class Table:
    """A formatted table: HTML in JupyterLab and report pages, aligned text elsewhere.

    Build it with :func:`table`. ``frame`` holds the formatted strings (what the
    reader sees); ``data`` the numbers it was made from.
    """

    def __init__(self, frame: pd.DataFrame, data: pd.DataFrame, *, caption: str | None = None,
                 numeric: Iterable[str] = ()) -> None:
        self.frame = frame
        self.data = data
        self.caption = caption
        self._numeric = set(numeric)

    def __len__(self) -> int:
        return len(self.frame)

    def to_text(self) -> str:
        """Aligned plain text: numbers right-aligned, text left-aligned."""
        cols = list(self.frame.columns)
        cells = [[str(c) for c in cols]] + [[str(v) for v in row] for row in self.frame.itertuples(index=False)]
        widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
        lines = []
        for r in cells:
            parts = [(r[i].rjust(widths[i]) if cols[i] in self._numeric else r[i].ljust(widths[i]))
                     for i in range(len(cols))]
            lines.append("  ".join(parts).rstrip())
        return ((self.caption + "\n") if self.caption else "") + "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        head = "".join(f'<th class="{"num" if c in self._numeric else "txt"}">{html.escape(str(c))}</th>'
                       for c in self.frame.columns)
        body = []
        for row in self.frame.itertuples(index=False):
            tds = "".join(
                f'<td class="{"num" if c in self._numeric else "txt"}">{html.escape(str(v))}</td>'
                for c, v in zip(self.frame.columns, row))
            body.append(f"<tr>{tds}</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="relmkt-table">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table>")


def table(df: pd.DataFrame, columns: Mapping[str, str | tuple[str, str]] | None = None, *,
          currency: str | None = None, index: bool | str = False, caption: str | None = None,
          max_rows: int | None = None) -> Table:
    """A DataFrame as a readable table: human labels, units, separators, percentages, dates.

    Parameters
    ----------
    df : DataFrame
    columns : mapping, optional
        Column -> kind, or column -> (label, kind). Only these columns are shown, in
        this order. By default every column, labelled from :data:`METRICS` (or its
        name tidied), with the kind inferred from the dtype.
    currency : str, optional
        ISO code for ``money`` columns (``"EUR"``).
    index : bool or str
        Show the index as the first column (a string is its label).
    caption : str, optional
    max_rows : int, optional
        Show only the first rows (a note says how many were left out).

    Returns
    -------
    Table

    Examples
    --------
    >>> df = pd.DataFrame({"channel": ["search", "social"], "cac_blended": [31.456, 1234.5],
    ...                    "customers": [2794.0, 12.0], "share": [0.4937, 0.5063]})
    >>> print(table(df, {"channel": ("Channel", "text"), "cac_blended": "money", "customers": "int",
    ...                  "share": ("Share of customers", "pct")}, currency="EUR"))
    Channel  Cost to win a customer (CAC)  Customers  Share of customers
    search                         €31.46      2,794               49.4%
    social                         €1,234         12               50.6%
    """
    data = df.reset_index() if index is not False else df
    if index is not False and isinstance(index, str):
        data = data.rename(columns={data.columns[0]: index})
    if columns is None:
        spec = {c: _infer_kind(data[c]) for c in data.columns}
    else:
        spec = dict(columns)
        if index is not False:
            first = data.columns[0]
            spec = {first: (str(first), "text" if not pd.api.types.is_datetime64_any_dtype(data[first]) else "date"),
                    **spec}
    missing = [c for c in spec if c not in data.columns]
    if missing:
        raise KeyError(f"table: no column(s) {missing} in {list(data.columns)}")
    shown = data if max_rows is None else data.head(max_rows)
    out = {}
    numeric = []
    for col, how in spec.items():
        lab, kind = (how if isinstance(how, tuple) else (label(str(col)) if str(col) in METRICS
                                                          else str(col).replace("_", " ").capitalize(), how))
        if kind not in KINDS:
            raise ValueError(f"table: column {col!r} has unknown kind {kind!r}; use one of {', '.join(KINDS)}")
        out[lab] = [fmt_value(v, kind, currency=currency) for v in shown[col].tolist()]
        if kind not in ("text", "date"):
            numeric.append(lab)
    frame = pd.DataFrame(out)
    if max_rows is not None and len(data) > max_rows:
        caption = ((caption + " ") if caption else "") + f"(first {max_rows:,} of {len(data):,} rows)"
    return Table(frame, data, caption=caption, numeric=numeric)
