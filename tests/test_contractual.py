"""Tests of relmkt_helpers.contractual (sBG, DERL, Kaplan-Meier) and its plot helpers.

Golden numbers and their sources:

* Fader, P. S. & Hardie, B. G. S. (2007), "How to Project Customer Retention", Journal of
  Interactive Marketing 21(1), 76-90: the two worked data sets ("Regular" and "High End": customers
  of an original 1,000 still active at the start of years 0-12, the paper's data table) and the sBG
  maximum-likelihood estimates the paper reports when fitting years 1-7: Regular alpha = 0.704,
  beta = 1.182; High End alpha = 0.668, beta = 3.806. (The paper itself was not reachable offline;
  the data were checked against independent replications of it that print the same counts.)
* The sample shop's true sBG parameters per plan: data/sample_shop/ground_truth.json (they are the
  generator's inputs, relmkt_helpers.datasets).
* Kaplan-Meier and Greenwood values of the small example are computed by hand in the comments.
"""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from scipy import special, stats  # noqa: E402

from relmkt_helpers import config  # noqa: E402
from relmkt_helpers.contractual import (  # noqa: E402
    ContractualChurnResult,
    SBGConvergenceError,
    SBGModel,
    contractual_churn,
    fit_sbg,
    kaplan_meier,
    median_survival,
    product_limit,
    subscription_tenures,
    survivor_table,
)
from relmkt_helpers.datasets import load_sample_shop  # noqa: E402
from relmkt_helpers.errors import DataValidationError, ParameterError, RelmktError  # noqa: E402
from relmkt_helpers.io import load_subscriptions  # noqa: E402
from relmkt_helpers.plots.contractual import (  # noqa: E402
    plot_km,
    plot_retention_rate,
    plot_sbg_fit,
    plot_value_by_tenure,
)

# Fader & Hardie (2007), data table: customers (of 1,000) still active at the start of years 0..12
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]
AS_OF = "2025-12-31"  # the sample shop's last day (ground_truth.json "end")


@pytest.fixture(scope="module")
def shop():
    return load_sample_shop()


@pytest.fixture(scope="module")
def subs():
    # the bundled table through the kit's own loader, as notebook 02 reads it
    return load_subscriptions(config.SAMPLE_SUBSCRIPTIONS)


@pytest.fixture(scope="module")
def result(subs):
    return contractual_churn(subs, as_of=AS_OF, group_col="plan")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _loglik(a: float, b: float, survivors) -> float:
    """Fader & Hardie (2007) eq. 6 for one cohort, written out independently of the module."""
    s = np.asarray(survivors, dtype=float)
    t = np.arange(1, s.size)
    lost = s[:-1] - s[1:]
    return float(lost @ (special.betaln(a + 1, b + t - 1) - special.betaln(a, b))
                 + s[-1] * (special.betaln(a, b + s.size - 1) - special.betaln(a, b)))


def _simulate_survivors(rng, a: float, b: float, n: int, periods: int) -> list[int]:
    theta = rng.beta(a, b, n)
    T = rng.geometric(theta)  # periods paid, >= 1
    return [int((T > k).sum()) for k in range(periods + 1)]


# ----------------------------------------------------------------------------
# validation against Fader & Hardie (2007)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, alpha, beta", [
    (REGULAR, 0.704, 1.182),   # Fader & Hardie (2007), Regular, years 1-7
    (HIGH_END, 0.668, 3.806),  # Fader & Hardie (2007), High End, years 1-7
])
def test_reproduces_fader_hardie_2007_estimates(data, alpha, beta):
    m = fit_sbg(data[:8])
    assert (round(m.alpha_, 3), round(m.beta_, 3)) == (alpha, beta)
    assert m.n_periods_ == 7 and m.n_customers_ == 1000 and m.n_cohorts_ == 1


@pytest.mark.parametrize("data", [REGULAR, HIGH_END], ids=["regular", "high_end"])
def test_projection_tracks_the_holdout_years_8_to_12(data):
    # The paper's figure shows the sBG projection tracking years 8-12; allow 2.5 percentage points.
    m = fit_sbg(data[:8])
    projected = m.survival(np.arange(8, 13))
    actual = np.array(data[8:]) / 1000
    assert np.abs(projected - actual).max() < 0.025
    # the projection extends the data smoothly: survival keeps falling, retention keeps rising
    assert np.all(np.diff(projected) < 0)
    assert np.all(np.diff(m.retention_rate(np.arange(1, 13))) > 0)


