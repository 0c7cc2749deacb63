"""Headless tests of relmkt_helpers.plots.clv: each diagnostic draws what the data and the model say.

Models are lifetimes fitters fitted on the CDNOW 1/10th sample (2,357 customers), calibration
1997-01-01 .. 1997-09-30 (39 weeks), holdout to 1998-06-30 (39 weeks), time in weeks = days / 7,
as in Fader, Hardie & Lee (2005), "Counting your customers" the easy way, Marketing Science 24(2)
(FHL 2005); ``tests/test_lifetimes_contract.py`` pins those fits to the published estimates.
The sample shop, simulated from BG/NBD with known parameters (``ground_truth.json``), checks that
the expected series are the right quantities, not merely self-consistent.

Actual series are recomputed here independently (pandas group-bys on the transactions or the
summary); expected series are checked against direct lifetimes calls, identities of the model, or
the ground truth.
"""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from relmkt_helpers import load_cdnow, load_sample_shop  # noqa: E402
from relmkt_helpers.errors import DataValidationError, ParameterError  # noqa: E402
from relmkt_helpers.plots._common import PALETTE  # noqa: E402
from relmkt_helpers.plots.clv import (  # noqa: E402
    calibration_holdout_table,
    expected_purchases_matrix,
    plot_calibration_holdout,
    plot_cumulative_tracking,
    plot_frequency_recency_matrix,
    plot_incremental_tracking,
    plot_probability_alive_matrix,
    plot_repeat_purchase_distribution,
    probability_alive_matrix,
    repeat_purchase_distribution,
    tracking_table,
)

lifetimes = pytest.importorskip("lifetimes")
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter  # noqa: E402
from lifetimes.utils import summary_data_from_transaction_data  # noqa: E402

CAL_END = pd.Timestamp("1997-09-30")
OBS_END = pd.Timestamp("1998-06-30")
MODELS = ("bgnbd", "pnbd", "mbgnbd")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cdnow_tx() -> pd.DataFrame:
    return load_cdnow(sample=True).transactions


def _summary(tx: pd.DataFrame, end: str | pd.Timestamp) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' pandas deprecation warnings
        return summary_data_from_transaction_data(tx[tx["order_date"] <= end], "customer_id", "order_date",
                                                  observation_period_end=end, freq="D", freq_multiplier=7)


@pytest.fixture(scope="module")
def summary(cdnow_tx) -> pd.DataFrame:
    return _summary(cdnow_tx, CAL_END)


@pytest.fixture(scope="module")
def cal_holdout(cdnow_tx, summary) -> pd.DataFrame:
    """lifetimes' calibration/holdout layout, built by hand (calibration_and_holdout_data fails on pandas 3)."""
    holdout = cdnow_tx[(cdnow_tx["order_date"] > CAL_END) & (cdnow_tx["order_date"] <= OBS_END)]
    days = holdout.groupby("customer_id")["order_date"].nunique()
    out = summary.rename(columns={"frequency": "frequency_cal", "recency": "recency_cal", "T": "T_cal"})
    out["frequency_holdout"] = days.reindex(out.index, fill_value=0).astype(float)
    out["duration_holdout"] = (OBS_END - CAL_END).days / 7  # 39 weeks
    return out


@pytest.fixture(scope="module")
def fitters(summary) -> dict:
    s = summary
    return {
        "bgnbd": BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]),
        "pnbd": ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"]),
        "mbgnbd": ModifiedBetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]),
    }


@pytest.fixture(scope="module")
def shop():
    return load_sample_shop()


class _Wrapper:
    """Stand-in for relmkt_helpers.clv.models.RepeatPurchaseModel: a fitted ``fitter_`` and ``unit_days_``."""

    def __init__(self, fitter, unit_days: float = 7.0):
        self.fitter_ = fitter
        self.unit_days_ = unit_days
        self.params_ = fitter.params_


def _new_axes():
    fig, ax = plt.subplots()
    return ax, len(plt.get_fignums())


