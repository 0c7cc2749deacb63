"""Headless tests of relmkt_helpers.plots.economics: each helper draws what its result holds."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from relmkt_helpers.datasets import load_sample_shop  # noqa: E402
from relmkt_helpers.economics import (  # noqa: E402
    Assumptions,
    clv_sensitivity,
    economics_analysis,
    ltv_cac_sensitivity,
    profit_uplift_grid,
    profit_uplift_simulation,
)
from relmkt_helpers.errors import ParameterError  # noqa: E402
from relmkt_helpers.io import load_spend, load_subscriptions  # noqa: E402
from relmkt_helpers.plots.economics import (  # noqa: E402
    plot_cac_over_time,
    plot_cost_comparison,
    plot_payback_curves,
    plot_profit_uplift,
    plot_profit_uplift_grid,
    plot_sensitivity_heatmap,
    plot_subscription_retention,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def res():
    s = load_sample_shop()
    return economics_analysis(s.transactions, load_spend(s.spend), load_subscriptions(s.subscriptions))


@pytest.fixture(scope="module")
def res_no_ledger():
    s = load_sample_shop()
    return economics_analysis(s.transactions, None, None, Assumptions(cac=30.0, retention_cost=12.0))


def _on_given_ax(fn, *args, **kwargs):
    fig, ax = plt.subplots()
    n = len(plt.get_fignums())
    out = fn(*args, ax=ax, **kwargs)
    assert out is ax and len(plt.get_fignums()) == n  # drew on the given Axes only
    return ax


def test_cac_over_time_lines_equal_the_table(res):
    ax = _on_given_ax(plot_cac_over_time, res)
    t = res.cac_by_month
    labels = [ln.get_label() for ln in ax.lines]
    assert labels == ["affiliate", "referral", "search", "social", "all"]
    for ln in ax.lines:
        d = t[(t["channel"] == ln.get_label()) & t["in_totals"]]
        np.testing.assert_allclose(ln.get_ydata(), d["cac"].to_numpy())
        assert len(ln.get_xdata()) == 36
    assert "(measured)" in ax.get_title()


def test_cac_over_time_marks_undefined_months():
    t = pd.DataFrame({"month": pd.period_range("2024-01", periods=3, freq="M"), "channel": "all",
                      "acquisition_spend": [100.0, 50.0, 20.0], "new_customers": [2, 0, 1],
                      "cac": [50.0, np.nan, 20.0], "in_totals": True,
                      "note": ["", "spend but no new customers: CAC undefined", ""], "basis": "measured"})
    ax = plot_cac_over_time(t)
    marks = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(marks) == 1 and marks[0].get_ydata().tolist() == [0.0]
    assert marks[0].get_xdata()[0] == pd.Timestamp("2024-02-01")


def test_cac_over_time_needs_a_ledger(res_no_ledger):
    with pytest.raises(ParameterError, match="spend ledger"):
        plot_cac_over_time(res_no_ledger)


def test_cost_comparison_bars_and_folk_band(res):
    ax = _on_given_ax(plot_cost_comparison, res)
    r = res.cost_ratios
    bars = [p for p in ax.patches if not isinstance(p, Rectangle) or p.get_hatch() is None]
    bands = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    n = len(r)
    np.testing.assert_allclose([b.get_height() for b in bars[:n]], r["cac"])
    np.testing.assert_allclose([b.get_height() for b in bars[n:2 * n]], r["retention_cost_year"])
    # each band spans 5x to 7x the channel's yearly retention cost
    np.testing.assert_allclose([b.get_y() for b in bands], 5 * r["retention_cost_year"])
    np.testing.assert_allclose([b.get_height() for b in bands], 2 * r["retention_cost_year"])
    assert [t.get_text() for t in ax.get_xticklabels()] == r["channel"].tolist()
    month = plot_cost_comparison(res, per="month", band=None)
    assert "not comparable" in month.get_title()
    assert not [p for p in month.patches if p.get_hatch()]
    with pytest.raises(ParameterError, match="per="):
        plot_cost_comparison(res, per="week")


def test_cost_comparison_says_assumed_without_ledger(res_no_ledger):
    ax = plot_cost_comparison(res_no_ledger)
    assert "assumed" in ax.get_title()
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == [12.0, 24.0, 30.0]  # retention 12, band 5x..7x -> height 24, CAC 30


def test_payback_curves_draw_curves_cac_and_payback(res):
    ax = _on_given_ax(plot_payback_curves, res, channels=["search", "all"])
    p = res.payback
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    dots = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert [ln.get_label() for ln in solid] == ["search", "all"]
    np.testing.assert_allclose(solid[0].get_ydata(), p.curves["search"].to_numpy())
    summ = p.summary.set_index("channel")
    np.testing.assert_allclose([ln.get_ydata()[0] for ln in dashed], summ.loc[["search", "all"], "cac"])
    np.testing.assert_allclose([ln.get_xdata()[0] for ln in dots], summ.loc[["search", "all"], "payback_months"])
    assert "measured, with the assumed margin rate" in ax.get_title()
    with pytest.raises(ParameterError, match="PaybackResult"):
        plot_payback_curves(res.cac_by_channel)


def test_profit_uplift_plot(res):
    sim = profit_uplift_simulation(retention=0.8, margin_per_customer_year=100, acquisition_cost=50, years=4)
    ax = _on_given_ax(plot_profit_uplift, sim)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), sim.yearly["profit_baseline"])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), sim.yearly["profit_improved"])
    steady = [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == ":"]
    np.testing.assert_allclose(steady, [90000.0, 200 * 100 / 0.15 - 10000])  # hand: see test_economics
    assert "+37%" in ax.get_title() and "assumed" in ax.get_title()
    assert ax.get_ylim()[0] == 0
    assert len(plot_profit_uplift(res).lines) == 4


def test_sensitivity_heatmaps_annotate_the_grid():
    g = clv_sensitivity(100, [0.5, 0.8], [0.0, 0.1])
    ax = _on_given_ax(plot_sensitivity_heatmap, g)
    assert [t.get_text() for t in ax.texts] == ["200", "183", "500", "367"]
    assert ax.get_ylabel() == "retention per period" and ax.get_xlabel() == "discount rate per period"
    assert "assumed" in ax.get_title()
    h = ltv_cac_sensitivity([100, 500], [30, 60], retention=0.8, discount=0.1)
    ax2 = plot_sensitivity_heatmap(h)
    # LTV 110 and 220 (m * 1.1 / 0.3) over CAC 100 and 500
    assert [t.get_text() for t in ax2.texts] == ["1.1", "2.2", "0.2", "0.4"]
    assert ax2.get_ylabel() == "cost to win a customer (CAC)" and ax2.get_xlabel() == "margin per customer per period"
    p = ltv_cac_sensitivity([100, 200], [30, 60], retention=0.8, discount=0.1, metric="payback")
    ax3 = plot_sensitivity_heatmap(p)
    assert [t.get_text() for t in ax3.texts] == ["5", "2", "5"]  # the never-paid-back cell is blank
    with pytest.raises(ParameterError):
        plot_sensitivity_heatmap(pd.DataFrame())


def test_profit_uplift_grid_outlines_the_folk_range():
    g = profit_uplift_grid(retention=[0.6, 0.8, 0.9], margin_growth=[0.0, 0.1], acquisition_cost=[0.0, 100.0])
    ax = _on_given_ax(plot_profit_uplift_grid, g, acquisition_cost=0.0)
    sub = g[g["acquisition_cost"] == 0.0]
    outlined = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(outlined) == int(sub["in_folk_range"].sum())
    assert len(ax.texts) == len(sub)
    with pytest.raises(ParameterError, match="not in the grid"):
        plot_profit_uplift_grid(g, acquisition_cost=55.0)


def test_subscription_retention_plot(res, res_no_ledger):
    ax = _on_given_ax(plot_subscription_retention, res)
    rr = res.revenue_retention
    assert [ln.get_label() for ln in ax.lines][:2] == ["GRR, month", "NRR, month"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), rr["grr"])
    np.testing.assert_allclose(ax.lines[2].get_ydata(), rr["grr_12m"])
    assert type(ax.yaxis.get_major_formatter()).__name__ == "PercentFormatter"
    with pytest.raises(ParameterError, match="no subscriptions"):
        plot_subscription_retention(res_no_ledger)