def test_observed_table_reproduces_the_input_cohort():
    m = fit_sbg(REGULAR[:8])
    obs = m.observed_
    np.testing.assert_allclose(obs["survival"].to_numpy(), np.array(REGULAR[:8]) / 1000)
    np.testing.assert_allclose(obs["lost"].iloc[1:].to_numpy(), -np.diff(REGULAR[:8]))
    assert obs["censored"].iloc[-1] == 241


def test_standard_errors_match_a_numerical_hessian_of_the_likelihood():
    m = fit_sbg(REGULAR[:8])
    assert m.log_likelihood_ == pytest.approx(_loglik(m.alpha_, m.beta_, REGULAR[:8]), rel=1e-12)
    x0, h = np.array([m.alpha_, m.beta_]), 1e-4
    H = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h, np.eye(2)[j] * h
            H[i, j] = (_loglik(*(x0 + ei + ej), REGULAR[:8]) - _loglik(*(x0 + ei - ej), REGULAR[:8])
                       - _loglik(*(x0 - ei + ej), REGULAR[:8]) + _loglik(*(x0 - ei - ej), REGULAR[:8])) / (4 * h * h)
    np.testing.assert_allclose(m.variance_matrix_.to_numpy(), np.linalg.inv(-H), rtol=1e-4)
    # the maximum: the likelihood is lower a little way off in any direction
    for step in ([0.01, 0], [-0.01, 0], [0, 0.01], [0, -0.01]):
        assert _loglik(*(x0 + step), REGULAR[:8]) < m.log_likelihood_


def test_wald_intervals_have_nominal_coverage_in_simulation():
    # 300 cohorts of 1,000 drawn from sBG(0.7, 1.2), 8 periods each (seed 0): the 95 % intervals from the
    # Hessian should cover the truth about 95 % of the time (binomial sd 1.3 points).
    rng = np.random.default_rng(0)
    truth = np.array([0.7, 1.2])
    hits = np.zeros(2)
    for _ in range(300):
        s = fit_sbg(_simulate_survivors(rng, *truth, 1000, 8)).summary
        hits += (s["lower_95"].to_numpy() <= truth) & (truth <= s["upper_95"].to_numpy())
    assert np.all((hits / 300 > 0.92) & (hits / 300 < 0.98))


# ----------------------------------------------------------------------------
# inputs: one cohort, several cohorts, individual tenures
# ----------------------------------------------------------------------------

def test_all_single_cohort_input_forms_agree():
    ref = fit_sbg(REGULAR[:8])
    for form in (np.array(REGULAR[:8]), pd.Series(REGULAR[:8]), tuple(REGULAR[:8]),
                 [float(x) for x in REGULAR[:8]]):
        m = fit_sbg(form)
        assert m.alpha_ == pytest.approx(ref.alpha_, rel=1e-8) and m.beta_ == pytest.approx(ref.beta_, rel=1e-8)


def test_multi_cohort_forms_agree_and_equal_the_individual_likelihood():
    cohorts = {"2021": REGULAR[:8], "2022": [800, 510, 380, 300, 262], "2023": [900, 560, 430], "2024": [700]}
    frame = pd.DataFrame.from_dict({k: pd.Series(v, dtype=float) for k, v in cohorts.items()}, orient="index")
    ragged = list(cohorts.values())
    fits = [fit_sbg(x) for x in (cohorts, frame, frame.to_numpy(), ragged)]
    # the same customers as individual tenures: lost in period t -> (t, churned); survivors at the end -> censored
    dur, churned = [], []
    for s in cohorts.values():
        for t in range(1, len(s)):
            dur += [t] * (s[t - 1] - s[t])
            churned += [True] * (s[t - 1] - s[t])
        dur += [len(s) - 1] * s[-1]
        churned += [False] * s[-1]
    fits.append(SBGModel().fit_durations(dur, churned))
    for m in fits[1:]:
        assert m.alpha_ == pytest.approx(fits[0].alpha_, rel=1e-7)
        assert m.beta_ == pytest.approx(fits[0].beta_, rel=1e-7)
        assert m.log_likelihood_ == pytest.approx(fits[0].log_likelihood_, rel=1e-10)
    # the multi-cohort log-likelihood is the sum of the cohorts' (right-censored) log-likelihoods
    a, b = fits[0].alpha_, fits[0].beta_
    assert fits[0].log_likelihood_ == pytest.approx(sum(_loglik(a, b, s) for s in cohorts.values()), rel=1e-12)
    assert fits[0].n_cohorts_ == 4 and fits[0].n_customers_ == 1000 + 800 + 900 + 700