# ----------------------------------------------------------------------------
# repeat purchases per customer in calibration
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_distribution_bars_show_actual_counts_and_expected_sum_to_customers(name, fitters, summary):
    ax, n_figs = _new_axes()
    out = plot_repeat_purchase_distribution(fitters[name], summary, ax=ax)
    assert out is ax and len(plt.get_fignums()) == n_figs  # drew on the given Axes only
    actual = [p.get_height() for p in ax.patches[:8]]
    expected = [p.get_height() for p in ax.patches[8:16]]
    counts = summary["frequency"].clip(upper=7).astype(int).value_counts().reindex(range(8), fill_value=0)
    assert actual == counts.tolist()
    assert actual[0] == 1411  # FHL 2005: 1,411 of the 2,357 customers made no repeat purchase in 39 weeks
    assert sum(expected) == pytest.approx(len(summary), rel=1e-9)  # each customer's probabilities sum to 1
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    assert matplotlib.colors.to_hex(ax.patches[0].get_facecolor()) == PALETTE[0].lower()
    assert matplotlib.colors.to_hex(ax.patches[8].get_facecolor()) == PALETTE[1].lower()
    assert "weeks" in ax.get_title()


def test_expected_counts_are_each_customers_own_pmf(fitters, summary):
    """Grouping by distinct T is only a speed-up: it equals summing P(X(T_i)=n) customer by customer."""
    bg = fitters["bgnbd"]
    part = summary.iloc[::25]  # 95 customers, various T
    table = repeat_purchase_distribution(bg, part, max_frequency=3)
    direct = np.zeros(4)
    for T in part["T"]:
        p = [bg.probability_of_n_purchases_up_to_time(T, n) for n in range(3)]
        direct += p + [1 - sum(p)]
    np.testing.assert_allclose(table["expected"].to_numpy(), direct, rtol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_expected_distribution_has_the_models_mean(name, fitters, summary):
    """sum_n n P(X(T_i)=n) over customers = sum_i E[X(T_i)] (lifetimes' expected_number_of_purchases)."""
    f = fitters[name]
    table = repeat_purchase_distribution(f, summary, max_frequency=60)
    assert table["expected"].iloc[-1] < 1.0  # the 60+ tail holds under one customer
    mean_from_pmf = float((np.arange(60) * table["expected"].to_numpy()[:60]).sum())
    direct = float(np.sum(f.expected_number_of_purchases_up_to_time(summary["T"].to_numpy())))
    assert mean_from_pmf == pytest.approx(direct, rel=0.01)


def test_expected_distribution_recovers_ground_truth_on_sample_shop(shop):
    """Data simulated from BG/NBD: with the true parameters, every bin's count is within 4 sd."""
    tx = shop.transactions
    s = _summary(tx, tx["order_date"].max())
    channel = tx.groupby("customer_id")["channel"].first()
    total = None
    for ch, params in shop.truth["bgnbd"].items():
        bg = BetaGeoFitter()
        bg.params_ = pd.Series(params)  # the generator's true parameters (weeks)
        part = repeat_purchase_distribution(bg, s[channel.reindex(s.index) == ch])
        total = part if total is None else total + part
    n = len(s)
    p = total["expected"] / n
    z = (total["actual"] - total["expected"]) / np.sqrt(n * p * (1 - p))
    assert total["actual"].sum() == n
    assert np.all(np.abs(z) < 4), z.round(2).tolist()


def test_distribution_reads_calibration_holdout_columns(fitters, summary, cal_holdout):
    a = repeat_purchase_distribution(fitters["bgnbd"], summary)
    b = repeat_purchase_distribution(fitters["bgnbd"], cal_holdout, frequency_col="frequency_cal", T_col="T_cal")
    pd.testing.assert_frame_equal(a, b)


def test_distribution_errors_name_the_fix(fitters, summary, cal_holdout):
    bg = fitters["bgnbd"]
    with pytest.raises(DataValidationError, match=r"'frequency' is missing.*frequency_col='frequency_cal'"):
        repeat_purchase_distribution(bg, cal_holdout)
    bad = summary.copy()
    bad.iloc[3, bad.columns.get_loc("frequency")] = 1.5
    with pytest.raises(DataValidationError,
                       match=r"column 'frequency' .*whole numbers; 1 of 5 rows do not.*'00050': 1.5"):
        repeat_purchase_distribution(bg, bad.iloc[:5])
    with pytest.raises(ParameterError, match="max_frequency"):
        repeat_purchase_distribution(bg, summary, max_frequency=0)
    with pytest.raises(ParameterError, match=r"Call model.fit"):
        repeat_purchase_distribution(BetaGeoFitter(), summary)
    with pytest.raises(ParameterError, match="DataFrame"):
        repeat_purchase_distribution(bg, summary.to_numpy())
    with pytest.raises(DataValidationError, match="no rows"):
        repeat_purchase_distribution(bg, summary.iloc[:0])


# ----------------------------------------------------------------------------
# holdout purchases by calibration frequency
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_calibration_holdout_lines_are_group_means(name, fitters, cal_holdout):
    f = fitters[name]
    ax, n_figs = _new_axes()
    plot_calibration_holdout(f, cal_holdout, ax=ax)
    assert len(plt.get_fignums()) == n_figs
    group = cal_holdout["frequency_cal"].clip(upper=6)
    actual = cal_holdout.groupby(group)["frequency_holdout"].mean()
    predicted = pd.Series(f.conditional_expected_number_of_purchases_up_to_time(
        39.0, cal_holdout["frequency_cal"], cal_holdout["recency_cal"], cal_holdout["T_cal"]),
        index=cal_holdout.index)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), actual.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), predicted.groupby(group).mean().to_numpy(), rtol=1e-9)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5", "6+"]
    assert "39 weeks" in ax.get_title()
    # sanity of the fit: FHL 2005 Figure 4 shows predicted holdout purchases rising with calibration frequency
    assert np.all(np.diff(ax.lines[1].get_ydata()) > 0)


