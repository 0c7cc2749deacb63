"""Plot helpers for :mod:`relmkt_helpers.cohorts`.

Each helper is ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``: it draws
on the Axes it is given (or on a new one) with ``ax.set_*`` only, never with
global ``plt.*`` state, and returns the Axes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from ..cohorts import CohortMatrix, average_curve, segment_comparison
from ..errors import ParameterError
from ._common import PALETTE, format_axis_percent, get_ax

__all__ = [
    "plot_retention_heatmap",
    "plot_retention_curves",
    "plot_revenue_retention",
    "plot_ltv_curves",
    "plot_segment_comparison",
    "plot_kpi_trends",
]

_WORD = {"W": "weeks", "M": "months", "Q": "quarters"}
_YLABEL = {
    "customers": "share of cohort active",
    "revenue": "revenue vs acquisition period",
    "ltv": "cumulative revenue per acquired customer",
}


def _check_result(result: Any, where: str, metric: str | None = None) -> CohortMatrix:
    if not isinstance(result, CohortMatrix):
        raise ParameterError(
            f"{where} expects the CohortMatrix returned by retention_matrix() or realised_ltv_matrix(), "
            f"got {type(result).__name__}."
        )
    if metric is not None and result.metric != metric:
        fix = {"customers": "retention_matrix(tx)", "revenue": "retention_matrix(tx, metric='revenue')",
               "ltv": "realised_ltv_matrix(tx)"}[metric]
        raise ParameterError(f"{where} plots metric={metric!r} but got metric={result.metric!r}; pass {fix}.")
    return result


def _row_labels(result: CohortMatrix, sizes: bool) -> list[str]:
    labels = []
    for key, n in zip(result.matrix.index, result.sizes.to_numpy()):
        name = " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
        labels.append(f"{name} (n={n:,})" if sizes else name)
    return labels


def _age_label(result: CohortMatrix) -> str:
    return f"{_WORD[result.period]} since acquisition (0 = acquisition {_WORD[result.period][:-1]})"


def plot_retention_heatmap(result: CohortMatrix, *, ax: Axes | None = None, annot: bool = True,
                           fmt: str | None = None, show_sizes: bool = True, cmap: str = "Blues",
                           **kwargs: Any) -> Axes:
    """Triangle heatmap of a cohort matrix, cohort sizes in the row labels.

    Incomplete cells (NaN) are left blank, so the partial current period never
    reads as a drop.

    Parameters
    ----------
    result : CohortMatrix
        From :func:`~relmkt_helpers.cohorts.retention_matrix` or
        :func:`~relmkt_helpers.cohorts.realised_ltv_matrix`.
    ax : Axes, optional
        Where to draw; a new figure if omitted.
    annot : bool, default True
        Write each value in its cell.
    fmt : str, optional
        Format of the annotations; default ``".0%"`` for rates, ``",.0f"`` for LTV.
    show_sizes : bool, default True
        Label rows ``"<cohort> (n=<size>)"``.
    cmap : str, default "Blues"
    **kwargs
        Passed to :func:`seaborn.heatmap` (e.g. ``vmax``, ``linewidths``).
        The colour scale defaults to 0 .. the largest value after period 0.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import retention_matrix
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10"]),
    ...     "amount": [10.0, 20.0, 5.0]})
    >>> ax = plot_retention_heatmap(retention_matrix(tx, as_of="2024-02-29"))
    >>> [t.get_text() for t in ax.texts]
    ['100%', '50%']
    """
    result = _check_result(result, "plot_retention_heatmap")
    ax = get_ax(ax, figsize=(1.0 + 0.55 * max(result.matrix.shape[1], 4), 1.2 + 0.32 * max(len(result.matrix), 4)))
    data = result.matrix
    is_rate = result.metric != "ltv"
    if fmt is None:
        fmt = ".0%" if is_rate else ",.0f"
    if "vmax" not in kwargs:
        later = data.iloc[:, 1:].to_numpy() if data.shape[1] > 1 and result.metric != "ltv" else data.to_numpy()
        vmax = np.nanmax(later) if np.isfinite(later).any() else 1.0
        kwargs["vmax"] = float(vmax) if vmax > 0 else 1.0
    kwargs.setdefault("vmin", 0.0)
    cbar_kws = dict(kwargs.pop("cbar_kws", {}) or {})
    if is_rate:
        cbar_kws.setdefault("format", PercentFormatter(1.0, decimals=0))
    cbar_kws.setdefault("label", _YLABEL[result.metric])
    sns.heatmap(data, ax=ax, annot=annot, fmt=fmt, cmap=cmap, mask=data.isna(),
                yticklabels=_row_labels(result, show_sizes), cbar_kws=cbar_kws,
                annot_kws={"fontsize": 8}, **kwargs)
    ax.set_xlabel(_age_label(result))
    ax.set_ylabel("acquisition cohort" + (" (customers)" if show_sizes else ""))
    what = {"customers": f"{result.kind} customer retention", "revenue": "revenue retention",
            "ltv": "realised LTV (cumulative revenue per customer)"}[result.metric]
    ax.set_title(f"Cohort {what}, as of {result.as_of.date()}")
    return ax


def _plot_curves(result: CohortMatrix, ax: Axes | None, average: bool, cmap: str, title: str,
                 **kwargs: Any) -> Axes:
    ax = get_ax(ax)
    values = result.matrix
    ages = np.asarray(values.columns, dtype=int)
    rows = [i for i in range(len(values)) if values.iloc[i].notna().any()]
    colours = colormaps[cmap](np.linspace(0.1, 0.9, max(len(rows), 1)))
    labels = _row_labels(result, sizes=False)
    line_kw = {"linewidth": 1.0, "alpha": 0.7, **kwargs}
    for j, i in enumerate(rows):
        show = j in (0, len(rows) - 1)  # label the oldest and the newest cohort only
        ax.plot(ages, values.iloc[i].to_numpy(), color=colours[j], label=labels[i] if show else None, **line_kw)
    if average:
        avg = average_curve(result)
        ax.plot(avg.index.to_numpy(), avg["weighted_mean"].to_numpy(), color="black", linewidth=2.5,
                label="size-weighted average")
    ax.set_xlabel(_age_label(result))
    ax.set_ylabel(_YLABEL[result.metric])
    ax.set_title(f"{title}, as of {result.as_of.date()}")
    ax.set_xlim(ages.min(), max(ages.max(), 1))
    if result.metric != "ltv":
        ax.set_ylim(bottom=0)
        format_axis_percent(ax)
    else:
        ax.set_ylim(bottom=0)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax


def plot_retention_curves(result: CohortMatrix, *, ax: Axes | None = None, average: bool = True,
                          cmap: str = "viridis", **kwargs: Any) -> Axes:
    """One retention curve per cohort (oldest dark, newest light) plus the size-weighted average.

    Cohorts without a complete cell (the partial current cohort) draw no line,
    so the Axes holds one line per cohort with data, plus one for the average.

    Parameters
    ----------
    result : CohortMatrix
        From :func:`~relmkt_helpers.cohorts.retention_matrix` (``metric="customers"``).
    ax : Axes, optional
    average : bool, default True
        Add the size-weighted average curve (thick black line).
    cmap : str, default "viridis"
        Colormap ordering the cohorts by age.
    **kwargs
        Passed to ``ax.plot`` for the cohort lines.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import retention_matrix
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10", "2024-02-11"]),
    ...     "amount": [10.0, 20.0, 5.0, 7.0]})
    >>> len(plot_retention_curves(retention_matrix(tx, as_of="2024-02-29")).lines)
    3
    """
    result = _check_result(result, "plot_retention_curves", "customers")
    return _plot_curves(result, ax, average, cmap, f"Customer retention by cohort ({result.kind})", **kwargs)


def plot_revenue_retention(result: CohortMatrix, *, ax: Axes | None = None, average: bool = True,
                           cmap: str = "viridis", **kwargs: Any) -> Axes:
    """Revenue retention curves (revenue in period k / period 0) per cohort, plus the average.

    Parameters
    ----------
    result : CohortMatrix
        ``retention_matrix(tx, metric="revenue")``.
    ax, average, cmap, **kwargs
        As in :func:`plot_retention_curves`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import retention_matrix
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10"]),
    ...     "amount": [10.0, 20.0, 15.0]})
    >>> ax = plot_revenue_retention(retention_matrix(tx, metric="revenue", as_of="2024-02-29"))
    >>> ax.lines[0].get_ydata().tolist()
    [1.0, 0.5]
    """
    result = _check_result(result, "plot_revenue_retention", "revenue")
    return _plot_curves(result, ax, average, cmap, "Revenue retention by cohort", **kwargs)


def plot_ltv_curves(result: CohortMatrix, *, ax: Axes | None = None, average: bool = True,
                    cmap: str = "viridis", **kwargs: Any) -> Axes:
    """Realised LTV curves: cumulative revenue per acquired customer by cohort, plus the average.

    Parameters
    ----------
    result : CohortMatrix
        :func:`~relmkt_helpers.cohorts.realised_ltv_matrix`.
    ax, average, cmap, **kwargs
        As in :func:`plot_retention_curves`.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import realised_ltv_matrix
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10"]),
    ...     "amount": [10.0, 20.0, 15.0]})
    >>> ax = plot_ltv_curves(realised_ltv_matrix(tx, as_of="2024-02-29"))
    >>> ax.lines[0].get_ydata().tolist()
    [15.0, 22.5]
    """
    result = _check_result(result, "plot_ltv_curves", "ltv")
    return _plot_curves(result, ax, average, cmap, "Realised LTV by cohort", **kwargs)


def plot_segment_comparison(result: CohortMatrix | pd.DataFrame, *, ax: Axes | None = None,
                            **kwargs: Any) -> Axes:
    """The size-weighted average curve of each segment (e.g. acquisition channel).

    Parameters
    ----------
    result : CohortMatrix or DataFrame
        A segmented CohortMatrix (``retention_matrix(tx, segment="channel")``),
        or the table of :func:`~relmkt_helpers.cohorts.segment_comparison`.
        With a CohortMatrix, legend entries show each segment's customers.
    ax : Axes, optional
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    Axes
        One line per segment.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import retention_matrix
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-10"]),
    ...     "amount": [10.0, 20.0, 5.0], "channel": ["ads", "email", "ads"]})
    >>> ax = plot_segment_comparison(retention_matrix(tx, segment="channel", as_of="2024-02-29"))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['ads (n=1)', 'email (n=1)']
    """
    if isinstance(result, CohortMatrix):
        table = segment_comparison(result)
        sizes = result.sizes.groupby(level=0, sort=False, dropna=False).sum()
        metric, age_label = result.metric, _age_label(result)
        title = f"{_YLABEL[metric].capitalize()} by {result.segment}, as of {result.as_of.date()}"
    elif isinstance(result, pd.DataFrame):
        table, sizes, metric = result, None, "customers"
        age_label, title = "periods since acquisition", f"Average curve by {table.columns.name or 'segment'}"
    else:
        raise ParameterError(
            "plot_segment_comparison expects a segmented CohortMatrix or the DataFrame of "
            f"segment_comparison(), got {type(result).__name__}."
        )
    ax = get_ax(ax)
    ages = np.asarray(table.index, dtype=int)
    for i, seg in enumerate(table.columns):
        label = f"{seg} (n={int(sizes.loc[seg]):,})" if sizes is not None else str(seg)
        ax.plot(ages, table[seg].to_numpy(), color=PALETTE[i % len(PALETTE)], marker="o", markersize=3,
                label=label, **kwargs)
    ax.set_xlabel(age_label)
    ax.set_ylabel(f"{_YLABEL[metric]} (size-weighted average)")
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    if metric != "ltv":
        format_axis_percent(ax)
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax


def plot_kpi_trends(kpis: pd.DataFrame, *, ax: Axes | None = None,
                    columns: Sequence[str] = ("retention_rate", "repeat_purchase_rate"),
                    **kwargs: Any) -> Axes:
    """KPI rates over time, one line per column of :func:`~relmkt_helpers.cohorts.period_kpis`.

    Parameters
    ----------
    kpis : DataFrame
        The table of :func:`~relmkt_helpers.cohorts.period_kpis`.
    ax : Axes, optional
    columns : sequence of str
        Columns to draw. If they are all rates (names ending in ``_rate``) the
        axis shows percentages. The partial period's rates are NaN and leave a gap.
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    Axes
        One line per column.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.cohorts import period_kpis
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-02-01", "2024-03-31"]),
    ...     "amount": [10.0, 20.0, 5.0, 8.0]})
    >>> ax = plot_kpi_trends(period_kpis(tx))
    >>> [line.get_label() for line in ax.lines]
    ['retention rate', 'repeat purchase rate']
    """
    if not isinstance(kpis, pd.DataFrame) or not isinstance(kpis.index, pd.PeriodIndex):
        raise ParameterError("plot_kpi_trends expects the DataFrame returned by period_kpis().")
    if isinstance(columns, str):
        columns = [columns]
    unknown = [c for c in columns if c not in kpis.columns]
    if unknown or not columns:
        raise ParameterError(
            f"plot_kpi_trends: columns {unknown or list(columns)} are not in the KPI table. "
            f"Choose from {', '.join(kpis.columns)}."
        )
    ax = get_ax(ax)
    x = np.arange(len(kpis))
    for i, col in enumerate(columns):
        ax.plot(x, kpis[col].to_numpy(dtype=float), color=PALETTE[i % len(PALETTE)], marker="o", markersize=3,
                label=col.replace("_", " "), **kwargs)
    step = max(1, int(np.ceil(len(kpis) / 12)))
    ax.set_xticks(x[::step])
    ax.set_xticklabels([str(p) for p in kpis.index[::step]], rotation=45, ha="right")
    ax.set_xlabel(f"period ({kpis.index.freqstr})")
    if all(c.endswith("_rate") for c in columns):
        ax.set_ylim(bottom=0)
        format_axis_percent(ax)
        ax.set_ylabel("rate")
    ax.set_title("Customer KPIs by period")
    ax.legend(loc="best", fontsize=8, frameon=False)
    return ax
