"""Headless tests of relmkt_helpers.plots.cohorts: each helper draws what the result holds."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from relmkt_helpers.cohorts import (  # noqa: E402
    average_curve,
    period_kpis,
    realised_ltv_matrix,
    retention_matrix,
    segment_comparison,
)
from relmkt_helpers.errors import ParameterError  # noqa: E402
from relmkt_helpers.plots.cohorts import (  # noqa: E402
    plot_kpi_trends,
    plot_ltv_curves,
    plot_retention_curves,
    plot_retention_heatmap,
    plot_revenue_retention,
    plot_segment_comparison,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    """A small random shop: 300 customers over 14 months, as_of mid-month (partial period)."""
    rng = np.random.default_rng(0)
    n = 300
    first = rng.integers(0, 400, n)
    rows = []
    for c in range(n):
        days = [first[c]] + list(first[c] + np.cumsum(rng.geometric(0.02, rng.integers(0, 6))))
        rows += [(f"c{c:03d}", d, float(rng.integers(1, 90)), ("ads", "email", "seo")[c % 3]) for d in days]
    df = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "channel"])
    df["order_date"] = (pd.Timestamp("2023-01-01") + pd.to_timedelta(df["day"], unit="D")).astype("datetime64[ns]")
    df = df[df["order_date"] <= "2024-02-14"].sort_values("order_date", kind="stable").reset_index(drop=True)
    df["customer_id"] = df["customer_id"].astype("string")
    df["order_id"] = pd.Series([f"o{i}" for i in range(len(df))], dtype="string")
    return df[["customer_id", "order_date", "amount", "order_id", "channel"]]


def test_heatmap_annotations_equal_the_matrix(tx):
    res = retention_matrix(tx)
    fig, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    out = plot_retention_heatmap(res, ax=ax)
    assert out is ax and len(plt.get_fignums()) == n_figs  # drew on the given Axes only
    values = res.matrix.to_numpy()
    expected = [f"{v:.0%}" for v in values[~np.isnan(values)]]  # row by row, NaN cells blank
    assert [t.get_text() for t in ax.texts] == expected
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{c} (n={n:,})" for c, n in zip(res.matrix.index, res.sizes)]
    assert "as of 2024-02-14" in ax.get_title()


def test_heatmap_ltv_uses_currency_format(tx):
    res = realised_ltv_matrix(tx, max_periods=3)
    ax = plot_retention_heatmap(res, show_sizes=False)
    values = res.matrix.to_numpy()
    assert [t.get_text() for t in ax.texts] == [f"{v:,.0f}" for v in values[~np.isnan(values)]]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(c) for c in res.matrix.index]


def test_retention_curves_one_line_per_cohort_plus_average(tx):
    res = retention_matrix(tx)
    ax = plot_retention_curves(res)
    with_data = int(res.matrix.notna().any(axis=1).sum())
    assert with_data == len(res.matrix) - 1  # the partial February cohort draws no line
    assert len(ax.lines) == with_data + 1
    avg = ax.lines[-1]
    assert avg.get_label() == "size-weighted average"
    np.testing.assert_allclose(avg.get_ydata(), average_curve(res)["weighted_mean"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), res.matrix.iloc[0], equal_nan=True)
    assert len(plot_retention_curves(res, average=False).lines) == with_data


def test_revenue_and_ltv_curves_check_the_metric(tx):
    rev = retention_matrix(tx, metric="revenue")
    ax = plot_revenue_retention(rev)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), rev.matrix.iloc[0], equal_nan=True)
    ltv = realised_ltv_matrix(tx)
    ax = plot_ltv_curves(ltv)
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), average_curve(ltv)["weighted_mean"])
    assert "cumulative revenue" in ax.get_ylabel()
    with pytest.raises(ParameterError, match="metric='revenue'"):
        plot_revenue_retention(retention_matrix(tx))
    with pytest.raises(ParameterError, match="realised_ltv_matrix"):
        plot_ltv_curves(rev)
    with pytest.raises(ParameterError, match="CohortMatrix"):
        plot_retention_curves(rev.matrix)


def test_segment_comparison_plot(tx):
    res = retention_matrix(tx, segment="channel", max_periods=6)
    comp = segment_comparison(res)
    ax = plot_segment_comparison(res)
    assert len(ax.lines) == 3
    sizes = res.sizes.groupby(level="channel").sum()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [f"{s} (n={sizes[s]})" for s in comp.columns]
    for line, seg in zip(ax.lines, comp.columns):
        np.testing.assert_allclose(line.get_ydata(), comp[seg], equal_nan=True)
    ax2 = plot_segment_comparison(comp)
    assert [line.get_label() for line in ax2.lines] == ["ads", "email", "seo"]
    with pytest.raises(ParameterError, match="segment="):
        plot_segment_comparison(retention_matrix(tx))


def test_kpi_trends(tx):
    k = period_kpis(tx, include_partial=True)
    ax = plot_kpi_trends(k, columns=("retention_rate", "churn_rate", "repeat_purchase_rate"))
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), k["retention_rate"], equal_nan=True)
    assert np.isnan(ax.lines[0].get_ydata()[-1])  # the partial period leaves a gap, not a drop
    assert type(ax.yaxis.get_major_formatter()).__name__ == "PercentFormatter"
    with pytest.raises(ParameterError, match="retention"):
        plot_kpi_trends(k, columns=["retention"])
