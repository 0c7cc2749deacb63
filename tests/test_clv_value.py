"""Tests of relmkt_helpers.clv.value.customer_value (discounted CLV with bootstrap intervals).

No published CLV figure is used: the discounting is checked by hand on a closed-form case
(Pareto/NBD E[X(t)], Fader & Hardie 2005 note eq. 27, and the Gamma-Gamma population mean
p*gamma/(q-1), F&H 2013), and against lifetimes' own ``customer_lifetime_value`` with its
conventions (months of 4.345 weeks, a monthly rate) reproduced through the kit's parameters.
Data: the bundled CDNOW sample and master files, calibration 1997-01-01 .. 1997-09-30,
summaries from relmkt_helpers.clv.prep.rfm_summary (freq="D", freq_multiplier=7: weeks).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from relmkt_helpers import load_cdnow
from relmkt_helpers.clv.models import NotFittedError, RepeatPurchaseModel, SpendModel
from relmkt_helpers.clv.prep import rfm_summary
from relmkt_helpers.clv.value import MONTH_DAYS, customer_value
from relmkt_helpers.errors import DataValidationError, ParameterError

CAL_END = "1997-09-30"


def calibration_summary(sample: bool) -> pd.DataFrame:
    tx = load_cdnow(sample=sample).transactions
    return rfm_summary(tx[tx["order_date"] <= CAL_END], observation_end=CAL_END, freq="D", freq_multiplier=7)


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return calibration_summary(sample=True)


@pytest.fixture(scope="module")
def models(summary) -> tuple[RepeatPurchaseModel, SpendModel]:
    return RepeatPurchaseModel("bgnbd").fit(summary), SpendModel().fit(summary)


@pytest.fixture(scope="module")
def value(models, summary) -> pd.DataFrame:
    bg, gg = models
    return customer_value(bg, gg, summary, n_bootstrap=200)


def test_columns_index_and_conventions(value, summary, models):
    bg, gg = models
    assert value.columns.tolist() == ["p_alive", "expected_purchases", "expected_spend", "clv", "clv_low", "clv_high"]
    assert value.index.equals(summary.index)
    a = value.attrs
    assert a["month_days"] == 365.25 / 12 == MONTH_DAYS
    assert a["unit_days"] == 7.0 and a["units_per_month"] == pytest.approx(365.25 / 12 / 7)
    assert a["monthly_discount_rate"] == pytest.approx(1.1 ** (1 / 12) - 1)
    assert a["discounting"] == "end of month"
    assert "past orders are not included" in a["purchases_counted"]
    assert a["n_bootstrap"] == 200 and a["bootstrap_draws_discarded"] == 0 and a["interval"] == 0.9
    # the columns are the models' own predictions
    x, r, T = summary["frequency"], summary["recency"], summary["T"]
    np.testing.assert_allclose(value["p_alive"], bg.probability_alive(x, r, T))
    np.testing.assert_allclose(value["expected_purchases"],
                               bg.conditional_expected_purchases(12 * MONTH_DAYS / 7, x, r, T), rtol=1e-10)
    np.testing.assert_allclose(value["expected_spend"], gg.conditional_expected_spend(x, summary["monetary_value"]))
    np.testing.assert_allclose(value.loc[x == 0, "expected_spend"], gg.population_mean_spend)
    assert (value["clv"] >= 0).all()


def test_discounting_by_hand_on_a_closed_form_case():
    """A new customer (x = t_x = T = 0) under Pareto/NBD: E[X(t)] = r beta / (alpha (s-1)) (1 - (beta/(beta+t))^(s-1))."""
    r, alpha, s, beta = 0.55, 10.6, 0.61, 11.7
    p, q, gamma = 6.0, 4.0, 25.0
    pn = RepeatPurchaseModel.from_params("pnbd", {"r": r, "alpha": alpha, "s": s, "beta": beta})
    gg = SpendModel.from_params({"p": p, "q": q, "gamma": gamma})
    table = pd.DataFrame({"frequency": [0.0, 0.0], "recency": [0.0, 0.0], "T": [0.0, 10.0],
                          "monetary_value": [0.0, 0.0]}, index=["new", "other"])
    got = customer_value(pn, gg, table, horizon_months=24, margin_rate=0.25, annual_discount_rate=0.08,
                         n_bootstrap=0).loc["new", "clv"]

    def expected(t: float) -> float:
        return r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))

    month_weeks = 365.25 / 12 / 7
    by_hand = 0.0
    for i in range(1, 25):
        purchases = expected(i * month_weeks) - expected((i - 1) * month_weeks)
        by_hand += 0.25 * (p * gamma / (q - 1)) * purchases / 1.08 ** (i / 12)
    assert got == pytest.approx(by_hand, rel=1e-12)


def test_matches_lifetimes_clv_under_its_conventions(models, summary):
    """lifetimes: months of 4.345 weeks, monthly rate d, margin 1. Set the kit's unit so a month is 4.345 units."""
    bg, gg = models
    d = 0.01
    bg_lt = RepeatPurchaseModel.from_params("bgnbd", dict(bg.params_), unit_days=MONTH_DAYS / 4.345)
    table = summary.copy()
    table.attrs = {}
    ours = customer_value(bg_lt, gg, table, horizon_months=12, margin_rate=1.0, annual_discount_rate=(1 + d) ** 12 - 1,
                          n_bootstrap=0)["clv"]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        theirs = gg.fitter_.customer_lifetime_value(bg.fitter_, summary["frequency"], summary["recency"],
                                                    summary["T"], summary["monetary_value"], time=12,
                                                    discount_rate=d, freq="W")
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(dtype=float), rtol=1e-7)


