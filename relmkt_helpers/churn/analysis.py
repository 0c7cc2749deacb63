"""The churn analysis of notebook 02: time-based backtest, model comparison and the scored retention list.

:func:`churn_analysis` does everything the notebook shows, in one call, and
returns a :class:`ChurnResult` holding the tables (windows, metrics, deciles,
calibration curve, permutation importance, evaluation predictions, scored list).

The windows (``H = horizon_days``; every label window is ``(start, end]``)
--------------------------------------------------------------------------
==========================  ==================  ===================================  =====================
role                        feature date        label window                         used for
==========================  ==================  ===================================  =====================
evaluation: training        ``as_of - 2H``      ``(as_of - 2H, as_of - H]``          fitting the models
                                                                                     that are evaluated
evaluation: test            ``as_of - H``       ``(as_of - H, as_of]``               every metric, decile,
                                                                                     calibration bin and
                                                                                     importance
scoring: training           ``as_of - H``       ``(as_of - H, as_of]``               fitting the model that
                                                                                     scores the list
scoring                     ``as_of``           unknown (``(as_of, as_of + H]``)     the scored list
==========================  ==================  ===================================  =====================

So every metric is **out of time**: the evaluated models never saw an order
after ``as_of - H``, and they are scored on what happened in ``(as_of - H,
as_of]``, exactly as the scoring model is later used on ``(as_of, as_of + H]``.
``result.windows`` lists these rows with their dates, customers and churn rates.

With ``evaluation="cross_validation"`` the first two rows are replaced by one:
features at ``as_of - H``, labels in ``(as_of - H, as_of]``, and out-of-fold
predictions from a stratified ``n_folds``-fold split of the customers. It needs
history back to ``as_of - H`` only (one horizon instead of two), for short logs
such as CDNOW, whose customers were all acquired in its first quarter. Its
metrics are out of sample (other customers) but not out of time, and the models
learn the period's churn rate from the other folds, which flatters their
calibration (Brier score) against the BG/NBD baseline.

Models
------
``"logistic"`` and ``"hgb"`` are the Pipelines of
:func:`~relmkt_helpers.churn.churn_pipeline` on the features of
:func:`~relmkt_helpers.churn.churn_features`. Training sets larger than
``max_train_rows`` customers are subsampled at random (``random_state``) for
speed; evaluation and scoring use every customer. The same cap applies to the
BG/NBD and Gamma-Gamma fits below (on a million customers a random 200,000
estimate the four population parameters with standard errors about 2.2x those
of the full fit, still far below the differences between customers), so that
every model learns from as many customers.

``"bgnbd"`` is the probabilistic baseline: BG/NBD (Fader, Hardie & Lee 2005)
fitted by :class:`~relmkt_helpers.clv.models.RepeatPurchaseModel` on the
orders dated on or before the feature date (``rfm_summary(..., freq="D",
freq_multiplier=7)``: weeks at daily precision, as in the paper), and its
probability of **no purchase** in the next ``H`` days,
``conditional_probability_no_purchases(H / 7, frequency, recency, T)``. It uses
no labels. For the evaluation it is fitted on the orders up to ``as_of - H``,
which is no more data than the feature models saw (their training labels end
there). Its P(alive) is deliberately **not** a feature of the other models, so
that the comparison is between two separate approaches.

The report's repeat-purchase model (``model=``, ``"auto"`` by default) is
chosen exactly as on the CLV page, by
:func:`~relmkt_helpers.clv.choice.choose_model` (lowest AIC on a
calibration/holdout split), and fitted by
:func:`~relmkt_helpers.clv.choice.fit_value_models`: when it is not BG/NBD
(Pareto/NBD or MBG/NBD), it is evaluated beside BG/NBD the same way. Its
value is the CLV page's, customer by customer.

Which model scores the list
---------------------------
With ``scorer="auto"``, the model with the highest ROC AUC in the backtest,
rounded to three decimals as on the page; a tie goes to the simpler model: the
repeat-purchase model, then logistic regression, then gradient boosting
(:func:`~relmkt_helpers.churn.scorer.choose_scorer`). ``result.scorer_reason``
is the sentence the page prints, with the numbers.

The scored list (at ``as_of``)
------------------------------
``churn_probability``
    The chosen model's probability of no purchase in ``(as_of, as_of + H]``.
``value_at_risk``
    The customer's expected future value: the discounted expected margin over
    the next ``value_horizon_months`` months,
    :func:`relmkt_helpers.clv.value.customer_value` (the repeat-purchase model +
    Gamma-Gamma fitted on the orders up to ``as_of``, ``margin_rate``, ``annual_discount_rate``,
    no bootstrap), column ``clv``. It already weighs the value by the chance
    that the customer is still active (``p_alive``), so a customer who has
    almost certainly left carries little value to save and does not top the
    list however certain the churn.
``value_if_active``
    The same value *if the customer is still active at* ``as_of``
    (``value_at_risk / p_alive``; 0 if P(alive) underflows to 0). Use it, not
    ``value_at_risk``, for a win-back list of valuable customers who have
    probably left.
``priority``
    ``churn_probability * value_at_risk``: the expected value lost if nothing
    is done. The list is sorted by it, highest first (ties by ``customer_id``).
``p_alive``, ``p_no_purchase``, ``expected_spend``
    From the CLV models at ``as_of``, for context: the repeat-purchase model's probability that
    the customer is still active and of no purchase in the horizon, and the
    Gamma-Gamma expected value of an order.
Key features
    ``recency_days``, ``frequency``, ``monetary_total``, ``tenure_days``,
    ``gap_median``, ``recency_gap_ratio``, ``order_trend``, ``spend_trend`` and
    ``channel``, so that a marketer sees why a customer is on the list.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
easy way: An alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
"""
from __future__ import annotations

