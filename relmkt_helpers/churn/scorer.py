"""Which model scores the retention list: the backtest's winner, in a sentence with the numbers.

The churn page compares feature models (logistic regression, gradient boosting)
with the report's repeat-purchase model (BG/NBD, Pareto/NBD or MBG/NBD) on a
period none of them saw. The list is then scored by the model that ranked
churners best, as the page shows it: the highest ROC AUC rounded to three
decimals. A tie goes to the simpler model, in the order the candidates are
given (the repeat-purchase model first: it has four parameters, needs no
labels, and its probability is the one the customer value rests on).

Examples
--------
>>> import pandas as pd
>>> m = pd.DataFrame({"roc_auc": [0.7712, 0.7831, 0.7903]}, index=["logistic", "hgb", "bgnbd"])
>>> name, why = choose_scorer(m, ["bgnbd", "logistic", "hgb"])
>>> name
'bgnbd'
>>> print(why)
BG/NBD ranked who would churn better than gradient boosting in the backtest: ROC AUC 0.790 against 0.783, so the list is scored by BG/NBD.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from ..clv.choice import model_label
from ..errors import ParameterError

__all__ = ["SCORERS", "FEATURE_MODELS_BY_SIMPLICITY", "SCORER_METRICS", "choose_scorer"]

#: Accepted values of ``churn_analysis(scorer=...)``.
SCORERS: tuple[str, ...] = ("auto", "hgb", "logistic", "probabilistic")
#: The feature models, simplest first.
FEATURE_MODELS_BY_SIMPLICITY: tuple[str, ...] = ("logistic", "hgb")
#: Metrics a winner can be chosen by (higher is better) and how the page names them.
SCORER_METRICS: dict[str, str] = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC",
                                  "top_decile_capture": "top-decile capture"}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def choose_scorer(metrics: pd.DataFrame, candidates: Sequence[str], *, metric: str = "roc_auc",
                  decimals: int = 3, imposed: str | None = None) -> tuple[str, str]:
    """The candidate with the best backtest ``metric``, and the sentence that says so.

    Parameters
    ----------
    metrics : DataFrame
        One row per model (index), a column ``metric`` (higher is better).
    candidates : sequence of str
        Models that may score the list, **simplest first** (ties go to the earlier one).
    metric : {"roc_auc", "pr_auc", "top_decile_capture"}
    decimals : int
        Values are compared as the page shows them, rounded to this many decimals.
    imposed : str, optional
        A model set by the parameters: it is returned, and the sentence says how it
        did against the best candidate.

    Returns
    -------
    (str, str)
        The model's name and one sentence for the page.

    Examples
    --------
    >>> m = pd.DataFrame({"roc_auc": [0.80, 0.8312, 0.8104]}, index=["logistic", "hgb", "pnbd"])
    >>> choose_scorer(m, ["pnbd", "logistic", "hgb"])[1]
    'Gradient boosting ranked who would churn better than Pareto/NBD in the backtest: ROC AUC 0.831 against 0.810, so the list is scored by gradient boosting.'
    >>> m = pd.DataFrame({"roc_auc": [0.7901, 0.7898]}, index=["hgb", "bgnbd"])
    >>> choose_scorer(m, ["bgnbd", "hgb"])
    ('bgnbd', 'BG/NBD and gradient boosting ranked who would churn equally well in the backtest (ROC AUC 0.790 each, to three decimals), so the list is scored by the simpler BG/NBD.')
    >>> choose_scorer(m, ["bgnbd", "hgb"], imposed="hgb")[1]
    'The list is scored by gradient boosting, as set in the parameters; in the backtest it ranked who would churn as well as BG/NBD, the best model: ROC AUC 0.790 each.'
    """
    if metric not in SCORER_METRICS:
        raise ParameterError(f"metric={metric!r}; choose one of {list(SCORER_METRICS)}.")
    candidates = list(dict.fromkeys(candidates))
    missing = [c for c in candidates if c not in metrics.index]
    if missing or not candidates:
        raise ParameterError(f"choose_scorer: no backtest row for {missing or 'any candidate'}; "
                             f"the table has {list(metrics.index)}.")
    what = SCORER_METRICS[metric]
    shown = {c: round(float(metrics.loc[c, metric]), decimals) for c in candidates}
    best = max(candidates, key=lambda c: (shown[c], -candidates.index(c)))  # ties: the simpler (earlier) one
    f = f"{{:.{decimals}f}}".format
    if imposed is not None:
        name = model_label(imposed)
        if imposed not in shown:
            return imposed, f"The list is scored by {name}, as set in the parameters."
        if imposed == best:
            return imposed, (f"The list is scored by {name}, as set in the parameters; it also ranked who would "
                             f"churn best in the backtest ({what} {f(shown[imposed])}).")
        if shown[imposed] == shown[best]:
            return imposed, (f"The list is scored by {name}, as set in the parameters; in the backtest it ranked "
                             f"who would churn as well as {model_label(best)}, the best model: {what} "
                             f"{f(shown[best])} each.")
        return imposed, (f"The list is scored by {name}, as set in the parameters, although {model_label(best)} "
                         f"ranked who would churn better in the backtest: {what} {f(shown[best])} against "
                         f"{f(shown[imposed])}.")
    others = [c for c in candidates if c != best]
    if not others:
        return best, f"The list is scored by {model_label(best)}, the only model compared ({what} {f(shown[best])})."
    runner = max(others, key=lambda c: (shown[c], -candidates.index(c)))
    if shown[runner] == shown[best]:
        return best, (f"{_cap(model_label(best))} and {model_label(runner)} ranked who would churn equally well "
                      f"in the backtest ({what} {f(shown[best])} each, to three decimals), so the list is scored "
                      f"by the simpler {model_label(best)}.")
    return best, (f"{_cap(model_label(best))} ranked who would churn better than {model_label(runner)} in the "
                  f"backtest: {what} {f(shown[best])} against {f(shown[runner])}, so the list is scored by "
                  f"{model_label(best)}.")