def test_calibration_holdout_passes_arguments_in_lifetimes_order(fitters):
    """Hardie's BG/NBD spreadsheet: E[X(39) | x=2, t_x=30.43, T=38.86] = 1.226 (FHL 2005 estimates)."""
    one = pd.DataFrame({"frequency_cal": [2], "recency_cal": [30.43], "T_cal": [38.86],
                        "frequency_holdout": [0], "duration_holdout": [39.0]})
    table = calibration_holdout_table(fitters["bgnbd"], one, max_frequency=3)
    assert table.loc["2", "expected"] == pytest.approx(1.226, abs=1e-3)
    assert table["customers"].tolist() == [0, 0, 1, 0]
    assert np.isnan(table.loc["0", "actual"])  # an empty group has no mean


def test_calibration_holdout_validates(fitters, cal_holdout):
    bad = cal_holdout.copy()
    bad["recency_cal"] = bad["T_cal"] + 1
    with pytest.raises(DataValidationError, match="recency > T"):
        calibration_holdout_table(fitters["bgnbd"], bad)
    with pytest.raises(DataValidationError, match=r"'frequency_holdout' is missing"):
        calibration_holdout_table(fitters["bgnbd"], cal_holdout.drop(columns="frequency_holdout"))


# ----------------------------------------------------------------------------
# tracking repeat transactions
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bg_tracking(cdnow_tx, fitters) -> pd.DataFrame:
    return tracking_table(cdnow_tx, fitters["bgnbd"], calibration_end=CAL_END, observation_end=OBS_END)