def test_clv_grows_with_margin_and_horizon_and_falls_with_discount_rate(models, summary):
    bg, gg = models

    def clv(**kw):
        return customer_value(bg, gg, summary, n_bootstrap=0, **kw)["clv"]

    base = clv()
    np.testing.assert_allclose(clv(margin_rate=0.6), 2 * base)
    assert (clv(margin_rate=0.6) >= base).all() and (clv(margin_rate=0.6) > base).any()
    np.testing.assert_array_equal(clv(margin=0.6), clv(margin_rate=0.6))  # the older keyword still works
    lower_rate = clv(annual_discount_rate=0.0)
    higher_rate = clv(annual_discount_rate=0.3)
    assert (higher_rate <= base).all() and (base <= lower_rate).all() and (higher_rate < lower_rate).all()
    longer = clv(horizon_months=24)
    assert (longer >= base).all() and (longer > base).any()
    assert (clv(horizon_months=1) <= base).all()


def test_horizon_zero_is_worth_nothing(models, summary):
    bg, gg = models
    cv = customer_value(bg, gg, summary, horizon_months=0, n_bootstrap=20)
    assert (cv["clv"] == 0).all() and (cv["expected_purchases"] == 0).all()
    assert (cv["clv_low"] == 0).all() and (cv["clv_high"] == 0).all()


def test_bootstrap_interval_covers_the_estimate_and_is_reproducible(value, models, summary):
    bg, gg = models
    assert (value["clv_low"] <= value["clv"]).all() and (value["clv"] <= value["clv_high"]).all()
    assert (value["clv_high"] > value["clv_low"]).all()
    again = customer_value(bg, gg, summary, n_bootstrap=200)
    pd.testing.assert_frame_equal(again, value)
    other = customer_value(bg, gg, summary, n_bootstrap=200, random_state=1)
    assert not np.allclose(other["clv_high"], value["clv_high"])
    np.testing.assert_allclose(other["clv_high"], value["clv_high"], rtol=0.15)
    wider = customer_value(bg, gg, summary, n_bootstrap=200, interval=0.98)
    assert (wider["clv_high"] - wider["clv_low"] >= value["clv_high"] - value["clv_low"] - 1e-12).all()


def test_no_bootstrap_gives_nan_interval(models, summary, value):
    bg, gg = models
    cv = customer_value(bg, gg, summary, n_bootstrap=0)
    assert cv["clv_low"].isna().all() and cv["clv_high"].isna().all()
    pd.testing.assert_series_equal(cv["clv"], value["clv"])


def test_negligible_parameter_uncertainty_collapses_the_interval(models, summary):
    bg, gg = models
    tiny_bg = RepeatPurchaseModel.from_params("bgnbd", dict(bg.params_), variance_matrix_log=np.eye(4) * 1e-14)
    tiny_gg = SpendModel.from_params(dict(gg.params_), variance_matrix_log=np.eye(3) * 1e-14)
    cv = customer_value(tiny_bg, tiny_gg, summary, n_bootstrap=50)
    np.testing.assert_allclose(cv["clv_low"], cv["clv"], rtol=1e-5)
    np.testing.assert_allclose(cv["clv_high"], cv["clv"], rtol=1e-5)


def test_spend_draws_with_infinite_mean_are_discarded_and_counted(models, summary):
    bg, _ = models
    risky = SpendModel.from_params({"p": 6.0, "q": 1.3, "gamma": 15.0},
                                   variance_matrix_log=np.diag([0.01, 0.09, 0.01]))
    cv = customer_value(bg, risky, summary, n_bootstrap=200)
    assert 0 < cv.attrs["bootstrap_draws_discarded"] < 200
    assert np.isfinite(cv[["clv_low", "clv_high"]].to_numpy()).all()


