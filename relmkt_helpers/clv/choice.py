"""One repeat-purchase model per report: the choice, and the value models fitted with it.

The churn page (notebook 02) and the CLV page (notebook 03) both value every
customer. So that one customer has **one** value in one report, both pages call
the functions of this module with the same parameters, and never read each
other's outputs:

* :func:`choose_model` splits the orders into a calibration period and a
  holdout (``holdout_weeks`` before ``as_of``), fits BG/NBD, Pareto/NBD and
  MBG/NBD on the calibration period (:func:`~relmkt_helpers.clv.models.compare_models`)
  and, with ``model="auto"``, keeps the one with the lowest AIC. It is a
  deterministic function of the data and the parameters (the comparison sample
  of a large base is drawn with ``random_state``).
* :func:`fit_value_models` fits the chosen model and Gamma-Gamma on the orders up
  to ``as_of`` (on a random ``max_customers`` of a large base, drawn with
  ``random_state``), and :func:`customer_value` turns them into the value per
  customer.

``model`` means the same everywhere: ``"auto"`` (lowest AIC on the calibration
data), or ``"bgnbd"``, ``"pnbd"``, ``"mbgnbd"`` to impose one. ``"best"`` is
an older spelling of ``"auto"``.

Examples
--------
>>> from relmkt_helpers.datasets import generate_sample_shop
>>> tx = generate_sample_shop(1500, seed=1).transactions
>>> choice = choose_model(tx, as_of="2025-12-31")
>>> choice.model in REPEAT_MODELS, choice.requested, choice.comparison.index[0] == choice.model
(True, 'auto', True)
>>> choose_model(tx, as_of="2025-12-31", model="pnbd").model
'pnbd'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from .models import RepeatPurchaseModel, SpendModel, compare_models
from .prep import calibration_holdout, rfm_summary

__all__ = ["REPEAT_MODELS", "MODEL_CHOICES", "MODEL_LABELS", "ModelChoice", "ValueModels", "check_model",
           "choose_model", "fit_value_models", "model_label"]

#: The repeat-purchase models a report can use.
REPEAT_MODELS: tuple[str, ...] = ("bgnbd", "pnbd", "mbgnbd")
#: Accepted values of ``model``: ``"auto"`` chooses by AIC on the calibration data.
MODEL_CHOICES: tuple[str, ...] = ("auto",) + REPEAT_MODELS
#: How a reader sees a model's name.
MODEL_LABELS: dict[str, str] = {"bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "mbgnbd": "MBG/NBD",
                                "hgb": "gradient boosting", "logistic": "logistic regression"}


def model_label(name: str) -> str:
    """The reader's name of a model.

    Examples
    --------
    >>> model_label("pnbd"), model_label("hgb"), model_label("other")
    ('Pareto/NBD', 'gradient boosting', 'other')
    """
    return MODEL_LABELS.get(name, name)


def check_model(model: Any) -> str:
    """``model`` as one of :data:`MODEL_CHOICES` (``"best"`` is read as ``"auto"``), or a ParameterError.

    Examples
    --------
    >>> check_model("best"), check_model("pnbd")
    ('auto', 'pnbd')
    """
    if model == "best":
        return "auto"
    if not isinstance(model, str) or model not in MODEL_CHOICES:
        raise ParameterError(f"model={model!r} is not known; choose one of {list(MODEL_CHOICES)} ('auto' keeps "
                             "the repeat-purchase model with the lowest AIC on the calibration period).")
    return model


@dataclass(repr=False)
class ModelChoice:
    """What :func:`choose_model` found.

    Attributes
    ----------
    model : str
        The repeat-purchase model used for every value in the report.
    requested : str
        ``"auto"`` or the model imposed by the parameters.
    comparison : DataFrame
        :func:`~relmkt_helpers.clv.models.compare_models` on the calibration/holdout
        split, best AIC first (``attrs``: sample sizes, time unit).
    calibration_models : dict
        Each model fitted on the calibration period.
    cal_holdout : DataFrame
        The split (:func:`~relmkt_helpers.clv.prep.calibration_holdout`).
    calibration_end, as_of : Timestamp
    reason : str
        One sentence for the page: which model, and why.
    """

    model: str
    requested: str
    comparison: pd.DataFrame
    calibration_models: dict[str, RepeatPurchaseModel]
    cal_holdout: pd.DataFrame
    calibration_end: pd.Timestamp
    as_of: pd.Timestamp
    reason: str = ""

    def __repr__(self) -> str:
        return f"ModelChoice(model={self.model!r}, requested={self.requested!r})"

    @property
    def calibration_model(self) -> RepeatPurchaseModel:
        """The chosen model as fitted on the calibration period."""
        return self.calibration_models[self.model]


def _reason(model: str, requested: str, comparison: pd.DataFrame) -> str:
    name = model_label(model)
    if requested != "auto":
        return f"The values use {name}, as set in the parameters."
    others = [m for m in comparison.index if m != model]
    if not others:
        return f"The values use {name}, the only model compared."
    gap = float(comparison["aic"].iloc[1] - comparison.loc[model, "aic"])
    return (f"The values use {name}: it described the calibration period best (lowest AIC, "
            f"{gap:,.1f} below {model_label(others[0])}).")


def choose_model(tx: pd.DataFrame, *, as_of: Any, model: str = "auto", holdout_weeks: int = 26,
                 calibration_end: Any = None, freq: str = "D", freq_multiplier: float = 7,
                 compare_customers: int | None = 200_000, random_state: int = 0) -> ModelChoice:
    """Compare the repeat-purchase models on a calibration/holdout split and pick one.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    as_of : date-like
        Last day of data (inclusive); the holdout ends here.
    model : {"auto", "bgnbd", "pnbd", "mbgnbd"}, default "auto"
        ``"auto"``: the lowest AIC on the calibration period. A name imposes that
        model (the comparison is still computed, for the page).
    holdout_weeks : int, default 26
        Length of the holdout before ``as_of`` (ignored if ``calibration_end`` is given).
    calibration_end : date-like, optional
        End of the calibration period (inclusive).
    freq, freq_multiplier
        Time unit of the models (:func:`~relmkt_helpers.clv.prep.rfm_summary`); the
        default ``"D"``, 7 is weeks at daily precision, as in the papers.
    compare_customers : int or None, default 200000
        Compare on a random sample of at most this many customers (None or 0: all).
    random_state : int
        Seed of that sample.

    Returns
    -------
    ModelChoice

    Examples
    --------
    >>> import relmkt_helpers as rh
    >>> tx, _ = rh.load_transactions(rh.config.CDNOW_SAMPLE_TRANSACTIONS)
    >>> choose_model(tx, as_of="1998-06-30").model  # lowest AIC on the calibration period
    'mbgnbd'
    """
    requested = check_model(model)
    if isinstance(holdout_weeks, bool) or not isinstance(holdout_weeks, (int, np.integer)) or holdout_weeks < 1:
        raise ParameterError(f"holdout_weeks={holdout_weeks!r} must be a whole number of weeks >= 1.")
    as_of_ts = pd.Timestamp(as_of).normalize()
    cal_end = (pd.Timestamp(calibration_end).normalize() if calibration_end not in (None, "")
               else as_of_ts - pd.Timedelta(weeks=int(holdout_weeks)))
    if cal_end >= as_of_ts:
        raise ParameterError(f"calibration_end={cal_end.date()} must be before as_of={as_of_ts.date()}.")
    ch = calibration_holdout(tx, calibration_end=cal_end, observation_end=as_of_ts, freq=freq,
                             freq_multiplier=freq_multiplier)
    comparison, fitted = compare_models(ch, return_models=True, max_customers=compare_customers or None,
                                        random_state=random_state)
    chosen = comparison.index[0] if requested == "auto" else requested
    return ModelChoice(model=chosen, requested=requested, comparison=comparison, calibration_models=fitted,
                       cal_holdout=ch, calibration_end=cal_end, as_of=as_of_ts,
                       reason=_reason(chosen, requested, comparison))


@dataclass(repr=False)
class ValueModels:
    """The models every customer is valued with, fitted on the orders up to ``as_of``.

    ``summary`` holds every customer (all are valued); the models were fitted on
    ``fitted_customers`` of them (a random sample when the base is larger than
    ``max_customers``).
    """

    summary: pd.DataFrame
    repeat_model: RepeatPurchaseModel
    spend_model: SpendModel
    fitted_customers: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        return (f"ValueModels(model={self.repeat_model.model!r}, customers={len(self.summary):,}, "
                f"fitted_customers={self.fitted_customers:,})")


def _subsample(n: int, max_rows: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def fit_repeat_model(summary: pd.DataFrame, model: str, *, max_customers: int | None = 200_000,
                     random_state: int = 0) -> RepeatPurchaseModel:
    """``model`` fitted on (a random ``max_customers`` of) the customers of ``summary``."""
    rows = _subsample(len(summary), max_customers, np.random.default_rng(random_state))
    fit_on = summary if len(rows) == len(summary) else summary.iloc[rows]
    return RepeatPurchaseModel(model).fit(fit_on)


def fit_value_models(tx: pd.DataFrame, *, as_of: Any, model: str, freq: str = "D", freq_multiplier: float = 7,
                     max_customers: int | None = 200_000, random_state: int = 0) -> ValueModels:
    """The chosen repeat-purchase model and Gamma-Gamma, fitted on the orders up to ``as_of``.

    Both pages value customers with these models, so they agree customer by customer.
    Repeat customers whose repeat orders sum to 0 (free orders) are left out of
    the Gamma-Gamma fit (it needs a positive mean spend) and are still valued.

    Parameters
    ----------
    model : {"bgnbd", "pnbd", "mbgnbd"}
        A model name, not ``"auto"`` (use :func:`choose_model` first).
    max_customers : int or None, default 200000
        Fit on a random sample of at most this many customers (None: all). Every
        customer is still in ``summary`` and valued.

    Examples
    --------
    >>> from relmkt_helpers.datasets import generate_sample_shop
    >>> vm = fit_value_models(generate_sample_shop(1500, seed=1).transactions, as_of="2025-12-31", model="bgnbd")
    >>> vm.repeat_model.model, vm.fitted_customers == len(vm.summary)
    ('bgnbd', True)
    """
    if model not in REPEAT_MODELS:
        raise ParameterError(f"fit_value_models: model={model!r}; pass one of {list(REPEAT_MODELS)} "
                             "(choose_model resolves 'auto').")
    summary = rfm_summary(tx, observation_end=pd.Timestamp(as_of), freq=freq, freq_multiplier=freq_multiplier)
    repeat = fit_repeat_model(summary, model, max_customers=max_customers, random_state=random_state)
    spend_ok = ((summary["frequency"] == 0) | (summary["monetary_value"] > 0)).to_numpy()
    notes = []
    if not spend_ok.all():
        notes.append(f"{int((~spend_ok).sum()):,} repeat customers with zero repeat spend were left out of the "
                     "Gamma-Gamma fit (they are still valued).")
    gg_rows = _subsample(int(spend_ok.sum()), max_customers, np.random.default_rng(random_state))
    spend = SpendModel().fit(summary[spend_ok].iloc[gg_rows])
    n_fit = min(len(summary), max_customers) if max_customers is not None else len(summary)
    return ValueModels(summary=summary, repeat_model=repeat, spend_model=spend, fitted_customers=int(n_fit),
                       notes=tuple(notes))