import contextlib
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ..clv.choice import ModelChoice, ValueModels, check_model, choose_model, fit_repeat_model, fit_value_models
from ..clv.models import RepeatPurchaseModel, SpendModel
from ..clv.prep import rfm_summary
from ..clv.value import customer_value
from ..errors import DataValidationError, ParameterError
from .evaluate import FEATURE_MODELS, calibration_table, churn_metrics, churn_pipeline, lift_table
from .features import NUMERIC_FEATURES, _check_days, _features_at, _iso, _labels_at, _prepare, _to_day
from .scorer import FEATURE_MODELS_BY_SIMPLICITY, SCORERS, choose_scorer

__all__ = ["CHURN_MODELS", "KEY_FEATURES", "ChurnResult", "churn_analysis"]

#: Models that can score the list: the two feature models and the report's repeat-purchase model.
CHURN_MODELS: tuple[str, ...] = ("hgb", "logistic", "bgnbd", "pnbd", "mbgnbd")
_EVALUATIONS = ("out_of_time", "cross_validation")
#: BG/NBD time unit: weeks at daily precision (Fader, Hardie & Lee 2005).
_UNIT_DAYS = 7
#: Columns of the scored list that explain a score.
KEY_FEATURES: tuple[str, ...] = ("recency_days", "frequency", "monetary_total", "tenure_days", "gap_median",
                                 "recency_gap_ratio", "order_trend", "spend_trend", "channel")


