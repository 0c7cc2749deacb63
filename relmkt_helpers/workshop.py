"""Support for the retention-economics workshop (``notebooks/workshop/``).

Three things a teaching notebook needs and should not carry as code:

* **exercises with checked answers**: :data:`EXERCISES` holds each question, and
  :func:`solution` computes its answer from the kit's own functions on the
  bundled sample shop (so a changed data set changes the answer with it);
  :func:`check` compares a learner's number with it and says what to look at
  when it is wrong. ``tests/test_workshop.py`` recomputes every solution
  independently.
* **an explorer with sliders**: :func:`retention_explorer` draws the CLV,
  payback and LTV:CAC charts for a retention rate, margin, discount rate and CAC.
  In JupyterLab it returns ipywidgets sliders that redraw the figure; run by
  papermill or nbval, the same call draws the static figure, and the widget
  needs no front end.
* the charts it draws, as a plain function (:func:`draw_retention_economics`),
  so the static and the interactive views are the same code.

Examples
--------
>>> round(solution("clv_conventions")["first_counted"], 2)
183.33
>>> check("clv_conventions", {"first_counted": 183.33, "first_not_counted": 133.33}, quiet=True)
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .errors import ParameterError

__all__ = ["EXERCISES", "Exercise", "solution", "check", "draw_retention_economics", "retention_explorer"]


@dataclass(frozen=True)
class Exercise:
    """One workshop exercise: the question, how to check it, and a hint for a wrong answer."""

    key: str
    question: str
    hint: str
    rel_tol: float = 0.005


EXERCISES: dict[str, Exercise] = {e.key: e for e in (
    Exercise(
        "cac_2025",
        "From the sample shop's ledger and transactions: what was the blended CAC in 2025 "
        "(all acquisition spend of 2025 divided by the customers whose first order fell in 2025)?",
        "Sum the spend of kind 'acquisition' over the 12 months of 2025 (all channels); count customers "
        "whose FIRST order ever is in 2025, not everyone who bought in 2025.",
    ),
    Exercise(
        "cost_ratio_2025",
        "In 2025, how much retention spend went to each existing customer who bought during the year "
        "(retention spend of 2025 / distinct customers acquired before 2025 who ordered in 2025)? "
        "Give that retention cost per retained customer-year and the ratio CAC / that cost.",
        "Existing = first order before 1 January 2025. Count each customer once for the year. "
        "The ratio uses the CAC of the first exercise.",
    ),
    Exercise(
        "clv_conventions",
        "A customer brings a margin of 50 a year, the yearly retention rate is 0.8 and the discount "
        "rate 10%. What is the CLV with the first payment counted, and without it?",
        "First payment counted: m (1 + d) / (1 + d - r). Not counted: m r / (1 + d - r). "
        "They differ by exactly m.",
    ),
    Exercise(
        "breakeven",
        "Same customer (margin 50, d = 10%), but retention is 0.6. A loyalty programme would raise it to "
        "0.65. What is the most the programme may cost per customer, once, at acquisition "
        "(first payment counted)?",
        "Compute the CLV at 0.6 and at 0.65 (first payment counted); the difference is what the extra "
        "retention is worth today.",
    ),
    Exercise(
        "profit_uplift",
        "With the simulation (margin 100 a year, no acquisition cost, no margin growth, steady state): "
        "by how much does profit rise when yearly retention goes from 0.80 to 0.85?",
        "In steady state with constant acquisitions the base is A / (1 - r): compare 1 / (1 - 0.85) with "
        "1 / (1 - 0.80).",
    ),
)}


def _sample_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    from .datasets import load_sample_shop
    from .io import load_spend

    shop = load_sample_shop()
    return shop.transactions, load_spend(shop.spend)


def _cac_2025(tx: pd.DataFrame, spend: pd.DataFrame) -> float:
    first = tx.groupby("customer_id", sort=False)["order_date"].min()
    new = int((first.dt.year == 2025).sum())
    acq = spend[(spend["kind"] == "acquisition") & (spend["month"].dt.year == 2025)]["spend"].sum()
    return float(acq / new)


def _solve(key: str) -> dict[str, float]:
    from .economics import breakeven_retention_spend, clv_constant_retention, profit_uplift_simulation

    if key == "cac_2025":
        return {"cac": _cac_2025(*_sample_inputs())}
    if key == "cost_ratio_2025":
        tx, spend = _sample_inputs()
        first = tx.groupby("customer_id", sort=False)["order_date"].min()
        buyers_2025 = tx.loc[tx["order_date"].dt.year == 2025, "customer_id"].unique()
        existing = int((first.loc[buyers_2025].dt.year < 2025).sum())
        ret = spend[(spend["kind"] == "retention") & (spend["month"].dt.year == 2025)]["spend"].sum()
        cost = float(ret / existing)
        return {"retention_cost_year": cost, "ratio": _cac_2025(tx, spend) / cost}
    if key == "clv_conventions":
        return {"first_counted": float(clv_constant_retention(50, 0.8, 0.1)),
                "first_not_counted": float(clv_constant_retention(50, 0.8, 0.1, include_first=False))}
    if key == "breakeven":
        table = breakeven_retention_spend(50, 0.6, 0.05, 0.1)
        return {"spend": float(table["breakeven_lifetime"].iloc[0])}
    if key == "profit_uplift":
        sim = profit_uplift_simulation(retention=0.80, uplift=0.05, margin_per_customer_year=100,
                                       acquisition_cost=0.0, margin_growth=0.0)
        return {"increase": float(sim.steady_state_increase)}
    raise ParameterError(f"unknown exercise {key!r}; the exercises are: {', '.join(EXERCISES)}.")


def solution(key: str) -> dict[str, float]:
    """The answer to exercise ``key``, computed with the kit's own functions.

    Examples
    --------
    >>> round(solution("profit_uplift")["increase"], 3)
    0.333
    """
    if key not in EXERCISES:
        raise ParameterError(f"unknown exercise {key!r}; the exercises are: {', '.join(EXERCISES)}.")
    return _solve(key)


def check(key: str, answer: float | Mapping[str, float] | None, *, quiet: bool = False) -> bool:
    """Compare a learner's answer with the solution; print a verdict (and a hint when wrong).

    Parameters
    ----------
    key : str
        Exercise key (see :data:`EXERCISES`).
    answer : float, mapping or None
        A number for one-part exercises, a dict for several parts (keys as in
        :func:`solution`). ``None`` means "not answered yet".
    quiet : bool
        Return the verdict without printing.

    Returns
    -------
    bool
        True when every part is within the exercise's relative tolerance (0.5%).

    Examples
    --------
    >>> check("breakeven", 12.0, quiet=True)
    False
    """
    exercise = EXERCISES.get(key)
    if exercise is None:
        raise ParameterError(f"unknown exercise {key!r}; the exercises are: {', '.join(EXERCISES)}.")
    if answer is None:
        if not quiet:
            print(f"[{key}] not answered yet: replace None with your number.")
        return False
    expected = solution(key)
    given = dict(answer) if isinstance(answer, Mapping) else {next(iter(expected)): answer}
    missing = sorted(set(expected) - set(given))
    if missing:
        raise ParameterError(f"[{key}] give every part of the answer: missing {', '.join(missing)}.")
    ok = all(given[k] is not None and math.isclose(float(given[k]), v, rel_tol=exercise.rel_tol, abs_tol=1e-9)
             for k, v in expected.items())
    if not quiet:
        print(f"[{key}] {'correct' if ok else 'not quite'}: "
              + ", ".join(f"{k} = {float(given[k]):,.4g}" for k in expected)
              + ("" if ok else f". Hint: {exercise.hint}"))
    return ok


def draw_retention_economics(retention: float = 0.6, margin: float = 40.0, discount: float = 0.1,
                             cac: float = 60.0, *, fig: Any = None) -> Any:
    """Three panels for one set of assumptions: CLV vs retention, cumulative margin vs CAC, LTV:CAC.

    All figures are per year and **assumed** (the panels say so). CLV counts the
    first payment (Fader & Hardie 2012, see
    :func:`relmkt_helpers.economics.clv_constant_retention`).

    Parameters
    ----------
    retention, margin, discount, cac : float
        Yearly retention rate in [0, 1), margin per customer-year, yearly discount rate >= 0,
        acquisition cost per customer.
    fig : Figure, optional
        Redraw into this figure (the slider path reuses it); default a new figure.

    Returns
    -------
    Figure

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> fig = draw_retention_economics(0.7, 50, 0.1, 80)
    >>> [ax.get_title().split(":")[0] for ax in fig.axes]
    ['CLV vs retention', 'Cumulative margin vs CAC', 'LTV to CAC ratio = 1.7']
    """
    import matplotlib.pyplot as plt

    from .economics import clv_constant_retention
    from .plots._common import PALETTE, format_axis_percent

    if fig is None:
        fig = plt.figure(figsize=(13, 4), layout="constrained")
    fig.clear()
    ax_clv, ax_pay, ax_ratio = fig.subplots(1, 3)
    grid = np.linspace(0.0, 0.95, 96)
    clv_grid = clv_constant_retention(margin, grid, discount)
    clv_now = float(clv_constant_retention(margin, retention, discount))
    ax_clv.plot(grid, clv_grid, color=PALETTE[0])
    ax_clv.axhline(cac, color=PALETTE[3], linestyle="--", label=f"CAC {cac:,.0f}")
    ax_clv.plot([retention], [clv_now], "o", color="black", label=f"r = {retention:.0%}: CLV {clv_now:,.0f}")
    ax_clv.set_xlabel("yearly retention rate")
    ax_clv.set_ylabel("CLV (assumed, first payment counted)")
    ax_clv.set_title("CLV vs retention: steep near 100%")
    format_axis_percent(ax_clv, "x")
    ax_clv.legend(frameon=False, fontsize=8)

    years = np.arange(0, 11)
    survival = retention ** years
    cumulative = np.cumsum(margin * survival / (1 + discount) ** years)
    ax_pay.plot(years + 1, cumulative, marker="o", color=PALETTE[2], label="cumulative margin (discounted)")
    ax_pay.axhline(cac, color=PALETTE[3], linestyle="--", label="CAC")
    paid = np.nonzero(cumulative >= cac)[0]
    ax_pay.set_title("Cumulative margin vs CAC: " + (f"pays back in year {paid[0] + 1}" if paid.size
                                                      else "no payback in 10 years"))
    ax_pay.set_xlabel("year of life (1 = acquisition year)")
    ax_pay.set_ylabel("margin per acquired customer (assumed)")
    ax_pay.legend(frameon=False, fontsize=8)

    ratio = clv_now / cac if cac > 0 else np.nan
    ax_ratio.bar(["LTV:CAC"], [ratio], color=PALETTE[0] if ratio >= 3 else PALETTE[3])
    ax_ratio.axhline(3.0, color="grey", linestyle=":", label="rule of thumb: 3")
    ax_ratio.set_ylim(0, max(4.0, ratio * 1.2 if np.isfinite(ratio) else 4.0))
    ax_ratio.set_title(f"LTV to CAC ratio = {ratio:.1f}")
    ax_ratio.legend(frameon=False, fontsize=8)
    return fig


def _figure_output(fig: Any) -> dict[str, Any]:
    """``fig`` as one ``display_data`` output (PNG and text), formatted by the running IPython shell."""
    from IPython import get_ipython

    data, metadata = get_ipython().display_formatter.format(fig)
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def retention_explorer(retention: float = 0.6, margin: float = 40.0, discount: float = 0.1,
                       cac: float = 60.0) -> Any:
    """Sliders for retention, margin, discount and CAC that redraw :func:`draw_retention_economics`.

    Returns an ``ipywidgets.VBox`` (sliders above an output area) whose
    ``figure`` attribute is the figure last drawn. Display it in JupyterLab to
    explore; executed headlessly (papermill, nbval) it needs no front end, and
    the notebook draws the static figure beside it.

    The chart is put into the output area by setting the ``Output`` widget's
    ``outputs`` (widget state), never by capturing output with ``with out:``.
    A capture makes nbclient (papermill) mimic the front end and write
    ``comm_msg`` updates to the kernel's shell socket while it waits on that
    same socket for the cell's ``execute_reply``; on a busy machine pyzmq then
    misses the reply's wake-up and, without a cell timeout, papermill waits
    forever on an idle kernel (issue 11). The figure is a plain
    ``matplotlib.figure.Figure``, not a pyplot one: no backend (inline, ipympl)
    manages it, so nothing is shown twice or redrawn after the cell ends, and
    nothing needs closing.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> box = retention_explorer()
    >>> [w.description for w in box.children[:4]]
    ['retention', 'margin', 'discount', 'CAC']
    >>> box.children[0].value = 0.9  # a slider move redraws the figure
    >>> box.figure.axes[0].get_legend().get_texts()[1].get_text()
    'r = 90%: CLV 220'
    """
    import ipywidgets as widgets
    from IPython import get_ipython
    from matplotlib.figure import Figure

    style = {"description_width": "70px"}
    sliders: dict[str, Any] = {
        "retention": widgets.FloatSlider(value=retention, min=0.0, max=0.95, step=0.01, description="retention",
                                         readout_format=".0%", style=style, continuous_update=False),
        "margin": widgets.FloatSlider(value=margin, min=5, max=200, step=5, description="margin", style=style,
                                      continuous_update=False),
        "discount": widgets.FloatSlider(value=discount, min=0.0, max=0.3, step=0.01, description="discount",
                                        readout_format=".0%", style=style, continuous_update=False),
        "cac": widgets.FloatSlider(value=cac, min=5, max=300, step=5, description="CAC", style=style,
                                   continuous_update=False),
    }
    out = widgets.Output()
    box = widgets.VBox([*sliders.values(), out])
    box.figure = Figure(figsize=(13, 4), layout="constrained")  # the figure last drawn, for tests and users

    def redraw(_: Any = None) -> None:
        draw_retention_economics(**{k: s.value for k, s in sliders.items()}, fig=box.figure)
        if get_ipython() is not None:  # plain Python (tests, scripts) has nowhere to show it
            out.outputs = (_figure_output(box.figure),)

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return box
