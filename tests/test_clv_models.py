"""Tests of relmkt_helpers.clv.models: repeat-purchase models, Gamma-Gamma, model comparison.

Golden numbers and their sources (CDNOW 1/10th sample, 2,357 customers, calibration
1997-01-01 .. 1997-09-30, time in weeks measured as days / 7):

* BG/NBD and Pareto/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
  Marketing Science 24(2), section 4, p. 279: BG/NBD r = 0.243, alpha = 4.414, a = 0.793,
  b = 2.426, LL = -9,582.4; Pareto/NBD r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669,
  LL = -9,595.0.
* BG/NBD predictions: Hardie's BG/NBD spreadsheet (companion to FHL 2005, the figures used in
  tests/test_lifetimes_contract.py): E[X(t)] at t = 0.1429, 1, 3, 31.8571, 32, 78 weeks is
  0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576, and the conditional expectation for
  (x = 2, t_x = 30.43, T = 38.86, t = 39) is 1.226.
* Gamma-Gamma: Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", p. 4:
  p = 6.25, q = 3.74, gamma = 15.44 on the 946 repeat customers.
* MBG/NBD (Batislam, Denizel & Filiztekin 2007) as estimated on the same data by the R package
  BTYDplus (Platzer), as quoted in issue 4 and pinned in tests/test_lifetimes_contract.py:
  r = 0.525, alpha = 6.183, a = 0.891, b = 1.614.
* Sample shop: data/sample_shop/ground_truth.json (BG/NBD per channel in weeks; Gamma-Gamma
  p = 6, q = 4, gamma = 25).

"To printed precision" means |estimate - published| <= half a unit of the last printed digit.
The summaries come from relmkt_helpers.clv.prep.rfm_summary (freq="D", freq_multiplier=7).
"""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmkt_helpers import load_cdnow, load_sample_shop
from relmkt_helpers.clv import models
from relmkt_helpers.clv.models import (
    ConvergenceError,
    NotFittedError,
    RepeatPurchaseModel,
    SpendModel,
    _loglik,
    _loglik_sum,
    _RowIndex,
    compare_models,
)
from relmkt_helpers.clv.prep import calibration_holdout, rfm_summary
from relmkt_helpers.errors import DataValidationError, ParameterError

lifetimes = pytest.importorskip("lifetimes")

CAL_END = "1997-09-30"
PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "pnbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "mbgnbd": ({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None),
}


def assert_printed_precision(value: float, published: float, decimals: int) -> None:
    assert abs(value - published) <= 0.5 * 10.0 ** -decimals + 1e-12, (value, published)


@pytest.fixture(scope="module")
def cdnow_tx() -> pd.DataFrame:
    return load_cdnow(sample=True).transactions


@pytest.fixture(scope="module")
def summary(cdnow_tx) -> pd.DataFrame:
    return rfm_summary(cdnow_tx[cdnow_tx["order_date"] <= CAL_END], observation_end=CAL_END, freq="D",
                       freq_multiplier=7)


@pytest.fixture(scope="module")
def fitted(summary) -> dict[str, RepeatPurchaseModel]:
    return {k: RepeatPurchaseModel(k).fit(summary) for k in PUBLISHED}


@pytest.fixture(scope="module")
def gg(summary) -> SpendModel:
    return SpendModel().fit(summary)


def quiet_lifetimes_fit(fitter, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fitter.fit(*args, **kwargs)


# --------------------------------------------------------------------------------------------
# published estimates
# --------------------------------------------------------------------------------------------

def test_summary_is_the_published_data_set(summary):
    # FHL (2005): 2,357 customers; F&H (2013) p. 4: 946 of them make repeat purchases
    assert len(summary) == 2357
    assert int((summary["frequency"] > 0).sum()) == 946


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_fit_reproduces_published_estimates(fitted, kind):
    params, ll = PUBLISHED[kind]
    m = fitted[kind]
    for name, value in params.items():
        assert_printed_precision(m.params_[name], value, 3)
    if ll is not None:
        assert_printed_precision(m.log_likelihood_, ll, 1)
        assert m.aic_ == pytest.approx(8 - 2 * m.log_likelihood_)
    assert m.n_customers_ == 2357
    assert m.n_unique_rows_ < m.n_customers_ / 2  # fitted on the unique rows
    assert m.unit_days_ == 7.0
    assert m.fitter_.params_.index.tolist() == list(params)


def test_gamma_gamma_reproduces_fader_hardie_2013(gg):
    for name, value in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert_printed_precision(gg.params_[name], value, 2)
    assert gg.n_customers_ == 946
    assert gg.n_unique_rows_ <= 946
    assert gg.population_mean_spend == pytest.approx(gg.params_["p"] * gg.params_["gamma"] / (gg.params_["q"] - 1))


def test_bgnbd_predictions_reproduce_hardies_spreadsheet(fitted):
    bg = fitted["bgnbd"]
    times = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0])
    np.testing.assert_allclose(bg.expected_purchases(times), [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576],
                               atol=5e-5 + 5e-4)  # printed to 4 decimals; params fitted, not the rounded ones
    assert bg.conditional_expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