def test_fit_returns_self_and_a_summary():
    m = SBGModel()
    assert m.fit(HIGH_END[:8]) is m
    assert list(m.summary.columns) == ["estimate", "se", "lower_95", "upper_95"]
    assert list(m.summary.index) == ["alpha", "beta"]
    assert (m.summary["lower_95"] < m.summary["estimate"]).all() and (m.summary["estimate"] < m.summary["upper_95"]).all()
    assert "alpha=" in repr(m)
    with pytest.raises(ParameterError, match="not fitted"):
        SBGModel().survival(3)


def test_survival_and_retention_are_vectorised_and_consistent():
    m = fit_sbg(REGULAR[:8])
    t = np.arange(1, 40)
    S = m.survival(np.arange(0, 40))
    assert S[0] == 1.0 and isinstance(m.survival(5), float)
    np.testing.assert_allclose(m.retention_rate(t), S[1:] / S[:-1], rtol=1e-12)  # r_t = S(t) / S(t-1)
    np.testing.assert_allclose(m.churn_probability(t), S[:-1] - S[1:], rtol=1e-10)  # P(T = t) = S(t-1) - S(t)
    assert m.survival([[1, 2], [3, 4]]).shape == (2, 2)
    # far beyond the data the projection stays a valid, falling survival curve
    assert 0 < m.survival(500) < m.survival(100) < m.survival(8)
    with pytest.raises(ParameterError, match="whole numbers"):
        m.survival(1.5)
    with pytest.raises(ParameterError, match=">= 1"):
        m.retention_rate(0)


# ----------------------------------------------------------------------------
# DERL and value by tenure (Fader & Hardie 2010)
# ----------------------------------------------------------------------------

def _direct_derl(m: SBGModel, d: float, renewals: int, terms: int = 40_000) -> float:
    """sum_{t >= n} S(t) / S(n-1) / (1+d)^(t-n), n = renewals + 1, from the survival function."""
    n = renewals + 1
    t = np.arange(n, n + terms)
    return float(np.sum(m.survival(t) / m.survival(n - 1) * np.exp(-(t - n) * np.log1p(d))))


@pytest.mark.parametrize("data", [REGULAR[:8], HIGH_END[:8]], ids=["regular", "high_end"])
@pytest.mark.parametrize("discount", [0.01, 0.1, 0.5])
def test_derl_closed_form_matches_the_discounted_survival_sum(data, discount):
    m = fit_sbg(data)
    renewals = np.array([0, 1, 4, 20, 100])
    closed = m.derl(discount, renewals)
    direct = [_direct_derl(m, discount, int(r)) for r in renewals]
    np.testing.assert_allclose(closed, direct, rtol=1e-8)
    # a subscriber who will surely renew forever would be worth sum_k (1+d)^-k = (1+d)/d periods: DERL is below
    assert np.all(closed < (1 + discount) / discount)


def test_clv_of_a_new_subscriber_includes_the_first_payment():
    m = fit_sbg(HIGH_END[:8])
    t = np.arange(0, 40_000)
    direct = 50.0 * np.sum(m.survival(t) / 1.01 ** t)
    assert m.clv(50.0, 0.01) == pytest.approx(direct, rel=1e-8)
    assert m.clv(50.0, 0.01) == pytest.approx(50.0 * (1 + m.derl(0.01) / 1.01), rel=1e-10)


def test_hypergeometric_fallback_where_scipy_fails():
    from relmkt_helpers.contractual import _hyp2f1_1

    b, c, z = np.array([100.0, 1000.0, 4.0]), np.array([150.0, 1050.0, 4.7]), 1 / 1.01
    with np.errstate(all="ignore"):
        raw = special.hyp2f1(1.0, b, c, z)
    assert not np.isfinite(raw[:2]).any(), "scipy no longer fails here: pick other parameters to test the fallback"
    k = np.arange(200_000)[:, None]
    series = np.exp(np.cumsum(np.vstack([np.zeros((1, 3)), np.log((b + k[:-1]) / (c + k[:-1]) * z)]), axis=0)).sum(0)
    np.testing.assert_allclose(_hyp2f1_1(b, c, z), series, rtol=1e-10)


