"""The CLV analysis of notebook 03 in one call: model choice, value per customer, RFM segments, VIPs.

:func:`clv_analysis` does everything the CLV page shows and returns a
:class:`CLVResult`. The repeat-purchase model is chosen by
:func:`~relmkt_helpers.clv.choice.choose_model` and fitted by
:func:`~relmkt_helpers.clv.choice.fit_value_models`, the same two calls the
churn analysis makes, so a customer's CLV here equals the ``value_at_risk`` of
the churn page's retention list for the same parameters.

Examples
--------
>>> from relmkt_helpers.datasets import generate_sample_shop
>>> from relmkt_helpers.display import METRICS
>>> res = clv_analysis(generate_sample_shop(1500, seed=1).transactions, as_of="2025-12-31", n_bootstrap=0)
>>> res.model == res.choice.model, len(res.value) == 1500
(True, True)
>>> sorted(k for k in res.headline_metrics() if k not in METRICS)
[]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..rfm import dropped_off, rfm_table, segment_summary, vip_list
from .choice import ModelChoice, choose_model, fit_value_models, model_label
from .models import RepeatPurchaseModel, SpendModel
from .prep import rfm_summary
from .value import customer_value

__all__ = ["CLVResult", "clv_analysis"]


@dataclass(repr=False)
class CLVResult:
    """Everything :func:`clv_analysis` computed.

    Attributes
    ----------
    as_of : Timestamp
    choice : ModelChoice
        The model comparison on the calibration/holdout split and the chosen model.
    cal_summary : DataFrame
        RFM summary at the end of the calibration period (for the model checks).
    summary : DataFrame
        RFM summary at ``as_of``: every customer valued.
    repeat_model, spend_model : RepeatPurchaseModel, SpendModel
        Fitted on the orders up to ``as_of`` (:func:`~relmkt_helpers.clv.choice.fit_value_models`).
    value : DataFrame
        :func:`~relmkt_helpers.clv.value.customer_value`: ``p_alive``,
        ``expected_purchases``, ``expected_spend``, ``clv``, ``clv_low``, ``clv_high``.
    rfm, segments, vips, dropped : DataFrame
        :func:`~relmkt_helpers.rfm.rfm_table`, :func:`~relmkt_helpers.rfm.segment_summary`
        (with mean CLV), :func:`~relmkt_helpers.rfm.vip_list` (by CLV) and
        :func:`~relmkt_helpers.rfm.dropped_off`.
    horizon_months, margin_rate, annual_discount_rate : numbers
        The value's conventions.
    fitted_customers : int
        Customers the value models were fitted on (all, or a random sample of a large base).
    notes : tuple of str
    """

    as_of: pd.Timestamp
    choice: ModelChoice
    cal_summary: pd.DataFrame
    summary: pd.DataFrame
    repeat_model: RepeatPurchaseModel
    spend_model: SpendModel
    value: pd.DataFrame
    rfm: pd.DataFrame
    segments: pd.DataFrame
    vips: pd.DataFrame
    dropped: pd.DataFrame
    horizon_months: int
    margin_rate: float
    annual_discount_rate: float
    fitted_customers: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        return (f"CLVResult(as_of={self.as_of.date()}, model={self.model!r}, customers={len(self.value):,}, "
                f"mean_clv={float(self.value['clv'].mean()):.2f})")

    @property
    def model(self) -> str:
        """The repeat-purchase model of the values."""
        return self.choice.model

    @property
    def comparison(self) -> pd.DataFrame:
        """The model comparison, best AIC first."""
        return self.choice.comparison

    @property
    def independence(self) -> dict[str, Any]:
        """The Gamma-Gamma check: ``pearson``, ``spearman``, ``n`` and the ``verdict`` sentence."""
        return dict(self.spend_model.independence_)

    def independence_table(self) -> pd.DataFrame:
        """The Gamma-Gamma independence check as a small table (``measure``, ``value``).

        Correlations of frequency and mean spend among repeat customers; close to 0 is what
        the model assumes.
        """
        ind = self.independence
        return pd.DataFrame({
            "measure": ["Pearson correlation", "Spearman rank correlation", "Repeat customers checked"],
            "value": [ind.get("pearson"), ind.get("spearman"), ind.get("n")],
        })

    def comparison_table(self) -> pd.DataFrame:
        """The model comparison for a reader: ``model`` holds the models' names, the chosen one marked."""
        t = self.comparison.reset_index()
        t["model"] = [model_label(m) + (" (used)" if m == self.model else "") for m in t["model"]]
        return t

    def value_summary(self) -> pd.DataFrame:
        """How the value is spread over customers: mean, median, top decile's floor and maximum per column."""
        v = self.value
        rows = {"Mean": v.mean(), "Median": v.median(), "90th percentile": v.quantile(0.9), "Highest": v.max()}
        out = pd.DataFrame(rows).T.reset_index(names="statistic")
        return out

    def dropped_table(self) -> pd.DataFrame:
        """:attr:`dropped` with its reasons in words (``why``)."""
        d = self.dropped.reset_index()
        words = {"stopped": "stopped buying", "frequency_drop": "buys less often", "spend_drop": "spends less"}
        d["why"] = [", ".join(words.get(r.strip(), r.strip()) for r in str(x).split(",") if r.strip())
                    for x in d["reasons"]]
        return d

    def headline_metrics(self) -> dict[str, float | str | None]:
        """Flat ``name -> number or str`` for :func:`relmkt_helpers.save_metrics`.

        Every key is an entry of :data:`relmkt_helpers.display.METRICS`.
        """
        comp = self.comparison
        pearson = self.independence.get("pearson")
        return {
            "clv_model": self.model,
            "clv_model_chosen": self.model,
            "clv_time_unit_days": float(self.summary.attrs["unit_days"]),
            "holdout_error_pct": float(comp.loc[self.model, "holdout_error_pct"]),
            "model_comparison_customers": int(comp.attrs["n_customers"]),
            "mean_clv": float(self.value["clv"].mean()),
            "total_clv": float(self.value["clv"].sum()),
            "clv_horizon_months": int(self.horizon_months),
            "customers_valued": int(len(self.value)),
            "vip_count": int(len(self.vips)),
            "vip_value_share": self.vips.attrs.get("value_share"),
            "dropped_off_count": int(len(self.dropped)),
            "gamma_gamma_spend_correlation": None if pearson is None or not np.isfinite(pearson) else float(pearson),
        }

    def model_sentence(self) -> str:
        """Which model values the customers, and why (for the page)."""
        return self.choice.reason


