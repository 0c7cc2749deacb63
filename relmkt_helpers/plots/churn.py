"""Plot helpers for :func:`relmkt_helpers.churn.churn_analysis`.

Each helper is ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``: it takes
the :class:`~relmkt_helpers.churn.ChurnResult`, draws on the Axes it is given
(or on a new one) with Axes methods and ``ax.set_*`` only, never with global
``plt.*`` state, and returns the Axes. Every chart of the evaluation reads the
evaluation test window (``result.windows``); the distribution can also show
the scored list.

Colours are fixed per model (Okabe-Ito palette): logistic regression blue,
gradient boosting orange, BG/NBD green; the no-skill reference is a dashed
black line.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from sklearn.metrics import roc_curve

from ..churn.analysis import ChurnResult
from ..errors import ParameterError
from ._common import PALETTE, format_axis_percent, get_ax

__all__ = [
    "MODEL_COLOURS",
    "MODEL_LABELS",
    "plot_roc_curves",
    "plot_calibration_curve",
    "plot_lift",
    "plot_gains",
    "plot_permutation_importance",
    "plot_churn_distribution",
]

#: Colour of each model in every churn chart.
MODEL_COLOURS: dict[str, str] = {"logistic": PALETTE[0], "hgb": PALETTE[1], "bgnbd": PALETTE[2],
                                 "pnbd": PALETTE[4], "mbgnbd": PALETTE[5]}
#: Display name of each model.
MODEL_LABELS: dict[str, str] = {"logistic": "logistic regression", "hgb": "gradient boosting",
                                "bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
_REFERENCE = PALETTE[7]


def _check(result: Any, where: str) -> ChurnResult:
    if not isinstance(result, ChurnResult):
        raise ParameterError(f"{where} expects the ChurnResult returned by churn_analysis(), "
                             f"got {type(result).__name__}.")
    return result


def _models(result: ChurnResult, models: Sequence[str] | None, where: str) -> list[str]:
    known = result.models
    if models is None:
        return known
    models = [models] if isinstance(models, str) else list(models)
    bad = [m for m in models if m not in known]
    if bad or not models:
        raise ParameterError(f"{where}: models={models!r}; choose from {known}.")
    return models


def _window_label(result: ChurnResult) -> str:
    row = result.windows.iloc[1 if result.evaluation == "out_of_time" else 0]
    return (f"features at {row['feature_date'].date()}, churn = no order in "
            f"({row['label_start'].date()}, {row['label_end'].date()}]")


def plot_roc_curves(result: ChurnResult, *, ax: Axes | None = None, models: Sequence[str] | None = None,
                    **kwargs: Any) -> Axes:
    """ROC curves of the models on the evaluation test window, with the random-ranking diagonal.

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    models : sequence of str, optional
        Subset of ``result.models`` (default all).
    **kwargs
        Passed to each model's ``ax.plot``.

    Returns
    -------
    Axes
        One line per model (legend: name and ROC AUC), then the diagonal.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_roc_curves(_demo_result())
    >>> [line.get_label() for line in ax.lines][-1]
    'random ranking (AUC 0.5)'
    """
    result = _check(result, "plot_roc_curves")
    ax = get_ax(ax, figsize=(6.0, 5.0))
    y = result.predictions["churned"].to_numpy()
    for m in _models(result, models, "plot_roc_curves"):
        fpr, tpr, _ = roc_curve(y, result.predictions[m].to_numpy())
        auc = float(result.metrics.loc[m, "roc_auc"])
        ax.plot(fpr, tpr, color=MODEL_COLOURS.get(m, PALETTE[3]),
                label=f"{MODEL_LABELS.get(m, m)} (AUC {auc:.3f})", **kwargs)
    ax.plot([0, 1], [0, 1], linestyle="--", color=_REFERENCE, linewidth=1, label="random ranking (AUC 0.5)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("false positive rate (retained customers flagged)")
    ax.set_ylabel("true positive rate (churners caught)")
    ax.set_title(f"ROC curves, out of sample\n{_window_label(result)}", fontsize="medium")
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_calibration_curve(result: ChurnResult, *, ax: Axes | None = None,
                           models: Sequence[str] | None = None, **kwargs: Any) -> Axes:
    """Reliability diagram: observed churn rate against mean predicted probability, per quantile bin.

    Points on the diagonal mean the probabilities can be read at face value
    (of customers given 0.8, about 80 % churned).

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    models : sequence of str, optional
    **kwargs
        Passed to each model's ``ax.plot``.

    Returns
    -------
    Axes
        One line per model (points = ``result.calibration`` rows), then the diagonal.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> res = _demo_result()
    >>> ax = plot_calibration_curve(res, models=["hgb"])
    >>> ax.lines[0].get_xdata().tolist() == res.calibration.query("model == 'hgb'")["mean_predicted"].tolist()
    True
    """
    result = _check(result, "plot_calibration_curve")
    ax = get_ax(ax, figsize=(6.0, 5.0))
    cal = result.calibration
    for m in _models(result, models, "plot_calibration_curve"):
        part = cal[cal["model"] == m]
        ax.plot(part["mean_predicted"].to_numpy(), part["observed_rate"].to_numpy(), marker="o",
                color=MODEL_COLOURS.get(m, PALETTE[3]), label=MODEL_LABELS.get(m, m), **kwargs)
    ax.plot([0, 1], [0, 1], linestyle="--", color=_REFERENCE, linewidth=1, label="perfectly calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    format_axis_percent(ax, "x")
    format_axis_percent(ax, "y")
    ax.set_xlabel("mean predicted churn probability (bin)")
    ax.set_ylabel("observed churn rate (bin)")
    ax.set_title(f"Calibration, 10 quantile bins\n{_window_label(result)}", fontsize="medium")
    ax.legend(frameon=False, loc="upper left")
    return ax


def plot_lift(result: ChurnResult, *, ax: Axes | None = None, models: Sequence[str] | None = None,
              **kwargs: Any) -> Axes:
    """Grouped bars: lift by decile of predicted churn (decile 1 = highest), one colour per model.

    Lift 1.3 in decile 1 means the top tenth of the ranking churns at 1.3 times
    the overall rate. The dashed line at 1 is a random ranking.

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    models : sequence of str, optional
    **kwargs
        Passed to ``ax.bar``.

    Returns
    -------
    Axes
        Bar containers in ``ax.containers``, one per model, ten bars each
        (heights = ``result.deciles["lift"]``).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_lift(_demo_result())
    >>> len(ax.containers), len(ax.containers[0])
    (3, 10)
    """
    result = _check(result, "plot_lift")
    ax = get_ax(ax)
    ms = _models(result, models, "plot_lift")
    dec = result.deciles
    width = 0.8 / len(ms)
    for i, m in enumerate(ms):
        part = dec[dec["model"] == m]
        x = part["decile"].to_numpy() + (i - (len(ms) - 1) / 2) * width
        ax.bar(x, part["lift"].to_numpy(), width=width, color=MODEL_COLOURS.get(m, PALETTE[3]),
               label=MODEL_LABELS.get(m, m), **kwargs)
    ax.axhline(1.0, linestyle="--", color=_REFERENCE, linewidth=1, label="random ranking")
    n = int(dec["decile"].max())
    ax.set_xticks(np.arange(1, n + 1))
    ax.set_xlabel("decile of predicted churn probability (1 = highest)")
    ax.set_ylabel("lift (churn rate / overall churn rate)")
    ax.set_title(f"Lift by decile\n{_window_label(result)}", fontsize="medium")
    ax.legend(frameon=False)
    return ax


def plot_gains(result: ChurnResult, *, ax: Axes | None = None, models: Sequence[str] | None = None,
               **kwargs: Any) -> Axes:
    """Cumulative gains: share of all churners caught by contacting the top x % of the ranking.

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    models : sequence of str, optional
    **kwargs
        Passed to each model's ``ax.plot``.

    Returns
    -------
    Axes
        One line per model through (0, 0) and the decile points (x = share of
        customers contacted, y = ``result.deciles["gains"]``), then the random
        diagonal and the best possible curve.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_gains(_demo_result(), models=["bgnbd"])
    >>> ax.lines[0].get_xydata()[[0, -1]].tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    result = _check(result, "plot_gains")
    ax = get_ax(ax, figsize=(6.0, 5.0))
    dec = result.deciles
    for m in _models(result, models, "plot_gains"):
        part = dec[dec["model"] == m]
        share = np.cumsum(part["customers"].to_numpy()) / part["customers"].sum()
        ax.plot(np.r_[0.0, share], np.r_[0.0, part["gains"].to_numpy()], marker="o",
                color=MODEL_COLOURS.get(m, PALETTE[3]), label=MODEL_LABELS.get(m, m), **kwargs)
    base = float(result.metrics["base_rate"].iloc[0])
    ax.plot([0, 1], [0, 1], linestyle="--", color=_REFERENCE, linewidth=1, label="random ranking")
    ax.plot([0, base, 1], [0, 1, 1], linestyle=":", color=_REFERENCE, linewidth=1, label="perfect ranking")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    format_axis_percent(ax, "x")
    format_axis_percent(ax, "y")
    ax.set_xlabel("customers contacted (top of the ranking)")
    ax.set_ylabel("share of all churners caught")
    ax.set_title(f"Cumulative gains\n{_window_label(result)}", fontsize="medium")
    ax.legend(frameon=False, loc="lower right")
    return ax