def test_value_by_tenure_rises_with_tenure_the_sorting_effect(result):
    for g in ("basic", "plus"):
        m = result.models[g]
        v = m.value_by_tenure(9.99, 0.01, 48)
        assert list(v.index) == list(range(1, 49))
        assert np.all(np.diff(v["residual_value"].to_numpy()) > 0)
        assert np.all(np.diff(v["renewal_probability"].to_numpy()) > 0)
        np.testing.assert_allclose(v["residual_value"], 9.99 * m.derl(0.01, np.arange(48)))
        # without heterogeneity the value would be flat: a customer who keeps the cohort's first-period
        # retention r_1 for ever is worth sum_k r_1^(k+1) / 1.01^k = r_1 / (1 - r_1 / 1.01) periods at every
        # tenure, below the sBG value at every tenure (the undervaluation shown by Fader & Hardie 2010)
        r1 = m.retention_rate(1)
        flat = r1 / (1 - r1 / 1.01)
        assert np.all(v["derl"] > flat)


def test_bad_discount_is_a_parameter_error():
    m = fit_sbg(REGULAR[:8])
    for bad in (0, -0.1, float("nan"), "ten"):
        with pytest.raises(ParameterError, match="discount"):
            m.derl(bad)
    with pytest.raises(ParameterError, match="renewals"):
        m.derl(0.1, -1)


# ----------------------------------------------------------------------------
# bad survivor input
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("survivors, pattern", [
    ([1000, 600, 650, 500], r"rises from 600 at period 1 to 650 at period 2"),
    ({"2024-01": [100, 80, 70], "2024-02": [90, 60, 61]}, r"cohort '2024-02'.*rises .* period 2"),
    ([1000, 600.5, 500], r"period 1 has the non-integer count"),
    ([1.0, 0.631, 0.468], r"non-integer.*percentages"),
    ([1000, -5], r"period 1 has -5"),
    ([1000, np.nan, 500], r"period 1 is missing"),
    ([1000], r"at least 2 periods"),
    ({"a": [100], "b": [50]}, r"at least 2 periods"),
    ([0, 0, 0], r"cohort size .* is 0"),
    ([1000, 1000, 1000], r"none of the 1,000 customers was lost"),
    ([1000, 0, 0], r"every customer .* lost in period 1"),
    (["a", "b"], r"must be numbers"),
])
def test_bad_survivors_raise_data_validation_error(survivors, pattern):
    with pytest.raises(DataValidationError, match=pattern):
        fit_sbg(survivors)


def test_wrong_survivor_type_is_a_parameter_error():
    with pytest.raises(ParameterError, match="sequence of counts"):
        fit_sbg("1000, 600")
    with pytest.raises(ParameterError, match="initial"):
        SBGModel(initial=(0, 1))


def test_a_fit_without_a_finite_maximum_says_why_and_what_to_do():
    # constant retention (no heterogeneity): the likelihood's supremum is the geometric limit at infinity
    with pytest.raises(SBGConvergenceError, match=r"constant retention rate \(0.500.*geometric model"):
        fit_sbg([1024, 512, 256, 128, 64, 32, 16])
    # retention that *falls* with tenure cannot be fitted either
    with pytest.raises(SBGConvergenceError, match="did not converge"):
        fit_sbg([1000, 900, 700, 400])
    assert issubclass(SBGConvergenceError, RelmktError)


def test_durations_input_checks():
    with pytest.raises(DataValidationError, match="tenure 0"):
        SBGModel().fit_durations([0, 2], [True, False])
    with pytest.raises(ParameterError, match="same length"):
        SBGModel().fit_durations([1, 2, 3], [True, False])


# ----------------------------------------------------------------------------
# subscription table -> tenures and survivor tables
# ----------------------------------------------------------------------------

def test_tenure_rules_month_arithmetic():
    subs = pd.DataFrame({
        "subscription_id": list("abcdefg"),
        "start_date": pd.to_datetime(["2025-01-31", "2025-01-15", "2025-01-15", "2025-03-10", "2025-06-01",
                                      "2025-05-20", "2026-01-05"]),
        "end_date": pd.to_datetime(["2025-02-28", "2025-02-20", "2025-01-15", None, "2026-02-01", None, None]),
    })
    out = subscription_tenures(subs, as_of="2025-12-31").set_index("subscription_id")
    # a: Jan 31 + 1 month = Feb 28 (clipped) -> 1 paid month; b: ends mid-second month -> 2 (rounded up);
    # c: ends on its start day -> 1; d: active, Mar 10 + 9 months = Dec 10 <= Dec 31 < Jan 10 -> 9 survived;
    # e: ends after as_of -> censored at 6 (Jun 1 + 6 = Dec 1); f: May 20 + 7 = Dec 20 -> 7; g: starts after as_of
    assert out["tenure"].to_dict() == {"a": 1, "b": 2, "c": 1, "d": 9, "e": 6, "f": 7}
    assert out["churned"].to_dict() == {"a": True, "b": True, "c": True, "d": False, "e": False, "f": False}
    assert str(out.loc["d", "cohort"]) == "2025-03"