@dataclass(repr=False)
class ChurnResult:
    """Everything :func:`churn_analysis` computed.

    Attributes
    ----------
    as_of : str
        The scoring date (ISO).
    horizon_days, window_days : int
        Label horizon ``H`` and trend window ``W``.
    model : str
        The model that scored the list (``"hgb"``, ``"logistic"`` or the repeat-purchase
        model, e.g. ``"bgnbd"``): the backtest's winner unless ``scorer`` imposed one.
    value_model : str
        The repeat-purchase model of the report (``"bgnbd"``, ``"pnbd"`` or ``"mbgnbd"``),
        chosen by :func:`~relmkt_helpers.clv.choice.choose_model` exactly as the CLV page
        chooses it: it gives ``value_at_risk`` and is the probabilistic model of the backtest.
    scorer_reason : str
        The sentence for the page: which model scores the list, and why, with the numbers.
    evaluation : str
        ``"out_of_time"`` or ``"cross_validation"``.
    windows : DataFrame
        One row per window: ``role``, ``feature_date``, ``label_start``
        (exclusive), ``label_end`` (inclusive), ``customers``, ``churned``,
        ``churn_rate``, ``used_for``.
    metrics : DataFrame
        :func:`~relmkt_helpers.churn.churn_metrics` on the evaluation test
        window: one row per model plus ``no_skill``.
    deciles : DataFrame
        :func:`~relmkt_helpers.churn.lift_table` per model, stacked (column ``model``).
    calibration : DataFrame
        :func:`~relmkt_helpers.churn.calibration_table` per model (10 quantile bins), stacked.
    importance : DataFrame
        Permutation importance (drop in ROC AUC) of each feature for the model
        in ``importance.attrs["model"]``, sorted, on a subsample of the evaluation test window.
    predictions : DataFrame
        Evaluation test window, index ``customer_id``: ``churned`` (observed)
        and one column of predicted churn probability per model.
    scored : DataFrame
        The prioritised retention list at ``as_of`` (see the module docstring).
    pipeline : Pipeline or None
        The fitted scoring pipeline (None when the repeat-purchase model scores the list).
    repeat_model, spend_model : RepeatPurchaseModel, SpendModel
        The CLV models fitted on the orders up to ``as_of`` (of at most ``max_train_rows`` customers):
        :func:`~relmkt_helpers.clv.choice.fit_value_models`, as on the CLV page.
    repeat_model_evaluation : RepeatPurchaseModel
        The repeat-purchase model of the evaluation, fitted on the orders up to its feature date.
    model_choice : ModelChoice or None
        The comparison behind ``value_model`` (None when ``model`` imposed it).
    notes : tuple of str
        Caveats found in the data (orders after ``as_of`` ignored, a log that
        ends before ``as_of``...).
    """

    as_of: str
    horizon_days: int
    window_days: int
    model: str
    evaluation: str
    windows: pd.DataFrame
    metrics: pd.DataFrame
    deciles: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    predictions: pd.DataFrame
    scored: pd.DataFrame
    pipeline: Pipeline | None
    repeat_model: RepeatPurchaseModel
    spend_model: SpendModel
    repeat_model_evaluation: RepeatPurchaseModel
    value_model: str = "bgnbd"
    scorer_reason: str = ""
    model_choice: ModelChoice | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        auc = ", ".join(f"{m}={self.metrics.loc[m, 'roc_auc']:.3f}" for m in self.models)
        return (f"ChurnResult(as_of={self.as_of!r}, horizon_days={self.horizon_days}, model={self.model!r}, "
                f"evaluation={self.evaluation!r}, customers_scored={len(self.scored):,}, roc_auc: {auc})")

    @property
    def models(self) -> list[str]:
        """Models compared in the evaluation, in table order (``no_skill`` excluded).

        Examples
        --------
        >>> res = _example_result()
        >>> res.models[:3]
        ['logistic', 'hgb', 'bgnbd']
        >>> repr(res).startswith("ChurnResult(as_of='2025-12-31', horizon_days=90, model=")
        True
        """
        return [m for m in self.metrics.index if m != "no_skill"]

    @property
    def summary(self) -> pd.DataFrame:
        """The metrics table, rounded for display.

        Examples
        --------
        >>> res = _example_result()
        >>> res.summary.columns[:3].tolist()
        ['roc_auc', 'pr_auc', 'brier']
        """
        return self.metrics.round(4)

    def metrics_table(self) -> pd.DataFrame:
        """The backtest metrics for a reader: column ``model`` holds the models' names, the list's scorer marked.

        Examples
        --------
        >>> _example_result().metrics_table()["model"].iloc[-1]
        'Random ranking'
        """
        from ..clv.choice import model_label  # noqa: PLC0415

        m = self.metrics.reset_index()
        m["model"] = [("Random ranking" if n == "no_skill" else _cap(model_label(n)))
                      + (" (scores the list)" if n == self.model else "") for n in m["model"]]
        return m

    @property
    def headline(self) -> dict[str, Any]:
        """The same as :meth:`headline_metrics` (the older name)."""
        return self.headline_metrics()

    def headline_metrics(self) -> dict[str, float | str | None]:
        """Flat ``name -> number or str`` for :func:`relmkt_helpers.save_metrics`.

        Every key is an entry of :data:`relmkt_helpers.display.METRICS`.

        Examples
        --------
        >>> from relmkt_helpers.display import METRICS
        >>> h = _example_result().headline_metrics()
        >>> h["churn_model"] == h["churn_model_chosen"], h["churn_horizon_days"], 0.5 < h["churn_roc_auc_hgb"] <= 1
        (True, 90, True)
        >>> sorted(k for k in h if k not in METRICS)
        []
        """
        m = self.metrics
        out: dict[str, Any] = {
            "churn_as_of": self.as_of,
            "churn_horizon_days": self.horizon_days,
            "churn_model": self.model,
            "churn_model_chosen": self.model,
            "churn_value_model": self.value_model,
            "churn_evaluation": self.evaluation,
            "churn_eval_base_rate": float(m["base_rate"].iloc[0]),
        }
        for name in self.models:
            out[f"churn_roc_auc_{name}"] = float(m.loc[name, "roc_auc"])
        out["churn_roc_auc_chosen"] = float(m.loc[self.model, "roc_auc"])
        chosen = m.loc[self.model]
        out["churn_pr_auc"] = float(chosen["pr_auc"])
        out["churn_brier"] = float(chosen["brier"])
        out["churn_top_decile_capture"] = float(chosen["top_decile_capture"])
        s = self.scored
        out["churn_customers_scored"] = int(len(s))
        out["churn_expected_churners"] = float(s["churn_probability"].sum())
        out["churn_expected_value_lost"] = float(s["priority"].sum())
        return out


# ----------------------------------------------------------------------------
# checks
# ----------------------------------------------------------------------------

def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _whole(value: Any, name: str, minimum: int) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= minimum
    if not ok:
        raise ParameterError(f"{name}={value!r} must be a whole number >= {minimum}.")
    return int(value)


