"""Plot helpers for :mod:`relmkt_helpers.rfm`.

Each helper is ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``: it draws
on the Axes it is given (or on a new one) through Axes methods only, never with
global ``plt.*`` state, and returns the Axes.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes

from ..errors import ParameterError
from ..rfm import SEGMENTS, segment_grid
from ._common import format_axis_percent, get_ax

__all__ = ["SEGMENT_COLOURS", "plot_rf_grid", "plot_segment_summary", "plot_segment_shares"]

#: One colour per segment (Okabe & Ito 2008 colour-blind-safe hues, plus their grey for Lost).
SEGMENT_COLOURS: dict[str, str] = {
    "Champions": "#009E73",
    "Loyal": "#56B4E9",
    "Potential loyalist": "#0072B2",
    "New": "#F0E442",
    "At risk": "#E69F00",
    "Can't lose them": "#D55E00",
    "Hibernating": "#CC79A7",
    "Lost": "#999999",
}
_DARK = {"Potential loyalist", "Can't lose them", "Champions"}  # white text reads better on these
_SUMMARY_COLS = ("customers", "share_customers", "share_revenue", "share_clv")


def _check_rfm(rfm: Any, where: str) -> pd.DataFrame:
    if not isinstance(rfm, pd.DataFrame) or any(c not in rfm.columns for c in ("R", "F", "segment")):
        raise ParameterError(f"{where} expects the table returned by rfm_table(tx) (columns R, F and segment), "
                             f"got {type(rfm).__name__}.")
    if len(rfm) == 0:
        raise ParameterError(f"{where}: the RFM table has no customers; there is nothing to draw.")
    return rfm


def _check_summary(summary: Any, where: str) -> pd.DataFrame:
    if not isinstance(summary, pd.DataFrame) or any(c not in summary.columns for c in _SUMMARY_COLS):
        raise ParameterError(f"{where} expects the table returned by segment_summary(rfm) (columns "
                             f"{', '.join(_SUMMARY_COLS)}), got {type(summary).__name__}.")
    return summary


def _bins_of(rfm: pd.DataFrame) -> int:
    bins = rfm.attrs.get("bins")
    if bins is None:
        top = int(max(rfm["R"].max(), rfm["F"].max()))
        bins = 5 if top <= 5 else top
    return int(bins)


def _as_of_text(obj: pd.DataFrame) -> str:
    as_of = obj.attrs.get("as_of")
    return f", as of {pd.Timestamp(as_of).date()}" if as_of is not None else ""


def plot_rf_grid(rfm: pd.DataFrame, *, ax: Axes | None = None, annot: bool = True, show_segments: bool = True,
                 cmap: str = "Blues", colorbar: bool = True, **kwargs: Any) -> Axes:
    """Heatmap of customers per R × F cell, with each cell's segment and the segment borders.

    Rows are R scores (most recent at the top), columns F scores (most orders on
    the right). Thick lines separate cells of different segments, so the grid
    doubles as a legend of the segment rules (:func:`relmkt_helpers.rfm.segment_grid`).

    Parameters
    ----------
    rfm : DataFrame
        From :func:`relmkt_helpers.rfm.rfm_table`.
    ax : Axes, optional
        Where to draw; a new figure if omitted.
    annot : bool, default True
        Write the number of customers in each cell.
    show_segments : bool, default True
        Write the segment name in each cell and draw the segment borders.
    cmap : str, default "Blues"
    colorbar : bool, default True
        Add a colour bar (on the Axes' own figure).
    **kwargs
        Passed to ``ax.imshow``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.rfm import rfm_table
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-02"]), "amount": [1.0, 1.0, 1.0]})
    >>> ax = plot_rf_grid(rfm_table(tx, bins=2))
    >>> sorted(t.get_text() for t in ax.texts)
    ['At risk\\n0', 'Hibernating\\n1', 'Loyal\\n1', 'Potential loyalist\\n0']
    """
    rfm = _check_rfm(rfm, "plot_rf_grid")
    bins = _bins_of(rfm)
    r = rfm["R"].to_numpy(dtype=np.int64)
    f = rfm["F"].to_numpy(dtype=np.int64)
    if r.min() < 1 or f.min() < 1 or r.max() > bins or f.max() > bins:
        raise ParameterError(f"plot_rf_grid: R and F scores must be 1..{bins}; pass the table from rfm_table(tx).")
    counts = np.bincount((r - 1) * bins + (f - 1), minlength=bins * bins).reshape(bins, bins)[::-1]  # R high on top
    names = segment_grid(bins).to_numpy()
    ax = get_ax(ax, figsize=(1.6 + 1.3 * bins, 1.0 + 1.0 * bins))
    kwargs.setdefault("aspect", "auto")
    image = ax.imshow(counts, cmap=cmap, vmin=0, interpolation="nearest", **kwargs)
    ticks = np.arange(bins)
    levels = np.arange(1, bins + 1)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(v) for v in levels])
    ax.set_yticks(ticks)
    ax.set_yticklabels([str(v) for v in levels[::-1]])
    ax.set_xlabel(f"F score (orders: 1 = fewest, {bins} = most)")
    ax.set_ylabel(f"R score (recency: {bins} = most recent)")
    ax.set_title(f"Customers by R and F score ({len(rfm):,} customers{_as_of_text(rfm)})")
    if annot or show_segments:
        top = counts.max() if counts.max() > 0 else 1
        for i in range(bins):
            for j in range(bins):
                parts = ([names[i, j]] if show_segments else []) + ([f"{counts[i, j]:,}"] if annot else [])
                colour = "white" if counts[i, j] > 0.6 * top else "black"
                ax.text(j, i, "\n".join(parts), ha="center", va="center", fontsize=7, color=colour)
    if show_segments:
        xs: list[float] = []
        ys: list[float] = []
        for i in range(bins):
            for j in range(bins):
                if j + 1 < bins and names[i, j] != names[i, j + 1]:
                    xs += [j + 0.5, j + 0.5, np.nan]
                    ys += [i - 0.5, i + 0.5, np.nan]
                if i + 1 < bins and names[i, j] != names[i + 1, j]:
                    xs += [j - 0.5, j + 0.5, np.nan]
                    ys += [i + 0.5, i + 0.5, np.nan]
        if xs:
            ax.plot(xs, ys, color="black", linewidth=2.0, label="segment border")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label="customers")
    return ax


def _rows(summary: pd.DataFrame) -> list[str]:
    return [s for s in SEGMENTS if s in summary.index] or [str(s) for s in summary.index]


def _series(summary: pd.DataFrame, clv: bool | None) -> list[tuple[str, str]]:
    has_clv = bool(summary["share_clv"].notna().any())
    if clv is True and not has_clv:
        raise ParameterError("clv=True but the segment table has no CLV; pass clv= to segment_summary first.")
    show_clv = has_clv if clv is None else bool(clv)
    out = [("share_customers", "customers"), ("share_revenue", "historic revenue")]
    if show_clv:
        out.append(("share_clv", "expected value (CLV)"))
    return out


def plot_segment_summary(summary: pd.DataFrame, *, ax: Axes | None = None, clv: bool | None = None,
                         **kwargs: Any) -> Axes:
    """Grouped bars per segment: share of customers, of historic revenue and (if known) of CLV.

    Parameters
    ----------
    summary : DataFrame
        From :func:`relmkt_helpers.rfm.segment_summary`.
    ax : Axes, optional
    clv : bool, optional
        Draw the CLV share bars; default: when the table has CLV.
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.rfm import rfm_table, segment_summary
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-02"]), "amount": [30.0, 30.0, 40.0]})
    >>> ax = plot_segment_summary(segment_summary(rfm_table(tx, bins=2)))
    >>> len(ax.patches), [t.get_text() for t in ax.get_legend().get_texts()]
    (16, ['customers', 'historic revenue'])
    """
    summary = _check_summary(summary, "plot_segment_summary")
    rows = _rows(summary)
    series = _series(summary, clv)
    ax = get_ax(ax, figsize=(8.0, 5.0))
    y = np.arange(len(rows))[::-1]  # first segment at the top
    height = 0.8 / len(series)
    colours = ("#0072B2", "#E69F00", "#009E73")
    for k, (col, label) in enumerate(series):
        values = summary.loc[rows, col].to_numpy(dtype=float)
        ax.barh(y + (len(series) - 1 - 2 * k) * height / 2, np.nan_to_num(values), height=height,
                color=colours[k], label=label, **kwargs)
    sizes = summary.loc[rows, "customers"].to_numpy()
    ax.set_yticks(y)
    ax.set_yticklabels([f"{name} (n={n:,})" for name, n in zip(rows, sizes)])
    format_axis_percent(ax, axis="x")
    ax.set_xlim(left=0)
    ax.set_xlabel("share of all customers / revenue / expected value")
    ax.set_title(f"RFM segments: size and value{_as_of_text(summary)}")
    ax.legend(loc="lower right", frameon=False)
    return ax


def plot_segment_shares(summary: pd.DataFrame, *, ax: Axes | None = None, clv: bool | None = None,
                        min_label: float = 0.06, **kwargs: Any) -> Axes:
    """100% stacked bars (treemap-like): how customers, revenue and CLV split across segments.

    One horizontal bar per measure, cut into segments in :data:`SEGMENTS` order
    and coloured by :data:`SEGMENT_COLOURS`; pieces of at least ``min_label``
    carry the segment's share.

    Parameters
    ----------
    summary : DataFrame
        From :func:`relmkt_helpers.rfm.segment_summary`.
    ax : Axes, optional
    clv : bool, optional
        Add a bar for CLV; default: when the table has CLV.
    min_label : float, default 0.06
        Smallest piece that is labelled.
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.rfm import rfm_table, segment_summary
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-02"]), "amount": [30.0, 30.0, 40.0]})
    >>> ax = plot_segment_shares(segment_summary(rfm_table(tx, bins=2)))
    >>> sorted(t.get_text() for t in ax.texts)
    ['40%', '50%', '50%', '60%']
    """
    summary = _check_summary(summary, "plot_segment_shares")
    rows = _rows(summary)
    series = _series(summary, clv)
    ax = get_ax(ax, figsize=(9.0, 1.4 + 0.7 * len(series)))
    y = np.arange(len(series))[::-1]
    left = np.zeros(len(series))
    cmap = colormaps["tab10"]
    for s_i, name in enumerate(rows):
        widths = np.nan_to_num(np.array([float(summary.loc[name, col]) for col, _ in series]))
        colour = SEGMENT_COLOURS.get(name, cmap(s_i % 10))
        ax.barh(y, widths, left=left, color=colour, label=name, edgecolor="white", linewidth=0.5, **kwargs)
        for yy, x0, w in zip(y, left, widths):
            if w >= min_label:
                ax.text(x0 + w / 2, yy, f"{w:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if name in _DARK else "black")
        left += widths
    ax.set_yticks(y)
    ax.set_yticklabels([label for _, label in series])
    format_axis_percent(ax, axis="x")
    ax.set_xlim(0, 1)
    ax.set_title(f"Where customers and value sit, by RFM segment{_as_of_text(summary)}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=4, frameon=False, fontsize=8)
    return ax