def test_tenures_match_how_the_sample_shop_was_generated(shop):
    # datasets.py: end_date = start_date + T calendar months (pd.DateOffset semantics); empty = censored
    ten = subscription_tenures(shop.subscriptions, as_of=AS_OF)
    churned = ten[ten["churned"]]
    rebuilt = [s + pd.DateOffset(months=int(t)) for s, t in zip(churned["start_date"], churned["tenure"])]
    assert (pd.DatetimeIndex(rebuilt) == pd.DatetimeIndex(churned["end_date"])).all()
    assert (ten["tenure"] >= 0).all() and (churned["tenure"] >= 1).all()
    assert len(ten) == shop.truth["realised"]["subscriptions"]
    assert int((~ten["churned"]).sum()) == shop.truth["realised"]["subscriptions_active_at_end"]
    # a censored subscription has survived `tenure` months and its next renewal lies after as_of
    active = ten[~ten["churned"]]
    nxt = [s + pd.DateOffset(months=int(t) + 1) for s, t in zip(active["start_date"], active["tenure"])]
    done = [s + pd.DateOffset(months=int(t)) for s, t in zip(active["start_date"], active["tenure"])]
    assert (pd.DatetimeIndex(nxt) > AS_OF).all() and (pd.DatetimeIndex(done) <= AS_OF).all()


def test_survivor_table_counts_subscriptions_still_active(shop):
    table = survivor_table(shop.subscriptions, as_of=AS_OF, group_col="plan")
    s = shop.subscriptions
    for plan, cohort, t in (("basic", "2023-01", 0), ("basic", "2023-01", 7), ("plus", "2024-06", 12),
                            ("plus", "2025-11", 1)):
        rows = s[(s["plan"] == plan) & (s["start_date"].dt.strftime("%Y-%m") == cohort)]
        renewal = [d + pd.DateOffset(months=t) for d in rows["start_date"]]
        active = rows["end_date"].isna().to_numpy() | (rows["end_date"].to_numpy() > pd.DatetimeIndex(renewal))
        assert table.loc[(plan, pd.Period(cohort, "M")), t] == active.sum()
    # the January 2023 cohort is observed 35 months; December 2025's only at its start
    assert table.loc[("basic", pd.Period("2023-01", "M"))].notna().sum() == 36
    assert table.loc[("basic", pd.Period("2025-12", "M"))].notna().sum() == 1
    assert (table.diff(axis=1).fillna(0) <= 0).all().all()


def test_sample_shop_true_parameters_are_recovered(shop, subs):
    truth = shop.truth["subscriptions"]["plans"]
    table = survivor_table(subs, as_of=AS_OF, group_col="plan")
    for plan in ("basic", "plus"):
        m = fit_sbg(table.loc[plan])  # monthly start cohorts, each right-censored at its age
        assert m.n_cohorts_ == 36
        err = np.array([m.alpha_ - truth[plan]["alpha"], m.beta_ - truth[plan]["beta"]])
        wald = err @ np.linalg.solve(m.variance_matrix_.to_numpy(), err)
        assert wald < stats.chi2.ppf(0.99, df=2), (plan, m.alpha_, m.beta_, wald)
        assert np.all(np.abs(err) < 3 * m.standard_errors_.to_numpy())


def test_survivor_table_fit_equals_the_per_subscription_fit_at_a_month_end(subs, result):
    table = survivor_table(subs, as_of=AS_OF, group_col="plan")
    for plan in ("basic", "plus"):
        m = fit_sbg(table.loc[plan])
        assert m.log_likelihood_ == pytest.approx(result.models[plan].log_likelihood_, rel=1e-10)
        assert m.alpha_ == pytest.approx(result.models[plan].alpha_, rel=1e-6)


def test_subscriptions_ending_before_they_start_are_named(subs):
    bad = subs.head(6).copy()
    bad.loc[[1, 4], "end_date"] = bad.loc[[1, 4], "start_date"] - pd.Timedelta(days=3)
    for call in (lambda: subscription_tenures(bad, as_of=AS_OF), lambda: kaplan_meier(bad, as_of=AS_OF),
                 lambda: survivor_table(bad, as_of=AS_OF), lambda: contractual_churn(bad, as_of=AS_OF)):
        with pytest.raises(DataValidationError, match=r"2 subscription\(s\) end before they start") as exc:
            call()
        msg = str(exc.value)
        assert "row 1 (subscription_id 'S000002')" in msg and "row 4" in msg and "swapped" in msg