def test_tracking_actual_counts_repeat_purchase_days(bg_tracking, cdnow_tx, summary):
    t = bg_tracking
    # 1997-01-01 .. 1998-06-30 is 78 whole weeks; the 39th ends on the calibration end (FHL 2005)
    assert len(t) == 78 and set(t["days"]) == {7}
    assert t["in_calibration"].sum() == 39 and t.loc[39, "period_end"] == CAL_END
    repeat_days = int((cdnow_tx.groupby("customer_id")["order_date"].nunique() - 1).sum())
    assert t["actual_cumulative"].iloc[-1] == repeat_days == t["actual"].sum()
    assert t.loc[39, "actual_cumulative"] == summary["frequency"].sum()  # lifetimes' count, independently
    assert t["new_customers"].sum() == 2357
    np.testing.assert_allclose(t["expected"].cumsum(), t["expected_cumulative"], rtol=1e-12)


def test_tracking_expected_is_the_sum_of_population_expectations(bg_tracking, fitters, summary):
    """At the calibration end, the expected total is sum_i E[X(T_i)], the model's own expectation."""
    direct = float(np.sum(fitters["bgnbd"].expected_number_of_purchases_up_to_time(summary["T"].to_numpy())))
    assert bg_tracking.loc[39, "expected_cumulative"] == pytest.approx(direct, rel=1e-9)


def test_bgnbd_tracks_cdnow(bg_tracking):
    """FHL 2005 Figure 2: the BG/NBD's cumulative repeat transactions track CDNOW closely."""
    at_cal = bg_tracking.loc[39]
    assert at_cal["expected_cumulative"] == pytest.approx(at_cal["actual_cumulative"], rel=0.03)
    end = bg_tracking.iloc[-1]
    # the 39-week forecast stays near the actual too (lifetimes' fit: about 4 % under at week 78)
    assert end["expected_cumulative"] == pytest.approx(end["actual_cumulative"], rel=0.08)


def test_tracking_recovers_ground_truth_on_sample_shop(shop):
    """Sample shop (BG/NBD per channel, true parameters in ground_truth.json): the expected total repeat
    transactions equal the simulated ones within 3 sd. sd = sqrt(sum_i Var X_i(T_i)) from the BG/NBD pmf
    (FHL 2005 eq. 8) with the true parameters: about 1.0 % of the ~41,000 repeat transactions."""
    tx = shop.transactions
    actual = expected = 0.0
    for ch, params in shop.truth["bgnbd"].items():
        bg = BetaGeoFitter()
        bg.params_ = pd.Series(params)
        t = tracking_table(tx[tx["channel"] == ch], bg, calibration_end="2024-12-31", observation_end="2025-12-31")
        actual += t["actual_cumulative"].iloc[-1]
        expected += t["expected_cumulative"].iloc[-1]
    assert actual == pytest.approx(expected, rel=0.031)


def test_tracking_counts_one_purchase_per_customer_day_and_aligns_to_calibration_end():
    tx = pd.DataFrame({
        "customer_id": pd.array(["a", "a", "a", "a", "b", "b"], dtype="string"),
        "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-05",
                                      "2024-01-04", "2024-01-20"]),
        "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 0.0],
    })
    bg = BetaGeoFitter()
    bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    t = tracking_table(tx, bg, calibration_end="2024-01-10", observation_end="2024-01-21")
    # periods end on 01-03, 01-10 (calibration end), 01-17, 01-21
    assert t["period_end"].dt.strftime("%m-%d").tolist() == ["01-03", "01-10", "01-17", "01-21"]
    assert t["days"].tolist() == [3, 7, 7, 4]
    assert t["in_calibration"].tolist() == [True, True, False, False]
    assert t["actual"].tolist() == [0, 1, 0, 1]  # a's two orders on 01-05 are one repeat purchase day
    assert t["new_customers"].tolist() == [1, 1, 0, 0]
    # expected on 01-21: a is 20 days old, b 17 days, in weeks
    direct = bg.expected_number_of_purchases_up_to_time(np.array([20, 17]) / 7).sum()
    assert t["expected_cumulative"].iloc[-1] == pytest.approx(direct, rel=1e-12)


