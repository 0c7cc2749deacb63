"""Plot helpers for :mod:`relmkt_helpers.contractual` (subscriptions: sBG and Kaplan-Meier).

Each helper is ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``: it draws
on the Axes it is given (or on a new one) with ``ax.*`` only, never with
global ``plt.*`` state, and returns the Axes. ``result`` is the
:class:`~relmkt_helpers.contractual.ContractualChurnResult` of
:func:`~relmkt_helpers.contractual.contractual_churn` (one line per group), a
fitted :class:`~relmkt_helpers.contractual.SBGModel`, or a dict of them;
:func:`plot_km` also takes the frame of
:func:`~relmkt_helpers.contractual.kaplan_meier`.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from ..contractual import ContractualChurnResult, SBGModel
from ..errors import ParameterError
from ._common import PALETTE, format_axis_percent, get_ax

__all__ = ["plot_sbg_fit", "plot_retention_rate", "plot_km", "plot_value_by_tenure"]


def _models(result: Any, where: str) -> dict[str, SBGModel]:
    if isinstance(result, ContractualChurnResult):
        models = dict(result.models)
    elif isinstance(result, SBGModel):
        models = {"sBG": result}
    elif isinstance(result, dict) and result and all(isinstance(m, SBGModel) for m in result.values()):
        models = {str(k): m for k, m in result.items()}
    else:
        raise ParameterError(
            f"{where} expects the result of contractual_churn(), a fitted SBGModel or a dict of them, "
            f"got {type(result).__name__}."
        )
    for name, m in models.items():
        if not hasattr(m, "alpha_"):
            raise ParameterError(f"{where}: the SBGModel {name!r} is not fitted; call .fit() first.")
    return models


def _unit(result: Any) -> str:
    return "months" if isinstance(result, ContractualChurnResult) else "periods"


def _horizon(models: dict[str, SBGModel], horizon: int | None) -> int:
    if horizon is None:
        return max(2 * max(m.n_periods_ for m in models.values()), 2)
    if int(horizon) != horizon or horizon < 1:
        raise ParameterError(f"horizon must be a whole number >= 1, got {horizon!r}.")
    return int(horizon)


def plot_sbg_fit(result: Any, *, ax: Axes | None = None, horizon: int | None = None,
                 **kwargs: Any) -> Axes:
    """Observed survival (dots) and the sBG fit, projected beyond the data (dashed), per group.

    A dotted vertical line marks the end of the data (the last observed
    period of the longest-observed group); to its right the curves are
    projections.

    Parameters
    ----------
    result : ContractualChurnResult, SBGModel or dict of SBGModel
    ax : Axes, optional
        Where to draw; a new figure if omitted.
    horizon : int, optional
        Last period drawn (default: twice the data's length).
    **kwargs
        Passed to the fitted lines (``ax.plot``).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.contractual import fit_sbg
    >>> ax = plot_sbg_fit(fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241]), horizon=12)
    >>> ax.get_ylabel()
    'share of cohort still active'
    """
    models = _models(result, "plot_sbg_fit")
    h = _horizon(models, horizon)
    ax = get_ax(ax)
    end = 0
    for i, (name, m) in enumerate(models.items()):
        colour = PALETTE[i % len(PALETTE)]
        p = m.projection(h)
        n = min(m.n_periods_, h)
        end = max(end, n)
        ax.plot(p.index[: n + 1], p["survival"].iloc[: n + 1], color=colour, label=f"{name}: sBG fit", **kwargs)
        ax.plot(p.index[n:], p["survival"].iloc[n:], color=colour, linestyle="--", **kwargs)
        obs = p["observed_survival"].dropna()
        ax.plot(obs.index, obs.to_numpy(), "o", color=colour, markersize=3.5, label=f"{name}: observed")
    ax.axvline(end, color="0.4", linestyle=":", linewidth=1)
    ax.text(end, 1.0, " end of data; projection →", va="top", ha="left", fontsize=8, color="0.3")
    ax.set_xlim(0, h)
    ax.set_ylim(0, 1.02)
    format_axis_percent(ax)
    ax.set_xlabel(f"{_unit(result)} since start (tenure)")
    ax.set_ylabel("share of cohort still active")
    ax.set_title("Survival: sBG fit and projection")
    ax.legend(fontsize=8, ncols=2)
    return ax


def plot_retention_rate(result: Any, *, ax: Axes | None = None, horizon: int | None = None,
                        min_at_risk: int = 20, **kwargs: Any) -> Axes:
    """Retention rate by tenure, ``r_t = P(T > t | T > t - 1)``: the sBG curve rises (sorting effect).

    Dots are the observed rates (retained / at risk) where at least
    ``min_at_risk`` customers were at risk (fewer give noisy rates).

    Parameters
    ----------
    result : ContractualChurnResult, SBGModel or dict of SBGModel
    ax : Axes, optional
    horizon : int, optional
        Last period drawn (default: twice the data's length).
    min_at_risk : int, default 20
        Observed rates resting on fewer customers at risk are not drawn.
    **kwargs
        Passed to the fitted lines (``ax.plot``).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.contractual import fit_sbg
    >>> ax = plot_retention_rate(fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241]))
    >>> ax.get_title()
    'Retention rate by tenure'
    """
    models = _models(result, "plot_retention_rate")
    h = _horizon(models, horizon)
    ax = get_ax(ax)
    for i, (name, m) in enumerate(models.items()):
        colour = PALETTE[i % len(PALETTE)]
        p = m.projection(h).iloc[1:]
        ax.plot(p.index, p["retention_rate"], color=colour, label=f"{name}: sBG", **kwargs)
        o = m.observed_.iloc[1: h + 1]
        obs = o.loc[o["at_risk"] >= min_at_risk, "retention_rate"].dropna()
        ax.plot(obs.index, obs.to_numpy(), "o", color=colour, markersize=3.5, alpha=0.7,
                label=f"{name}: observed")
    ax.set_xlim(0, h)
    format_axis_percent(ax)
    ax.set_xlabel(f"tenure t ({_unit(result)} paid)")
    ax.set_ylabel("P(renew after period t | active in t)")
    ax.set_title("Retention rate by tenure")
    ax.legend(fontsize=8, ncols=2)
    return ax


def plot_km(result: Any, *, ax: Axes | None = None, max_tenure: int | None = None, ci: bool = True,
            **kwargs: Any) -> Axes:
    """Kaplan-Meier survival curves by group (steps) with their pointwise confidence bands.

    Parameters
    ----------
    result : ContractualChurnResult or DataFrame
        The result (its ``km``), or the frame of :func:`~relmkt_helpers.contractual.kaplan_meier`.
    ax : Axes, optional
    max_tenure : int, optional
        Last tenure drawn (default: all).
    ci : bool, default True
        Shade the confidence band.
    **kwargs
        Passed to ``ax.step``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from relmkt_helpers.contractual import kaplan_meier
    >>> subs = pd.DataFrame({"plan": ["a", "a", "b", "b"],
    ...     "start_date": pd.to_datetime(["2025-01-01"] * 4),
    ...     "end_date": pd.to_datetime(["2025-03-01", None, "2025-02-01", "2025-05-01"])})
    >>> ax = plot_km(kaplan_meier(subs, as_of="2025-06-30", group_col="plan"))
    >>> [line.get_label() for line in ax.get_lines()][:2]
    ['a (n=2)', 'b (n=2)']
    """
    if isinstance(result, ContractualChurnResult):
        km, unit = result.km, "months"
    elif isinstance(result, pd.DataFrame) and {"tenure", "survival", "lower", "upper"} <= set(result.columns):
        km, unit = (result if "group" in result.columns else result.assign(group="all")), "months"
    elif isinstance(result, pd.DataFrame) and {"survival", "lower", "upper"} <= set(result.columns):
        km, unit = result.reset_index().assign(group="all"), "periods"
    else:
        raise ParameterError(
            "plot_km expects the result of contractual_churn() or the DataFrame of kaplan_meier() / "
            f"product_limit(), got {type(result).__name__}."
        )
    ax = get_ax(ax)
    for i, (name, part) in enumerate(km.groupby("group", sort=False)):
        if max_tenure is not None:
            part = part[part["tenure"] <= max_tenure]
        colour = PALETTE[i % len(PALETTE)]
        x = part["tenure"].to_numpy()
        ax.step(x, part["survival"].to_numpy(), where="post", color=colour,
                label=f"{name} (n={int(part['at_risk'].iloc[0]):,})", **kwargs)
        if ci:
            ax.fill_between(x, part["lower"].to_numpy(), part["upper"].to_numpy(), step="post",
                            color=colour, alpha=0.2, linewidth=0)
    ax.axhline(0.5, color="0.6", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    format_axis_percent(ax)
    ax.set_xlabel(f"tenure ({unit})")
    ax.set_ylabel("share still subscribed (Kaplan-Meier)")
    ax.set_title("Subscription survival by group, with confidence bands")
    ax.legend(fontsize=8)
    return ax


def plot_value_by_tenure(result: Any, *, ax: Axes | None = None, margin_per_period: float = 1.0,
                         discount: float = 0.01, max_tenure: int = 36, **kwargs: Any) -> Axes:
    """Expected discounted residual value of an active subscriber by tenure (margin x DERL), per group.

    The value rises with tenure: a subscriber who has stayed long is likely a
    low-churn one (Fader & Hardie 2010).

    Parameters
    ----------
    result : ContractualChurnResult, SBGModel or dict of SBGModel
        A result carries its own margins and discount (its ``value_by_tenure``);
        for models, ``margin_per_period``, ``discount`` and ``max_tenure`` are used.
    ax : Axes, optional
    margin_per_period, discount, max_tenure
        See :meth:`~relmkt_helpers.contractual.SBGModel.value_by_tenure` (models only).
    **kwargs
        Passed to ``ax.plot``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from relmkt_helpers.contractual import fit_sbg
    >>> m = fit_sbg([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> ax = plot_value_by_tenure(m, margin_per_period=100.0, discount=0.1, max_tenure=10)
    >>> ax.get_lines()[0].get_ydata()[-1] > ax.get_lines()[0].get_ydata()[0]
    np.True_
    """
    if isinstance(result, ContractualChurnResult):
        vbt, ylabel = result.value_by_tenure, "expected residual value (discounted margin)"
    else:
        models = _models(result, "plot_value_by_tenure")
        vbt = pd.concat([m.value_by_tenure(margin_per_period, discount, max_tenure).reset_index().assign(group=g)
                         for g, m in models.items()], ignore_index=True)
        ylabel = "expected residual value (margin x DERL)"
    ax = get_ax(ax)
    for i, (name, part) in enumerate(vbt.groupby("group", sort=False)):
        ax.plot(part["tenure"].to_numpy(), part["residual_value"].to_numpy(), color=PALETTE[i % len(PALETTE)],
                marker="o", markersize=2.5, label=str(name), **kwargs)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"tenure ({_unit(result)} paid so far)")
    ax.set_ylabel(ylabel)
    ax.set_title("What an active subscriber is still worth, by tenure")
    ax.legend(fontsize=8)
    return ax