def test_hand_built_frames_with_text_dates_work_and_bad_dates_are_named():
    subs = pd.DataFrame({"subscription_id": ["x", "y"], "start_date": ["2025-01-10", "2025-02-01"],
                         "end_date": ["2025-03-10", ""]})
    out = subscription_tenures(subs, as_of="2025-06-30")
    assert out["tenure"].tolist() == [2, 4] and out["churned"].tolist() == [True, False]
    subs.loc[1, "start_date"] = "01/02/2025x"
    with pytest.raises(DataValidationError, match=r"'start_date' has values that are not dates.*'y'"):
        subscription_tenures(subs, as_of="2025-06-30")


def test_missing_columns_unknown_group_and_bad_as_of(subs):
    with pytest.raises(DataValidationError, match=r"'begin' missing"):
        subscription_tenures(subs, as_of=AS_OF, start_col="begin")
    for call in (kaplan_meier, survivor_table, contractual_churn):
        with pytest.raises(ParameterError, match=r"group_col='tier' is not a column.*'plan'"):
            call(subs, as_of=AS_OF, group_col="tier")
    with pytest.raises(ParameterError, match="as_of"):
        subscription_tenures(subs, as_of="not a date")
    with pytest.raises(ParameterError, match="as_of"):
        subscription_tenures(subs, as_of=None)
    with pytest.raises(DataValidationError, match="no subscription starts on or before"):
        subscription_tenures(subs, as_of="2020-01-01")
    with pytest.raises(ParameterError, match="DataFrame"):
        subscription_tenures([1, 2], as_of=AS_OF)


# ----------------------------------------------------------------------------
# Kaplan-Meier
# ----------------------------------------------------------------------------

# Hand example: six subscribers; cancellations observed at 1, 2, 2, 3 months; still active after 2 and 4.
#   t=1: n=6, d=1 -> S = 5/6;  Greenwood sum 1/(6*5) = 1/30
#   t=2: n=5, d=2 -> S = 5/6 * 3/5 = 1/2;  sum 1/30 + 2/(5*3) = 1/6;  var = (1/2)^2 / 6 = 1/24
#   t=3: n=2, d=1 -> S = 1/2 * 1/2 = 1/4;  sum 1/6 + 1/(2*1) = 2/3;  var = (1/4)^2 * 2/3 = 1/24
#   t=4: n=1, d=0 -> S = 1/4 (one censored)
HAND_DUR, HAND_EVENT = [1, 2, 2, 3, 2, 4], [True, True, True, True, False, False]
HAND_S = [1, 5 / 6, 1 / 2, 1 / 4, 1 / 4]
HAND_N = [6, 6, 5, 2, 1]
HAND_SUM = [0, 1 / 30, 1 / 6, 2 / 3, 2 / 3]


def test_product_limit_hand_example():
    km = product_limit(HAND_DUR, HAND_EVENT)
    np.testing.assert_allclose(km["survival"], HAND_S)
    assert km["at_risk"].tolist() == HAND_N
    assert km["churned"].tolist() == [0, 1, 2, 1, 0] and km["censored"].tolist() == [0, 0, 1, 0, 1]
    np.testing.assert_allclose(km["variance"], np.array(HAND_S) ** 2 * HAND_SUM)
    z = stats.norm.ppf(0.975)
    # plain: S +- z sqrt(var); at t=2: 0.5 +- 1.96 * sqrt(1/24)
    plain = product_limit(HAND_DUR, HAND_EVENT, ci_method="plain")
    assert plain.loc[2, "lower"] == pytest.approx(0.5 - z * np.sqrt(1 / 24))
    assert plain.loc[2, "upper"] == pytest.approx(0.5 + z * np.sqrt(1 / 24))
    # log-log (Kalbfleisch & Prentice): S ** exp(+-z sqrt(sum) / log S); at t=2, log S = -log 2, sum = 1/6
    w = z * np.sqrt(1 / 6) / np.log(2)
    assert km.loc[2, "lower"] == pytest.approx(0.5 ** np.exp(w))
    assert km.loc[2, "upper"] == pytest.approx(0.5 ** np.exp(-w))
    assert km.loc[0, "lower"] == km.loc[0, "upper"] == 1.0
    assert ((km["lower"] <= km["survival"]) & (km["survival"] <= km["upper"])).all()
    assert median_survival(km).to_dict() == {"all": 2.0}


