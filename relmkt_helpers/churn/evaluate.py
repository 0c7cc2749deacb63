"""Churn model pipelines and their evaluation: ROC/PR AUC, Brier, calibration, lift and gains.

:func:`churn_pipeline` builds the scikit-learn Pipelines that
:func:`~relmkt_helpers.churn.churn_analysis` trains; :func:`lift_table` and
:func:`churn_metrics` score any set of predicted churn probabilities against
the observed labels.

Deciles and ties
----------------
Decile 1 holds the customers with the **highest** predicted churn probability.
Customers are ranked by score and cut into ``n_bins`` groups of equal size by
rank (``floor(rank * n_bins / n)``). Customers with exactly equal scores cannot
be ordered; where such a tie straddles a decile boundary, each of its positions
is credited with the tie's *mean* outcome, which is the expected result of
breaking the tie at random. Counts of churners per decile can therefore be
fractional, and they do not depend on the input row order. This matters for
models with many tied scores (BG/NBD gives every customer with the same
``(frequency, recency, T)`` the same probability).

References
----------
Provost, F. & Fawcett, T. (2013). *Data Science for Business*, ch. 8
(cumulative response / gains and lift curves).
Brier, G. W. (1950). Verification of forecasts expressed in terms of
probability. *Monthly Weather Review* 78(1), 1-3.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..errors import ParameterError
from .features import NUMERIC_FEATURES

__all__ = ["FEATURE_MODELS", "churn_pipeline", "lift_table", "churn_metrics", "calibration_table"]

#: Models trained on the features (the BG/NBD baseline needs no training labels).
FEATURE_MODELS: tuple[str, ...] = ("logistic", "hgb")
#: Features with long right tails: put on a log scale (sign-preserving log1p) before scaling.
_SKEWED = ("recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days", "gap_mean",
           "gap_median", "gap_std", "recency_gap_ratio", "orders_last_w", "orders_prev_w",
           "spend_last_w", "spend_prev_w")


def _signed_log1p(x: Any) -> Any:
    return np.sign(x) * np.log1p(np.abs(x))


def churn_pipeline(model: str = "hgb", *, numeric: Sequence[str] = NUMERIC_FEATURES,
                   categorical: Sequence[str] = ("channel",), random_state: int = 0) -> Pipeline:
    """An unfitted scikit-learn Pipeline: preprocessing, then a churn classifier.

    Preprocessing (a ColumnTransformer): numeric columns have missing values
    (the gap statistics of one-time customers) imputed with the median, the
    long-tailed ones (counts, days, money) put on a ``sign(x) log(1 + |x|)``
    scale, and all are standardised; categorical columns (the acquisition
    channel) have missing values filled with ``"(missing)"`` and are one-hot
    encoded (at most 20 levels, rarer ones pooled; unseen levels at scoring
    time go to the pooled level or to all zeros). The same preprocessing feeds
    both models; the gradient-boosting model is insensitive to it.

    Parameters
    ----------
    model : {"hgb", "logistic"}
        ``"hgb"``: ``HistGradientBoostingClassifier(random_state=random_state)``
        (scikit-learn defaults: 100 iterations, early stopping on a 10 %
        validation split above 10,000 rows). ``"logistic"``:
        ``LogisticRegression(max_iter=1000)`` (L2, ``C=1``).
    numeric, categorical : sequence of str
        Feature columns of each kind (the frame passed to ``fit`` must have them).
    random_state : int
        Seed of the gradient-boosting model's validation split.

    Returns
    -------
    Pipeline
        Steps ``"prep"`` and ``"model"``.

    Raises
    ------
    ParameterError
        Unknown model name.

    Examples
    --------
    >>> pipe = churn_pipeline("logistic", numeric=["recency_days"], categorical=[])
    >>> [name for name, _ in pipe.steps]
    ['prep', 'model']
    >>> import pandas as pd
    >>> X = pd.DataFrame({"recency_days": [1.0, 2.0, 300.0, 400.0]})
    >>> p = pipe.fit(X, [False, False, True, True]).predict_proba(X)[:, 1]
    >>> bool((p[:2] < 0.5).all() and (p[2:] > 0.5).all())  # long silence -> churn
    True
    """
    if model not in FEATURE_MODELS:
        raise ParameterError(
            f"model={model!r} is not a feature model; choose one of {list(FEATURE_MODELS)} "
            "('hgb' = gradient boosting, 'logistic' = logistic regression)."
        )
    numeric, categorical = list(numeric), list(categorical)
    skewed = [c for c in numeric if c in _SKEWED]
    plain = [c for c in numeric if c not in _SKEWED]
    parts = []
    if skewed:
        parts.append(("skewed", Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("log", FunctionTransformer(_signed_log1p, feature_names_out="one-to-one")),
            ("scale", StandardScaler()),
        ]), skewed))
    if plain:
        parts.append(("plain", Pipeline([
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]), plain))
    if categorical:
        parts.append(("categorical", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20,
                                     sparse_output=False)),
        ]), categorical))
    if not parts:
        raise ParameterError("churn_pipeline needs at least one numeric or categorical column.")
    prep = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    clf = (HistGradientBoostingClassifier(random_state=random_state) if model == "hgb"
           else LogisticRegression(max_iter=1000))
    return Pipeline([("prep", prep), ("model", clf)])


def _labels_scores(y_true: Any, y_score: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.shape != y.shape:
        raise ParameterError(f"{where}: y_true and y_score must be 1-d and of equal length, got shapes "
                             f"{y.shape} and {s.shape}.")
    if y.dtype != bool:
        if not np.isin(y, (0, 1)).all():
            raise ParameterError(f"{where}: y_true must be 0/1 or bool (1 = churned).")
        y = y.astype(bool)
    if not np.isfinite(s).all():
        raise ParameterError(f"{where}: y_score has missing or infinite values; every customer needs a score.")
    return y, s


def lift_table(y_true: Any, y_score: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by decile of predicted churn (decile 1 = highest scores).

    Ties in ``y_score`` are credited with their mean outcome (see the module
    docstring), so the table does not depend on the row order.

    Parameters
    ----------
    y_true : array-like of bool or 0/1
        Observed churn (True / 1 = churned).
    y_score : array-like of float
        Predicted churn probability (or any score: higher = more likely to churn).
    n_bins : int, default 10
        Number of equal-size groups (10 = deciles). At least 2, at most the
        number of customers.

    Returns
    -------
    DataFrame
        One row per group, index ``decile`` (1..n_bins): ``customers``,
        ``churned`` (expected count under random tie-breaking), ``churn_rate``,
        ``lift`` (``churn_rate`` / overall churn rate), ``cumulative_churned``,
        ``gains`` (share of all churners in groups 1..d: the capture rate),
        ``cumulative_lift`` (``gains`` / share of customers in groups 1..d),
        ``mean_score``, ``min_score``, ``max_score``.

    Raises
    ------
    ParameterError
        Mismatched inputs, bad ``n_bins``, or no churner at all (lift undefined).

    Examples
    --------
    >>> t = lift_table([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, .0], n_bins=5)
    >>> print(t[["customers", "churned", "lift", "gains"]].round(3).to_string())  # doctest: +NORMALIZE_WHITESPACE
            customers  churned   lift  gains
    decile
    1               2      2.0  3.333  0.667
    2               2      1.0  1.667  1.000
    3               2      0.0  0.000  1.000
    4               2      0.0  0.000  1.000
    5               2      0.0  0.000  1.000

    All scores tied: every decile gets the overall rate, whatever the row order.

    >>> lift_table([1, 0, 0, 0], [0.5] * 4, n_bins=2)["lift"].tolist()
    [1.0, 1.0]
    """
    y, s = _labels_scores(y_true, y_score, "lift_table")
    n = len(y)
    ok = isinstance(n_bins, (int, np.integer)) and not isinstance(n_bins, bool) and 2 <= n_bins <= max(n, 2)
    if not ok or n < n_bins:
        raise ParameterError(f"n_bins={n_bins!r} must be a whole number from 2 to the number of customers ({n}).")
    total = float(y.sum())
    if total == 0:
        raise ParameterError("lift_table: no customer churned, so lift and gains are undefined. "
                             "Use a longer horizon or a later date.")
    order = np.argsort(-s, kind="stable")
    ss, ys = s[order], y[order].astype(np.float64)
    grp = np.cumsum(np.r_[True, ss[1:] != ss[:-1]]) - 1
    expected = (np.bincount(grp, weights=ys) / np.bincount(grp))[grp]   # tie mean at each position
    dec = (np.arange(n) * n_bins) // n
    customers = np.bincount(dec, minlength=n_bins)
    churned = np.bincount(dec, weights=expected, minlength=n_bins)
    base = total / n
    cum_c = np.cumsum(churned)
    cum_n = np.cumsum(customers)
    out = pd.DataFrame({
        "customers": customers.astype(np.int64),
        "churned": churned,
        "churn_rate": churned / customers,
        "lift": churned / customers / base,
        "cumulative_churned": cum_c,
        "gains": cum_c / cum_c[-1],                  # cum_c[-1] == total up to rounding; ends at exactly 1
        "cumulative_lift": (cum_c / cum_c[-1]) / (cum_n / n),
        "mean_score": np.bincount(dec, weights=ss, minlength=n_bins) / customers,
        "min_score": np.minimum.reduceat(ss, np.flatnonzero(np.r_[True, dec[1:] != dec[:-1]])),
        "max_score": np.maximum.reduceat(ss, np.flatnonzero(np.r_[True, dec[1:] != dec[:-1]])),
    }, index=pd.RangeIndex(1, n_bins + 1, name="decile"))
    return out