def test_tracking_uses_the_wrappers_time_unit(cdnow_tx, fitters, bg_tracking):
    bg = fitters["bgnbd"]
    same = tracking_table(cdnow_tx, _Wrapper(bg, 7.0), calibration_end=CAL_END, observation_end=OBS_END)
    pd.testing.assert_frame_equal(same, bg_tracking)
    in_days = tracking_table(cdnow_tx, _Wrapper(bg, 1.0), calibration_end=CAL_END, observation_end=OBS_END)
    bare = tracking_table(cdnow_tx, bg, calibration_end=CAL_END, observation_end=OBS_END, unit_days=1)
    pd.testing.assert_frame_equal(in_days, bare)
    assert in_days["expected_cumulative"].iloc[-1] > 2 * bg_tracking["expected_cumulative"].iloc[-1]
    with pytest.raises(ParameterError, match=r"unit_days=1 contradicts the model.*7 days"):
        tracking_table(cdnow_tx, _Wrapper(bg, 7.0), calibration_end=CAL_END, observation_end=OBS_END, unit_days=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"calibration_end": "1998-07-01", "observation_end": OBS_END}, "after observation_end"),
    ({"calibration_end": "1996-12-31", "observation_end": OBS_END}, "before the first order"),
    ({"calibration_end": "30/09/1997x", "observation_end": OBS_END}, "calibration_end must be a date"),
    ({"calibration_end": CAL_END, "observation_end": OBS_END, "period_days": 0}, "period_days"),
    ({"calibration_end": CAL_END, "observation_end": OBS_END, "unit_days": -7}, "unit_days"),
])
def test_tracking_parameter_errors(cdnow_tx, fitters, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        tracking_table(cdnow_tx, fitters["bgnbd"], **kwargs)


def test_tracking_without_orders_by_observation_end(cdnow_tx, fitters):
    with pytest.raises(DataValidationError, match="no orders on or before observation_end"):
        tracking_table(cdnow_tx, fitters["bgnbd"], calibration_end="1990-01-01", observation_end="1990-01-01")


@pytest.mark.parametrize("cumulative", [True, False])
def test_tracking_plots_draw_the_table_and_mark_calibration_end(bg_tracking, cumulative):
    ax, n_figs = _new_axes()
    plot = plot_cumulative_tracking if cumulative else plot_incremental_tracking
    assert plot(bg_tracking, ax=ax) is ax and len(plt.get_fignums()) == n_figs
    suffix = "_cumulative" if cumulative else ""
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), bg_tracking["actual" + suffix].to_numpy(dtype=float))
    np.testing.assert_allclose(ax.lines[1].get_ydata(), bg_tracking["expected" + suffix].to_numpy())
    assert ax.convert_xunits(ax.lines[2].get_xdata()[0]) == ax.convert_xunits(CAL_END)
    assert "week" in ax.get_title() and "BG/NBD" in ax.get_title()
    assert ax.lines[0].get_color() == PALETTE[0] and ax.lines[1].get_color() == PALETTE[1]


def test_tracking_plot_rejects_other_input(summary):
    with pytest.raises(ParameterError, match="tracking_table"):
        plot_cumulative_tracking(summary)


# ----------------------------------------------------------------------------
# matrices over (frequency, recency)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", MODELS)
def test_probability_alive_matrix_is_a_probability_and_matches_cell_calls(name, fitters):
    f = fitters[name]
    T = 272 / 7
    m = probability_alive_matrix(f, max_frequency=20, T=T, n_recency=30)
    values = m.to_numpy()
    assert m.shape == (21, 30) and m.columns[-1] == pytest.approx(T)
    assert np.isnan(values[0, 1:]).all() and not np.isnan(values[1:]).any()  # x = 0 implies recency 0
    ok = values[~np.isnan(values)]
    assert np.all((ok >= 0) & (ok <= 1))
    for x, j in [(1, 0), (3, 12), (20, 29)]:  # spot cells against lifetimes' scalar call
        cell = f.conditional_probability_alive(float(x), float(m.columns[j]), T)
        assert values[x, j] == pytest.approx(float(np.ravel(cell)[0]), rel=1e-10)
    # at a fixed frequency, a more recent last purchase means more likely alive
    assert np.all(np.diff(values[1:], axis=1) > 0)


