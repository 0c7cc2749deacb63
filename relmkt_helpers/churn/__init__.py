"""Non-contractual churn: who is about to stop buying, and who is worth a retention offer.

In a shop nobody cancels: a customer simply stops buying. Churn is therefore
defined on a horizon: a customer has **churned** at date ``as_of`` if they
place no order in ``(as_of, as_of + H]``. The package has three parts:

* :mod:`~relmkt_helpers.churn.features`: :func:`churn_features` (RFM,
  tenure, acquisition channel, inter-purchase gaps, recency relative to the
  customer's own gap, order and spend trends) computed strictly from orders on
  or before ``as_of``, and :func:`churn_labels`;
* :mod:`~relmkt_helpers.churn.evaluate`: the scikit-learn pipelines
  (:func:`churn_pipeline`) and the evaluation tables (:func:`churn_metrics`,
  :func:`lift_table`, :func:`calibration_table`);
* :mod:`~relmkt_helpers.churn.analysis`: :func:`churn_analysis`, the one call
  behind notebook 02: an out-of-time backtest of logistic regression and
  gradient boosting against the BG/NBD probability of no purchase, and the
  prioritised retention list at ``as_of`` (:class:`ChurnResult`).

The plots are in :mod:`relmkt_helpers.plots.churn`.

Examples
--------
>>> import pandas as pd
>>> from relmkt_helpers.churn import churn_features, churn_labels
>>> tx = pd.DataFrame({"customer_id": pd.array(["a", "a", "b"], dtype="string"),
...                    "order_date": pd.to_datetime(["2024-01-01", "2024-02-15", "2024-01-10"]),
...                    "amount": [10.0, 20.0, 5.0]})
>>> churn_features(tx, as_of="2024-01-31")["frequency"].to_dict()  # the February order is not seen
{'a': 1, 'b': 1}
>>> churn_labels(tx, as_of="2024-01-31", horizon_days=30).to_dict()
{'a': False, 'b': True}
"""
from __future__ import annotations

from .analysis import CHURN_MODELS, KEY_FEATURES, ChurnResult, churn_analysis
from .evaluate import FEATURE_MODELS, calibration_table, churn_metrics, churn_pipeline, lift_table
from .features import FEATURE_COLUMNS, NUMERIC_FEATURES, churn_features, churn_labels
from .scorer import SCORERS, choose_scorer

__all__ = [
    "churn_features",
    "churn_labels",
    "churn_pipeline",
    "churn_metrics",
    "lift_table",
    "calibration_table",
    "churn_analysis",
    "ChurnResult",
    "CHURN_MODELS",
    "FEATURE_MODELS",
    "FEATURE_COLUMNS",
    "NUMERIC_FEATURES",
    "KEY_FEATURES",
    "SCORERS",
    "choose_scorer",
]