def plot_permutation_importance(result: ChurnResult, *, ax: Axes | None = None, top: int = 15,
                                **kwargs: Any) -> Axes:
    """Horizontal bars: drop in ROC AUC when each feature is shuffled, with +/- one standard deviation.

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    top : int, default 15
        Most important features shown (largest at the top).
    **kwargs
        Passed to ``ax.barh``.

    Returns
    -------
    Axes
        One bar container; bar widths = ``importance_mean`` of the top features.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_permutation_importance(_demo_result(), top=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['recency_days', 'frequency']
    """
    result = _check(result, "plot_permutation_importance")
    if not isinstance(top, (int, np.integer)) or isinstance(top, bool) or top < 1:
        raise ParameterError(f"top={top!r} must be a whole number >= 1.")
    imp = result.importance.head(int(top))
    ax = get_ax(ax, figsize=(7.0, max(2.5, 0.35 * len(imp) + 1.2)))
    m = result.importance.attrs.get("model", result.model)
    y = np.arange(len(imp))[::-1]
    ax.barh(y, imp["importance_mean"].to_numpy(), xerr=imp["importance_std"].to_numpy(),
            color=MODEL_COLOURS.get(m, PALETTE[3]), **kwargs)
    ax.axvline(0.0, color=_REFERENCE, linewidth=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(imp["feature"].tolist())
    ax.set_xlabel("drop in ROC AUC when the feature is shuffled")
    ax.set_title(f"Permutation importance ({MODEL_LABELS.get(m, m)})", fontsize="medium")
    return ax


def plot_churn_distribution(result: ChurnResult, *, ax: Axes | None = None, source: str = "scored",
                            bins: int = 20, **kwargs: Any) -> Axes:
    """Histogram of predicted churn probabilities.

    Parameters
    ----------
    result : ChurnResult
    ax : Axes, optional
    source : {"scored", "evaluation"}, default "scored"
        ``"scored"``: the scored list at ``as_of`` (what the retention team
        receives). ``"evaluation"``: the chosen model's predictions on the
        evaluation test window, split into customers who churned and who
        did not, to show how well the two are separated.
    bins : int, default 20
        Equal-width bins on [0, 1].
    **kwargs
        Passed to ``ax.hist``.

    Returns
    -------
    Axes
        One histogram (``"scored"``) or two (``"evaluation"``: churned first).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> res = _demo_result()
    >>> ax = plot_churn_distribution(res)
    >>> int(sum(p.get_height() for p in ax.patches)) == len(res.scored)
    True
    """
    result = _check(result, "plot_churn_distribution")
    if source not in ("scored", "evaluation"):
        raise ParameterError(f"source={source!r}; use 'scored' (the list at as_of) or 'evaluation' "
                             "(predictions on the evaluation window by outcome).")
    if not isinstance(bins, (int, np.integer)) or isinstance(bins, bool) or bins < 1:
        raise ParameterError(f"bins={bins!r} must be a whole number >= 1.")
    ax = get_ax(ax)
    edges = np.linspace(0.0, 1.0, int(bins) + 1)
    label = MODEL_LABELS.get(result.model, result.model)
    if source == "scored":
        p = result.scored["churn_probability"].to_numpy()
        ax.hist(p, bins=edges, color=MODEL_COLOURS.get(result.model, PALETTE[3]), **kwargs)
        ax.set_title(f"Predicted churn probability at {result.as_of} ({label}, {len(p):,} customers)",
                     fontsize="medium")
    else:
        pr = result.predictions
        p = pr[result.model].to_numpy()
        churned = pr["churned"].to_numpy()
        ax.hist(p[churned], bins=edges, color=PALETTE[3], alpha=0.6, label=f"churned ({int(churned.sum()):,})",
                **kwargs)
        ax.hist(p[~churned], bins=edges, color=PALETTE[0], alpha=0.6,
                label=f"bought again ({int((~churned).sum()):,})", **kwargs)
        ax.legend(frameon=False, loc="upper left")
        ax.set_title(f"Predicted churn probability by outcome ({label})\n{_window_label(result)}",
                     fontsize="medium")
    ax.set_xlim(0, 1)
    format_axis_percent(ax, "x")
    ax.set_xlabel(f"predicted probability of no order in the next {result.horizon_days} days")
    ax.set_ylabel("customers")
    return ax


def _demo_result() -> ChurnResult:
    """A small synthetic :class:`ChurnResult` for the examples (no model is fitted).

    1,000 customers; churn drawn from a probability that rises with
    ``recency_days``; the three "models" are that probability plus noise.
    """
    from ..churn.evaluate import calibration_table, churn_metrics, lift_table  # noqa: PLC0415

    rng = np.random.default_rng(0)
    n = 1000
    ids = pd.Index([f"C{i:04d}" for i in range(n)], name="customer_id", dtype="str")
    p = rng.beta(2.0, 1.0, n)
    y = rng.random(n) < p
    preds = {m: np.clip(p + rng.normal(0, s, n), 0.001, 0.999)
             for m, s in (("logistic", 0.15), ("hgb", 0.1), ("bgnbd", 0.12))}
    deciles = pd.concat([lift_table(y, v).reset_index().assign(model=m) for m, v in preds.items()],
                        ignore_index=True)
    cal = pd.concat([calibration_table(y, v).assign(model=m) for m, v in preds.items()], ignore_index=True)
    imp = pd.DataFrame({"feature": ["recency_days", "frequency", "monetary_total"],
                        "importance_mean": [0.2, 0.05, 0.01], "importance_std": [0.01, 0.01, 0.005]})
    imp.attrs["model"] = "hgb"
    day = pd.Timestamp
    windows = pd.DataFrame({"role": ["evaluation: training", "evaluation: test", "scoring: training", "scoring"],
                            "feature_date": [day("2025-07-04"), day("2025-10-02"), day("2025-10-02"),
                                             day("2025-12-31")],
                            "label_start": [day("2025-07-04"), day("2025-10-02"), day("2025-10-02"),
                                            day("2025-12-31")],
                            "label_end": [day("2025-10-02"), day("2025-12-31"), day("2025-12-31"),
                                          day("2026-03-31")]})
    scored = pd.DataFrame({"customer_id": ids, "churn_probability": preds["hgb"]})
    return ChurnResult(as_of="2025-12-31", horizon_days=90, window_days=90, model="hgb", evaluation="out_of_time",
                       windows=windows, metrics=churn_metrics(y, preds), deciles=deciles, calibration=cal,
                       importance=imp, predictions=pd.DataFrame({"churned": y, **preds}, index=ids),
                       scored=scored, pipeline=None, repeat_model=None, spend_model=None,
                       repeat_model_evaluation=None)