def calibration_table(y_true: Any, y_prob: Any, *, n_bins: int = 10) -> pd.DataFrame:
    """Reliability curve: mean predicted vs observed churn rate in quantile bins.

    A thin wrapper of ``sklearn.calibration.calibration_curve(y, p,
    n_bins=n_bins, strategy="quantile")``: bins hold (about) equal numbers of
    customers; bins that coincide because of tied probabilities are merged by
    scikit-learn, so fewer than ``n_bins`` rows can come back.

    Parameters
    ----------
    y_true : array-like of bool or 0/1
    y_prob : array-like of float in [0, 1]
    n_bins : int, default 10

    Returns
    -------
    DataFrame
        ``bin`` (1 = lowest probabilities), ``mean_predicted``, ``observed_rate``.

    Examples
    --------
    >>> t = calibration_table([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], n_bins=2)
    >>> t.round(2).to_dict("list")
    {'bin': [1, 2], 'mean_predicted': [0.15, 0.85], 'observed_rate': [0.0, 1.0]}
    """
    y, p = _labels_scores(y_true, y_prob, "calibration_table")
    if (p < 0).any() or (p > 1).any():
        raise ParameterError("calibration_table: y_prob must be probabilities between 0 and 1.")
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    return pd.DataFrame({"bin": np.arange(1, len(prob_true) + 1), "mean_predicted": prob_pred,
                         "observed_rate": prob_true})


