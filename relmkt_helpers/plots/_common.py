"""Shared plumbing for the plot helpers."""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

#: Colour-blind-safe palette (Okabe & Ito 2008) used across the kit.
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)


def get_ax(ax: Axes | None = None, *, figsize: tuple[float, float] = (8.0, 4.5), **kwargs: Any) -> Axes:
    """Return ``ax``, or a new Axes on a new figure of ``figsize``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = get_ax()
    >>> ax.__class__.__name__
    'Axes'
    """
    if ax is not None:
        return ax
    fig, new_ax = plt.subplots(figsize=figsize, **kwargs)
    fig.set_layout_engine("constrained")
    return new_ax


def format_axis_percent(ax: Axes, axis: str = "y", decimals: int = 0) -> Axes:
    """Show a 0–1 axis as percentages.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = format_axis_percent(get_ax())
    >>> type(ax.yaxis.get_major_formatter()).__name__
    'PercentFormatter'
    """
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))
    return ax