def test_kaplan_meier_from_a_subscription_table_matches_the_hand_example():
    starts = ["2025-01-15"] * 4 + ["2025-03-15", "2025-01-15"]
    ends = ["2025-02-15", "2025-03-15", "2025-03-15", "2025-04-15", None, None]
    subs = pd.DataFrame({"subscription_id": list("abcdef"), "plan": ["p"] * 6,
                         "start_date": pd.to_datetime(starts), "end_date": pd.to_datetime(ends)})
    km = kaplan_meier(subs, as_of="2025-05-20", group_col="plan")
    assert km["group"].unique().tolist() == ["p"]
    np.testing.assert_allclose(km["survival"], HAND_S)
    assert km["at_risk"].tolist() == HAND_N


def test_median_survival_is_inf_when_not_reached():
    km = product_limit([1, 3, 3, 3], [True, False, False, False])
    assert median_survival(km).iloc[0] == np.inf
    with pytest.raises(ParameterError, match="kaplan_meier"):
        median_survival(pd.DataFrame({"x": [1]}))


def test_product_limit_parameter_checks():
    with pytest.raises(ParameterError, match="ci_method"):
        product_limit(HAND_DUR, HAND_EVENT, ci_method="arcsine")
    with pytest.raises(ParameterError, match="ci_level"):
        product_limit(HAND_DUR, HAND_EVENT, ci_level=95)


def test_kaplan_meier_is_close_to_the_sbg_fit_and_to_the_truth(shop, result):
    truth = shop.truth["subscriptions"]["plans"]
    t = np.arange(0, 25)
    for plan in ("basic", "plus"):
        km = result.km[result.km["group"] == plan].set_index("tenure")
        true_s = np.exp(special.betaln(truth[plan]["alpha"], truth[plan]["beta"] + t)
                        - special.betaln(truth[plan]["alpha"], truth[plan]["beta"]))
        assert np.abs(km.loc[t, "survival"].to_numpy() - result.models[plan].survival(t)).max() < 0.03
        assert np.abs(km.loc[t, "survival"].to_numpy() - true_s).max() < 0.03
        # the true curve is inside the 95 % band at most tenures (pointwise bands: not all)
        inside = (km.loc[t, "lower"].to_numpy() <= true_s) & (true_s <= km.loc[t, "upper"].to_numpy())
        assert inside.mean() >= 0.8
    med = result.km_median
    assert med["basic"] == result.sbg.loc["basic", "median_months_sbg"]


def test_kaplan_meier_by_channel(subs):
    km = kaplan_meier(subs, as_of=AS_OF, group_col="channel")
    assert sorted(km["group"].unique()) == ["affiliate", "referral", "search", "social"]
    assert km.groupby("group")["at_risk"].first().sum() == len(subs)
    assert (km.groupby("group")["survival"].apply(lambda s: s.is_monotonic_decreasing)).all()


# ----------------------------------------------------------------------------
# the notebook's entry point
# ----------------------------------------------------------------------------

def test_contractual_churn_result(result, subs):
    assert isinstance(result, ContractualChurnResult)
    assert list(result.models) == ["all", "basic", "plus"] and result.notes == ()
    sbg = result.sbg
    assert sbg.loc["all", "subscriptions"] == len(subs)
    assert sbg.loc["basic", "subscriptions"] + sbg.loc["plus", "subscriptions"] == len(subs)
    assert sbg.loc["plus", "margin_per_month"] == pytest.approx(19.99)
    assert set(result.projection["group"]) == {"all", "basic", "plus"}
    assert result.projection.groupby("group")["period"].max().eq(36).all()
    assert result.value_by_tenure.groupby("group")["tenure"].max().eq(36).all()
    m = result.models["plus"]
    assert sbg.loc["plus", "clv_new"] == pytest.approx(m.clv(19.99, 0.01))
    assert sbg.loc["plus", "residual_value_month_12"] == pytest.approx(19.99 * m.derl(0.01, 11))
    head = result.headline
    assert head["contractual_plus_alpha"] == pytest.approx(m.alpha_)
    assert all(v is None or isinstance(v, float) for v in head.values())
    json.dumps(head)


def test_contractual_churn_options_and_errors(subs):
    one = contractual_churn(subs, as_of=AS_OF, group_col=None, price_col=None, discount=0.02, max_tenure=6, horizon=10)
    assert list(one.models) == ["all"] and one.sbg.loc["all", "margin_per_month"] == 1.0
    assert one.value_by_tenure["tenure"].max() == 6
    with pytest.raises(ParameterError, match="price_col='price'"):
        contractual_churn(subs, as_of=AS_OF, price_col="price")
    with pytest.raises(ParameterError, match="margin_rate"):
        contractual_churn(subs, as_of=AS_OF, margin_rate=-1)
    with pytest.raises(ParameterError, match="discount"):
        contractual_churn(subs, as_of=AS_OF, discount=0)