# --------------------------------------------------------------------------------------------
# the kit's own likelihood, Hessian and predictions against lifetimes (independent code)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_compressed_fit_equals_lifetimes_fit_on_every_customer(summary, fitted, kind):
    cls = {"bgnbd": lifetimes.BetaGeoFitter, "pnbd": lifetimes.ParetoNBDFitter,
           "mbgnbd": lifetimes.ModifiedBetaGeoFitter}[kind]
    f, r, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    kw = {"initial_params": np.ones(4), "tol": 1e-10, "maxiter": 20_000} if kind == "pnbd" else {}
    full = quiet_lifetimes_fit(cls(), f, r, T, **kw)
    np.testing.assert_allclose(fitted[kind].params_.to_numpy(), full.params_.to_numpy(dtype=float), rtol=2e-5)


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_log_likelihood_matches_lifetimes_objective(summary, fitted, kind):
    """lifetimes minimises -LL in rescaled time (oldest T = 1); rescaling time by c changes LL by sum(x) log c."""
    m = fitted[kind]
    x, r, T = (summary[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    c = 1.0 / T.max()
    scaled = dict(m.params_)
    for p in ("alpha", "beta"):
        if p in scaled:
            scaled[p] *= c
    w = np.ones_like(x)
    if kind == "pnbd":
        obj = lifetimes.ParetoNBDFitter._negative_log_likelihood(np.array(list(scaled.values())), x.astype(int),
                                                                r * c, T * c, w, 0.0)
    else:
        cls = lifetimes.BetaGeoFitter if kind == "bgnbd" else lifetimes.ModifiedBetaGeoFitter
        obj = cls._negative_log_likelihood(np.log(list(scaled.values())), x, r * c, T * c, w, 0.0) * len(x)
    assert m.log_likelihood_ == pytest.approx(-obj + np.log(c) * x.sum(), abs=1e-6)
    # the fast weighted sum used in fitting equals the plain per-customer formula
    idx = _RowIndex.of(x, r, T, w, pairs=kind == "pnbd")
    assert _loglik_sum(kind, dict(m.params_), idx) == pytest.approx(float(_loglik(kind, dict(m.params_), x, r, T).sum()),
                                                                   rel=1e-12)


@pytest.mark.parametrize("kind", ["bgnbd", "mbgnbd"])
def test_hessian_matches_lifetimes_autograd_hessian(fitted, kind):
    """The kit's numerical Hessian (full LL, log-parameters) equals N x autograd's (mean LL) at the optimum."""
    m = fitted[kind]
    ours = np.linalg.inv(m.variance_matrix_log_.to_numpy()) / m.n_customers_
    np.testing.assert_allclose(ours, m.fitter_._hessian_, rtol=1e-4, atol=1e-7)
    vm = m.variance_matrix_.to_numpy()
    np.testing.assert_allclose(vm, vm.T)
    assert np.all(np.linalg.eigvalsh(vm) > 0)
    # lifetimes' own variance matrix has the right diagonal but is not symmetric
    lt = m.fitter_.variance_matrix_.to_numpy()
    np.testing.assert_allclose(np.diag(vm), np.diag(lt), rtol=1e-3)
    assert not np.allclose(lt, lt.T, rtol=1e-2)
    np.testing.assert_allclose(vm**2, lt * lt.T, rtol=2e-3)  # lt_ij = cov_ij p_j / p_i


def test_gamma_gamma_hessian_matches_lifetimes(gg):
    ours = np.linalg.inv(gg.variance_matrix_log_.to_numpy()) / gg.n_customers_
    np.testing.assert_allclose(ours, gg.fitter_._hessian_, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_predictions_match_lifetimes(summary, fitted, kind):
    m, lf = fitted[kind], fitted[kind].fitter_
    x, r, T = summary["frequency"], summary["recency"], summary["T"]
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(m.conditional_expected_purchases(39, x, r, T),
                                   lf.conditional_expected_number_of_purchases_up_to_time(39, x, r, T), rtol=1e-8)
        np.testing.assert_allclose(m.probability_alive(x, r, T), lf.conditional_probability_alive(x, r, T),
                                   rtol=1e-8)
        t = np.array([1.0, 13.0, 39.0, 78.0])
        np.testing.assert_allclose(m.expected_purchases(t), lf.expected_number_of_purchases_up_to_time(t), rtol=1e-8)
    if kind != "pnbd":
        expected = [lf.probability_of_n_purchases_up_to_time(39, n) for n in range(8)]
        np.testing.assert_allclose(m.probability_of_purchases(39, range(8)), expected, rtol=1e-8)
    else:
        sub = summary.iloc[:40]
        expected = [lf.conditional_probability_of_n_purchases_up_to_time(0, 39, *row)
                    for row in sub[["frequency", "recency", "T"]].to_numpy()]
        np.testing.assert_allclose(m.conditional_probability_no_purchases(39, sub["frequency"], sub["recency"],
                                                                          sub["T"]), expected, rtol=1e-8)


def test_prediction_output_types(fitted, summary):
    bg = fitted["bgnbd"]
    assert isinstance(bg.expected_purchases(10), float)
    assert isinstance(bg.expected_purchases([1, 2]), np.ndarray)
    out = bg.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    assert isinstance(out, pd.Series) and out.index.equals(summary.index)
    with pytest.raises(ParameterError, match="t must be >= 0"):
        bg.expected_purchases(-1)
    with pytest.raises(ParameterError, match="whole numbers"):
        bg.probability_of_purchases(10, [0.5])


# --------------------------------------------------------------------------------------------
# the formulas against simulation of the models' own stories (no formula shared)
# --------------------------------------------------------------------------------------------

def simulate(kind: str, P: dict, T: float, t: float, n: int, rng: np.random.Generator):
    """Customers who first bought at 0: (x, t_x) in (0, T], alive at T, purchases in (T, T + t]."""
    horizon = T + t
    lam = rng.gamma(P["r"], 1.0 / P["alpha"], n)
    if kind == "pnbd":
        tau = rng.exponential(1.0 / rng.gamma(P["s"], 1.0 / P["beta"], n))
        end = np.minimum(tau, horizon)
        m = rng.poisson(lam * end)
        keep_n, alive = m, tau > T
    else:
        p = rng.beta(P["a"], P["b"], n)
        k = rng.geometric(p)  # drops out right after its k-th repeat purchase
        end = np.full(n, horizon)
        m = rng.poisson(lam * horizon)
        keep_n = np.minimum(m, k)
        dead0 = (rng.random(n) < p) if kind == "mbgnbd" else np.zeros(n, dtype=bool)
        keep_n = np.where(dead0, 0, keep_n)
    owner = np.repeat(np.arange(n), m)
    times = rng.random(owner.size) * end[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(m) - m, m)
    kept = rank < keep_n[owner]
    before = kept & (times <= T)
    x = np.bincount(owner[before], minlength=n).astype(float)
    tx = np.zeros(n)
    np.maximum.at(tx, owner[before], times[before])
    future = np.bincount(owner[kept & (times > T)], minlength=n).astype(float)
    if kind != "pnbd":
        alive = ~dead0 & ~((x == k) & (x > 0))
    return x, tx, alive, future


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_population_formulas_match_simulation(kind):
    P, _ = PUBLISHED[kind]
    m = RepeatPurchaseModel.from_params(kind, P)
    n, t = 400_000, 39.0
    x, _, _, _ = simulate(kind, P, t, 0.0, n, np.random.default_rng(0))
    assert abs(m.expected_purchases(t) - x.mean()) < 4 * x.std() / np.sqrt(n)
    pmf = m.probability_of_purchases(t, range(6))
    freq = np.bincount(x.astype(int), minlength=6)[:6] / n
    np.testing.assert_array_less(np.abs(pmf - freq), 4 * np.sqrt(pmf * (1 - pmf) / n))
    full = m.probability_of_purchases(t, range(400))
    assert full.sum() == pytest.approx(1.0, abs=1e-8)
    assert (np.arange(400) * full).sum() == pytest.approx(m.expected_purchases(t), rel=1e-6)


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd", "mbgnbd"])
def test_conditional_formulas_match_simulation(kind):
    """Averaged over simulated histories, the conditional predictions equal the simulated futures."""
    P, _ = PUBLISHED[kind]
    m = RepeatPurchaseModel.from_params(kind, P)
    n, T, t = 200_000, 39.0, 26.0
    x, tx, alive, future = simulate(kind, P, T, t, n, np.random.default_rng(1))
    Tn = np.full(n, T)
    pred = m.conditional_expected_purchases(t, x, tx, Tn)
    d = future - pred
    assert abs(d.mean()) < 4 * d.std() / np.sqrt(n)
    pa = m.probability_alive(x, tx, Tn)
    d = alive - pa
    assert abs(d.mean()) < 4 * d.std() / np.sqrt(n)
    p0 = m.conditional_probability_no_purchases(t, x, tx, Tn)
    d = (future == 0) - p0
    assert abs(d.mean()) < 4 * d.std() / np.sqrt(n)


@pytest.mark.parametrize("x, tx, T, t", [(0, 0, 38.9, 39), (2, 30.4, 38.9, 39), (50, 37, 38, 520),
                                         (72, 3, 5, 2689), (5, 3, 100, 2000), (0, 0, 0.5, 1000)])
def test_pareto_no_purchase_probability_against_adaptive_quadrature(x, tx, T, t):
    """1 - P(alive) + P(alive) (1 - int_0^W (r+x) e^(-(r+x) w) S(w) dw), w = log(1 + u/(alpha+T)), by scipy.quad."""
    from scipy import integrate

    P = {"r": 0.68, "alpha": 2.44, "s": 0.34, "beta": 0.167} if x == 72 else PUBLISHED["pnbd"][0]
    m = RepeatPurchaseModel.from_params("pnbd", P)
    ra, aa, ba, s = P["r"] + x, P["alpha"] + T, P["beta"] + T, P["s"]
    W = np.log1p(t / aa)
    knots = [min(W, k / ra) * f for k, f in ((1, 0.5), (5, 0.99), (20, 0.98))]
    inner, _ = integrate.quad(lambda w: ra * np.exp(-ra * w - s * np.log1p(aa * np.expm1(w) / ba)), 0, W,
                              epsabs=1e-15, epsrel=1e-13, limit=2000, points=knots)
    pa = m.probability_alive(x, tx, T)
    assert m.conditional_probability_no_purchases(t, x, tx, T) == pytest.approx(1 - pa * inner, abs=1e-12)


def test_pareto_tail_integral_where_scipy_hyp2f1_fails():
    """The A_0 terms by exp-sinh quadrature equal the 2F1 form, and stay finite where scipy returns NaN."""
    from scipy import integrate

    from relmkt_helpers.clv.models import _log_hyp2f1_a_a1, _pnbd_log_tail

    r, alpha, s, beta = 2.79, 43.5, 1025.0, 15644.0  # extreme: Pareto/NBD fitted to a one-cohort table
    x, y = np.array([0.0, 3.0, 0.0]), np.array([0.0, 20.0, 112.0])
    rsx = r + s + x
    direct = _log_hyp2f1_a_a1(rsx, r + x, (beta - alpha) / (beta + y)) - rsx * np.log(beta + y)  # alpha < beta
    assert not np.isfinite(direct).all()  # scipy 1.17's hyp2f1 gives NaN here
    got = _pnbd_log_tail(*(np.full(3, v) for v in (r, alpha, s, beta)), x, y)
    for i in range(3):  # the integral it stands for, by adaptive quadrature in w = log(1 + u/c)
        p, q, ay, by = r + x[i], s + 1, alpha + y[i], beta + y[i]
        c = 1 / (p / ay + q / by)
        val, _ = integrate.quad(lambda w: c * np.exp(w - p * np.log1p(c * np.expm1(w) / ay)
                                                     - q * np.log1p(c * np.expm1(w) / by)), 0, 50,
                                epsabs=0, epsrel=1e-12, limit=500)
        ref = np.log(rsx[i]) - p * np.log(ay) - q * np.log(by) + np.log(val)
        assert got[i] == pytest.approx(ref, rel=1e-12)
        if np.isfinite(direct[i]):
            assert got[i] == pytest.approx(direct[i], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(["bgnbd", "pnbd", "mbgnbd"]),
       logp=st.lists(st.floats(-2.5, 2.5), min_size=4, max_size=4),
       x=st.integers(0, 300), frac=st.floats(0, 1), T=st.floats(0.5, 500), t=st.floats(0.1, 2000))
def test_predictions_are_finite_and_coherent(kind, logp, x, frac, T, t):
    names = ["r", "alpha", "s", "beta"] if kind == "pnbd" else ["r", "alpha", "a", "b"]
    m = RepeatPurchaseModel.from_params(kind, dict(zip(names, np.exp(logp))))
    tx = frac * T if x > 0 else 0.0
    pa = m.probability_alive(x, tx, T)
    e1 = m.conditional_expected_purchases(t, x, tx, T)
    e2 = m.conditional_expected_purchases(2 * t, x, tx, T)
    p0 = m.conditional_probability_no_purchases(t, x, tx, T)
    assert 0.0 <= pa <= 1.0
    assert np.isfinite(e1) and 0.0 <= e1 <= e2 * (1 + 1e-9) + 1e-12
    assert -1e-9 <= p0 <= 1.0 + 1e-9
    assert np.isfinite(m.expected_purchases(t))


# --------------------------------------------------------------------------------------------
# units, penalizer, summary
# --------------------------------------------------------------------------------------------

def test_time_unit_changes_only_the_rates(cdnow_tx, fitted):
    days = rfm_summary(cdnow_tx[cdnow_tx["order_date"] <= CAL_END], observation_end=CAL_END, freq="D")
    bg_d = RepeatPurchaseModel("bgnbd").fit(days)
    bg_w = fitted["bgnbd"]
    assert bg_d.unit_days_ == 1.0
    for p in ("r", "a", "b"):
        assert bg_d.params_[p] == pytest.approx(bg_w.params_[p], rel=1e-4)
    assert bg_d.params_["alpha"] == pytest.approx(7 * bg_w.params_["alpha"], rel=1e-4)
    # a recency density in days is a density in weeks divided by 7 per repeat purchase
    assert bg_d.log_likelihood_ == pytest.approx(bg_w.log_likelihood_ - np.log(7) * days["frequency"].sum(),
                                                 abs=1e-3)
    assert bg_d.conditional_expected_purchases(273, 2, 213, 272) == pytest.approx(
        bg_w.conditional_expected_purchases(39, 2, 213 / 7, 272 / 7), rel=1e-4)


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd"])
def test_penalizer_means_the_same_compressed_or_not(summary, kind):
    """objective = -LL/N + penalizer * sum(rescaled params^2), whichever lifetimes fitter runs."""
    pen = 0.01
    m = RepeatPurchaseModel(kind, penalizer=pen).fit(summary)
    f, r, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    if kind == "pnbd":  # lifetimes' Pareto objective on every row is -LL + coef * sum(params^2)
        full = quiet_lifetimes_fit(lifetimes.ParetoNBDFitter(penalizer_coef=pen * len(f)), f, r, T,
                                   initial_params=np.ones(4), tol=1e-10, maxiter=20_000)
    else:
        full = quiet_lifetimes_fit(lifetimes.BetaGeoFitter(penalizer_coef=pen), f, r, T)
    np.testing.assert_allclose(m.params_.to_numpy(), full.params_.to_numpy(dtype=float), rtol=5e-5)
    free = RepeatPurchaseModel(kind).fit(summary)
    assert m.log_likelihood_ < free.log_likelihood_


def test_summary_table(fitted, gg):
    s = fitted["pnbd"].summary
    assert s.columns.tolist() == ["estimate", "se", "lower_95", "upper_95"]
    assert s.index.tolist() == ["r", "alpha", "s", "beta"]
    assert ((s["lower_95"] > 0) & (s["lower_95"] < s["estimate"]) & (s["estimate"] < s["upper_95"])).all()
    np.testing.assert_allclose(s["se"], fitted["pnbd"].standard_errors_)
    assert gg.summary.index.tolist() == ["p", "q", "gamma"]
    assert repr(fitted["bgnbd"]).startswith("RepeatPurchaseModel('bgnbd'")


# --------------------------------------------------------------------------------------------
# the sample shop: recover the true parameters
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop_summary() -> tuple[pd.DataFrame, dict]:
    shop = load_sample_shop()
    s = rfm_summary(shop.transactions, observation_end=shop.truth["end"], freq="D", freq_multiplier=7)
    channel = shop.transactions.groupby("customer_id")["channel"].first()
    s["channel"] = channel.reindex(s.index).to_numpy()
    return s, shop.truth


def test_bgnbd_recovers_the_sample_shop_truth_per_channel(shop_summary):
    """The generator works in continuous time; daily aggregation merges ~1% same-day repeat orders."""
    s, truth = shop_summary
    zs = {}
    for channel, sub in s.groupby("channel"):
        sub = sub.copy()
        sub.attrs = dict(s.attrs)
        m = RepeatPurchaseModel("bgnbd").fit(sub)
        true = pd.Series(truth["bgnbd"][channel])
        zs[channel] = ((m.params_ - true[m.params_.index]) / m.standard_errors_).round(2).to_dict()
    worst = max(abs(v) for z in zs.values() for v in z.values())
    assert worst < 3.5, zs


def test_gamma_gamma_recovers_the_sample_shop_truth(shop_summary):
    s, truth = shop_summary
    gg = SpendModel().fit(s)
    true = pd.Series({k: truth["gamma_gamma"][k] for k in ("p", "q", "gamma")})
    z = (gg.params_ - true) / gg.standard_errors_
    assert z.abs().max() < 3.5, z.to_dict()
    # spend is generated independently of purchasing
    assert abs(gg.independence_["pearson"]) < 0.1 and abs(gg.independence_["spearman"]) < 0.1
    assert gg.independence_["verdict"].startswith("Independent enough")


# --------------------------------------------------------------------------------------------
# the independence check
# --------------------------------------------------------------------------------------------

def test_independence_check_flags_spend_that_grows_with_frequency(summary):
    dependent = summary.copy()
    rep = dependent["frequency"] > 0
    dependent.loc[rep, "monetary_value"] *= dependent.loc[rep, "frequency"]
    ind = SpendModel().fit(dependent).independence_
    assert ind["pearson"] > 0.3 and ind["spearman"] > 0.3 and ind["n"] == 946
    assert ind["verdict"].startswith("Related") and "spend more" in ind["verdict"]


def test_independence_numbers_are_the_correlations(summary, gg):
    rep = summary[summary["frequency"] > 0]
    assert gg.independence_["pearson"] == pytest.approx(rep["frequency"].corr(rep["monetary_value"]))
    assert gg.independence_["spearman"] == pytest.approx(
        rep["frequency"].corr(rep["monetary_value"], method="spearman"))
    assert gg.independence_["n"] == 946


# --------------------------------------------------------------------------------------------
# model comparison
# --------------------------------------------------------------------------------------------

def test_compare_models_on_cdnow_holdout(cdnow_tx, monkeypatch):
    monkeypatch.setattr(models, "_FORECAST_BLOCK", 97)  # forecasts in many blocks of unique rows
    ch = calibration_holdout(cdnow_tx, calibration_end=CAL_END, observation_end="1998-06-30", freq="D",
                             freq_multiplier=7)
    table, fitted = compare_models(ch, return_models=True)
    assert list(fitted) == list(table.index)
    assert sorted(table.index) == ["bgnbd", "mbgnbd", "pnbd"]
    assert table["aic"].is_monotonic_increasing
    assert_printed_precision(table.loc["bgnbd", "log_likelihood"], -9582.4, 1)  # FHL (2005) p. 279
    assert_printed_precision(table.loc["pnbd", "log_likelihood"], -9595.0, 1)
    assert (table["n_params"] == 4).all()
    np.testing.assert_allclose(table["aic"], 8 - 2 * table["log_likelihood"])
    actual = ch["frequency_holdout"]
    assert (table["holdout_actual_total"] == actual.sum()).all()
    assert (table["zero_repeat_actual_share"] == (actual == 0).mean()).all()
    cal = ch.rename(columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"})
    pn = RepeatPurchaseModel("pnbd").fit(cal)
    np.testing.assert_allclose(fitted["pnbd"].params_, pn.params_, rtol=1e-12)
    pred = pn.conditional_expected_purchases(ch["duration_holdout"], cal["frequency"], cal["recency"], cal["T"])
    row = table.loc["pnbd"]
    assert row["holdout_expected_total"] == pytest.approx(pred.sum())
    assert row["holdout_error_pct"] == pytest.approx(100 * (pred.sum() / actual.sum() - 1))
    assert row["mae_per_customer"] == pytest.approx((pred - actual).abs().mean())
    p0 = pn.conditional_probability_no_purchases(ch["duration_holdout"], cal["frequency"], cal["recency"], cal["T"])
    assert row["zero_repeat_expected_share"] == pytest.approx(p0.mean())
    assert 0 < row["zero_repeat_expected_share"] < 1


def test_compare_models_on_a_customer_sample():
    """On the 23,570-customer master file, a 5,000-customer sample ranks the models the same way and
    estimates the holdout error within a few points; the sample is reproducible and recorded."""
    master = load_cdnow(sample=False).transactions
    ch = calibration_holdout(master, calibration_end=CAL_END, observation_end="1998-06-30", freq="D",
                             freq_multiplier=7)
    full = compare_models(ch, models=("bgnbd", "pnbd"))
    part = compare_models(ch, models=("bgnbd", "pnbd"), max_customers=5000)
    assert part.attrs["n_customers"] == 5000 and part.attrs["n_customers_total"] == len(ch) == 23570
    assert part.attrs["sampled"] and not full.attrs["sampled"]
    assert list(part.index) == list(full.index)
    np.testing.assert_allclose(part["holdout_error_pct"], full["holdout_error_pct"], atol=5.0)
    np.testing.assert_allclose(part["log_likelihood"] / 5000, full["log_likelihood"] / len(ch), rtol=0.05)
    again = compare_models(ch, models=("bgnbd", "pnbd"), max_customers=5000)
    pd.testing.assert_frame_equal(again, part)
    assert not compare_models(ch, models=("bgnbd",), max_customers=len(ch)).attrs["sampled"]
    with pytest.raises(ParameterError, match="max_customers"):
        compare_models(ch, max_customers=10)


def test_compare_models_errors(cdnow_tx):
    ch = calibration_holdout(cdnow_tx, calibration_end=CAL_END, observation_end="1998-06-30", freq="D",
                             freq_multiplier=7)
    with pytest.raises(ParameterError, match="'nbd'"):
        compare_models(ch, models=("bgnbd", "nbd"))
    with pytest.raises(DataValidationError, match="duration_holdout"):
        compare_models(ch.drop(columns="duration_holdout"))


# --------------------------------------------------------------------------------------------
# bad input and failed fits
# --------------------------------------------------------------------------------------------

def test_bad_parameters():
    with pytest.raises(ParameterError, match="'bgnbd', 'mbgnbd', 'pnbd'"):
        RepeatPurchaseModel("bg")
    with pytest.raises(ParameterError, match="penalizer"):
        RepeatPurchaseModel("bgnbd", penalizer=-1)
    with pytest.raises(ParameterError, match="penalizer"):
        SpendModel(penalizer="a lot")
    with pytest.raises(ParameterError, match="missing \\['b'\\]"):
        RepeatPurchaseModel.from_params("bgnbd", {"r": 1, "alpha": 1, "a": 1})
    with pytest.raises(NotFittedError, match="call .fit"):
        RepeatPurchaseModel("pnbd").expected_purchases(1)
    with pytest.raises(NotFittedError, match="call .fit"):
        SpendModel().conditional_expected_spend(1, 10.0)


def test_summary_missing_columns_is_named(summary):
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['recency'\]"):
        RepeatPurchaseModel("bgnbd").fit(summary.drop(columns="recency"))
    with pytest.raises(DataValidationError, match="monetary_value"):
        SpendModel().fit(summary.drop(columns="monetary_value"))


def test_impossible_summary_values_name_the_customers(summary):
    bad = summary.copy()
    cid = bad.index[bad["frequency"] > 0][0]
    bad.loc[cid, "recency"] = bad.loc[cid, "T"] + 1
    with pytest.raises(DataValidationError, match=f"recency must not exceed T.*{cid}"):
        RepeatPurchaseModel("bgnbd").fit(bad)
    bad = summary.copy()
    bad.iloc[0, bad.columns.get_loc("frequency")] = 1.5
    with pytest.raises(DataValidationError, match="whole number"):
        RepeatPurchaseModel("pnbd").fit(bad)


def test_gamma_gamma_names_customers_with_non_positive_spend(summary):
    bad = summary.copy()
    ids = bad.index[bad["frequency"] > 0][:2]
    bad.loc[ids[0], "monetary_value"] = 0.0
    bad.loc[ids[1], "monetary_value"] = -3.0
    with pytest.raises(DataValidationError, match=f"2 customer\\(s\\) have monetary_value <= 0: {ids[0]}, {ids[1]}"):
        SpendModel().fit(bad)


def test_nobody_repeats_is_a_convergence_error(summary):
    none = summary.assign(frequency=0.0, recency=0.0)
    with pytest.raises(ConvergenceError, match="BG/NBD fit did not converge.*penalizer"):
        RepeatPurchaseModel("bgnbd").fit(none)


class _StuckFitter:
    """Stands in for a lifetimes fitter whose optimiser stops far from the maximum."""

    def __init__(self, penalizer_coef=0.0):
        self.penalizer_coef = penalizer_coef

    def fit(self, *args, **kwargs):
        self.params_ = pd.Series({"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.4})
        return self


class _FailingFitter(_StuckFitter):
    def fit(self, *args, **kwargs):
        from lifetimes.utils import ConvergenceError as LifetimesConvergenceError

        raise LifetimesConvergenceError("The model did not converge. Try adding a larger penalizer.")


def test_optimiser_stopping_short_is_detected(summary, monkeypatch):
    monkeypatch.setattr(models, "_lifetimes_class", lambda name: _StuckFitter)
    with pytest.raises(ConvergenceError, match="short of the maximum.*penalizer"):
        RepeatPurchaseModel("bgnbd").fit(summary)


def test_lifetimes_convergence_failure_is_translated(summary, monkeypatch):
    monkeypatch.setattr(models, "_lifetimes_class", lambda name: _FailingFitter)
    with pytest.raises(ConvergenceError, match="lifetimes' optimiser failed.*another time unit"):
        RepeatPurchaseModel("bgnbd").fit(summary)


def test_fit_leaves_warning_filters_alone():
    """lifetimes calls warnings.simplefilter when imported: the kit imports it inside catch_warnings."""
    code = ("import warnings\n"
            "from relmkt_helpers import load_cdnow\n"
            "from relmkt_helpers.clv.prep import rfm_summary\n"
            "from relmkt_helpers.clv.models import RepeatPurchaseModel, SpendModel\n"
            "tx = load_cdnow(sample=True).transactions\n"
            "s = rfm_summary(tx, observation_end='1997-09-30', freq='W')\n"
            "before = list(warnings.filters)\n"
            "RepeatPurchaseModel('bgnbd').fit(s); SpendModel().fit(s)\n"
            "print(list(warnings.filters) == before, 'lifetimes' in __import__('sys').modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_bgnbd_starts_lifetimes_at_the_kits_optimum_and_retries_from_its_default(summary, fitted, monkeypatch):
    """lifetimes' BG/NBD fit starts at the optimum of the kit's likelihood (faster on large tables, where
    its default start has failed: 750k customers); should it fail there (BFGS can stop with "precision
    loss" at an optimum), it runs once more from its own default start and gets the same answer."""
    from lifetimes import BetaGeoFitter

    original = BetaGeoFitter.fit
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(kwargs.get("initial_params"))
        if kwargs.get("initial_params") is not None:
            raise ValueError("simulated: the model did not converge")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(BetaGeoFitter, "fit", flaky)
    retried = RepeatPurchaseModel("bgnbd").fit(summary)
    assert calls[0] is not None and calls[1] is None  # the kit's start failed, then lifetimes' default
    np.testing.assert_allclose(retried.params_.to_numpy(), fitted["bgnbd"].params_.to_numpy(), rtol=1e-4)
    # the start handed to lifetimes is the maximum (lifetimes' time rescaling undone)
    start = np.exp(calls[0])
    start[1] *= summary["T"].max()
    np.testing.assert_allclose(start, fitted["bgnbd"].params_.to_numpy(), rtol=1e-3)


def test_bgnbd_failure_after_the_retry_is_reported(summary, monkeypatch):
    from lifetimes import BetaGeoFitter

    def always_fails(self, *args, **kwargs):
        raise ValueError("simulated: the model did not converge")

    monkeypatch.setattr(BetaGeoFitter, "fit", always_fails)
    with pytest.raises(models.ConvergenceError, match="lifetimes' optimiser failed .*penalizer"):
        RepeatPurchaseModel("bgnbd").fit(summary)