def _number(value: Any, name: str, lo: float, hi: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ParameterError(f"{name}={value!r} must be a finite number.")
    if value < lo or (hi is not None and value > hi):
        rng = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ParameterError(f"{name}={value!r} must be {rng}.")
    return float(value)


def _check_choice(value: Any, name: str, allowed: tuple[str, ...], what: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ParameterError(f"{name}={value!r} is not known; choose one of {list(allowed)} ({what}).")
    return value


class _InMemory:
    """What the analysis reads from the orders, from numpy's sorted arrays (the engine's twin:
    :class:`relmkt_helpers.engine.analyses.ChurnSource`)."""

    def __init__(self, tx: pd.DataFrame, channel_col: str | None):
        self.so = _prepare(tx, channel_col, where="churn_analysis")
        self.data_first_day, self.data_last_day = self.so.data_first_day, self.so.data_last_day

    def n_acquired_by(self, day: int) -> int:
        return int(np.count_nonzero(self.so.first_day <= day))

    def nth_acquisition_day(self, n: int) -> int:
        return int(np.partition(self.so.first_day, n - 1)[n - 1])

    def n_after(self, day: int) -> int:
        return int(np.count_nonzero(self.so.days > day))

    def features(self, day: int, window_days: int) -> pd.DataFrame:
        return _features_at(self.so, day, window_days)

    def labels(self, day: int, horizon_days: int) -> pd.Series:
        return _labels_at(self.so, day, horizon_days)


def _source(tx: Any, channel_col: str | None):
    from ..engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):
        from ..engine.analyses import ChurnSource

        return ChurnSource(tx, channel_col)
    return _InMemory(tx, channel_col)


def _n_acquired_by(so: Any, day: int) -> int:
    return so.n_acquired_by(day)


def _check_history(so: Any, as_of_day: int, h: int, evaluation: str, min_customers: int) -> None:
    """Enough customers at the earliest feature date of the backtest, or an error naming the dates."""
    steps = 2 if evaluation == "out_of_time" else 1
    earliest = as_of_day - steps * h
    have = _n_acquired_by(so, earliest)
    if have >= min_customers:
        return
    enough_day = so.nth_acquisition_day(min_customers)  # the day by which min_customers had been acquired
    h_max = (as_of_day - enough_day) // steps
    if evaluation == "out_of_time":
        plan = (f"the out-of-time backtest trains at {_iso(earliest)} (labels in ({_iso(earliest)}, "
                f"{_iso(as_of_day - h)}]) and evaluates at {_iso(as_of_day - h)} (labels in "
                f"({_iso(as_of_day - h)}, {_iso(as_of_day)}])")
        alt = (f", or evaluation='cross_validation' (needs customers by {_iso(as_of_day - h)} only)"
               if _n_acquired_by(so, as_of_day - h) >= min_customers else "")
    else:
        plan = (f"the cross-validated backtest uses features at {_iso(earliest)} and labels in "
                f"({_iso(earliest)}, {_iso(as_of_day)}]")
        alt = ""
    fix = (f"Use horizon_days <= {h_max} for as_of={_iso(as_of_day)}" if h_max >= 1
           else "Use a later as_of")
    raise ParameterError(
        f"horizon_days={h} is too long for the data: {plan}, which needs at least {min_customers} customers "
        f"acquired on or before {_iso(earliest)}; the data start on {_iso(so.data_first_day)} and only {have} "
        f"customers were acquired by {_iso(earliest)}. {fix}{alt}."
    )


def _check_two_classes(y: pd.Series, role: str, n_folds: int | None = None) -> None:
    n, k = len(y), int(y.sum())
    window = y.attrs.get("label_window", "")
    if k == n:
        raise DataValidationError(
            f"the {role} labels have one class only: all {n} customers churned (no order in {window}). "
            "Use a longer horizon_days, or check that the data run to the end of that window (a log cut short "
            "makes everyone look churned); a later as_of also helps."
        )
    if k == 0:
        raise DataValidationError(
            f"the {role} labels have one class only: none of the {n} customers churned (every one ordered in "
            f"{window}). Use a shorter horizon_days, or a later as_of with more history."
        )
    if n_folds is not None and min(k, n - k) < n_folds:
        minority = "churned" if k < n - k else "retained"
        raise DataValidationError(
            f"the {role} labels have only {min(k, n - k)} {minority} customers in {window}, fewer than "
            f"n_folds={n_folds}; use fewer folds, another horizon_days, or more data."
        )


# ----------------------------------------------------------------------------
# modelling helpers
# ----------------------------------------------------------------------------

def _model_frame(features: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Features as model input: numeric columns float64, ``channel`` object with NaN for missing."""
    numeric = [c for c in NUMERIC_FEATURES if c in features.columns]
    X = pd.DataFrame({c: features[c].to_numpy(dtype=np.float64) for c in numeric}, index=features.index)
    categorical = []
    if "channel" in features.columns:
        X["channel"] = features["channel"].to_numpy(dtype=object, na_value=np.nan)
        categorical = ["channel"]
    return X, numeric, categorical


def _subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def _fit(model: str, X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str],
         max_rows: int | None, random_state: int) -> Pipeline:
    rows = _subsample(len(X), max_rows, np.random.default_rng(random_state))
    pipe = churn_pipeline(model, numeric=numeric, categorical=categorical, random_state=random_state)
    return pipe.fit(X.iloc[rows], y[rows])


def _summary_at(tx: pd.DataFrame, day: int, unit: dict[str, Any]) -> pd.DataFrame:
    """Every customer's RFM summary at ``day`` in the value models' time unit."""
    return rfm_summary(tx, observation_end=_iso(day), **unit)


def _p_no_purchase(model: RepeatPurchaseModel, summary: pd.DataFrame, h: int, index: pd.Index) -> np.ndarray:
    unit_days = float(summary.attrs.get("unit_days", _UNIT_DAYS))
    p = model.conditional_probability_no_purchases(h / unit_days, summary["frequency"].to_numpy(),
                                                   summary["recency"].to_numpy(), summary["T"].to_numpy())
    out = pd.Series(np.asarray(p, dtype=np.float64), index=summary.index).reindex(index)
    if out.isna().any():  # pragma: no cover - both tables hold the customers acquired by the same date
        raise AssertionError("BG/NBD summary and churn features disagree on the customers")
    return out.to_numpy()


def _importance(pipe: Pipeline, X: pd.DataFrame, y: np.ndarray, rows: int, repeats: int,
                random_state: int) -> pd.DataFrame:
    idx = np.arange(len(X))
    if len(X) > rows:
        idx, _ = train_test_split(idx, train_size=rows, stratify=y, random_state=random_state)
        idx = np.sort(idx)
    Xs, ys = X.iloc[idx], y[idx]
    r = permutation_importance(pipe, Xs, ys, scoring="roc_auc", n_repeats=repeats, random_state=random_state)
    out = pd.DataFrame({"feature": list(X.columns), "importance_mean": r.importances_mean,
                        "importance_std": r.importances_std})
    out = out.sort_values(["importance_mean", "feature"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out.attrs.update({"scoring": "roc_auc (drop when the feature is shuffled)", "n_repeats": repeats,
                      "rows": int(len(idx))})
    return out


# ----------------------------------------------------------------------------
# the analysis
# ----------------------------------------------------------------------------

def churn_analysis(tx: pd.DataFrame, *, as_of: Any, horizon_days: int = 90, window_days: int = 90,
                   model: str = "auto", scorer: str = "auto", evaluation: str = "out_of_time",
                   channel_col: str | None = "channel", value_horizon_months: int = 12, margin_rate: float = 0.3,
                   annual_discount_rate: float = 0.10, holdout_weeks: int = 26, calibration_end: Any = None,
                   freq: str = "D", freq_multiplier: float = 7, compare_customers: int | None = 200_000,
                   max_train_rows: int | None = 200_000, importance_rows: int = 5_000,
                   importance_repeats: int = 5, n_folds: int = 5, min_customers: int = 100,
                   n_threads: int | None = 1, random_state: int = 0, margin: float | None = None) -> ChurnResult:
    """Backtest churn models out of time, compare them with BG/NBD, and score a retention list at ``as_of``.

    The windows, models and the scored list are defined in the module
    docstring (:mod:`relmkt_helpers.churn.analysis`); ``result.windows`` lists
    the dates used. Orders dated after ``as_of`` are ignored.

    Parameters
    ----------
    tx : DataFrame
        Canonical transaction frame, complete through ``as_of``.
    as_of : date-like
        Scoring date, inclusive (an order on ``as_of`` is history).
    horizon_days : int, default 90
        Churned = no order in the next ``horizon_days`` days.
    window_days : int, default 90
        Trend window of the features (:func:`~relmkt_helpers.churn.churn_features`).
    model : {"auto", "bgnbd", "pnbd", "mbgnbd"}, default "auto"
        The report's repeat-purchase model, with the same meaning as for
        :func:`relmkt_helpers.clv.clv_analysis`: ``"auto"`` keeps the lowest AIC on a
        calibration/holdout split (:func:`~relmkt_helpers.clv.choice.choose_model` with
        ``holdout_weeks``, ``calibration_end``, ``freq``, ``freq_multiplier``,
        ``compare_customers``). It values every customer (``value_at_risk`` equals the
        CLV page's ``clv`` for the same settings) and is the probabilistic model of the
        backtest; BG/NBD is evaluated too, as the reference.
    scorer : {"auto", "hgb", "logistic", "probabilistic"}, default "auto"
        Model that scores the list. ``"auto"``: the highest ROC AUC in the backtest,
        to three decimals, ties going to the simpler model (the repeat-purchase
        model, then logistic regression, then gradient boosting);
        ``"probabilistic"`` (or the repeat-purchase model's name) imposes the
        repeat-purchase model. Every model is evaluated either way, and
        ``scorer_reason`` says which one scores the list and why.
    evaluation : {"out_of_time", "cross_validation"}, default "out_of_time"
        How the metrics are computed (module docstring). ``"cross_validation"``
        needs one horizon of history instead of two.
    channel_col : str or None, default "channel"
        Acquisition-channel column (optional when left at the default).
    value_horizon_months : int, default 12
        Horizon of ``value_at_risk``.
    margin_rate : float, default 0.3
        Profit as a share of revenue, for ``value_at_risk``.
    annual_discount_rate : float, default 0.10
        Discount rate of ``value_at_risk``.
    holdout_weeks, calibration_end, freq, freq_multiplier, compare_customers
        The model choice and time unit, as for :func:`~relmkt_helpers.clv.choice.choose_model`.
    max_train_rows : int or None, default 200000
        Training sets above this size are subsampled at random (None: never);
        this includes the customers the BG/NBD and Gamma-Gamma models are fitted
        on (every customer is still scored).
    importance_rows, importance_repeats : int
        Size of the stratified evaluation subsample and number of shuffles for
        the permutation importance.
    n_folds : int, default 5
        Folds of ``evaluation="cross_validation"``.
    min_customers : int, default 100
        Fewest customers accepted in any window.
    n_threads : int or None, default 1
        OpenMP threads for the gradient-boosting model, set with
        ``threadpoolctl.threadpool_limits`` for the duration of the call only
        (None: the library's default, one per core). One thread is the default
        because OpenMP's spin-waiting threads turn a busy machine's second
        core into a slowdown: at 1M customers two threads took 24.2 s against
        27.9 s on an idle 2-core machine, but 45.5 s against 37.9 s with one
        core kept busy by another process, and on the 20,000-customer sample
        shop 5.8 s against 3.2 s (``benchmarks/results/churn.md``). Pass
        ``None`` on a machine of your own.
    random_state : int, default 0
        Seed of every random step (subsamples, folds, gradient boosting, importance).
    margin : float, optional
        The older name of ``margin_rate`` (used if given).

    Returns
    -------
    ChurnResult

    Raises
    ------
    ParameterError
        Unknown ``model``, ``scorer`` or ``evaluation``; a horizon longer than the data
        allow for the backtest (the message names the dates needed); bad numbers.
    DataValidationError
        Fewer than ``min_customers`` customers; a label window in which every
        customer churned, or none did (the message says which, and what to change).

    Examples
    --------
    >>> from relmkt_helpers.datasets import generate_sample_shop
    >>> tx = generate_sample_shop(3000, seed=1).transactions
    >>> res = churn_analysis(tx, as_of="2025-12-31", horizon_days=90, model="bgnbd", scorer="hgb")
    >>> print(res.windows[["role", "feature_date", "label_start", "label_end"]].to_string(index=False))
    ...                                                                  # doctest: +NORMALIZE_WHITESPACE
                    role feature_date label_start  label_end
    evaluation: training   2025-07-04  2025-07-04 2025-10-02
        evaluation: test   2025-10-02  2025-10-02 2025-12-31
       scoring: training   2025-10-02  2025-10-02 2025-12-31
                 scoring   2025-12-31  2025-12-31 2026-03-31
    >>> bool((res.metrics.loc[["logistic", "hgb", "bgnbd"], "roc_auc"] > 0.7).all())
    True
    >>> res.model, res.scorer_reason.startswith("The list is scored by gradient boosting, as set in the parameters")
    ('hgb', True)
    >>> res.scored.columns[:4].tolist()
    ['customer_id', 'churn_probability', 'value_at_risk', 'priority']
    """
    if model in FEATURE_MODELS:
        raise ParameterError(f"model={model!r}: model is now the repeat-purchase model of the report ('auto', "
                             f"'bgnbd', 'pnbd' or 'mbgnbd', as on the CLV page); pass scorer={model!r} to score "
                             "the list with it.")
    model = check_model(model)
    scorer = _check_choice(scorer, "scorer", SCORERS + ("bgnbd", "pnbd", "mbgnbd"),
                           "'auto' the backtest's winner, 'hgb' gradient boosting, 'logistic' logistic regression, "
                           "'probabilistic' the repeat-purchase model")
    evaluation = _check_choice(evaluation, "evaluation", _EVALUATIONS,
                               "'out_of_time' trains two horizons back, 'cross_validation' needs one horizon")
    as_of_day = _to_day(as_of, "as_of")
    h = _check_days(horizon_days, "horizon_days")
    w = _check_days(window_days, "window_days")
    value_months = _whole(value_horizon_months, "value_horizon_months", 0)
    margin_rate = _number(margin_rate if margin is None else margin, "margin_rate", 0.0, 1.0)
    rate = _number(annual_discount_rate, "annual_discount_rate", -0.99)
    if max_train_rows is not None:
        max_train_rows = _whole(max_train_rows, "max_train_rows", 100)
    importance_rows = _whole(importance_rows, "importance_rows", 100)
    importance_repeats = _whole(importance_repeats, "importance_repeats", 1)
    n_folds = _whole(n_folds, "n_folds", 2)
    min_customers = _whole(min_customers, "min_customers", 10)
    random_state = _whole(random_state, "random_state", 0)
    if n_threads is not None:
        n_threads = _whole(n_threads, "n_threads", 1)
    limit = (threadpool_limits(n_threads, user_api="openmp") if n_threads is not None
             else contextlib.nullcontext())
    with limit:
        return _analysis(tx, as_of_day=as_of_day, h=h, w=w, model=model, scorer=scorer, evaluation=evaluation,
                         channel_col=channel_col, value_months=value_months, margin_rate=margin_rate, rate=rate,
                         choice_args=dict(holdout_weeks=holdout_weeks, calibration_end=calibration_end,
                                          compare_customers=compare_customers),
                         unit=dict(freq=freq, freq_multiplier=freq_multiplier), max_train_rows=max_train_rows,
                         importance_rows=importance_rows, importance_repeats=importance_repeats,
                         n_folds=n_folds, min_customers=min_customers, random_state=random_state)


def _analysis(tx: pd.DataFrame, *, as_of_day: int, h: int, w: int, model: str, scorer: str, evaluation: str,
              channel_col: str | None, value_months: int, margin_rate: float, rate: float,
              choice_args: dict[str, Any], unit: dict[str, Any], max_train_rows: int | None,
              importance_rows: int, importance_repeats: int, n_folds: int, min_customers: int,
              random_state: int) -> ChurnResult:

    so = _source(tx, channel_col)  # numpy arrays, or the orders kept in the engine
    notes: list[str] = []
    if as_of_day < so.data_first_day:
        raise ParameterError(f"as_of={_iso(as_of_day)} is before the first order ({_iso(so.data_first_day)}). "
                             f"Pass a date on or after {_iso(so.data_first_day)}.")
    n_total = _n_acquired_by(so, as_of_day)
    if n_total < min_customers:
        raise DataValidationError(
            f"only {n_total} customers were acquired on or before as_of={_iso(as_of_day)}; churn models need at "
            f"least min_customers={min_customers}. Use more data, a later as_of, or lower min_customers."
        )
    if so.data_last_day < as_of_day:
        notes.append(f"The last order is on {_iso(so.data_last_day)}, {as_of_day - so.data_last_day} days before "
                     f"as_of={_iso(as_of_day)}: if the log is incomplete, recent purchases are missing and churn "
                     "is overstated.")
    n_after = so.n_after(as_of_day)
    if n_after:
        notes.append(f"{n_after:,} orders dated after as_of={_iso(as_of_day)} were ignored.")
    _check_history(so, as_of_day, h, evaluation, min_customers)

    d_train = as_of_day - h          # = evaluation test date
    d_eval_train = as_of_day - 2 * h
    # orders in the engine are cut by every reduction at its own date
    tx_cut = tx if n_after == 0 or not isinstance(tx, pd.DataFrame) else tx[tx["order_date"] <= pd.Timestamp(
        _iso(as_of_day))]

    # --- evaluation: fit on the earlier window (out of time), predict the test window -------
    windows = []
    preds: dict[str, np.ndarray] = {}
    eval_pipes: dict[str, Pipeline] = {}
    y_train_s = so.labels(d_train, h)   # labels of the evaluation test window = scoring training labels
    y_train = y_train_s.to_numpy()
    if evaluation == "out_of_time":
        y_et_s = so.labels(d_eval_train, h)
        _check_two_classes(y_et_s, "evaluation-training")
        _check_two_classes(y_train_s, "evaluation-test")
        X_et, numeric, categorical = _model_frame(so.features(d_eval_train, w))
        for m in FEATURE_MODELS:
            eval_pipes[m] = _fit(m, X_et, y_et_s.to_numpy(), numeric, categorical, max_train_rows, random_state)
        del X_et
        f_train = so.features(d_train, w)
        X_train, _, _ = _model_frame(f_train)
        for m in FEATURE_MODELS:
            preds[m] = eval_pipes[m].predict_proba(X_train)[:, 1]
        imp_X, imp_y = X_train, y_train
        windows.append(("evaluation: training", d_eval_train, d_eval_train + h, y_et_s,
                        "fitting the evaluated logistic and hgb models"))
        windows.append(("evaluation: test", d_train, as_of_day, y_train_s,
                        "metrics, deciles, calibration, importance; BG/NBD fitted on orders up to the feature date"))
    else:
        _check_two_classes(y_train_s, "evaluation", n_folds)
        f_train = so.features(d_train, w)
        X_train, numeric, categorical = _model_frame(f_train)
        folds = list(StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=random_state)
                     .split(X_train, y_train))
        for m in FEATURE_MODELS:
            oof = np.empty(len(X_train))
            for k, (tr, te) in enumerate(folds):
                pipe = _fit(m, X_train.iloc[tr], y_train[tr], numeric, categorical, max_train_rows, random_state)
                oof[te] = pipe.predict_proba(X_train.iloc[te])[:, 1]
                if k == 0:
                    eval_pipes[m] = pipe
            preds[m] = oof
        imp_X, imp_y = X_train.iloc[folds[0][1]], y_train[folds[0][1]]
        windows.append(("evaluation: cross-validated", d_train, as_of_day, y_train_s,
                        f"metrics, deciles, calibration ({n_folds}-fold out-of-fold predictions); importance on "
                        "fold 1's held-out customers; BG/NBD fitted on orders up to the feature date"))
    eval_index = f_train.index
    del f_train

    # --- the report's repeat-purchase model: the same choice as the CLV page -------------
    model_choice = None
    if model == "auto":
        model_choice = choose_model(tx_cut, as_of=_iso(as_of_day), model=model, **choice_args, **unit,
                                    random_state=random_state)
        value_model = model_choice.model
    else:
        value_model = model
    if scorer not in SCORERS and scorer != value_model:
        raise ParameterError(f"scorer={scorer!r} is not the report's repeat-purchase model ({value_model!r}); "
                             "pass scorer='probabilistic' for that model, or model=" + repr(scorer) + ".")

    # --- probabilistic models on the evaluation test window: BG/NBD, and the report's model ----
    s_eval = _summary_at(tx_cut, d_train, unit)
    prob_eval = {}
    for name in dict.fromkeys(("bgnbd", value_model)):
        prob_eval[name] = fit_repeat_model(s_eval, name, max_customers=max_train_rows, random_state=random_state)
        preds[name] = _p_no_purchase(prob_eval[name], s_eval, h, eval_index)
    repeat_eval = prob_eval[value_model]
    del s_eval

    metrics = churn_metrics(y_train, preds)
    deciles = pd.concat([lift_table(y_train, p).reset_index().assign(model=m) for m, p in preds.items()],
                        ignore_index=True)
    deciles = deciles[["model"] + [c for c in deciles.columns if c != "model"]]
    calibration = pd.concat([calibration_table(y_train, p).assign(model=m) for m, p in preds.items()],
                            ignore_index=True)
    calibration = calibration[["model", "bin", "mean_predicted", "observed_rate"]]
    predictions = pd.DataFrame({"churned": y_train, **preds}, index=eval_index)

    if scorer == "auto":
        model, scorer_reason = choose_scorer(metrics, [value_model, *FEATURE_MODELS_BY_SIMPLICITY])
    else:
        model = value_model if scorer not in FEATURE_MODELS else scorer
        scorer_reason = choose_scorer(metrics, [value_model, *FEATURE_MODELS_BY_SIMPLICITY], imposed=model)[1]
    imp_model = model if model in FEATURE_MODELS else "hgb"
    importance = _importance(eval_pipes[imp_model], imp_X, imp_y, importance_rows, importance_repeats,
                             random_state)
    importance.attrs["model"] = imp_model

    # --- scoring at as_of -----------------------------------------------------------
    pipeline = None
    if model in FEATURE_MODELS:
        _check_two_classes(y_train_s, "scoring-training")
        pipeline = _fit(model, X_train, y_train, numeric, categorical, max_train_rows, random_state)
    del X_train, imp_X
    f_score = so.features(as_of_day, w)
    del so
    if pipeline is not None:
        prob = pipeline.predict_proba(_model_frame(f_score)[0])[:, 1]
    # the value models of the CLV page: same model, same customers, same fit (fit_value_models)
    vm = fit_value_models(tx_cut, as_of=_iso(as_of_day), model=value_model, **unit, max_customers=max_train_rows,
                          random_state=random_state)
    s_now, repeat_now, gg = vm.summary, vm.repeat_model, vm.spend_model
    notes.extend(vm.notes)
    p_model_now = _p_no_purchase(repeat_now, s_now, h, f_score.index)
    if pipeline is None:
        prob = p_model_now
    cv = customer_value(repeat_now, gg, s_now, horizon_months=value_months, margin_rate=margin_rate,
                        annual_discount_rate=rate, n_bootstrap=0).reindex(f_score.index)
    del s_now, vm
    pa = cv["p_alive"].to_numpy()
    value = cv["clv"].to_numpy()
    if_active = np.zeros(len(pa))
    np.divide(value, pa, out=if_active, where=pa > 0)
    scored = pd.DataFrame({
        "churn_probability": prob,
        "value_at_risk": value,
        "priority": prob * value,
        "p_alive": pa,
        "value_if_active": if_active,
        "p_no_purchase": p_model_now,
        "expected_spend": cv["expected_spend"].to_numpy(),
    }, index=f_score.index)
    for c in KEY_FEATURES:
        if c in f_score.columns:
            scored[c] = f_score[c]
    n_scored = len(f_score)
    del f_score, cv
    scored = scored.reset_index()
    scored = scored.sort_values("priority", ascending=False, kind="stable").reset_index(drop=True)
    scored.attrs.update({
        "as_of": _iso(as_of_day), "horizon_days": h, "model": model, "value_model": value_model,
        "churn_probability": f"P(no order in ({_iso(as_of_day)}, {_iso(as_of_day + h)}]) by {model}",
        "p_no_purchase": f"P(no order in ({_iso(as_of_day)}, {_iso(as_of_day + h)}]) by {value_model}",
        "value_at_risk": (f"discounted expected margin over {value_months} months: customer_value({value_model}, "
                          f"Gamma-Gamma, margin_rate={margin_rate}, annual_discount_rate={rate})['clv']"),
        "value_if_active": "value_at_risk / p_alive",
        "priority": "churn_probability * value_at_risk",
    })

    if model in FEATURE_MODELS:
        windows.append(("scoring: training", d_train, as_of_day, y_train_s,
                        f"fitting the {model} model that scores the list"))
    windows.append(("scoring", as_of_day, as_of_day + h, None,
                    f"the scored list ({model}); {value_model} and Gamma-Gamma fitted on orders up to as_of"))
    wt = pd.DataFrame([{
        "role": role,
        "feature_date": pd.Timestamp(_iso(fd)),
        "label_start": pd.Timestamp(_iso(fd)),
        "label_end": pd.Timestamp(_iso(le)),
        "customers": int(len(y)) if y is not None else n_scored,
        "churned": int(y.sum()) if y is not None else pd.NA,
        "churn_rate": float(y.mean()) if y is not None else np.nan,
        "used_for": used,
    } for role, fd, le, y, used in windows])
    wt["churned"] = wt["churned"].astype("Int64")
    wt.attrs["label_window"] = "(label_start, label_end]: label_start excluded, label_end included"

    return ChurnResult(as_of=_iso(as_of_day), horizon_days=h, window_days=w, model=model, evaluation=evaluation,
                       windows=wt, metrics=metrics, deciles=deciles, calibration=calibration,
                       importance=importance, predictions=predictions, scored=scored, pipeline=pipeline,
                       repeat_model=repeat_now, spend_model=gg, repeat_model_evaluation=repeat_eval,
                       value_model=value_model, scorer_reason=scorer_reason, model_choice=model_choice,
                       notes=tuple(notes))


def _example_result() -> ChurnResult:
    """A small result for the doctests (1,500 generated customers)."""
    from ..datasets import generate_sample_shop  # noqa: PLC0415

    return churn_analysis(generate_sample_shop(1500, seed=1).transactions, as_of="2025-12-31", importance_repeats=1)
