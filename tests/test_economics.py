"""Tests of relmkt_helpers.economics.

Golden numbers are either worked by hand in the comments (formulas, toy data) or
come from the sample shop's generator (data/sample_shop/ground_truth.json and
data/README.md, section "Marketing spend": true CAC and retention cost per active
customer-month per channel, mean-one log-normal noise with sigma 0.1).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relmkt_helpers.datasets import load_cdnow, load_sample_shop
from relmkt_helpers.economics import (
    FOLK_CLAIMS,
    Assumptions,
    EconomicsResult,
    breakeven_retention_spend,
    cac_by_channel,
    cac_by_month,
    cac_payback,
    claims_table,
    clv_constant_retention,
    clv_sensitivity,
    cost_ratios,
    economics_analysis,
    ltv_cac_sensitivity,
    ltv_curves,
    ltv_to_cac,
    payback_periods,
    profit_uplift_grid,
    profit_uplift_simulation,
    retention_costs,
    subscription_revenue_retention,
)
from relmkt_helpers.errors import DataValidationError, ParameterError
from relmkt_helpers.io import load_spend, load_subscriptions

SIGMA = 0.10  # ground_truth.json: marketing.noise.sigma


def _tx(rows: list[tuple]) -> pd.DataFrame:
    """Canonical frame from (customer, date, amount[, channel]) tuples."""
    cols = ["customer_id", "order_date", "amount", "channel"][: len(rows[0])]
    df = pd.DataFrame(rows, columns=cols)
    df["customer_id"] = df["customer_id"].astype("string")
    df["order_date"] = pd.to_datetime(df["order_date"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    df["order_id"] = pd.Series([f"o{i}" for i in range(len(df))], dtype="string")
    df = df.sort_values("order_date", kind="stable").reset_index(drop=True)
    return df


def _ledger(rows: list[tuple]) -> pd.DataFrame:
    return load_spend(pd.DataFrame(rows, columns=["month", "channel", "kind", "spend"]))


# ----------------------------------------------------------------------------
# CLV formula (Fader & Hardie 2012 conventions)
# ----------------------------------------------------------------------------

def test_clv_hand_values():
    # m = 100, r = 0.8, d = 0.1: 100 * 1.1 / 0.3 = 366.666..., 100 * 0.8 / 0.3 = 266.666...
    assert clv_constant_retention(100, 0.8, 0.1) == pytest.approx(1100 / 3)
    assert clv_constant_retention(100, 0.8, 0.1, include_first=False) == pytest.approx(800 / 3)
    # m = 50, r = 0.6, d = 0.2: 50 * 1.2 / 0.6 = 100; 50 * 0.6 / 0.6 = 50
    assert clv_constant_retention(50, 0.6, 0.2) == pytest.approx(100.0)
    assert clv_constant_retention(50, 0.6, 0.2, include_first=False) == pytest.approx(50.0)


def test_clv_equals_the_discounted_sum_it_stands_for():
    m, r, d = 37.0, 0.73, 0.08
    t = np.arange(0, 400)
    series = m * r ** t / (1 + d) ** t  # payment at the start of each period, first one at t = 0
    assert clv_constant_retention(m, r, d) == pytest.approx(series.sum(), rel=1e-12)
    assert clv_constant_retention(m, r, d, include_first=False) == pytest.approx(series[1:].sum(), rel=1e-12)


def test_clv_limiting_cases():
    # r = 0: only the first payment; nothing after it
    assert clv_constant_retention(100, 0.0, 0.1) == pytest.approx(100.0)
    assert clv_constant_retention(100, 0.0, 0.1, include_first=False) == 0.0
    # d = 0: expected number of payments 1 / (1 - r), resp. r / (1 - r): 100 / 0.2 = 500, 80 / 0.2 = 400
    assert clv_constant_retention(100, 0.8, 0.0) == pytest.approx(500.0)
    assert clv_constant_retention(100, 0.8, 0.0, include_first=False) == pytest.approx(400.0)
    # r -> 1 with d > 0: m (1 + d) / d = 100 * 1.1 / 0.1 = 1100 (finite); with d = 0 it grows like m / (1 - r)
    assert clv_constant_retention(100, 1 - 1e-12, 0.1) == pytest.approx(1100.0, rel=1e-9)
    assert clv_constant_retention(1.0, 1 - 1e-6, 0.0) == pytest.approx(1e6, rel=1e-6)
    assert np.isfinite(clv_constant_retention(1.0, 1 - 1e-15, 0.0))


def test_clv_vectorises():
    out = clv_constant_retention(100, np.array([0.0, 0.5, 0.8]), 0.0)
    np.testing.assert_allclose(out, [100.0, 200.0, 500.0])


@pytest.mark.parametrize("retention", [1.0, 1.2, -0.1, float("nan"), [0.5, 1.0]])
def test_clv_rejects_retention_outside_unit_interval(retention):
    with pytest.raises(ParameterError, match=r"retention=.*\[0, 1\)|retention=not a finite"):
        clv_constant_retention(100, retention, 0.1)


@pytest.mark.parametrize("discount", [-0.01, float("inf")])
def test_clv_rejects_negative_discount(discount):
    with pytest.raises(ParameterError, match="discount="):
        clv_constant_retention(100, 0.5, discount)


def test_clv_rejects_bool_and_text():
    with pytest.raises(ParameterError, match="margin"):
        clv_constant_retention(True, 0.5, 0.1)
    with pytest.raises(ParameterError, match="retention"):
        clv_constant_retention(100, "high", 0.1)


_r = st.floats(0.0, 0.99)
_d = st.floats(0.0, 1.0)
_m = st.floats(0.01, 1e6)


@settings(max_examples=200, deadline=None)
@given(m=_m, r1=_r, r2=_r, d=_d, first=st.booleans())
def test_clv_increases_with_retention(m, r1, r2, d, first):
    lo, hi = sorted((r1, r2))
    assert clv_constant_retention(m, lo, d, include_first=first) <= clv_constant_retention(
        m, hi, d, include_first=first) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(m1=_m, m2=_m, r=_r, d=_d, first=st.booleans())
def test_clv_increases_with_margin(m1, m2, r, d, first):
    lo, hi = sorted((m1, m2))
    assert clv_constant_retention(lo, r, d, include_first=first) <= clv_constant_retention(
        hi, r, d, include_first=first) * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(m=_m, r=_r, d1=_d, d2=_d, first=st.booleans())
def test_clv_decreases_with_discount(m, r, d1, d2, first):
    lo, hi = sorted((d1, d2))
    assert clv_constant_retention(m, r, hi, include_first=first) <= clv_constant_retention(
        m, r, lo, include_first=first) * (1 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(m=_m, r=_r, d=_d)
def test_the_two_conventions_differ_by_one_payment(m, r, d):
    assert clv_constant_retention(m, r, d) - clv_constant_retention(m, r, d, include_first=False) == \
        pytest.approx(m, rel=1e-9)


# ----------------------------------------------------------------------------
# payback, break-even, sensitivity grids
# ----------------------------------------------------------------------------

def test_payback_hand_values():
    # CAC 100, margin 40: r = 0.9 gives 40, 76, 108.4 -> 3 periods; r = 0.5 tops out at 80 -> never
    assert payback_periods(100, 40, 0.9) == 3.0
    assert math.isnan(payback_periods(100, 40, 0.5))
    assert payback_periods(30, 40, 0.0) == 1.0   # first payment covers the CAC
    assert math.isnan(payback_periods(50, 40, 0.0))  # r = 0: one payment of 40, never 50
    # discounting: r = 0.9, d = 0.1 -> q = 0.8181...: 40, 72.73, 99.50, 121.4 -> 4 periods
    assert payback_periods(100, 40, 0.9, 0.1) == 4.0


@settings(max_examples=200, deadline=None)
@given(c=st.floats(0, 1000), m=st.floats(0.5, 200), r=st.floats(0, 0.98), d=st.floats(0, 0.5))
def test_payback_matches_a_period_by_period_count(c, m, r, d):
    q = r / (1 + d)
    cum = np.cumsum(m * q ** np.arange(5000))  # expected margin collected by the end of period n = 1, 2, ...
    limit = m / (1 - q)
    # skip exact ties, where rounding may put the closed form one period either side
    assume(np.min(np.abs(cum - c)) > 1e-9 * max(c, 1.0) and abs(limit - c) > 1e-9 * max(c, 1.0))
    reached = np.flatnonzero(cum >= c)
    got = payback_periods(c, m, r, d)
    if reached.size:
        assert got == reached[0] + 1
    else:
        assert math.isnan(got)


def test_breakeven_hand_values_include_first():
    # m = 100, r = 0.8 -> 0.85, d = 0.1: CLV 1100/3 -> 110/0.25 = 440; gain 440 - 366.67 = 73.33;
    # per period: m * uplift / (1 + d - r) = 100 * 0.05 / 0.3 = 16.67
    be = breakeven_retention_spend(100, 0.8, 0.05, 0.1).iloc[0]
    assert be["clv_base"] == pytest.approx(1100 / 3)
    assert be["clv_improved"] == pytest.approx(440.0)
    assert be["breakeven_lifetime"] == pytest.approx(440 - 1100 / 3)
    assert be["breakeven_per_period"] == pytest.approx(5 / 0.3)
    assert be["basis"] == "assumed"


def test_breakeven_hand_values_without_first_payment():
    # CLV 80/0.3 = 266.67 -> 85/0.25 = 340; per period 100 * (1 - 266.67/340) = 21.5686...
    be = breakeven_retention_spend(100, 0.8, 0.05, 0.1, include_first=False).iloc[0]
    assert be["breakeven_lifetime"] == pytest.approx(340 - 800 / 3)
    assert be["breakeven_per_period"] == pytest.approx(100 * (1 - (800 / 3) / 340))


@settings(max_examples=100, deadline=None)
@given(m=_m, r=st.floats(0, 0.9), up=st.floats(0.001, 0.09), d=_d, first=st.booleans())
def test_breakeven_per_period_spend_leaves_clv_unchanged(m, r, up, d, first):
    be = breakeven_retention_spend(m, r, up, d, include_first=first).iloc[0]
    if first or r > 1e-9:  # at r ~ 1e-17 both values are ~1e-12, below the float noise of the formula
        kept = clv_constant_retention(m - be["breakeven_per_period"], r + up, d, include_first=first)
        assert kept == pytest.approx(clv_constant_retention(m, r, d, include_first=first), rel=1e-9)
    assert be["breakeven_lifetime"] >= 0


def test_breakeven_rejects_uplift_beyond_one():
    with pytest.raises(ParameterError, match=r"retention \+ uplift"):
        breakeven_retention_spend(100, 0.97, 0.05, 0.1)
    with pytest.raises(ParameterError, match="uplift"):
        breakeven_retention_spend(100, 0.5, -0.05, 0.1)


def test_sensitivity_grids_hand_values():
    g = clv_sensitivity(100, [0.5, 0.8], [0.0, 0.1])
    # 100/0.5 = 200, 110/0.6 = 183.3; 100/0.2 = 500, 110/0.3 = 366.7
    np.testing.assert_allclose(g.to_numpy(), [[200, 110 / 0.6], [500, 110 / 0.3]])
    assert g.index.name == "retention" and g.columns.name == "discount" and g.attrs["basis"] == "assumed"
    h = ltv_cac_sensitivity([100, 200], [30, 60], retention=0.8, discount=0.1)
    # LTV = m * 1.1 / 0.3: 110 and 220 -> / CAC
    np.testing.assert_allclose(h.to_numpy(), [[1.1, 2.2], [0.55, 1.1]])
    p = ltv_cac_sensitivity([100, 200], [30, 60], retention=0.8, discount=0.1, metric="payback")
    # undiscounted cumulative margin, r = 0.8. CAC 100: margin 30: 30, 54, 73.2, 88.56, 100.85 -> 5;
    # margin 60: 60, 108 -> 2. CAC 200: margin 60: 60, 108, 146.4, 177.1, 201.7 -> 5; margin 30: limit 150 -> never
    assert p.iloc[0].tolist() == [5.0, 2.0]
    assert math.isnan(p.iloc[1, 0]) and p.iloc[1, 1] == 5.0
    with pytest.raises(ParameterError, match="metric"):
        ltv_cac_sensitivity([100], [30], retention=0.8, discount=0.1, metric="roi")


# ----------------------------------------------------------------------------
# the "5 % retention -> 25-95 % profit" simulation
# ----------------------------------------------------------------------------

def test_uplift_two_year_case_by_hand():
    # 1,000 customers in steady state at r = 0.8 -> A = 200 new a year; margin 100, CAC 50, no growth.
    # baseline, every year: 1000 * 100 - 200 * 50 = 90,000.
    # improved (r = 0.85): year 1: 0.85 * 1000 + 200 = 1050 customers -> 105,000 - 10,000 = 95,000;
    #                      year 2: 0.85 * 1050 + 200 = 1092.5      -> 109,250 - 10,000 = 99,250.
    # steady state: 200 / 0.15 = 1333.33 customers -> 133,333.33 - 10,000 = 123,333.33 (+37.04 %).
    sim = profit_uplift_simulation(retention=0.8, margin_per_customer_year=100, acquisition_cost=50, uplift=0.05, years=2)
    y = sim.yearly
    np.testing.assert_allclose(y["customers_baseline"], [1000, 1000])
    np.testing.assert_allclose(y["customers_improved"], [1050, 1092.5])
    np.testing.assert_allclose(y["profit_baseline"], [90000, 90000])
    np.testing.assert_allclose(y["profit_improved"], [95000, 99250])
    s = sim.summary["value"]
    assert s["profit_increase_final_year"] == pytest.approx(9250 / 90000)
    assert s["profit_increase_cumulative"] == pytest.approx((95000 + 99250 - 180000) / 180000)
    assert s["profit_increase_steady_state"] == pytest.approx(123333.3333 / 90000 - 1, rel=1e-8)
    assert (sim.summary["basis"] == "assumed").all()


def test_uplift_with_margin_growth_by_hand():
    # B = 1000, r = 0.5 -> A = 500; margin 100 growing 10 % a year of tenure (no cap), CAC 0, uplift 0.1.
    # baseline: 500 * sum_j 0.5^(j-1) 100 * 1.1^(j-1) = 500 * 100 / (1 - 0.55) = 111,111.11 every year.
    # improved year 1: survivors 0.6 * 500 * sum_j 0.5^(j-1) 100 * 1.1^j = 300 * 110 / 0.45 = 73,333.33,
    #   plus 500 new * 100 = 50,000 -> 123,333.33 (+11 %); steady state 500 * 100 / (1 - 0.66) = 147,058.82.
    sim = profit_uplift_simulation(retention=0.5, margin_per_customer_year=100, acquisition_cost=0, uplift=0.1, years=1,
                                   margin_growth=0.1, growth_years=None)
    assert sim.yearly["profit_baseline"].iloc[0] == pytest.approx(50000 / 0.45)
    assert sim.yearly["profit_improved"].iloc[0] == pytest.approx(33000 / 0.45 + 50000)
    assert sim.summary.loc["profit_increase_final_year", "value"] == pytest.approx(0.11)
    assert sim.summary.loc["profit_steady_state_improved", "value"] == pytest.approx(50000 / 0.34)


def test_uplift_growth_cap_by_hand():
    # margin 100 in the first year, 200 from the second on (growth 100 %, growth_years=2); r = 0.5:
    # lifetime margin 100 + 200 * (0.5 + 0.25 + ...) = 300 -> steady profit 500 * 300 = 150,000.
    sim = profit_uplift_simulation(retention=0.5, margin_per_customer_year=100, acquisition_cost=0, uplift=0.0, years=3,
                                   margin_growth=1.0, growth_years=2)
    np.testing.assert_allclose(sim.yearly["profit_baseline"], 150000.0)
    np.testing.assert_allclose(sim.yearly["profit_improved"], 150000.0)


@settings(max_examples=60, deadline=None)
@given(r=st.floats(0.1, 0.85), up=st.floats(0.0, 0.1), g=st.floats(0, 0.1), c=st.floats(0, 300),
       rc=st.floats(0, 20))
def test_uplift_simulation_properties(r, up, g, c, rc):
    kw = dict(retention=r, margin_per_customer_year=100, acquisition_cost=c, uplift=up, margin_growth=g, growth_years=8,
              retention_cost=rc)
    sim = profit_uplift_simulation(years=400, **kw)
    s = sim.summary["value"]
    # the baseline starts and stays in steady state
    np.testing.assert_allclose(sim.yearly["profit_baseline"], s["profit_steady_state_baseline"], rtol=1e-9,
                               atol=1e-6)
    # the improved base converges to its steady state
    assert sim.yearly["profit_improved"].iloc[-1] == pytest.approx(s["profit_steady_state_improved"], rel=1e-6,
                                                                   abs=1e-6)
    # with constant acquisition and no discounting, the steady-state increase is the customer-NPV increase
    if s["profit_steady_state_baseline"] > 1e-6:
        assert s["profit_increase_steady_state"] == pytest.approx(s["customer_npv_increase"], rel=1e-9, abs=1e-12)
    hold = profit_uplift_simulation(years=5, acquisition="hold_base", **kw)
    np.testing.assert_allclose(hold.yearly["customers_improved"], 1000.0)


def test_uplift_grid_shows_when_the_folk_range_holds():
    # no growth, no CAC: steady profit is proportional to the base A / (1 - r), so +5 points gives
    # (1 - r) / (1 - r - 0.05) - 1: r = 0.6 -> 14.3 % (below), r = 0.8 -> 33.3 % (inside), r = 0.9 -> 100 % (above)
    g = profit_uplift_grid(retention=[0.6, 0.8, 0.9], margin_growth=[0.0], acquisition_cost=[0.0])
    np.testing.assert_allclose(g["profit_increase"], [0.4 / 0.35 - 1, 0.2 / 0.15 - 1, 1.0])
    assert g["in_folk_range"].tolist() == [False, True, False]
    # the number depends on the assumptions: it rises with CAC and with margin growth at a fixed retention
    h = profit_uplift_grid(retention=[0.7], margin_growth=[0.0, 0.1], acquisition_cost=[0.0, 100.0])
    inc = h.set_index(["margin_growth", "acquisition_cost"])["profit_increase"]
    assert inc[(0.1, 0.0)] > inc[(0.0, 0.0)] and inc[(0.0, 100.0)] > inc[(0.0, 0.0)]
    # with baseline profit <= 0 the percentage is undefined, not a huge number
    bad = profit_uplift_grid(retention=[0.5], margin_growth=[0.0], acquisition_cost=[500.0])
    assert bad["profit_increase"].isna().all()


def test_uplift_rejects_bad_inputs():
    with pytest.raises(ParameterError, match="steady state"):
        profit_uplift_simulation(retention=0.9, margin_per_customer_year=100, acquisition_cost=0, margin_growth=0.2,
                                 growth_years=None)
    with pytest.raises(ParameterError, match="years"):
        profit_uplift_simulation(retention=0.5, margin_per_customer_year=100, acquisition_cost=0, years=0)
    with pytest.raises(ParameterError, match="acquisition"):
        profit_uplift_simulation(retention=0.5, margin_per_customer_year=100, acquisition_cost=0, acquisition="more")
    with pytest.raises(ParameterError, match=r"retention \+ uplift"):
        profit_uplift_simulation(retention=0.97, margin_per_customer_year=100, acquisition_cost=0, uplift=0.05)


# ----------------------------------------------------------------------------
# CAC and retention cost on hand-made data
# ----------------------------------------------------------------------------

@pytest.fixture()
def toy():
    # a (ads) new in Jan, b (ads) new in Feb, c (seo) new in Feb, d (seo) new in Mar; as_of 2024-03-20 (March partial)
    tx = _tx([("a", "2024-01-05", 20, "ads"), ("b", "2024-02-20", 30, "ads"), ("c", "2024-02-09", 40, "seo"),
              ("d", "2024-03-15", 10, "seo"), ("a", "2024-03-01", 5, "ads")])
    spend = _ledger([
        ("2023-12", "ads", "acquisition", 5), ("2023-12", "seo", "acquisition", 5),
        ("2024-01", "ads", "acquisition", 90), ("2024-01", "seo", "acquisition", 10),
        ("2024-02", "ads", "acquisition", 30), ("2024-02", "seo", "acquisition", 0),
        ("2024-03", "ads", "acquisition", 40), ("2024-03", "seo", "acquisition", 20),
        ("2024-04", "ads", "acquisition", 50),
    ])
    return tx, spend


def test_cac_by_month_hand_values_and_flags(toy):
    tx, spend = toy
    t = cac_by_month(tx, spend, as_of="2024-03-20").set_index(["month", "channel"])
    m = lambda s: pd.Period(s, "M")  # noqa: E731
    assert t.loc[(m("2024-01"), "ads"), "cac"] == 90.0
    # spend with nobody new: undefined, flagged, never inf, and still counted in the totals
    row = t.loc[(m("2024-01"), "seo")]
    assert math.isnan(row["cac"]) and "no new customers" in row["note"] and row["in_totals"]
    assert t.loc[(m("2024-01"), "all"), "cac"] == 100.0  # (90 + 10) / 1
    assert t.loc[(m("2024-02"), "seo"), "cac"] == 0.0 and "no acquisition spend" in t.loc[(m("2024-02"), "seo"),
                                                                                            "note"]
    assert t.loc[(m("2024-02"), "all"), "cac"] == 15.0  # 30 / 2
    assert "partial month" in t.loc[(m("2024-03"), "seo"), "note"] and not t.loc[(m("2024-03"), "seo"), "in_totals"]
    assert "before the transaction data" in t.loc[(m("2023-12"), "ads"), "note"]
    assert "after the transaction data" in t.loc[(m("2024-04"), "ads"), "note"]
    assert "after the transaction data" in t.loc[(m("2024-04"), "seo"), "note"]  # no row, and after the data
    assert not np.isinf(t["cac"].to_numpy()).any()
    assert (t["basis"] == "measured").all()


def test_cac_by_channel_pools_complete_months(toy):
    tx, spend = toy
    c = cac_by_channel(tx, spend, as_of="2024-03-20").set_index("channel")
    # ads: (90 + 30) / 2 = 60; seo: (10 + 0) / 1 = 10; all: 130 / 3
    assert c.loc["ads", "cac"] == 60.0 and c.loc["seo", "cac"] == 10.0
    assert c.loc["all", "cac"] == pytest.approx(130 / 3)
    assert c.loc["seo", "months"] == 2 and c.loc["seo", "months_undefined"] == 1


def test_missing_ledger_row_is_unknown_not_zero():
    tx = _tx([("a", "2024-01-05", 20, "ads"), ("b", "2024-02-05", 20, "seo"), ("c", "2024-02-06", 20, "ads")])
    spend = _ledger([("2024-01", "ads", "acquisition", 50), ("2024-01", "seo", "acquisition", 10),
                     ("2024-02", "ads", "acquisition", 40)])
    t = cac_by_month(tx, spend, as_of="2024-02-29").set_index(["month", "channel"])
    row = t.loc[(pd.Period("2024-02", "M"), "seo")]
    assert math.isnan(row["cac"]) and "no ledger row" in row["note"] and not row["in_totals"]
    assert math.isnan(t.loc[(pd.Period("2024-02", "M"), "all"), "acquisition_spend"])


def test_channel_mismatch_names_both_sides():
    tx = _tx([("a", "2024-01-05", 20, "ads"), ("b", "2024-01-09", 20, "email")])
    spend = _ledger([("2024-01", "ads", "acquisition", 50), ("2024-01", "tv", "acquisition", 10)])
    with pytest.raises(DataValidationError) as exc:
        cac_by_month(tx, spend)
    msg = str(exc.value)
    assert "['tv']" in msg and "['email']" in msg and "Rename" in msg and "'all'" in msg


def test_channel_ledger_needs_a_channel_column():
    tx = _tx([("a", "2024-01-05", 20)])
    spend = _ledger([("2024-01", "ads", "acquisition", 50)])
    with pytest.raises(DataValidationError, match="no channel column"):
        cac_by_month(tx, spend)
    mixed = _ledger([("2024-01", "ads", "acquisition", 50), ("2024-01", "all", "acquisition", 5)])
    with pytest.raises(DataValidationError, match="mixed"):
        cac_by_month(_tx([("a", "2024-01-05", 20, "ads")]), mixed)


def test_blended_ledger_works_with_or_without_channels():
    spend = _ledger([("2024-01", "all", "acquisition", 60)])
    with_ch = _tx([("a", "2024-01-05", 20, "ads"), ("b", "2024-01-09", 20, "seo")])
    without = with_ch.drop(columns="channel")
    for tx in (with_ch, without):
        t = cac_by_month(tx, spend, as_of="2024-01-31")
        assert t["channel"].tolist() == ["all"] and t["cac"].tolist() == [30.0]


def test_ledger_month_as_text_is_accepted():
    tx = _tx([("a", "2024-01-05", 20)])
    raw = pd.DataFrame({"month": ["2024-01"], "channel": ["all"], "kind": ["acquisition"], "spend": [10.0]})
    assert cac_by_month(tx, raw, channel_col=None, as_of="2024-01-31")["cac"].tolist() == [10.0]


@pytest.fixture()
def retention_toy():
    # a: Jan, Feb, Apr (reactivated); b: new Feb, again Mar; c: Jan only. Retention spend 6, 8, 3, 4.
    tx = _tx([("a", "2024-01-03", 10), ("c", "2024-01-20", 10), ("a", "2024-02-02", 10), ("b", "2024-02-10", 10),
              ("b", "2024-03-05", 10), ("a", "2024-04-07", 10)])
    spend = _ledger([("2024-01", "all", "retention", 6), ("2024-02", "all", "retention", 8),
                     ("2024-03", "all", "retention", 3), ("2024-04", "all", "retention", 4)])
    return tx, spend


@pytest.mark.parametrize("retained, counts, costs", [
    # existing (acquired earlier): Jan 0 (first month, left out), Feb a, Mar b, Apr a
    ("existing", [0, 1, 1, 1], [np.nan, 8.0, 3.0, 4.0]),
    # returning (active the month before too): Feb a, Mar b; Apr a skipped March
    ("returning", [0, 1, 1, 0], [np.nan, 8.0, 3.0, np.nan]),
    # active (everyone who bought): 2, 2, 1, 1
    ("active", [2, 2, 1, 1], [3.0, 4.0, 3.0, 4.0]),
])
def test_retention_costs_by_basis(retention_toy, retained, counts, costs):
    tx, spend = retention_toy
    t = retention_costs(tx, spend, retained=retained, channel_col=None, as_of="2024-04-30")
    assert t["retained_customers"].tolist() == counts
    np.testing.assert_allclose(t["cost_per_retained"], costs)
    assert t["in_totals"].iloc[0] == (retained == "active")


def test_cost_ratios_month_and_year_by_hand():
    # two calendar years, 10 of retention and 30 of acquisition spend every month.
    # a: 2023-03, 2024-05; b: 2023-06; c: 2024-02, 2024-08; d: 2023-01, 2023-12, 2024-01.
    tx = _tx([("d", "2023-01-10", 5), ("a", "2023-03-10", 5), ("b", "2023-06-10", 5), ("d", "2023-12-10", 5),
              ("d", "2024-01-10", 5), ("c", "2024-02-10", 5), ("a", "2024-05-10", 5), ("c", "2024-08-10", 5)])
    months = pd.period_range("2023-01", "2024-12", freq="M").astype(str)
    spend = _ledger([(m, "all", k, v) for m in months for k, v in (("acquisition", 30.0), ("retention", 10.0))])
    r = cost_ratios(tx, spend, channel_col=None, as_of="2024-12-31").iloc[0]
    # CAC: 720 / 4 new customers = 180.
    # existing customer-months: d 2023-12, d 2024-01, a 2024-05, c 2024-08 = 4, over 23 months of spend
    # (Jan 2023 is the data's first month) -> 230 / 4 = 57.5 per retained customer-month.
    # existing customers of 2024 (acquired in an earlier year): a, d -> 120 / 2 = 60 per customer-year.
    assert r["cac"] == pytest.approx(180.0)
    assert r["retention_cost_month"] == pytest.approx(57.5)
    assert r["retention_cost_year"] == pytest.approx(60.0)
    assert r["ratio_month"] == pytest.approx(180 / 57.5) and r["ratio_year"] == pytest.approx(3.0)
    assert r["comparable_to_folk_claim"] == "ratio_year"
    act = cost_ratios(tx, spend, retained="active", channel_col=None, as_of="2024-12-31").iloc[0]
    # active customer-years: 2023 a, b, d; 2024 a, c, d -> 240 / 6 = 40
    assert act["retention_cost_year"] == pytest.approx(40.0)


def test_yearly_cost_needs_a_full_ledger_year(retention_toy):
    tx, spend = retention_toy
    y = retention_costs(tx, spend, period="Y", channel_col=None, as_of="2024-04-30")
    assert not y["in_totals"].any()
    r = cost_ratios(tx, spend.assign(kind="retention"), channel_col=None, as_of="2024-04-30").iloc[0]
    assert math.isnan(r["retention_cost_year"]) and "yearly cost undefined" in r["note"]


def test_bad_choices_raise():
    tx = _tx([("a", "2024-01-05", 20)])
    spend = _ledger([("2024-01", "all", "retention", 5)])
    with pytest.raises(ParameterError, match="retained="):
        retention_costs(tx, spend, retained="loyal")
    with pytest.raises(ParameterError, match="period="):
        retention_costs(tx, spend, period="W")
    with pytest.raises(ParameterError, match="spend must be"):
        cac_by_month(tx, [1, 2])


# ----------------------------------------------------------------------------
# payback and LTV:CAC on hand-made data
# ----------------------------------------------------------------------------

@pytest.fixture()
def payback_toy():
    # Jan cohort (ads): a 10 in Jan + 5 in Mar, b 20 in Jan -> per customer 15, 15, 17.5
    # Feb cohort (seo): c 8 in Feb + 4 in Mar -> 8, 12
    return _tx([("a", "2024-01-05", 10, "ads"), ("b", "2024-01-31", 20, "ads"), ("c", "2024-02-11", 8, "seo"),
                ("a", "2024-03-10", 5, "ads"), ("c", "2024-03-02", 4, "seo")])


def test_ltv_curves_are_size_weighted(payback_toy):
    c = ltv_curves(payback_toy, as_of="2024-03-31")
    # pooled: age 0 (2 * 15 + 8) / 3; age 1 (2 * 15 + 12) / 3 = 14; age 2 Jan cohort only: 17.5
    np.testing.assert_allclose(c.revenue["all"], [38 / 3, 14.0, 17.5])
    np.testing.assert_allclose(c.revenue["ads"], [15.0, 15.0, 17.5])
    np.testing.assert_allclose(c.revenue["seo"].iloc[:2], [8.0, 12.0])
    assert c.customers["all"].tolist() == [3, 3, 2]


def test_cac_payback_by_hand(payback_toy):
    curves = ltv_curves(payback_toy, as_of="2024-03-31")
    p = cac_payback(curves, 14.0, margin_rate=1.0)
    s = p.summary.set_index("channel")
    assert s.loc["ads", "payback_months"] == 1.0   # 15 >= 14 in the acquisition month
    assert s.loc["all", "payback_months"] == 2.0   # 12.67, then 14
    assert math.isnan(s.loc["seo", "payback_months"]) and s.loc["seo", "note"].startswith("not within data")
    assert (s["basis"] == "assumed: cac, margin_rate").all()
    # margin scales the curve: at 50 % nobody reaches 14 within the data
    half = cac_payback(curves, 14.0, margin_rate=0.5).summary
    assert half["payback_months"].isna().all()
    assert p.curves.index.name == "month_of_life" and p.curves.index[0] == 1


def test_ltv_to_cac_realised_and_from_clv(payback_toy):
    t = ltv_to_cac(payback_toy, {"ads": 10.0, "seo": 4.0, "all": 7.0}, margin_rate=0.5, horizon_months=2,
                   as_of="2024-03-31").set_index("channel")
    # first 2 months of life x 0.5: ads 7.5 / 10; seo 6 / 4; all 7 / 7
    assert t.loc["ads", "ltv_cac"] == pytest.approx(0.75)
    assert t.loc["seo", "ltv_cac"] == pytest.approx(1.5)
    assert t.loc["all", "ltv_cac"] == pytest.approx(1.0)
    assert t.loc["all", "ltv_basis"] == "realised margin, first 2 months of life"
    clv = pd.DataFrame({"clv": [30.0, 10.0, 6.0]}, index=pd.Index(["a", "b", "c"], name="customer_id"))
    u = ltv_to_cac(payback_toy, 10.0, margin_rate=0.5, clv=clv).set_index("channel")
    # ads: mean(30, 10) = 20 -> 2.0; seo: 6 -> 0.6; all: 46 / 3
    assert u.loc["ads", "ltv_cac"] == pytest.approx(2.0) and u.loc["seo", "ltv_cac"] == pytest.approx(0.6)
    assert u.loc["all", "ltv"] == pytest.approx(46 / 3)
    assert u.loc["all", "basis"] == "assumed: cac" and u.loc["all", "ltv_basis"].startswith("clv input")
    with pytest.raises(DataValidationError, match="none of its customer ids"):
        ltv_to_cac(payback_toy, 10.0, margin_rate=0.5, clv=pd.Series({"zz": 1.0}))
    with pytest.raises(ParameterError, match="margin_rate"):
        ltv_to_cac(payback_toy, 10.0, margin_rate=30)


# ----------------------------------------------------------------------------
# subscriptions: GRR / NRR
# ----------------------------------------------------------------------------

def test_revenue_retention_hand_case():
    # month-end MRR: Jan a10 b10 c10 d20 = 50; Feb a10 b10 c20 (upgrade) d20 e10 (new) = 70;
    # Mar a10 c20 d10 (downgrade) e10 = 50 (b churned).
    subs = pd.DataFrame({
        "subscription_id": ["s1", "s2", "s3", "s4", "s5", "s6", "s7"],
        "customer_id": ["a", "b", "c", "c", "d", "d", "e"],
        "plan": ["basic", "basic", "basic", "plus", "plus", "basic", "basic"],
        "start_date": ["2024-01-10", "2024-01-15", "2024-01-20", "2024-02-20", "2024-01-05", "2024-03-05",
                       "2024-02-02"],
        "end_date": [None, "2024-03-15", "2024-02-20", None, "2024-03-05", None, None],
        "monthly_price": [10.0, 10.0, 10.0, 20.0, 20.0, 10.0, 10.0],
    })
    rr = subscription_revenue_retention(load_subscriptions(subs), as_of="2024-03-31")
    feb, mar = rr.loc[pd.Period("2024-02", "M")], rr.loc[pd.Period("2024-03", "M")]
    assert list(rr.index.astype(str)) == ["2024-02", "2024-03"]
    assert (feb["starting_mrr"], feb["expansion_mrr"], feb["new_mrr"], feb["ending_mrr"]) == (50, 10, 10, 70)
    assert feb["grr"] == pytest.approx(1.0) and feb["nrr"] == pytest.approx(60 / 50)
    assert (mar["churned_mrr"], mar["contraction_mrr"], mar["expansion_mrr"]) == (10, 10, 0)
    assert mar["grr"] == pytest.approx(50 / 70) and mar["nrr"] == pytest.approx(50 / 70)
    assert mar["note"] == ""  # contraction happened, so no "0 by construction" note


def test_revenue_retention_trailing_twelve_months():
    # x and y from Jan 2023 (y's last paid month June), z new in June (not retention). Jan 2024 over 12 months:
    # starting = end-Jan-2023 MRR 20; x survives -> GRR = NRR = 0.5.
    subs = pd.DataFrame({"subscription_id": ["x", "y", "z"], "customer_id": ["x", "y", "z"], "plan": "basic",
                         "start_date": ["2023-01-01", "2023-01-01", "2023-06-01"],
                         "end_date": [None, "2023-07-01", None]})
    rr = subscription_revenue_retention(load_subscriptions(subs), as_of="2024-01-31", prices={"basic": 10.0})
    assert rr["grr_12m"].loc[pd.Period("2024-01", "M")] == pytest.approx(0.5)
    assert rr["nrr_12m"].loc[pd.Period("2024-01", "M")] == pytest.approx(0.5)
    assert rr["grr_12m"].loc[: pd.Period("2023-12", "M")].isna().all()
    with pytest.raises(ParameterError, match="prices"):
        subscription_revenue_retention(load_subscriptions(subs))


# ----------------------------------------------------------------------------
# the sample shop against its generator's truth
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop():
    s = load_sample_shop()
    return s, load_spend(s.spend), load_subscriptions(s.subscriptions)


def test_sample_shop_acquisitions_and_spend_match_the_generator(shop):
    s, spend, _ = shop
    real = s.truth["realised"]
    c = cac_by_channel(s.transactions, spend).set_index("channel")
    # every customer is acquired inside the ledger's 36 months, through the channel the generator drew
    assert c["new_customers"].drop("all").to_dict() == real["customers_by_channel"]
    assert c.loc["all", "acquisition_spend"] == pytest.approx(real["acquisition_spend"], abs=0.01)
    rc = retention_costs(s.transactions, spend, retained="active")
    retention_spend = rc.loc[rc["channel"] != "all", "retention_spend"].sum()
    assert retention_spend == pytest.approx(real["retention_spend"], abs=0.01)
    assert (c["months"] == 36).all()


@pytest.mark.parametrize("kind", ["acquisition", "retention"])
def test_sample_shop_rows_carry_only_the_generator_noise(shop, kind):
    """spend / (count x true unit cost) per month-channel must be the mean-one log-normal noise (sigma 0.1).

    If our count of new (or active) customers differed from the generator's, the
    ratio would drift or spread; ground_truth.json: acquisition spend = new
    customers x CAC x noise, retention spend = active customers x cost x noise.
    """
    s, spend, _ = shop
    truth = s.truth["marketing"]
    if kind == "acquisition":
        t = cac_by_month(s.transactions, spend)
        unit, count, money = truth["cac"], "new_customers", "acquisition_spend"
    else:
        t = retention_costs(s.transactions, spend, retained="active")
        unit, count, money = truth["retention_cost_per_active_customer_month"], "retained_customers", "retention_spend"
    t = t[(t["channel"] != "all") & (t[count] > 0)]
    log_noise = np.log(t[money] / (t[count] * t["channel"].map(unit)))
    n = len(log_noise)
    assert n == 144
    # log noise ~ N(-sigma^2/2, sigma^2); rounding spend to cents adds < 1e-3 relative
    assert abs(log_noise.mean() + SIGMA ** 2 / 2) < 4 * SIGMA / math.sqrt(n)
    assert abs(log_noise.std(ddof=1) - SIGMA) < 4 * SIGMA / math.sqrt(2 * (n - 1))


def _pooled_se(weights: np.ndarray) -> float:
    """Relative standard error of sum(w * eps) / sum(w) for mean-one log-normal eps, sigma 0.1."""
    var_eps = math.exp(SIGMA ** 2) - 1
    return math.sqrt(var_eps * (weights ** 2).sum()) / weights.sum()


def test_sample_shop_cac_and_cost_ratio_recover_the_truth(shop):
    s, spend, _ = shop
    truth = s.truth["marketing"]
    months = cac_by_month(s.transactions, spend)
    cac = cac_by_channel(s.transactions, spend).set_index("channel")
    rmon = retention_costs(s.transactions, spend, retained="active")
    # like with like: the generator's retention cost is per ACTIVE customer-month (new customers included)
    ratios = cost_ratios(s.transactions, spend, retained="active").set_index("channel")
    for ch, true_cac in truth["cac"].items():
        w = months.loc[(months["channel"] == ch) & months["in_totals"], "new_customers"].to_numpy(float)
        se_c = _pooled_se(w)
        assert abs(cac.loc[ch, "cac"] / true_cac - 1) < 4 * se_c, ch
        true_cost = truth["retention_cost_per_active_customer_month"][ch]
        v = rmon.loc[(rmon["channel"] == ch) & rmon["in_totals"], "retained_customers"].to_numpy(float)
        se_r = _pooled_se(v)
        assert abs(ratios.loc[ch, "retention_cost_month"] / true_cost - 1) < 4 * se_r, ch
        # the monthly cost ratio against the generator's ratio (data/README.md: 6.7, 5.0, 5.0, 3.75)
        assert abs(ratios.loc[ch, "ratio_month"] / (true_cac / true_cost) - 1) < 4 * math.hypot(se_c, se_r), ch


def test_sample_shop_existing_basis_costs_more_per_customer(shop):
    s, spend, _ = shop
    by = {b: cost_ratios(s.transactions, spend, retained=b).set_index("channel") for b in ("active", "existing")}
    # fewer retained customers for the same spend: a higher cost and a lower ratio
    assert (by["existing"]["retention_cost_month"] > by["active"]["retention_cost_month"]).all()
    assert (by["existing"]["ratio_year"] < by["existing"]["ratio_month"]).all()


def test_sample_shop_subscriptions_have_no_expansion(shop):
    s, _, subs = shop
    rr = subscription_revenue_retention(subs, as_of="2025-12-31")
    assert len(rr) == 35  # Feb 2023 .. Dec 2025 (Jan 2023 has no starting MRR)
    assert (rr["expansion_mrr"] == 0).all() and (rr["contraction_mrr"] == 0).all()
    assert rr["note"].str.contains("one subscription per customer").all()
    np.testing.assert_allclose(rr["grr"], rr["nrr"])
    # MRR accounting identity
    np.testing.assert_allclose(rr["ending_mrr"], rr["starting_mrr"] - rr["churned_mrr"] - rr["contraction_mrr"]
                               + rr["expansion_mrr"] + rr["new_mrr"], atol=1e-6)
    # end-of-2025 MRR equals the prices of the subscriptions still active (end_date empty) -- data/README.md
    active = subs.loc[subs["end_date"].isna() | (subs["end_date"] > "2025-12-31"), "monthly_price"].sum()
    assert rr["ending_mrr"].iloc[-1] == pytest.approx(active)


# ----------------------------------------------------------------------------
# the analysis object, basis labels and the claims table
# ----------------------------------------------------------------------------

def test_analysis_on_the_sample_shop_labels_every_figure(shop):
    s, spend, subs = shop
    res = economics_analysis(s.transactions, spend, subs)
    assert isinstance(res, EconomicsResult) and res.has_ledger
    summ = res.summary
    assert summ.loc["cac_blended", "basis"] == "measured"
    assert summ.loc["payback_months", "basis"] == "assumed: margin_rate"
    # the CLV is centred on the shop's own yearly retention and margin (through the assumed margin rate)
    assert summ.loc["clv_constant_retention", "basis"] == "assumed: margin_rate"
    assert summ.loc["profit_increase_steady_state", "basis"].startswith("assumed")
    assert summ.loc["grr_last_month", "basis"] == "measured"
    assert set(summ["basis"]) <= {"measured", "assumed", "assumed: margin_rate"} | {
        summ.loc["profit_increase_steady_state", "basis"]}
    h = res.headline
    assert h["cac_blended"] == pytest.approx(s.truth["realised"]["acquisition_spend"] / 20000)
    assert all(f"{k}_basis" in h for k in summ.index)
    claims = res.claims
    assert list(claims.index) == list(FOLK_CLAIMS.index)
    assert claims.loc["acquisition_vs_retention_cost", "status"] == "measured"
    assert claims.loc["acquisition_vs_retention_cost", "value"] == pytest.approx(
        res.cost_ratios.set_index("channel").loc["all", "ratio_year"])
    assert claims.loc["retention_profit_uplift", "status"] == "assumption-based"
    assert claims.loc["email_roi", "status"].startswith("not measurable from this data: needs")
    assert math.isnan(claims.loc["email_roi", "value"])
    assert claims["source"].str.len().min() > 20


def test_claims_are_computed_not_quoted(shop):
    s, spend, subs = shop
    base = claims_table(economics_analysis(s.transactions, spend, subs))
    doubled = spend.assign(spend=np.where(spend["kind"] == "retention", 2 * spend["spend"], spend["spend"]))
    more = claims_table(economics_analysis(s.transactions, doubled, subs))
    k = "acquisition_vs_retention_cost"
    assert more.loc[k, "value"] == pytest.approx(base.loc[k, "value"] / 2)
    assert more.loc["renewal_cost_share", "value"] == pytest.approx(2 * base.loc["renewal_cost_share", "value"])


def test_analysis_without_a_ledger_is_all_assumed(shop):
    s, _, _ = shop
    a = Assumptions(cac=40.0, retention_cost=10.0, margin_rate=0.4)
    res = economics_analysis(s.transactions, None, None, a)
    assert res.summary.loc["cac_blended", "basis"] == "assumed"
    assert res.summary.loc["cost_ratio_year", "value"] == pytest.approx(4.0)
    assert set(res.ltv_cac["basis"]) == {"assumed: cac, margin_rate"}
    assert set(res.payback.summary["cac"]) == {40.0}
    claims = res.claims
    assert claims.loc["acquisition_vs_retention_cost", "status"] == "assumption-based"
    assert claims.loc["renewal_cost_share", "value"] == pytest.approx(0.25)
    nothing = economics_analysis(assumptions=a)
    assert nothing.payback is None and nothing.revenue_retention is None
    assert set(nothing.summary["basis"]) == {"assumed"}


def test_what_ifs_are_centred_on_the_measured_figures(shop):
    s, spend, subs = shop
    res = economics_analysis(s.transactions, spend, subs)
    chk = res.assumption_check
    assert list(chk.index) == ["retention", "margin_per_customer_year", "cac", "retention_cost"]
    assert (chk["basis"] == "measured").all()
    # every assumed figure is shown beside the measured one it stands in for
    assert chk.loc["retention", "assumed"] == Assumptions().retention
    r, m, c = chk.loc["retention", "measured"], chk.loc["margin_per_customer_year", "measured"], chk.loc["cac", "measured"]
    assert 0.3 < r < 0.7 and m > 0
    assert c == pytest.approx(res.cost_ratios.set_index("channel").loc["all", "cac"])
    assert res.uplift.params["retention"] == pytest.approx(r)
    assert res.uplift.params["margin_per_customer_year"] == pytest.approx(m)
    assert res.clv["retention"].iloc[0] == pytest.approx(r)
    g = res.clv_grid()
    assert any(v == pytest.approx(r) for v in g.index) and min(g.index) < r < max(g.index)
    assert g.attrs["margin_per_period"] == pytest.approx(m) and g.attrs["center"][0] == pytest.approx(r)
    h = res.ltv_cac_grid()
    assert any(v == pytest.approx(c) for v in h.index) and any(v == pytest.approx(m) for v in h.columns)
    u = res.uplift_grid()
    assert any(v == pytest.approx(r) for v in u["retention"].unique())
    assert u["acquisition_cost"].to_numpy() == pytest.approx(np.full(len(u), c))
    # without a ledger the costs stay assumed; the data still gives the margin
    nl = economics_analysis(s.transactions, None, None).assumption_check
    assert nl.loc["cac", "basis"] == "assumed" and math.isnan(nl.loc["cac", "measured"])
    assert "spend ledger" in nl.loc["cac", "how_measured"]
    assert nl.loc["margin_per_customer_year", "basis"] == "measured"


def test_retention_verdict_with_a_ledger(shop):
    from relmkt_helpers.economics import retention_verdict

    s, spend, subs = shop
    res = economics_analysis(s.transactions, spend, subs)
    v = retention_verdict(res, currency="EUR")
    assert v == res.verdict("EUR")
    c = res.assumption_check.loc["cac", "measured"]
    k = res.assumption_check.loc["retention_cost", "measured"]
    # the sample shop: winning and keeping cost about the same (ratio ~0.96)
    assert v.startswith("Retention and acquisition cost about the same here.")
    assert f"€{c:,.2f}" in v and f"€{k:,.2f}" in v and f"{c / k:.2f} times" in v
    assert "pays back" in v and "6 months" in v and "49.4%" in v
    # doubling the retention spend makes keeping clearly dearer; cutting it makes retention pay
    dear = spend.assign(spend=np.where(spend["kind"] == "retention", 2 * spend["spend"], spend["spend"]))
    assert retention_verdict(economics_analysis(s.transactions, dear, subs)).startswith(
        "Retention does not pay better than acquisition here.")
    cheap = spend.assign(spend=np.where(spend["kind"] == "retention", spend["spend"] / 4, spend["spend"]))
    assert retention_verdict(economics_analysis(s.transactions, cheap, subs)).startswith(
        "Retention pays better than acquisition here.")


def test_retention_verdict_without_a_ledger(shop):
    from relmkt_helpers.economics import retention_verdict

    s, _, _ = shop
    v = retention_verdict(economics_analysis(s.transactions, None, None), currency="USD")
    assert v.startswith("This report cannot say whether retention pays better than acquisition here")
    assert "columns month, channel, kind, spend" in v
    assert "buy again the next" in v and "$" in v and "(an assumption)" in v
    assert retention_verdict(economics_analysis()).startswith("This report cannot say")
    with pytest.raises(ParameterError, match="EconomicsResult"):
        retention_verdict({"cac": 1})


def test_display_tables_are_readable(shop):
    from relmkt_helpers.economics import assumption_table, channel_table, claims_display, clv_table, headline_figures

    s, spend, subs = shop
    res = economics_analysis(s.transactions, spend, subs)
    for t in (headline_figures(res, "EUR"), assumption_table(res, "EUR"), channel_table(res, "EUR"),
              clv_table(res, "EUR"), claims_display(res, "EUR")):
        text = t.to_text()
        assert "_" not in "".join(t.frame.columns) and "nan" not in text.lower().split()
        assert "…" not in text and "..." not in text
    claims = claims_display(res)
    # the full claim text and source, never cut
    assert list(claims.frame["Claim"]) == list(FOLK_CLAIMS["claim"])
    assert list(claims.frame["Source"]) == list(FOLK_CLAIMS["source"])
    assert claims.frame.loc[0, "Here"] == f"{res.claims.iloc[0]['value']:.2f}×"


def test_assumptions_use_one_name_per_meaning():
    a = Assumptions(margin_per_customer_year=55.0, margin_rate=0.4)
    assert a.margin_per_customer_year == 55.0 and a.margin_rate == 0.4
    with pytest.raises(TypeError):
        Assumptions(margin=55.0)  # the old, ambiguous name
    with pytest.warns(DeprecationWarning, match="margin_per_customer_year"):
        old = profit_uplift_simulation(retention=0.8, margin=100, acquisition_cost=50, years=2)
    new = profit_uplift_simulation(retention=0.8, margin_per_customer_year=100, acquisition_cost=50, years=2)
    pd.testing.assert_frame_equal(old.yearly, new.yearly)
    with pytest.raises(ParameterError, match="only"):
        profit_uplift_simulation(retention=0.8, margin=1, margin_per_customer_year=1, acquisition_cost=0)


def test_analysis_on_cdnow_without_channels():
    tx, _ = load_cdnow(sample=True)
    spend = _ledger([("1997-01", "all", "acquisition", 30000.0), ("1997-02", "all", "acquisition", 25000.0),
                     ("1997-03", "all", "acquisition", 20000.0), ("1997-04", "all", "acquisition", 1000.0)])
    res = economics_analysis(tx, spend)
    t = res.cac_by_month.set_index("month")
    # CDNOW's cohort was acquired in Q1 1997 only: April has spend but nobody new -> undefined, flagged
    assert math.isnan(t.loc[pd.Period("1997-04", "M"), "cac"]) and "no new customers" in t.loc[
        pd.Period("1997-04", "M"), "note"]
    assert t["new_customers"].sum() == 2357  # Fader, Hardie & Lee (2005): the 1/10th sample has 2,357 customers
    assert any("CAC undefined" in n for n in res.notes)


def test_analysis_rejects_bad_inputs():
    with pytest.raises(ParameterError, match="needs the transactions"):
        economics_analysis(None, _ledger([("2024-01", "all", "acquisition", 1.0)]))
    with pytest.raises(ParameterError, match="retention"):
        Assumptions(retention=1.0)
    with pytest.raises(ParameterError, match="discount"):
        Assumptions(discount=-0.1)
    with pytest.raises(ParameterError, match="Assumptions"):
        economics_analysis(assumptions={"cac": 1})


@pytest.mark.parametrize("shuffled", [False, True])
def test_customer_channels_first_order_row_sorted_and_unsorted_frames(shuffled):
    """The one-pass path (frame sorted by date) and the sorting path agree with a plain groupby."""
    from relmkt_helpers.economics._common import customer_channels

    rng = np.random.default_rng(3)
    n = 4000
    tx = pd.DataFrame({
        "customer_id": pd.Series([f"c{i}" for i in rng.integers(0, 600, n)], dtype="string[pyarrow]"),
        "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
        "channel": rng.choice(["search", "social", "email"], n),
    }).sort_values("order_date", kind="stable", ignore_index=True)
    if shuffled:
        tx = tx.sample(frac=1.0, random_state=1).reset_index(drop=True)
    cust, first_rows, labels, code = customer_channels(tx, "channel")
    # reference: the first row in frame order among each customer's earliest-day rows
    earliest = tx.groupby("customer_id")["order_date"].transform("min")
    ref = tx[tx["order_date"] == earliest].reset_index().groupby("customer_id", sort=False)["index"].min()
    got = pd.Series(first_rows, index=tx["customer_id"].iloc[first_rows].to_numpy())
    assert got.sort_index().to_dict() == ref.sort_index().to_dict()
    assert [labels[c] for c in code] == tx["channel"].iloc[first_rows].tolist()