def test_a_group_that_cannot_be_fitted_is_noted_not_fatal(subs):
    tiny = subs.copy()
    tiny["tier"] = "main"
    # four subscribers started in Dec 2025, none observed a full month: nothing to fit for them
    extra = tiny.head(4).assign(tier="new", start_date=pd.Timestamp("2025-12-10"), end_date=pd.NaT)
    res = contractual_churn(pd.concat([tiny, extra], ignore_index=True), as_of=AS_OF, group_col="tier")
    assert "new" not in res.models and "main" in res.models
    assert any("'new'" in n for n in res.notes)
    assert np.isnan(res.sbg.loc["new", "alpha"]) and res.sbg.loc["new", "subscriptions"] == 4


# ----------------------------------------------------------------------------
# plots
# ----------------------------------------------------------------------------

def test_plot_sbg_fit_marks_the_end_of_the_data(result):
    fig, ax = plt.subplots()
    before = plt.gcf()
    out = plot_sbg_fit(result, ax=ax, horizon=60)
    assert out is ax and plt.gcf() is before
    vlines = [ln for ln in ax.get_lines() if np.ptp(np.asarray(ln.get_xdata(), dtype=float)) == 0]
    assert len(vlines) == 1 and vlines[0].get_xdata()[0] == 35
    assert ax.get_xlim() == (0, 60)
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(dashed) == 3 and all(ln.get_xdata()[0] == 35 and ln.get_xdata()[-1] == 60 for ln in dashed)


def test_plot_retention_rate_rises(result):
    ax = plot_retention_rate(result)
    fitted = [ln for ln in ax.get_lines() if ln.get_label().endswith(": sBG")]
    assert len(fitted) == 3
    assert all(np.all(np.diff(ln.get_ydata()) > 0) for ln in fitted)
    observed = [ln for ln in ax.get_lines() if ln.get_label().endswith(": observed")]
    at_risk = result.models["plus"].observed_["at_risk"]
    assert len(observed[2].get_xdata()) == int((at_risk.iloc[1:] >= 20).sum())
    ax2 = plot_retention_rate(result, min_at_risk=10**9)
    assert all(len(ln.get_xdata()) == 0 for ln in ax2.get_lines() if ln.get_label().endswith(": observed"))


def test_plot_km_has_steps_and_bands(result, subs):
    ax = plot_km(result)
    assert isinstance(ax, Axes)
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 3
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert f"basic (n={int((subs['plan'] == 'basic').sum()):,})" in labels
    ax2 = plot_km(kaplan_meier(subs, as_of=AS_OF, group_col="plan"), ci=False, max_tenure=12)
    assert not any(isinstance(c, PolyCollection) for c in ax2.collections)
    assert max(ln.get_xdata().max() for ln in ax2.get_lines() if ln.get_label().startswith(("basic", "plus"))) == 12


def test_plot_value_by_tenure(result):
    ax = plot_value_by_tenure(result)
    for ln in ax.get_lines():
        assert np.all(np.diff(ln.get_ydata()) > 0)
    ax2 = plot_value_by_tenure(result.models["plus"], margin_per_period=19.99, discount=0.01, max_tenure=36)
    np.testing.assert_allclose(ax2.get_lines()[0].get_ydata(),
                               result.value_by_tenure.query("group == 'plus'")["residual_value"])


def test_plots_reject_wrong_inputs():
    for fn in (plot_sbg_fit, plot_retention_rate, plot_value_by_tenure):
        with pytest.raises(ParameterError, match="contractual_churn"):
            fn(pd.DataFrame())
        with pytest.raises(ParameterError, match="not fitted"):
            fn(SBGModel())
    with pytest.raises(ParameterError, match="kaplan_meier"):
        plot_km([1, 2, 3])


def test_every_failed_fit_is_one_convergence_error():
    """One exception class for a failed model fit, whichever model: catch rh.ConvergenceError."""
    import relmkt_helpers as rh
    from relmkt_helpers import clv, contractual

    assert clv.ConvergenceError is rh.ConvergenceError
    assert issubclass(contractual.SBGConvergenceError, rh.ConvergenceError)
    assert issubclass(rh.ConvergenceError, rh.RelmktError)
