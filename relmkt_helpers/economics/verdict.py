"""The one question the kit exists for, answered in words: does retention pay better than acquisition here?

:func:`retention_verdict` writes the answer from the measured figures of an
:class:`~relmkt_helpers.economics.EconomicsResult`: the cost to win a customer
against the cost to keep one for a year, their ratio, the margin a kept customer
brings and the CAC payback; without a spend ledger it says what cannot be
answered and which input would answer it.
"""
from __future__ import annotations

import numpy as np

from ..display import fmt_value
from ..errors import ParameterError
from ._common import ALL

__all__ = ["retention_verdict", "SPEND_LEDGER_NEEDED"]

#: What to provide when there is no spend ledger.
SPEND_LEDGER_NEEDED = ("a spend ledger: a CSV with one row per month, channel and kind (acquisition or retention) "
                       "and the amount spent (columns month, channel, kind, spend), given to the report with --spend")

#: Winning costs at least this many times keeping (or at most its inverse) before one side is called cheaper.
_CLEAR = 1.5


def _money(v: float, currency: str | None) -> str:
    return fmt_value(v, "money", currency=currency)


def _payback_sentence(result, currency: str | None, say_basis: bool = True) -> str:
    """The CAC payback in words: measured CAC, or (without a ledger) the assumed one, said so."""
    if result.payback is None:
        return ""
    s = result.payback.summary.set_index("channel")
    if ALL not in s.index:
        return ""
    row = s.loc[ALL]
    cac = _money(float(row["cac"]), currency)
    n = float(row["payback_months"])
    basis = (f" (margin taken as {fmt_value(result.assumptions.margin_rate, 'pct')} of revenue, an assumption)"
             if say_basis else "")
    if result.has_ledger:
        if np.isfinite(n):
            when = "within the first month" if n <= 1 else f"in {n:.0f} months"
            return f"A new customer's margin pays back the {cac} it cost to win {when}{basis}."
        return (f"A new customer's margin has not paid back the {cac} it cost to win within the "
                f"{int(row['months_observed'])} months the data covers{basis}.")
    if np.isfinite(n):
        when = "within the first month" if n <= 1 else f"in {n:.0f} months"
        return f"If a new customer cost {cac} to win (an assumption), their margin would pay it back {when}{basis}."
    return (f"If a new customer cost {cac} to win (an assumption), their margin would not pay it back within the "
            f"{int(row['months_observed'])} months the data covers{basis}.")


def _times(ratio: float) -> str:
    return f"{ratio:.2f}" if ratio < 10 else f"{ratio:.0f}"


def retention_verdict(result, currency: str | None = None) -> str:
    """Whether retention pays better than acquisition here, in plain sentences with the shop's numbers.

    With a spend ledger: the cost to win a customer (blended CAC) against the cost to
    keep one for a year (retention spend per retained customer-year), their ratio,
    the margin a kept customer brings in a year against what keeping them costs, and
    the CAC payback. Winning counts as clearly dearer (or cheaper) than keeping from a
    ratio of 1.5 (or 1 / 1.5) on; between the two, they cost about the same.
    Without a ledger: that the question cannot be answered, what would answer it (a
    spend ledger CSV: month, channel, kind, spend), and what the transactions do show.

    Parameters
    ----------
    result : EconomicsResult
        From :func:`~relmkt_helpers.economics.economics_analysis`.
    currency : str, optional
        ISO code for the money amounts (``"EUR"``); none writes bare numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> from relmkt_helpers.economics import economics_analysis
    >>> print(retention_verdict(economics_analysis(), currency="EUR"))  # doctest: +ELLIPSIS
    This report cannot say whether retention pays better than acquisition here: that needs what it costs to win ...
    """
    from .analysis import EconomicsResult

    if not isinstance(result, EconomicsResult):
        raise ParameterError(f"retention_verdict expects the EconomicsResult of economics_analysis(), "
                             f"got {type(result).__name__}.")
    chk = result.assumption_check
    measured = (lambda k: float(chk.loc[k, "measured"])) if chk is not None else (lambda k: float("nan"))
    r, m = measured("retention"), measured("margin_per_customer_year")
    c, k = measured("cac"), measured("retention_cost")
    mr = fmt_value(result.assumptions.margin_rate, "pct")
    payback = _payback_sentence(result, currency, say_basis=not np.isfinite(m))
    if not (np.isfinite(c) and np.isfinite(k) and k > 0):
        if result.has_ledger:
            why = ("the spend ledger does not cover a full calendar year of both acquisition and retention spend "
                   "inside the transaction data, so the cost to keep a customer for a year cannot be measured")
            need = "a spend ledger covering at least one full calendar year of the transaction data"
        else:
            why = ("that needs what it costs to win a customer and to keep one, and this data has no marketing "
                   "spend")
            need = SPEND_LEDGER_NEEDED
        out = [f"This report cannot say whether retention pays better than acquisition here: {why}. "
               f"To answer it, provide {need}."]
        shown = []
        if np.isfinite(r):
            shown.append(f"{fmt_value(r, 'pct')} of the customers active in one calendar year buy again the next")
        if np.isfinite(m):
            shown.append(f"an active customer brings about {_money(m, currency)} of margin a year "
                         f"(at an assumed margin of {mr} of revenue)")
        if shown:
            out.append("What the transactions do show: " + ", and ".join(shown) + ".")
        if payback:
            out.append(payback)
        return " ".join(out)
    ratio = c / k
    head = (f"Winning a new customer costs {_money(c, currency)} (acquisition spend per new customer) and keeping "
            f"an existing one for a year costs {_money(k, currency)} (retention spend per retained customer): "
            f"winning costs {_times(ratio)} times as much as keeping")
    if ratio >= _CLEAR:
        answer = f"Retention pays better than acquisition here. {head} (the folk claim says 5 to 7 times)."
    elif ratio <= 1 / _CLEAR:
        answer = (f"Retention does not pay better than acquisition here. {head}: keeping a customer for a year "
                  f"costs more than winning a new one (the folk claim says it costs 5 to 7 times less).")
    else:
        answer = (f"Retention and acquisition cost about the same here. {head}, far from the 5 to 7 times "
                  f"of the folk claim.")
    out = [answer]
    if np.isfinite(m):
        if m > 1.1 * k:
            cmp = f"more than the {_money(k, currency)} spent to keep them"
        elif m < k / 1.1:
            cmp = f"less than the {_money(k, currency)} spent to keep them: the retention spend costs more than it keeps"
        else:
            cmp = f"about the {_money(k, currency)} spent to keep them"
        out.append(f"A customer active for a year brings about {_money(m, currency)} of margin "
                   f"(at an assumed margin of {mr} of revenue), {cmp}.")
    if np.isfinite(r):
        out.append(f"{fmt_value(r, 'pct')} of the customers active in one calendar year buy again the next.")
    if payback:
        out.append(payback)
    return " ".join(out)
