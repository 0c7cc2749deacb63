"""Tests for relmkt_helpers.plots.churn: each chart draws what the ChurnResult holds.

Checked on a real (small) analysis: the area under each drawn ROC curve is the ROC AUC of the
metrics table; calibration points, lift bars and gains points are the result's tables; importance
bars are in order; histogram counts add up to the customers; helpers draw on the Axes they are given
and touch no global pyplot state.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.container import BarContainer  # noqa: E402

from relmkt_helpers.churn import churn_analysis  # noqa: E402
from relmkt_helpers.datasets import generate_sample_shop  # noqa: E402
from relmkt_helpers.errors import ParameterError  # noqa: E402
from relmkt_helpers.plots._common import PALETTE  # noqa: E402
from relmkt_helpers.plots.churn import (  # noqa: E402
    MODEL_COLOURS,
    plot_calibration_curve,
    plot_churn_distribution,
    plot_gains,
    plot_lift,
    plot_permutation_importance,
    plot_roc_curves,
)

ALL = (plot_roc_curves, plot_calibration_curve, plot_lift, plot_gains, plot_permutation_importance,
       plot_churn_distribution)


@pytest.fixture(scope="module")
def result():
    return churn_analysis(generate_sample_shop(2000, seed=3).transactions, as_of="2025-12-31", horizon_days=90)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_roc_area_under_each_drawn_curve_is_the_reported_auc(result):
    ax = plot_roc_curves(result)
    models = result.models
    assert len(ax.lines) == len(models) + 1
    for line, m in zip(ax.lines, models):
        x, y = line.get_xdata(), line.get_ydata()
        assert (x[0], y[0], x[-1], y[-1]) == (0.0, 0.0, 1.0, 1.0)
        assert np.all(np.diff(x) >= 0) and np.all(np.diff(y) >= 0)
        assert np.trapezoid(y, x) == pytest.approx(result.metrics.loc[m, "roc_auc"], abs=1e-12)
        assert f"{result.metrics.loc[m, 'roc_auc']:.3f}" in line.get_label()
        assert to_hex(line.get_color()) == MODEL_COLOURS[m].lower()
    diag = ax.lines[-1]
    assert list(diag.get_xdata()) == [0, 1] and list(diag.get_ydata()) == [0, 1]


def test_calibration_points_are_the_result_table(result):
    ax = plot_calibration_curve(result)
    for line, m in zip(ax.lines, result.models):
        part = result.calibration[result.calibration["model"] == m]
        np.testing.assert_array_equal(line.get_xdata(), part["mean_predicted"].to_numpy())
        np.testing.assert_array_equal(line.get_ydata(), part["observed_rate"].to_numpy())
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)


def test_lift_bars_are_the_deciles(result):
    ax = plot_lift(result, models=["hgb", "bgnbd"])
    assert len(ax.containers) == 2
    for cont, m in zip(ax.containers, ["hgb", "bgnbd"]):
        lift = result.deciles.loc[result.deciles["model"] == m, "lift"].to_numpy()
        np.testing.assert_allclose([b.get_height() for b in cont], lift)
        assert to_hex(cont[0].get_facecolor()) == MODEL_COLOURS[m].lower()
    # bars of one decile sit side by side around the decile number
    centres = [cont[0].get_x() + cont[0].get_width() / 2 for cont in ax.containers]
    assert np.mean(centres) == pytest.approx(1.0)
    ref = [ln for ln in ax.lines if ln.get_label() == "random ranking"][0]
    assert list(ref.get_ydata()) == [1.0, 1.0]


def test_gains_curves_end_at_everyone_and_follow_the_table(result):
    ax = plot_gains(result)
    base = result.metrics["base_rate"].iloc[0]
    for line, m in zip(ax.lines, result.models):
        xy = line.get_xydata()
        assert xy[0].tolist() == [0.0, 0.0] and xy[-1].tolist() == [1.0, 1.0]
        np.testing.assert_allclose(xy[1:, 1], result.deciles.loc[result.deciles["model"] == m, "gains"])
        assert np.all(np.diff(xy[:, 1]) >= 0)
        # no ranking beats the perfect one: gains <= min(1, share / base rate)
        assert np.all(xy[:, 1] <= np.minimum(1.0, xy[:, 0] / base) + 1e-12)
    perfect = ax.lines[-1].get_xydata()
    assert perfect[1].tolist() == pytest.approx([base, 1.0])


def test_importance_bars_largest_on_top(result):
    ax = plot_permutation_importance(result, top=5)
    bars = [c for c in ax.containers if isinstance(c, BarContainer)][0]
    top = result.importance.head(5)
    np.testing.assert_allclose([b.get_width() for b in bars], top["importance_mean"])
    ys = [b.get_y() for b in bars]
    assert ys == sorted(ys, reverse=True)            # first (largest) bar drawn highest
    ticks = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]), reverse=True)
    assert [name for _, name in ticks] == top["feature"].tolist()   # read top to bottom
    assert to_hex(bars[0].get_facecolor()) == MODEL_COLOURS[result.importance.attrs["model"]].lower()


def test_distribution_counts_every_customer(result):
    ax = plot_churn_distribution(result, bins=10)
    assert sum(p.get_height() for p in ax.patches) == len(result.scored)
    assert len(ax.patches) == 10
    ax = plot_churn_distribution(result, source="evaluation")
    heights = [p.get_height() for p in ax.patches]
    n = len(heights) // 2
    churned = result.predictions["churned"]
    assert sum(heights[:n]) == churned.sum() and sum(heights[n:]) == (~churned).sum()
    assert to_hex(ax.patches[0].get_facecolor()[:3]) == PALETTE[3].lower()


@pytest.mark.parametrize("plot", ALL)
def test_draws_on_the_given_axes_only(result, plot):
    fig, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    out = plot(result, ax=ax)
    assert out is ax
    assert len(plt.get_fignums()) == n_figs and plt.gcf() is fig
    assert ax.get_xlabel() and ax.get_title()


@pytest.mark.parametrize("plot", ALL)
def test_rejects_other_inputs(plot):
    with pytest.raises(ParameterError, match="ChurnResult"):
        plot(object())


def test_bad_options(result):
    with pytest.raises(ParameterError, match="models="):
        plot_roc_curves(result, models=["random_forest"])
    with pytest.raises(ParameterError, match="source="):
        plot_churn_distribution(result, source="holdout")
    with pytest.raises(ParameterError, match="top="):
        plot_permutation_importance(result, top=0)
