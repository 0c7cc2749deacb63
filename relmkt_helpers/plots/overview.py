"""Plots of the monthly summary (:func:`relmkt_helpers.kpis.monthly_summary`)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from ._common import PALETTE, format_axis_percent, get_ax

__all__ = ["plot_customer_mix", "plot_monthly_revenue", "plot_monthly_rates"]


def _last(summary: pd.DataFrame, months: int | None) -> pd.DataFrame:
    return summary if months is None else summary.iloc[-months:]


def _month_labels(ax: Axes, index: pd.PeriodIndex) -> None:
    step = max(1, len(index) // 12)
    pos = np.arange(len(index))
    ax.set_xticks(pos[::step])
    ax.set_xticklabels([str(p) for p in index[::step]], rotation=45, ha="right")


def plot_customer_mix(summary: pd.DataFrame, *, ax: Axes | None = None, months: int | None = 24,
                      **kwargs: Any) -> Axes:
    """Stacked bars of active customers per month: returning, reactivated and new.

    Parameters
    ----------
    summary : DataFrame
        Output of :func:`relmkt_helpers.kpis.monthly_summary`.
    ax : Axes, optional
    months : int, optional
        Show the last ``months`` months (``None``: all).
    **kwargs
        Passed to ``ax.bar``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.kpis import monthly_summary
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "order_date": pd.to_datetime(
    ...     ["2024-01-03", "2024-01-31", "2024-02-02"]), "amount": [10.0, 20.0, 5.0], "order_id": ["1", "2", "3"]})
    >>> ax = plot_customer_mix(monthly_summary(tx))
    >>> len(ax.patches)  # 2 months x 3 groups
    6
    """
    ax = get_ax(ax)
    s = _last(summary, months)
    x = np.arange(len(s))
    bottom = np.zeros(len(s))
    for col, label, colour in (("customers_returning", "returning (bought last month too)", PALETTE[0]),
                               ("customers_reactivated", "reactivated (back after a gap)", PALETTE[5]),
                               ("customers_new", "new (first order)", PALETTE[1])):
        values = s[col].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, color=colour, label=label, **kwargs)
        bottom = bottom + values  # a new array: matplotlib keeps a reference to the one it was given
    _month_labels(ax, s.index)
    ax.set_ylabel("active customers")
    ax.set_title("Active customers per month: returning, reactivated and new")
    ax.legend(frameon=False)
    return ax


def plot_monthly_revenue(summary: pd.DataFrame, *, ax: Axes | None = None, months: int | None = 24,
                         currency: str | None = None, **kwargs: Any) -> Axes:
    """Bars of revenue per month; the y axis in thousands separators, labelled with ``currency`` (ISO code).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.kpis import monthly_summary
    >>> tx = pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(
    ...     ["2024-01-03", "2024-03-01"]), "amount": [10.0, 20.0], "order_id": ["1", "2"]})
    >>> [float(p.get_height()) for p in plot_monthly_revenue(monthly_summary(tx)).patches]
    [10.0, 0.0, 20.0]
    """
    ax = get_ax(ax)
    s = _last(summary, months)
    ax.bar(np.arange(len(s)), s["revenue"], color=kwargs.pop("color", PALETTE[2]), **kwargs)
    _month_labels(ax, s.index)
    ax.set_ylabel(f"revenue ({str(currency).upper()})" if currency else "revenue")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_title("Revenue per month")
    return ax


def plot_monthly_rates(summary: pd.DataFrame, *, ax: Axes | None = None, months: int | None = 24,
                       **kwargs: Any) -> Axes:
    """Lines of the month-over-month retention rate and the repeat-purchase rate.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.kpis import monthly_summary
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "order_date": pd.to_datetime(
    ...     ["2024-01-03", "2024-01-31", "2024-02-02"]), "amount": [10.0, 20.0, 5.0], "order_id": ["1", "2", "3"]})
    >>> len(plot_monthly_rates(monthly_summary(tx)).lines)
    2
    """
    ax = get_ax(ax)
    s = _last(summary, months)
    x = np.arange(len(s))
    ax.plot(x, s["retention_rate_prev_month"], marker="o", color=PALETTE[0],
            label="retention vs previous month", **kwargs)
    ax.plot(x, s["repeat_purchase_rate"], marker="s", color=PALETTE[3], label="repeat-purchase rate", **kwargs)
    _month_labels(ax, s.index)
    ax.set_ylim(0, 1)
    format_axis_percent(ax)
    ax.set_title("Monthly retention and repeat-purchase rates")
    ax.legend(frameon=False)
    return ax
