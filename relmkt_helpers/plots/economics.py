"""Plot helpers for :mod:`relmkt_helpers.economics`.

Each helper is ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``: it draws
on the Axes it is given (or a new one) through Axes methods only, never global
``plt.*`` state, and returns the Axes. Every title ends with the figure's basis
("measured", or "assumed: ..."), so a chart built on assumptions says so.
Helpers that take a table also accept the :class:`~relmkt_helpers.economics.EconomicsResult`
holding it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from ..economics import EconomicsResult, PaybackResult, UpliftSimulation
from ..economics._common import ALL
from ..economics.simulation import FOLK_PROFIT_RANGE
from ..errors import ParameterError
from ._common import PALETTE, format_axis_percent, get_ax

__all__ = [
    "plot_cac_over_time",
    "plot_cost_comparison",
    "plot_payback_curves",
    "plot_profit_uplift",
    "plot_profit_uplift_grid",
    "plot_sensitivity_heatmap",
    "plot_subscription_retention",
]

_BLENDED_COLOUR = "#000000"


def _colours(channels: Sequence[str]) -> dict[str, str]:
    named = [c for c in channels if c != ALL]
    out = {c: PALETTE[i % (len(PALETTE) - 1)] for i, c in enumerate(named)}
    out[ALL] = _BLENDED_COLOUR
    return out


def _table(result: Any, attr: str, where: str, cols: Sequence[str], fix: str) -> pd.DataFrame:
    if isinstance(result, EconomicsResult):
        result = getattr(result, attr)
        if result is None:
            raise ParameterError(f"{where}: the analysis has no {attr} ({fix}).")
    if not isinstance(result, pd.DataFrame) or not set(cols) <= set(result.columns):
        raise ParameterError(f"{where} expects the table of {attr}() (columns {list(cols)}), "
                             f"got {type(result).__name__}.")
    return result


def _basis_label(values: Any) -> str:
    from ..economics.tables import basis_text

    uniq = sorted({basis_text(str(v)) for v in pd.Series(values).dropna()})
    return "; ".join(uniq) if uniq else "measured"


def plot_cac_over_time(result: pd.DataFrame | EconomicsResult, *, ax: Axes | None = None,
                       channels: Sequence[str] | None = None, blended: bool = True, **kwargs: Any) -> Axes:
    """CAC per new customer by month, one line per channel (blended "all" in black).

    Months whose CAC is undefined (spend but no new customer) are marked with
    an ``x`` on the month axis instead of a point, so they are not mistaken for
    a CAC of zero; months outside the data or partial are not drawn.

    Parameters
    ----------
    result : DataFrame or EconomicsResult
        :func:`~relmkt_helpers.economics.cac_by_month`.
    ax : Axes, optional
    channels : sequence of str, optional
        Channels to draw (default all).
    blended : bool, default True
        Draw the blended ``"all"`` line.
    **kwargs
        Passed to ``ax.plot`` for the channel lines.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> t = pd.DataFrame({"month": pd.period_range("2024-01", periods=2, freq="M"), "channel": "all",
    ...     "acquisition_spend": [100.0, 50.0], "new_customers": [2, 0], "cac": [50.0, float("nan")],
    ...     "in_totals": True, "note": ["", "spend but no new customers: CAC undefined"], "basis": "measured"})
    >>> ax = plot_cac_over_time(t)
    >>> ax.lines[0].get_ydata().tolist()
    [50.0, nan]
    """
    t = _table(result, "cac_by_month", "plot_cac_over_time", ("month", "channel", "cac", "in_totals"),
               "it needs a spend ledger")
    ax = get_ax(ax)
    all_channels = list(dict.fromkeys(t["channel"]))
    show = [c for c in (channels or all_channels) if c in all_channels and (blended or c != ALL)]
    colours = _colours(all_channels)
    use = t[t["in_totals"] | t["note"].str.startswith("partial")]
    undefined_drawn = False
    for ch in show:
        d = use[use["channel"] == ch]
        x = d["month"].dt.to_timestamp().to_numpy()
        kw = {"linewidth": 2.5 if ch == ALL else 1.5, "marker": "o", "markersize": 3, **kwargs}
        ax.plot(x, d["cac"].to_numpy(dtype=float), color=colours[ch], label=ch, **kw)
        bad = d["cac"].isna().to_numpy()
        if bad.any():
            ax.plot(x[bad], np.zeros(bad.sum()), linestyle="none", marker="x", markersize=8, color=colours[ch],
                    label=None if undefined_drawn else "CAC undefined (spend, nobody new)")
            undefined_drawn = True
    ax.set_xlabel("month of acquisition")
    ax.set_ylabel("CAC (currency per new customer)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"Customer acquisition cost by channel ({_basis_label(t['basis'])})")
    ax.legend(title="channel", fontsize=8, frameon=False, loc="best")
    return ax


def plot_cost_comparison(result: pd.DataFrame | EconomicsResult, *, ax: Axes | None = None, per: str = "year",
                         band: tuple[float, float] | None = (5.0, 7.0), **kwargs: Any) -> Axes:
    """Acquisition cost vs retention cost per customer, by channel, with the folk 5-7x band.

    Two bars per channel: CAC and the retention cost per retained customer per
    ``per`` (year or month). The hatched box over each CAC bar spans 5 to 7
    times that channel's retention cost: where CAC would be if the folk
    "acquiring costs 5 (or 6-7) times more" held. It is comparable for
    ``per="year"`` only (see :func:`~relmkt_helpers.economics.cost_ratios`).

    Parameters
    ----------
    result : DataFrame or EconomicsResult
        :func:`~relmkt_helpers.economics.cost_ratios`.
    ax : Axes, optional
    per : {"year", "month"}
        Retention cost per retained customer-year or customer-month.
    band : (float, float) or None
        Folk ratio range to show; None for no band.
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> t = pd.DataFrame({"channel": ["all"], "cac": [30.0], "retention_cost_month": [2.0],
    ...     "retention_cost_year": [10.0], "basis": ["assumed"]})
    >>> ax = plot_cost_comparison(t)
    >>> [float(p.get_height()) for p in ax.patches]
    [30.0, 10.0, 20.0]
    """
    if per not in ("year", "month"):
        raise ParameterError(f"per={per!r} is not supported. Use per='year' (comparable with the folk claim) "
                             "or per='month'.")
    col = f"retention_cost_{per}"
    t = _table(result, "cost_ratios", "plot_cost_comparison", ("channel", "cac", col), "")
    ax = get_ax(ax)
    x = np.arange(len(t))
    width = 0.38
    cac = t["cac"].to_numpy(dtype=float)
    ret = t[col].to_numpy(dtype=float)
    ax.bar(x - width / 2, cac, width, color=PALETTE[3], label="acquisition cost per new customer", **kwargs)
    ax.bar(x + width / 2, ret, width, color=PALETTE[0], label=f"retention cost per retained customer-{per}", **kwargs)
    if band is not None:
        lo, hi = float(band[0]), float(band[1])
        for i, r in enumerate(ret):
            if np.isfinite(r):
                ax.add_patch(Rectangle((x[i] - width, lo * r), width, (hi - lo) * r, facecolor="none",
                                       edgecolor="0.3", hatch="///", linewidth=0.8,
                                       label=f"folk claim: CAC = {lo:g}-{hi:g}x retention cost" if i == 0 else None))
    ax.set_xticks(x, [str(c) for c in t["channel"]])
    ax.set_xlabel("acquisition channel")
    ax.set_ylabel("currency per customer")
    ax.set_ylim(bottom=0)
    basis = _basis_label(t["basis"]) if "basis" in t.columns else "measured"
    note = "" if per == "year" else "; per month: not comparable with the folk claim"
    ax.set_title(f"Winning vs keeping a customer ({basis}{note})")
    ax.legend(fontsize=8, frameon=False, loc="best")
    return ax


def plot_payback_curves(result: PaybackResult | EconomicsResult, *, ax: Axes | None = None,
                        channels: Sequence[str] | None = None, **kwargs: Any) -> Axes:
    """Cumulative margin per acquired customer by month of life, against each channel's CAC.

    One solid line per channel (cumulative margin), a dashed line of the same
    colour at its CAC, and a dot where the curve first reaches it (the payback).

    Parameters
    ----------
    result : PaybackResult or EconomicsResult
        From :func:`~relmkt_helpers.economics.cac_payback`.
    ax : Axes, optional
    channels : sequence of str, optional
        Channels to draw (default all, "all" included).
    **kwargs
        Passed to ``ax.plot`` for the curves.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.economics import cac_payback, ltv_curves
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]), "amount": [10.0, 20.0, 5.0]})
    >>> p = cac_payback(ltv_curves(tx, channel_col=None, as_of="2024-03-31"), 8.5, margin_rate=0.5)
    >>> ax = plot_payback_curves(p)
    >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_ydata().tolist()
    ([7.5, 7.5, 8.75], [8.5, 8.5])
    """
    if isinstance(result, EconomicsResult):
        if result.payback is None:
            raise ParameterError("plot_payback_curves: the analysis has no payback (it needs transactions).")
        result = result.payback
    if not isinstance(result, PaybackResult):
        raise ParameterError(f"plot_payback_curves expects the PaybackResult of cac_payback(), "
                             f"got {type(result).__name__}.")
    ax = get_ax(ax)
    curves, summ = result.curves, result.summary.set_index("channel")
    all_channels = [str(c) for c in curves.columns]
    show = [c for c in (channels or all_channels) if c in all_channels]
    colours = _colours(all_channels)
    x = curves.index.to_numpy()
    for ch in show:
        y = curves[ch].to_numpy(dtype=float)
        ax.plot(x, y, color=colours[ch], linewidth=2.5 if ch == ALL else 1.5, label=ch, **kwargs)
        cac = float(summ.loc[ch, "cac"])
        if np.isfinite(cac):
            ax.plot([x.min(), x.max()], [cac, cac], color=colours[ch], linestyle="--", linewidth=1.0)
            n = summ.loc[ch, "payback_months"]
            if np.isfinite(n):
                ax.plot([n], [y[int(n) - 1]], linestyle="none", marker="o", color=colours[ch], markersize=6)
    ax.set_xlabel("month of life (1 = acquisition month)")
    ax.set_ylabel(f"cumulative margin per acquired customer (margin rate {result.margin_rate:.0%})")
    ax.set_ylim(bottom=0)
    ax.set_title(f"CAC payback by channel: dashed = CAC, dot = payback\n({_basis_label(summ['basis'])})")
    ax.legend(title="channel", fontsize=8, frameon=False, loc="best")
    return ax


def plot_profit_uplift(result: UpliftSimulation | EconomicsResult, *, ax: Axes | None = None,
                       **kwargs: Any) -> Axes:
    """Yearly profit at the baseline retention and at the improved one, with their steady states.

    Parameters
    ----------
    result : UpliftSimulation or EconomicsResult
        From :func:`~relmkt_helpers.economics.profit_uplift_simulation`.
    ax : Axes, optional
    **kwargs
        Passed to ``ax.plot`` for the two profit lines.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.economics import profit_uplift_simulation
    >>> sim = profit_uplift_simulation(retention=0.8, margin_per_customer_year=100, acquisition_cost=50, years=2)
    >>> plot_profit_uplift(sim).lines[1].get_ydata().tolist()
    [95000.0, 99250.0]
    """
    if isinstance(result, EconomicsResult):
        result = result.uplift
    if not isinstance(result, UpliftSimulation):
        raise ParameterError(f"plot_profit_uplift expects the UpliftSimulation of profit_uplift_simulation(), "
                             f"got {type(result).__name__}.")
    ax = get_ax(ax)
    y, p, s = result.yearly, result.params, result.summary["value"]
    years = y.index.to_numpy()
    r0, r1 = p["retention"], p["retention"] + p["uplift"]
    ax.plot(years, y["profit_baseline"].to_numpy(), color=PALETTE[0], marker="o", label=f"retention {r0:.0%}",
            **kwargs)
    ax.plot(years, y["profit_improved"].to_numpy(), color=PALETTE[3], marker="o", label=f"retention {r1:.0%}",
            **kwargs)
    for key, colour in (("profit_steady_state_baseline", PALETTE[0]), ("profit_steady_state_improved", PALETTE[3])):
        v = float(s.loc[key])
        if np.isfinite(v):
            ax.plot([years.min(), years.max()], [v, v], color=colour, linestyle=":", linewidth=1.0)
    inc = float(s.loc["profit_increase_steady_state"])
    ax.set_xlabel("year")
    ax.set_ylabel("profit per year (currency)")
    ax.set_xticks(years)
    inc_txt = f"{inc:+.0%}" if np.isfinite(inc) else "undefined"
    ax.set_title(f"Profit at retention {r0:.0%} vs {r1:.0%}: steady state (dotted) {inc_txt}\n"
                 f"(assumed: margin growth {p['margin_growth']:.0%} a year of tenure, {p['acquisition']} "
                 "acquisition)")
    if np.nanmin(y[["profit_baseline", "profit_improved"]].to_numpy()) >= 0:
        ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return ax


_METRIC_LABEL = {"clv": ("customer lifetime value", ",.0f"), "ltv_cac": ("lifetime value to CAC", ".1f"),
                 "payback": ("payback (periods, 1 = first)", ".0f")}
#: Axis names of the grids -> (reader's label, how a tick is written).
_AXIS = {"retention": ("retention per {period}", "pct"), "discount": ("discount rate per {period}", "pct"),
         "cac": ("cost to win a customer (CAC)", "money"),
         "margin_per_period": ("margin per customer per {period}", "money")}


def _tick(v: float, kind: str) -> str:
    if kind == "pct":
        return f"{100 * v:.1f}%".replace(".0%", "%")
    if kind == "money":
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{v:g}"


def _outline_center(ax: Axes, rows: Sequence[float], cols: Sequence[float] | None, center: Any) -> bool:
    """Outline the cell (or row) of the grid nearest the measured centre; True if drawn."""
    if center is None:
        return False
    r0 = center[0]
    i = int(np.argmin(np.abs(np.asarray(rows, dtype=float) - r0)))
    if cols is None or len(center) < 2 or center[1] is None:
        ax.add_patch(Rectangle((0, i), ax.get_xlim()[1], 1, fill=False, edgecolor="white", linewidth=2.5))
        return True
    j = int(np.argmin(np.abs(np.asarray(cols, dtype=float) - center[1])))
    ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="white", linewidth=2.5))
    return True


def plot_sensitivity_heatmap(grid: pd.DataFrame, *, ax: Axes | None = None, annot: bool = True,
                             fmt: str | None = None, cmap: str = "viridis", **kwargs: Any) -> Axes:
    """Heatmap of a sensitivity grid (CLV over retention x discount, LTV:CAC over CAC x margin).

    Parameters
    ----------
    grid : DataFrame
        From :func:`~relmkt_helpers.economics.clv_sensitivity` or
        :func:`~relmkt_helpers.economics.ltv_cac_sensitivity` (the axis names
        and ``attrs["metric"]`` label the chart).
    ax : Axes, optional
    annot : bool, default True
        Write each value in its cell (blank where undefined, e.g. never paid back).
    fmt : str, optional
        Annotation format (default by metric).
    cmap : str, default "viridis"
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.economics import clv_sensitivity
    >>> ax = plot_sensitivity_heatmap(clv_sensitivity(100, [0.5, 0.8], [0.0, 0.1]))
    >>> [t.get_text() for t in ax.texts]
    ['200', '183', '500', '367']
    """
    if not isinstance(grid, pd.DataFrame) or grid.empty:
        raise ParameterError("plot_sensitivity_heatmap expects the DataFrame of clv_sensitivity() or "
                             "ltv_cac_sensitivity().")
    metric = grid.attrs.get("metric", "value")
    label, default_fmt = _METRIC_LABEL.get(metric, (str(metric), ".2g"))
    ax = get_ax(ax, figsize=(1.5 + 0.9 * max(grid.shape[1], 3), 1.2 + 0.45 * max(grid.shape[0], 3)))
    cbar_kws = dict(kwargs.pop("cbar_kws", {}) or {})
    cbar_kws.setdefault("label", label)
    period = str(grid.attrs.get("period", "period"))
    (ylab, ykind), (xlab, xkind) = (_AXIS.get(str(n), (str(n or "rows"), "num")) for n in (grid.index.name,
                                                                                        grid.columns.name))
    data = grid.copy()
    data.index = [_tick(v, ykind) for v in grid.index]
    data.columns = [_tick(v, xkind) for v in grid.columns]
    sns.heatmap(data, ax=ax, annot=annot, fmt=fmt or default_fmt, cmap=cmap, mask=data.isna(),
                cbar_kws=cbar_kws, annot_kws={"fontsize": 8}, **kwargs)
    ax.set_ylabel(ylab.format(period=period))
    ax.set_xlabel(xlab.format(period=period))
    extra = ""
    if metric == "clv":
        extra = f", margin {_tick(grid.attrs.get('margin_per_period', float('nan')), 'money')} per {period}"
    elif metric in ("ltv_cac", "payback"):
        extra = (f", retention {_tick(grid.attrs.get('retention', float('nan')), 'pct')}, "
                 f"discount {_tick(grid.attrs.get('discount', 0), 'pct')}")
    mark = _outline_center(ax, grid.index, grid.columns, grid.attrs.get("center"))
    from ..economics.tables import basis_text

    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_title(f"{label[0].upper() + label[1:]}\n({basis_text(grid.attrs.get('basis', 'assumed'))}{extra})"
                 + ("\noutlined: this shop's figures" if mark else ""), fontsize=10)
    if metric == "clv":
        ax.invert_yaxis()  # higher retention at the top
    return ax


def plot_profit_uplift_grid(grid: pd.DataFrame, *, acquisition_cost: float | None = None, ax: Axes | None = None,
                            cmap: str = "magma", **kwargs: Any) -> Axes:
    """The profit increase over baseline retention x margin growth, folk 25-95 % cells outlined.

    Parameters
    ----------
    grid : DataFrame
        From :func:`~relmkt_helpers.economics.profit_uplift_grid`.
    acquisition_cost : float, optional
        Which acquisition cost of the grid to show (default: the first).
    ax : Axes, optional
    cmap : str, default "magma"
    **kwargs
        Passed to :func:`seaborn.heatmap`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.economics import profit_uplift_grid
    >>> g = profit_uplift_grid(retention=[0.6, 0.8], margin_growth=[0.0], acquisition_cost=[0.0])
    >>> [t.get_text() for t in plot_profit_uplift_grid(g).texts]
    ['14%', '33%']
    """
    need = {"retention", "margin_growth", "acquisition_cost", "profit_increase", "in_folk_range"}
    if not isinstance(grid, pd.DataFrame) or not need <= set(grid.columns):
        raise ParameterError("plot_profit_uplift_grid expects the DataFrame of profit_uplift_grid().")
    costs = grid["acquisition_cost"].unique()
    c = costs[0] if acquisition_cost is None else acquisition_cost
    d = grid[np.isclose(grid["acquisition_cost"], c)]
    if d.empty:
        raise ParameterError(f"acquisition_cost={acquisition_cost!r} is not in the grid; use one of {costs.tolist()}.")
    values = d.pivot(index="retention", columns="margin_growth", values="profit_increase")
    inside = d.pivot(index="retention", columns="margin_growth", values="in_folk_range")
    ax = get_ax(ax, figsize=(1.5 + 0.9 * max(values.shape[1], 3), 1.2 + 0.45 * max(values.shape[0], 3)))
    data = values.copy()
    data.index = [_tick(v, "pct") for v in values.index]
    data.columns = [_tick(v, "pct") for v in values.columns]
    sns.heatmap(data, ax=ax, annot=True, fmt=".0%", cmap=cmap, mask=data.isna(), annot_kws={"fontsize": 8},
                cbar_kws={"label": "profit increase", "format": PercentFormatter(1.0, decimals=0)}, **kwargs)
    for i in range(inside.shape[0]):
        for j in range(inside.shape[1]):
            if bool(inside.iloc[i, j]):
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="#56B4E9", linewidth=2.0))
    ax.set_ylabel("baseline yearly retention")
    ax.set_xlabel("margin growth per year of tenure")
    a = grid.attrs
    center = a.get("center")
    if center is not None:
        i = int(np.argmin(np.abs(values.index.to_numpy(dtype=float) - center[0])))
        labels = list(data.index)
        labels[i] = f"{labels[i]} (this shop)"
        ax.set_yticklabels(labels, rotation=0)
    from ..economics.tables import basis_text

    ax.set_title(f"Profit increase of +{a.get('uplift', float('nan')) * 100:g} points retention; outlined: "
                 f"inside the folk {FOLK_PROFIT_RANGE[0]:.0%}-{FOLK_PROFIT_RANGE[1]:.0%}\n({basis_text(a.get('basis', 'assumed'))}: "
                 f"CAC {_tick(c, 'money')}, margin {_tick(a.get('margin_per_customer_year', float('nan')), 'money')} "
                 f"per customer-year, {str(a.get('measure', '')).replace('_', ' ')})")
    return ax


def plot_subscription_retention(result: pd.DataFrame | EconomicsResult, *, ax: Axes | None = None,
                                **kwargs: Any) -> Axes:
    """Monthly and trailing-12-month GRR and NRR of the subscription product.

    Parameters
    ----------
    result : DataFrame or EconomicsResult
        :func:`~relmkt_helpers.economics.subscription_revenue_retention`.
    ax : Axes, optional
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> rr = pd.DataFrame({"grr": [1.0, 0.5], "nrr": [1.0, 0.5], "grr_12m": [float("nan")] * 2,
    ...     "nrr_12m": [float("nan")] * 2, "basis": "measured"}, index=pd.period_range("2024-02", periods=2, freq="M"))
    >>> plot_subscription_retention(rr).lines[0].get_ydata().tolist()
    [1.0, 0.5]
    """
    if isinstance(result, EconomicsResult):
        result = result.revenue_retention
        if result is None:
            raise ParameterError("plot_subscription_retention: the analysis has no subscriptions.")
    if not isinstance(result, pd.DataFrame) or not {"grr", "nrr", "grr_12m", "nrr_12m"} <= set(result.columns):
        raise ParameterError("plot_subscription_retention expects the table of subscription_revenue_retention().")
    ax = get_ax(ax)
    x = result.index.to_timestamp().to_numpy()
    styles = {"grr": (PALETTE[0], "-", "GRR, month"), "nrr": (PALETTE[1], "--", "NRR, month"),
              "grr_12m": (PALETTE[2], "-", "GRR, trailing 12 months"),
              "nrr_12m": (PALETTE[3], "--", "NRR, trailing 12 months")}
    for col, (colour, ls, label) in styles.items():
        ax.plot(x, result[col].to_numpy(dtype=float), color=colour, linestyle=ls, label=label, **kwargs)
    ax.set_xlabel("month")
    ax.set_ylabel("revenue retained from the starting MRR")
    ax.set_ylim(0, max(1.05, float(np.nanmax(result[["grr", "nrr", "grr_12m", "nrr_12m"]].to_numpy()))
                       if np.isfinite(result[["grr", "nrr"]].to_numpy()).any() else 1.05))
    format_axis_percent(ax)
    ax.set_title(f"Subscription revenue retention ({_basis_label(result.get('basis', 'measured'))})")
    ax.legend(fontsize=8, frameon=False, loc="best")
    return ax