def test_bgnbd_customers_without_repeat_are_alive(fitters):
    """BG/NBD: drop-out only happens after a repeat purchase, so P(alive | x=0) = 1 (FHL 2005, p. 277);
    MBG/NBD lets customers drop out at their first purchase too (Batislam et al. 2007), so it is below 1."""
    assert probability_alive_matrix(fitters["bgnbd"], max_frequency=3, T=38.86).iloc[0, 0] == 1.0
    assert probability_alive_matrix(fitters["mbgnbd"], max_frequency=3, T=38.86).iloc[0, 0] < 1.0


def test_probability_alive_plot_draws_the_matrix(fitters, summary):
    bg = fitters["bgnbd"]
    ax, n_figs = _new_axes()
    plot_probability_alive_matrix(bg, summary, ax=ax)
    max_f = int(np.ceil(summary["frequency"].quantile(0.99)))  # the documented default grid
    expected = probability_alive_matrix(bg, max_frequency=max_f, T=summary["T"].max())
    drawn = ax.collections[0].get_array()
    np.testing.assert_allclose(np.ma.filled(drawn, np.nan).reshape(expected.shape), expected.to_numpy())
    assert ax.collections[0].get_clim() == (0.0, 1.0)
    assert "weeks" in ax.get_xlabel() and "38.9 weeks" in ax.get_title()
    assert len(plt.get_fignums()) == n_figs  # the colour bar joins the same figure


@pytest.mark.parametrize("name", MODELS)
def test_expected_purchases_increase_with_frequency_at_recency_T(name, fitters):
    m = expected_purchases_matrix(fitters[name], 39.0, max_frequency=25, T=38.86, n_recency=10)
    at_T = m.iloc[:, -1].to_numpy()
    assert np.all(np.diff(at_T[1:]) > 0)
    assert m.iloc[0, 0] < at_T[1]  # no repeat yet < one repeat made just now


def test_frequency_recency_plot_uses_the_models_unit(fitters):
    wrapped = _Wrapper(fitters["bgnbd"], unit_days=1.0)  # pretend the model was fitted in days
    ax = plot_frequency_recency_matrix(wrapped, t=30, max_frequency=5, T=272.0)
    assert "next 30 days" in ax.get_title() and "days after the first purchase" in ax.get_xlabel()
    drawn = np.ma.filled(ax.collections[0].get_array(), np.nan).reshape(6, 40)
    np.testing.assert_allclose(
        drawn, expected_purchases_matrix(fitters["bgnbd"], 30, max_frequency=5, T=272.0).to_numpy())


def test_matrix_plots_fall_back_to_the_fitters_data_and_validate(fitters, summary):
    ax = plot_probability_alive_matrix(fitters["bgnbd"])  # lifetimes keeps the fitted data
    assert "38.9 weeks" in ax.get_title()
    # the fitter of a RepeatPurchaseModel is fitted on unique rows with weights: expanded to customers
    bg = fitters["bgnbd"]
    grouped = summary.groupby(["frequency", "recency", "T"]).size().rename("weights").reset_index()
    compressed = BetaGeoFitter().fit(grouped["frequency"], grouped["recency"], grouped["T"],
                                     weights=grouped["weights"])
    ax = plot_probability_alive_matrix(compressed)
    assert ax.collections[0].get_array().shape == (int(np.ceil(summary["frequency"].quantile(0.99))) + 1, 40)
    with pytest.raises(ParameterError, match="pass the calibration summary"):
        plot_probability_alive_matrix(_NoFitterWrapper(bg))
    with pytest.raises(ParameterError, match="T .* must be a positive number"):
        probability_alive_matrix(bg, max_frequency=3, T=0)
    with pytest.raises(ParameterError, match="t .* must be a positive number"):
        expected_purchases_matrix(bg, -1, max_frequency=3, T=10)


