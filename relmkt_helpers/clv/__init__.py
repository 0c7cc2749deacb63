"""Customer lifetime value: data preparation, repeat-purchase and spend models, value per customer.

* :mod:`.prep` turns the canonical transactions into lifetimes' RFM summary
  (``frequency``, ``recency``, ``T``, ``monetary_value``) for days, weeks or
  calendar months, and splits calibration/holdout (with the holdout monetary
  value lifetimes gets wrong).
* :mod:`.models` fits BG/NBD, Pareto/NBD and MBG/NBD (lifetimes' fitters, on
  the unique rows with counts as weights) and Gamma-Gamma, with full
  log-likelihoods, AIC and standard errors of our own, and compares the models
  on a holdout.
* :mod:`.value` turns them into a discounted CLV per customer with parametric
  bootstrap intervals, in explicit time units (a month is 365.25/12 days).
* :mod:`.choice` chooses one repeat-purchase model per report
  (:func:`choose_model`) and fits the value models (:func:`fit_value_models`);
  the churn and CLV pages both call it, so they agree customer by customer.
* :mod:`.analysis`: :func:`clv_analysis`, the one call behind notebook 03
  (:class:`CLVResult`).

Examples
--------
>>> from relmkt_helpers import clv, load_cdnow
>>> tx, _ = load_cdnow(sample=True)
>>> summary = clv.rfm_summary(tx, observation_end="1997-09-30", freq="D", freq_multiplier=7)
>>> bg = clv.RepeatPurchaseModel("bgnbd").fit(summary)
>>> bg.params_.round(3).tolist()  # Fader, Hardie & Lee (2005): 0.243, 4.414, 0.793, 2.426
[0.243, 4.414, 0.793, 2.426]
"""
from __future__ import annotations

from .analysis import CLVResult, clv_analysis
from .choice import (
    MODEL_CHOICES,
    REPEAT_MODELS,
    ModelChoice,
    ValueModels,
    choose_model,
    fit_value_models,
    model_label,
)
from .models import (
    ConvergenceError,
    ModelComparison,
    NotFittedError,
    RepeatPurchaseModel,
    SpendModel,
    compare_models,
)
from .prep import CompressedSummary, calibration_holdout, compress_summary, rfm_summary
from .value import MONTH_DAYS, customer_value

__all__ = [
    "rfm_summary",
    "calibration_holdout",
    "compress_summary",
    "CompressedSummary",
    "RepeatPurchaseModel",
    "SpendModel",
    "compare_models",
    "ModelComparison",
    "ConvergenceError",
    "NotFittedError",
    "customer_value",
    "MONTH_DAYS",
    "clv_analysis",
    "CLVResult",
    "choose_model",
    "fit_value_models",
    "ModelChoice",
    "ValueModels",
    "MODEL_CHOICES",
    "REPEAT_MODELS",
    "model_label",
]