def test_interval_narrows_with_ten_times_the_customers(summary):
    """The CDNOW sample is 1/10th of the master file: parameter uncertainty should shrink about sqrt(10) = 3.2x."""
    master = calibration_summary(sample=False)
    assert len(master) == 23570
    free = (master["frequency"] > 0) & (master["monetary_value"] <= 0)  # repeat orders worth 0 (one customer)
    widths = {}
    for name, data in (("sample", summary), ("master", master)):
        bg, gg = RepeatPurchaseModel("bgnbd").fit(data), SpendModel().fit(data[~free.reindex(data.index)])
        cv = customer_value(bg, gg, summary, n_bootstrap=200)  # the same customers valued by both
        widths[name] = ((cv["clv_high"] - cv["clv_low"]) / cv["clv"]).median()
    assert 2.0 < widths["sample"] / widths["master"] < 5.0, widths


def test_bad_input(models, summary):
    bg, gg = models
    with pytest.raises(ParameterError, match="margin_rate"):
        customer_value(bg, gg, summary, margin_rate=30)
    with pytest.raises(ParameterError, match="horizon_months"):
        customer_value(bg, gg, summary, horizon_months=1.5)
    with pytest.raises(ParameterError, match="horizon_months"):
        customer_value(bg, gg, summary, horizon_months=-1)
    with pytest.raises(ParameterError, match="annual_discount_rate"):
        customer_value(bg, gg, summary, annual_discount_rate=-1.0)
    with pytest.raises(ParameterError, match="interval"):
        customer_value(bg, gg, summary, interval=90)
    with pytest.raises(ParameterError, match="RepeatPurchaseModel"):
        customer_value(gg, bg, summary)
    with pytest.raises(NotFittedError):
        customer_value(RepeatPurchaseModel("bgnbd"), gg, summary)
    with pytest.raises(DataValidationError, match="monetary_value"):
        customer_value(bg, gg, summary.drop(columns="monetary_value"))
    days = summary.copy()
    days.attrs = {**summary.attrs, "unit_days": 1.0}
    with pytest.raises(ParameterError, match="time unit"):
        customer_value(bg, gg, days)
    no_cov = RepeatPurchaseModel.from_params("bgnbd", dict(bg.params_))
    with pytest.raises(ParameterError, match="n_bootstrap=0"):
        customer_value(no_cov, gg, summary)
    assert customer_value(no_cov, gg, summary, n_bootstrap=0)["clv"].notna().all()


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_bootstrap_equals_a_draw_by_draw_recomputation(kind, summary, monkeypatch):
    """The vectorised bootstrap (unique (x, T) growth, pair blocks) against the plain definition.

    The reference draws the same parameter vectors, values every customer once per draw with the
    point-estimate path (``n_bootstrap=0``) and takes the quantiles per customer. A tiny block size
    forces many blocks, so block edges are exercised too.
    """
    import relmkt_helpers.clv.value as value_mod

    monkeypatch.setattr(value_mod, "_BLOCK", 997)
    s = summary.iloc[:400]
    rp, gg = RepeatPurchaseModel(kind).fit(summary), SpendModel().fit(summary)
    n = 40
    got = customer_value(rp, gg, s, n_bootstrap=n, random_state=7)

    rng = np.random.default_rng(7)
    names, gnames = list(rp.params_.index), list(gg.params_.index)
    th = rng.multivariate_normal(np.log(rp.params_.to_numpy(dtype=float)),
                                 rp.variance_matrix_log_.loc[names, names].to_numpy(), size=n, method="eigh")
    tg = rng.multivariate_normal(np.log(gg.params_.to_numpy(dtype=float)),
                                 gg.variance_matrix_log_.loc[gnames, gnames].to_numpy(), size=n, method="eigh")
    draws = []
    for a, b in zip(np.exp(th), np.exp(tg)):
        rp_d = RepeatPurchaseModel.from_params(kind, dict(zip(names, a)))
        rp_d.unit_days_ = rp.unit_days_
        gg_d = SpendModel.from_params(dict(zip(gnames, b)))
        draws.append(customer_value(rp_d, gg_d, s, n_bootstrap=0)["clv"].to_numpy())
    low, high = np.quantile(np.array(draws), [0.05, 0.95], axis=0)
    np.testing.assert_allclose(got["clv_low"], low, rtol=1e-10)
    np.testing.assert_allclose(got["clv_high"], high, rtol=1e-10)