class _NoFitterWrapper:
    """Stand-in for ``RepeatPurchaseModel.from_params(...)``: parameters but ``fitter_ = None``; predictions
    through the wrapper's own methods (here delegating to a lifetimes fitter's formulas)."""

    model = "bgnbd"

    def __init__(self, fitter, unit_days: float = 7.0):
        self.fitter_ = None
        self.params_ = fitter.params_
        self.unit_days_ = unit_days
        self._f = fitter

    def expected_purchases(self, t):
        return self._f.expected_number_of_purchases_up_to_time(t)

    def conditional_expected_purchases(self, t, frequency, recency, T):
        return self._f.conditional_expected_number_of_purchases_up_to_time(t, frequency, recency, T)

    def probability_alive(self, frequency, recency, T):
        return self._f.conditional_probability_alive(frequency, recency, T)

    def probability_of_purchases(self, t, n):
        return np.array([self._f.probability_of_n_purchases_up_to_time(t, k) for k in n])


def test_wrapper_without_fitter_uses_its_own_methods(fitters, summary, cal_holdout, cdnow_tx, bg_tracking):
    bg = fitters["bgnbd"]
    w = _NoFitterWrapper(bg)
    pd.testing.assert_frame_equal(repeat_purchase_distribution(w, summary), repeat_purchase_distribution(bg, summary))
    pd.testing.assert_frame_equal(calibration_holdout_table(w, cal_holdout),
                                  calibration_holdout_table(bg, cal_holdout))
    pd.testing.assert_frame_equal(tracking_table(cdnow_tx, w, calibration_end=CAL_END, observation_end=OBS_END),
                                  bg_tracking)
    pd.testing.assert_frame_equal(probability_alive_matrix(w, max_frequency=5, T=38.86),
                                  probability_alive_matrix(bg, max_frequency=5, T=38.86))
    unfitted = _NoFitterWrapper(bg)
    unfitted.params_ = None
    with pytest.raises(ParameterError, match=r"got _NoFitterWrapper without fitted parameters.*fit\(summary\)"):
        tracking_table(cdnow_tx, unfitted, calibration_end=CAL_END, observation_end=OBS_END)


def test_summary_time_unit_must_match_the_model(fitters, summary):
    in_days = summary.copy()
    in_days.attrs["unit_days"] = 1.0  # as rfm_summary(freq="D") marks it
    with pytest.raises(ParameterError, match=r"unit_days_ \(7 days\) contradicts the table's attrs"):
        repeat_purchase_distribution(_Wrapper(fitters["bgnbd"], 7.0), in_days)
    ax = plot_repeat_purchase_distribution(fitters["bgnbd"], in_days)  # a bare fitter takes the table's unit
    assert "days" in ax.get_title()


def test_with_the_kits_repeat_purchase_model(summary, cdnow_tx, fitters, bg_tracking):
    """Integration with relmkt_helpers.clv.models (written in parallel): same tables as the lifetimes fitter."""
    models = pytest.importorskip("relmkt_helpers.clv.models")
    published = dict(fitters["bgnbd"].params_)
    m = models.RepeatPurchaseModel.from_params("bgnbd", published, unit_days=7.0)
    np.testing.assert_allclose(repeat_purchase_distribution(m, summary)["expected"],
                               repeat_purchase_distribution(fitters["bgnbd"], summary)["expected"], rtol=1e-6)
    t = tracking_table(cdnow_tx, m, calibration_end=CAL_END, observation_end=OBS_END)
    np.testing.assert_allclose(t["expected_cumulative"], bg_tracking["expected_cumulative"], rtol=1e-6)
    assert t.attrs["model"] == "BG/NBD"