def churn_metrics(y_true: Any, scores: Mapping[str, Any]) -> pd.DataFrame:
    """ROC AUC, PR AUC, Brier score and top-decile capture and lift for each model's probabilities.

    Parameters
    ----------
    y_true : array-like of bool or 0/1
        Observed churn.
    scores : mapping of str to array-like
        Model name -> predicted churn probability per customer (same order as ``y_true``).

    Returns
    -------
    DataFrame
        Index ``model`` (the mapping's order, then ``"no_skill"``): ``roc_auc``,
        ``pr_auc`` (average precision), ``brier``, ``top_decile_capture``
        (share of churners in decile 1), ``top_decile_lift``, ``base_rate``,
        ``customers``, ``churned``. The ``no_skill`` row is the reference of a
        random ranking with the base rate as the forecast (ROC AUC 0.5, PR AUC
        = base rate, Brier = base rate x (1 - base rate), capture 10 %, lift 1).

    Raises
    ------
    ParameterError
        Only one class in ``y_true`` (the AUCs are undefined).

    Examples
    --------
    >>> m = churn_metrics([1, 1, 0, 0] * 5, {"perfect": [0.9, 0.8, 0.2, 0.1] * 5})
    >>> m.loc["perfect", ["roc_auc", "pr_auc"]].tolist(), float(m.loc["no_skill", "roc_auc"])
    ([1.0, 1.0], 0.5)
    """
    y = np.asarray(y_true).astype(bool)
    n, k = len(y), int(y.sum())
    if k == 0 or k == n:
        raise ParameterError(f"churn_metrics: every one of the {n} customers is "
                             f"{'churned' if k else 'retained'}; the metrics need both outcomes.")
    base = k / n
    rows = {}
    for name, sc in scores.items():
        yy, s = _labels_scores(y, sc, f"churn_metrics[{name!r}]")
        lt = lift_table(yy, s)
        rows[name] = {
            "roc_auc": float(roc_auc_score(yy, s)),
            "pr_auc": float(average_precision_score(yy, s)),
            "brier": float(brier_score_loss(yy, np.clip(s, 0.0, 1.0))),
            "top_decile_capture": float(lt["gains"].iloc[0]),
            "top_decile_lift": float(lt["lift"].iloc[0]),
        }
    rows["no_skill"] = {"roc_auc": 0.5, "pr_auc": base, "brier": base * (1 - base),
                        "top_decile_capture": 0.1, "top_decile_lift": 1.0}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "model"
    out["base_rate"] = base
    out["customers"] = n
    out["churned"] = k
    return out