def clv_analysis(tx: pd.DataFrame, *, as_of: Any, model: str = "auto", holdout_weeks: int = 26,
                 calibration_end: Any = None, freq: str = "D", freq_multiplier: float = 7,
                 compare_customers: int | None = 200_000, margin_rate: float = 0.3,
                 annual_discount_rate: float = 0.10, horizon_months: int = 12, n_bootstrap: int = 200,
                 max_fit_customers: int | None = 200_000, dropped_max_p_value: float = 0.05,
                 random_state: int = 0) -> CLVResult:
    """Choose the repeat-purchase model, value every customer, and segment the base.

    Parameters
    ----------
    tx : DataFrame or EngineOrders
        Canonical transactions (orders after ``as_of`` are ignored). Orders in the engine
        (:func:`relmkt_helpers.engine.open_orders`) stay there: every per-order reduction (the
        summaries, calibration/holdout, RFM inputs, the dropped-off evidence) runs in DuckDB, and
        only per-customer tables come back.
    as_of : date-like
        Last day of data, inclusive.
    model : {"auto", "bgnbd", "pnbd", "mbgnbd"}, default "auto"
        As for :func:`~relmkt_helpers.clv.choice.choose_model` (and ``churn_analysis``):
        ``"auto"`` keeps the lowest AIC on the calibration period.
    holdout_weeks, calibration_end, freq, freq_multiplier, compare_customers
        The calibration/holdout split, the models' time unit and the comparison sample
        (:func:`~relmkt_helpers.clv.choice.choose_model`).
    margin_rate : float, default 0.3
        Profit as a share of revenue.
    annual_discount_rate : float, default 0.10
    horizon_months : int, default 12
        Months of future value in the CLV.
    n_bootstrap : int, default 200
        Parameter draws for the CLV intervals (0: none). The point value does not depend on it.
    max_fit_customers : int or None, default 200000
        The value models are fitted on a random sample of at most this many customers
        (every customer is valued), as in ``churn_analysis(max_train_rows=...)``: the two
        pages value customers with the same fitted models.
    dropped_max_p_value : float, default 0.05
        Evidence threshold of :func:`~relmkt_helpers.rfm.dropped_off`.
    random_state : int, default 0

    Returns
    -------
    CLVResult

    Examples
    --------
    >>> import relmkt_helpers as rh
    >>> tx, _ = rh.load_transactions(rh.config.CDNOW_SAMPLE_TRANSACTIONS)
    >>> result = rh.clv_analysis(tx, as_of="1998-06-30", n_bootstrap=0)
    >>> result.headline_metrics()["clv_model_chosen"], result.headline_metrics()["customers_valued"]
    ('mbgnbd', 2357)
    """
    as_of_ts = pd.Timestamp(as_of).normalize()
    if pd.isna(as_of_ts):
        raise ParameterError(f"as_of={as_of!r} is not a date.")
    from ..engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):  # every reduction below runs in the engine and stops at as_of itself
        tx_cut = tx
    else:
        tx_cut = tx if not (tx["order_date"] > as_of_ts).any() else tx[tx["order_date"] <= as_of_ts]
    unit = dict(freq=freq, freq_multiplier=freq_multiplier)
    choice = choose_model(tx_cut, as_of=as_of_ts, model=model, holdout_weeks=holdout_weeks,
                          calibration_end=calibration_end, compare_customers=compare_customers,
                          random_state=random_state, **unit)
    cal_summary = rfm_summary(tx_cut, observation_end=choice.calibration_end, **unit)
    vm = fit_value_models(tx_cut, as_of=as_of_ts, model=choice.model, max_customers=max_fit_customers,
                          random_state=random_state, **unit)
    value = customer_value(vm.repeat_model, vm.spend_model, vm.summary, horizon_months=horizon_months,
                           margin_rate=margin_rate, annual_discount_rate=annual_discount_rate,
                           n_bootstrap=n_bootstrap, random_state=random_state)
    rfm = rfm_table(tx_cut, as_of=as_of_ts)
    notes = list(vm.notes)
    if vm.fitted_customers < len(vm.summary):
        notes.append(f"The value models were fitted on a random {vm.fitted_customers:,} of "
                     f"{len(vm.summary):,} customers; every customer is valued.")
    return CLVResult(
        as_of=as_of_ts, choice=choice, cal_summary=cal_summary, summary=vm.summary, repeat_model=vm.repeat_model,
        spend_model=vm.spend_model, value=value, rfm=rfm, segments=segment_summary(rfm, clv=value["clv"]),
        vips=vip_list(rfm, clv=value["clv"]), dropped=dropped_off(tx_cut, as_of=as_of_ts,
                                                                 max_p_value=dropped_max_p_value),
        horizon_months=int(horizon_months), margin_rate=float(margin_rate),
        annual_discount_rate=float(annual_discount_rate), fitted_customers=vm.fitted_customers, notes=tuple(notes))

