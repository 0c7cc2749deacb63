"""Tests for relmkt_helpers.rfm and relmkt_helpers.plots.rfm.

Hand-computed cases (scores, ties, one-order customers, every segment cell),
properties (hypothesis), VIP shares computed independently, dropped-off flags on
hand-made customers, errors, a published CDNOW count, and a check on the bundled
sample shop that the segments rank customers' *later* behaviour sensibly.
"""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from relmkt_helpers.errors import DataValidationError, ParameterError  # noqa: E402
from relmkt_helpers.plots.rfm import (  # noqa: E402
    SEGMENT_COLOURS,
    plot_rf_grid,
    plot_segment_shares,
    plot_segment_summary,
)
from relmkt_helpers.rfm import (  # noqa: E402
    SEGMENTS,
    dropped_off,
    rfm_table,
    segment_grid,
    segment_summary,
    vip_list,
)

# The segment grid as written in the module docstring (rows R 5..1, columns F 1..5), typed out
# again here so that a change to the code's grid has to be a deliberate change to this table too.
DOC_GRID = {
    5: ["New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    4: ["New", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"],
    3: ["Hibernating", "Hibernating", "Potential loyalist", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"],
    1: ["Lost", "Lost", "At risk", "At risk", "Can't lose them"],
}


def make_tx(rows) -> pd.DataFrame:
    """Canonical frame from (customer, date, amount) rows, sorted by date like load_transactions."""
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    df["customer_id"] = df["customer_id"].astype("string")
    df["order_date"] = pd.to_datetime(df["order_date"]).astype("datetime64[ns]")
    df["amount"] = df["amount"].astype("float64")
    df["order_id"] = pd.Series([f"o{i}" for i in range(len(df))], dtype="string")
    return df.sort_values("order_date", kind="stable").reset_index(drop=True)


def day(offset: int, start: str = "2024-01-01") -> pd.Timestamp:
    return pd.Timestamp(start) + pd.Timedelta(days=int(offset))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------
# hand-computed scores
# ----------------------------------------------------------------------------

def test_distinct_values_give_one_customer_per_score():
    # five customers, as_of = 2024-03-31; each has a distinct recency, order count and spend.
    # a: 1 order on 03-31 (recency 0), 10        d: 4 orders, last 03-01 (30), 40 each
    # b: 2 orders, last 03-21 (10), 5 each       e: 5 orders, last 02-20 (40), 1 each
    # c: 3 orders, last 03-11 (20), 100 each
    rows = [("a", "2024-03-31", 10.0)]
    rows += [("b", d, 5.0) for d in ("2024-03-01", "2024-03-21")]
    rows += [("c", d, 100.0) for d in ("2024-01-01", "2024-02-01", "2024-03-11")]
    rows += [("d", d, 40.0) for d in ("2024-01-02", "2024-01-03", "2024-01-04", "2024-03-01")]
    rows += [("e", d, 1.0) for d in ("2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08", "2024-02-20")]
    rfm = rfm_table(make_tx(rows), as_of="2024-03-31")
    assert rfm.index.tolist() == list("abcde")
    assert rfm["recency_days"].tolist() == [0, 10, 20, 30, 40]
    assert rfm["frequency"].tolist() == [1, 2, 3, 4, 5]
    assert rfm["monetary_total"].tolist() == [10.0, 10.0, 300.0, 160.0, 5.0]
    # n = 5 = bins: score = 1 + (customers strictly worse)
    assert rfm["R"].tolist() == [5, 4, 3, 2, 1]
    assert rfm["F"].tolist() == [1, 2, 3, 4, 5]
    # totals 10, 10, 300, 160, 5: a and b tie (one customer below them) -> both 2
    assert rfm["M"].tolist() == [2, 2, 5, 4, 1]
    assert rfm["rfm_code"].astype(str).tolist() == ["512", "422", "335", "244", "151"]
    # segments from the documented grid: R5F1 New, R4F2 Potential loyalist, R3F3 Potential loyalist,
    # R2F4 At risk, R1F5 Can't lose them
    assert rfm["segment"].astype(str).tolist() == ["New", "Potential loyalist", "Potential loyalist",
                                                    "At risk", "Can't lose them"]
    # mean order value 10, 5, 100, 40, 1: strictly lower values 2, 1, 4, 3, 0
    mean = rfm_table(make_tx(rows), as_of="2024-03-31", monetary="mean")
    assert mean["monetary_mean"].tolist() == [10.0, 5.0, 100.0, 40.0, 1.0]
    assert mean["M"].tolist() == [3, 2, 5, 4, 1]


def test_ties_get_equal_scores_and_the_lowest_rank():
    # 10 customers: 6 with one order, 2 with two, 1 with three, 1 with five (the degenerate-F case).
    # F = 1 + floor(5 * below / 10): one order: below 0 -> 1; two: below 6 -> 4; three: below 8 -> 5;
    # five: below 9 -> 5.
    counts = {"c0": 1, "c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 1, "c6": 2, "c7": 2, "c8": 3, "c9": 5}
    rows = [(c, day(k), 10.0) for c, n in counts.items() for k in range(n)]
    rfm = rfm_table(make_tx(rows), as_of="2024-01-10")
    assert rfm["F"].to_dict() == {"c0": 1, "c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 1,
                                  "c6": 4, "c7": 4, "c8": 5, "c9": 5}
    # every one-order customer ordered on 2024-01-01 (recency 9) and spent 10: a 6-way tie at the worst
    # recency -> R 1; c6, c7 last ordered on 01-02 (recency 8, 6 below) -> 4; c8 (01-03) -> 5; c9 (01-05) -> 5
    assert rfm["R"].to_dict() == {"c0": 1, "c1": 1, "c2": 1, "c3": 1, "c4": 1, "c5": 1,
                                  "c6": 4, "c7": 4, "c8": 5, "c9": 5}
    # monetary totals 10 (x6), 20, 20, 30, 50 -> same pattern
    assert rfm["M"].tolist() == rfm["F"].tolist()
    assert rfm["segment"].astype(str).tolist() == ["Lost"] * 6 + ["Loyal"] * 2 + ["Champions"] * 2


def test_all_one_order_customers_all_get_f1():
    # every customer placed exactly one order: F collapses to 1 for all, R still ranks them.
    rows = [(f"c{i}", day(i), 10.0 + i) for i in range(10)]
    rfm = rfm_table(make_tx(rows), as_of=day(9))
    assert (rfm["F"] == 1).all()
    # recency 9..0: score 1 + floor(5 * i / 10) for the customer whose order is on day i
    assert rfm["R"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # F level 1 column of the grid: Lost (R1), Hibernating (R2-3), New (R4-5)
    assert rfm["segment"].astype(str).tolist() == (["Lost"] * 2 + ["Hibernating"] * 4 + ["New"] * 4)


def test_all_customers_tied_get_score_one_everywhere():
    rows = [(f"c{i}", "2024-05-01", 7.0) for i in range(4)]
    rfm = rfm_table(make_tx(rows))
    assert rfm[["R", "F", "M"]].to_numpy().tolist() == [[1, 1, 1]] * 4


def test_float_noise_does_not_split_a_monetary_tie():
    # 0.1 + 0.2 != 0.3 in floating point; both customers spent 0.3 in cents
    rows = [("a", "2024-01-01", 0.1), ("a", "2024-01-02", 0.2), ("b", "2024-01-01", 0.3), ("c", "2024-01-01", 5.0)]
    rfm = rfm_table(make_tx(rows), bins=3)
    assert rfm.loc["a", "M"] == rfm.loc["b", "M"] == 1


def test_columns_dates_and_as_of_cut():
    rows = [
        ("a", "2024-01-10", 10.0), ("a", "2024-01-10", 5.0),   # two orders on one day count twice
        ("a", "2024-02-20", 0.0),                               # a free order still counts
        ("b", "2024-02-01", 20.0), ("b", "2024-04-01", 99.0),   # the April order is after as_of
        ("z", "2024-03-15", 50.0),                              # first order after as_of: not a customer yet
    ]
    rfm = rfm_table(make_tx(rows), as_of="2024-02-29")
    assert rfm.index.tolist() == ["a", "b"] and rfm.index.name == "customer_id"
    a, b = rfm.loc["a"], rfm.loc["b"]
    assert a["first_order"] == pd.Timestamp("2024-01-10") and a["last_order"] == pd.Timestamp("2024-02-20")
    assert a["frequency"] == 3 and a["monetary_total"] == 15.0 and a["monetary_mean"] == 5.0
    assert a["recency_days"] == 9 and a["tenure_days"] == 50        # 02-20 -> 02-29; 01-10 -> 02-29
    assert b["frequency"] == 1 and b["monetary_total"] == 20.0 and b["recency_days"] == 28
    assert rfm.attrs["as_of"] == pd.Timestamp("2024-02-29") and rfm.attrs["bins"] == 5
    # an order dated on as_of counts (as_of inclusive)
    assert rfm_table(make_tx(rows), as_of="2024-04-01").loc["b", "frequency"] == 2
    # a month as_of means its last day
    assert rfm_table(make_tx(rows), as_of=pd.Period("2024-02", "M")).attrs["as_of"] == pd.Timestamp("2024-02-29")
    # default as_of: the last order date
    assert rfm_table(make_tx(rows)).attrs["as_of"] == pd.Timestamp("2024-04-01")


def test_frequency_breaks_fixed():
    counts = [1, 2, 3, 4, 5, 7, 8, 20]
    rows = [(f"c{n:02d}", day(k), 1.0) for n in counts for k in range(n)]
    rfm = rfm_table(make_tx(rows), frequency_breaks=(1, 2, 3, 5, 8))
    # 1 -> 1, 2 -> 2, 3-4 -> 3, 5-7 -> 4, 8+ -> 5
    assert rfm["F"].tolist() == [1, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.attrs["frequency_breaks"] == (1, 2, 3, 5, 8)


def test_bins_other_than_five_and_two_digit_codes():
    rows = [(f"c{i:02d}", day(i), float(i)) for i in range(20)]
    rfm = rfm_table(make_tx(rows), bins=10)
    # 20 distinct recencies and totals, 10 bins: two customers per score
    assert rfm["R"].tolist() == [s for s in range(1, 11) for _ in range(2)]
    assert rfm["rfm_code"].astype(str).iloc[-1] == "10-1-10"
    # deciles map two-to-one onto the quintile grid: R 9-10 -> level 5, F 1 -> level 1 -> New
    assert rfm["segment"].astype(str).iloc[-1] == "New"
    assert rfm["segment"].astype(str).iloc[0] == "Lost"


def test_segment_grid_is_the_documented_table():
    grid = segment_grid()
    assert grid.index.tolist() == [5, 4, 3, 2, 1] and grid.columns.tolist() == [1, 2, 3, 4, 5]
    for r, names in DOC_GRID.items():
        assert grid.loc[r].tolist() == names
    # bins=3 places scores at levels 1, 3, 5 (centre of each tercile)
    g3 = segment_grid(3)
    assert g3.loc[3, 3] == DOC_GRID[5][4] and g3.loc[2, 2] == DOC_GRID[3][2] and g3.loc[1, 1] == DOC_GRID[1][0]


def test_every_cell_and_every_segment_is_reachable():
    # 25 customers, customer (i, j) built to land in R = i+1, F = j+1:
    # recency days = 100 - (5i + j) (distinct; 5i + j customers are staler) -> R = 1 + floor((5i + j) / 5)
    # orders = 1 + 5j + i (distinct; 5j + i customers have fewer)          -> F = 1 + floor((5j + i) / 5)
    as_of = pd.Timestamp("2024-12-31")
    rows = []
    for i in range(5):
        for j in range(5):
            last = as_of - pd.Timedelta(days=100 - (5 * i + j))
            n = 1 + 5 * j + i
            rows += [(f"r{i + 1}f{j + 1}", last - pd.Timedelta(days=k), 10.0) for k in range(n)]
    rfm = rfm_table(make_tx(rows), as_of=as_of)
    for i in range(5):
        for j in range(5):
            row = rfm.loc[f"r{i + 1}f{j + 1}"]
            assert (row["R"], row["F"]) == (i + 1, j + 1)
            assert row["segment"] == DOC_GRID[i + 1][j]
    assert set(rfm["segment"].astype(str)) == set(SEGMENTS)
    summary = segment_summary(rfm)
    assert (summary["customers"] > 0).all()
    assert summary["customers"].sum() == 25


# ----------------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------------

order_rows = st.lists(
    st.tuples(st.integers(0, 11), st.integers(0, 40), st.sampled_from([0.0, 1.5, 10.0, 10.0, 33.3])),
    min_size=1, max_size=60,
)


def _tx_from(draw_rows) -> pd.DataFrame:
    return make_tx([(f"c{c:02d}", day(d), a) for c, d, a in draw_rows])


def _reference_scores(values: pd.Series, bins: int) -> pd.Series:
    """Independent reference: pandas' own min-rank, then 1 + floor(bins * (rank - 1) / n)."""
    rank = values.rank(method="min").astype(np.int64)
    return 1 + ((rank - 1) * bins) // len(values)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_rows, st.integers(2, 7), st.sampled_from(["total", "mean"]))
def test_scores_are_min_rank_quantiles_and_monotone(rows, bins, monetary):
    tx = _tx_from(rows)
    rfm = rfm_table(tx, bins=bins, monetary=monetary)
    for col in ("R", "F", "M"):
        assert rfm[col].between(1, bins).all()
    pd.testing.assert_series_equal(rfm["R"], _reference_scores(-rfm["recency_days"], bins), check_names=False)
    pd.testing.assert_series_equal(rfm["F"], _reference_scores(rfm["frequency"], bins), check_names=False)
    money = rfm["monetary_total" if monetary == "total" else "monetary_mean"].round(6)
    pd.testing.assert_series_equal(rfm["M"], _reference_scores(money, bins), check_names=False)
    # monotone: more recency days never gets a higher R; more orders never a lower F; ties equal
    rec, r = rfm["recency_days"].to_numpy(), rfm["R"].to_numpy()
    freq, f = rfm["frequency"].to_numpy(), rfm["F"].to_numpy()
    assert not np.any((rec[:, None] > rec[None, :]) & (r[:, None] > r[None, :]))
    assert not np.any((freq[:, None] > freq[None, :]) & (f[:, None] < f[None, :]))
    assert not np.any((rec[:, None] == rec[None, :]) & (r[:, None] != r[None, :]))
    assert not np.any((freq[:, None] == freq[None, :]) & (f[:, None] != f[None, :]))
    # the raw columns agree with a plain groupby
    g = tx.groupby("customer_id")
    assert rfm["frequency"].to_dict() == g.size().to_dict()
    np.testing.assert_allclose(rfm["monetary_total"], g["amount"].sum().reindex(rfm.index))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_rows, st.integers(2, 12), st.booleans())
def test_segments_partition_the_customers(rows, bins, with_clv):
    tx = _tx_from(rows)
    rfm = rfm_table(tx, bins=bins)
    assert rfm["segment"].notna().all()
    assert set(rfm["segment"].astype(str)) <= set(SEGMENTS)
    assert rfm.index.is_unique and len(rfm) == tx["customer_id"].nunique()
    clv = pd.Series(np.arange(len(rfm), dtype=float) + 1.0, index=rfm.index) if with_clv else None
    summary = segment_summary(rfm, clv=clv)
    assert summary.index.tolist() == list(SEGMENTS)
    assert summary["customers"].sum() == len(rfm)
    assert summary["share_customers"].sum() == pytest.approx(1.0)
    # sizes equal an independent count of the segment column
    counts = rfm["segment"].astype(str).value_counts()
    assert summary["customers"].to_dict() == {s: int(counts.get(s, 0)) for s in SEGMENTS}
    total = rfm["monetary_total"].sum()
    if total > 0:
        assert summary["share_revenue"].sum() == pytest.approx(1.0)
    if with_clv:
        assert summary["share_clv"].sum() == pytest.approx(1.0)
        assert summary["clv_total"].sum() == pytest.approx(clv.sum())
    else:
        assert summary[["clv_total", "share_clv", "mean_clv"]].isna().all().all()


# ----------------------------------------------------------------------------
# segment table and VIPs
# ----------------------------------------------------------------------------

@pytest.fixture
def ten() -> pd.DataFrame:
    """Ten one-order customers with spends 10, 20, ..., 100 (c01 .. c10)."""
    return rfm_table(make_tx([(f"c{i:02d}", day(i), 10.0 * i) for i in range(1, 11)]))


def test_segment_summary_hand_computed(ten):
    # all F = 1; R = 1 + floor(5 * (i - 1) / 10) for c{i}: c01-c02 Lost, c03-c06 Hibernating, c07-c10 New
    s = segment_summary(ten, clv=pd.Series({f"c{i:02d}": float(i) for i in range(1, 11)}))
    assert s.loc["Lost", "customers"] == 2 and s.loc["Hibernating", "customers"] == 4 and s.loc["New", "customers"] == 4
    assert s.loc["Lost", "revenue"] == 30.0 and s.loc["New", "revenue"] == 70 + 80 + 90 + 100
    assert s.loc["New", "share_revenue"] == pytest.approx(340 / 550)
    assert s.loc["Hibernating", "mean_clv"] == pytest.approx((3 + 4 + 5 + 6) / 4)
    assert s.loc["New", "share_clv"] == pytest.approx((7 + 8 + 9 + 10) / 55)
    assert s.loc["Lost", "revenue_per_customer"] == 15.0
    assert s.loc["Champions", "customers"] == 0 and np.isnan(s.loc["Champions", "mean_clv"])


def test_vip_share_by_revenue_computed_independently(ten):
    vips = vip_list(ten, top=0.3)
    assert vips.index.tolist() == ["c10", "c09", "c08"]
    assert vips["rank"].tolist() == [1, 2, 3]
    assert "historic_revenue" in vips.columns and "clv" not in vips.columns
    assert (vips["basis"] == "historic_revenue").all() and vips.attrs["basis"] == "historic_revenue"
    expected = sorted(ten["monetary_total"], reverse=True)[:3]
    assert vips.attrs["value_share"] == pytest.approx(sum(expected) / ten["monetary_total"].sum())  # 270 / 550
    assert vips["cumulative_share"].iloc[-1] == pytest.approx(270 / 550)


def test_vip_by_clv_and_top_decile_size():
    rng = np.random.default_rng(0)
    n = 37
    rows = [(f"c{i:02d}", day(int(rng.integers(0, 50))), float(rng.integers(1, 100))) for i in range(n)]
    rfm = rfm_table(make_tx(rows))
    clv = pd.Series(rng.permutation(n).astype(float) * 3.0 + 1.0, index=rfm.index)
    clv["extra-customer-not-in-rfm"] = 1e9  # ids not in rfm are ignored
    vips = vip_list(rfm, clv=clv)
    k = math.ceil(0.10 * n)  # 4
    assert len(vips) == k and vips.attrs["n_vip"] == k
    top = clv.drop("extra-customer-not-in-rfm").sort_values(ascending=False)
    assert vips.index.tolist() == top.index[:k].tolist()
    assert vips["clv"].tolist() == top.iloc[:k].tolist()
    assert vips.attrs["value_share"] == pytest.approx(top.iloc[:k].sum() / top.sum())
    assert vips.attrs["basis"] == "clv"
    # the VIP rows carry their RFM columns
    assert vips["segment"].astype(str).tolist() == rfm.loc[vips.index, "segment"].astype(str).tolist()


def test_vip_count_guards_against_float_noise():
    rfm = rfm_table(make_tx([(f"c{i:03d}", day(i), float(i)) for i in range(100)]))
    assert 0.07 * 100 != 7.0                     # 7.000000000000001 in floating point
    assert len(vip_list(rfm, top=0.07)) == 7
    assert len(vip_list(rfm, top=0.001)) == 1    # at least one
    assert len(vip_list(rfm, top=1.0)) == 100


def test_clv_that_does_not_match_the_customers_is_rejected(ten):
    partial = pd.Series({f"c{i:02d}": 1.0 for i in range(1, 8)})
    with pytest.raises(ParameterError, match=r"missing \(or not finite\) for 3 of the 10 customers"):
        segment_summary(ten, clv=partial)
    with pytest.raises(ParameterError, match="3 of the 10"):
        vip_list(ten, clv=partial)
    ints = pd.Series(np.ones(10), index=range(1, 11))
    with pytest.raises(ParameterError, match="None of the ids match"):
        segment_summary(ten, clv=ints)
    with_nan = pd.Series({f"c{i:02d}": (np.nan if i == 4 else 1.0) for i in range(1, 11)})
    with pytest.raises(ParameterError, match="1 of the 10"):
        segment_summary(ten, clv=with_nan)
    dup = pd.Series([1.0, 2.0], index=["c01", "c01"])
    with pytest.raises(ParameterError, match="more than one value"):
        segment_summary(ten, clv=dup)
    with pytest.raises(ParameterError, match="got a DataFrame"):
        vip_list(ten, clv=pd.DataFrame({"value": np.ones(10)}, index=ten.index))
    # a frame with a 'clv' column (as relmkt_helpers.clv's customer_value returns) is read through it
    frame = pd.DataFrame({"clv": np.arange(10.0), "clv_lower": 0.0}, index=ten.index)
    assert vip_list(ten, clv=frame, top=0.1).index.tolist() == [ten.index[-1]]
    with pytest.raises(ParameterError, match="numeric"):
        vip_list(ten, clv=pd.Series(["x"] * 10, index=ten.index))


@pytest.mark.parametrize("top", [0, -0.1, 1.5, float("nan"), True, "10%"])
def test_vip_top_must_be_a_share(ten, top):
    with pytest.raises(ParameterError, match="top="):
        vip_list(ten, top=top)


def test_summary_and_vip_reject_other_tables():
    with pytest.raises(ParameterError, match="rfm_table"):
        segment_summary(pd.DataFrame({"x": [1]}))
    with pytest.raises(ParameterError, match="rfm_table"):
        vip_list([1, 2, 3])
    bad = rfm_table(make_tx([("a", "2024-01-01", 1.0)]))
    bad["segment"] = "VIP"
    with pytest.raises(ParameterError, match="not segments"):
        segment_summary(bad)


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------

@pytest.fixture
def small() -> pd.DataFrame:
    return make_tx([("a", "2024-01-05", 10.0), ("b", "2024-02-01", 5.0)])


def test_as_of_before_first_order(small):
    with pytest.raises(ParameterError, match=r"as_of=2023-12-31 is before the first order \(2024-01-05\)"):
        rfm_table(small, as_of="2023-12-31")
    with pytest.raises(ParameterError, match="before the first order"):
        dropped_off(small, as_of="2023-12-31")
    with pytest.raises(ParameterError, match="not a date"):
        rfm_table(small, as_of="next tuesday")
    with pytest.raises(ParameterError, match="time zone"):
        rfm_table(small, as_of=pd.Timestamp("2024-03-01", tz="UTC"))


@pytest.mark.parametrize("kwargs, match", [
    ({"monetary": "median"}, "monetary='median' is not supported"),
    ({"bins": 1}, "bins=1"),
    ({"bins": 0}, "bins=0"),
    ({"bins": 2.5}, "bins=2.5"),
    ({"bins": True}, "bins=True"),
    ({"bins": 101}, "bins=101"),
    ({"frequency_breaks": (1, 2, 3)}, "pass 5 increasing whole numbers"),
    ({"frequency_breaks": (0, 1, 2, 3, 4)}, "starting at 1"),
    ({"frequency_breaks": (1, 2, 2, 3, 4)}, "increasing"),
    ({"frequency_breaks": (1, 2, 3.5, 5, 8)}, "whole numbers"),
    ({"frequency_breaks": "12358"}, "frequency_breaks="),
])
def test_bad_rfm_parameters(small, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        rfm_table(small, **kwargs)


def test_bad_frames(small):
    empty = small.iloc[:0]
    with pytest.raises(DataValidationError, match="no orders"):
        rfm_table(empty)
    with pytest.raises(DataValidationError, match="no orders"):
        dropped_off(empty)
    with pytest.raises(DataValidationError, match="'amount' missing"):
        rfm_table(small.drop(columns="amount"))
    with pytest.raises(DataValidationError, match="datetime64"):
        rfm_table(small.assign(order_date=small["order_date"].astype(str)))
    with pytest.raises(ParameterError, match="DataFrame from load_transactions"):
        rfm_table(small.to_dict())


@pytest.mark.parametrize("kwargs, match", [
    ({"recent_days": 0}, "recent_days=0"),
    ({"baseline_days": 30.5}, "baseline_days=30.5"),
    ({"stop_factor": 0}, "stop_factor=0"),
    ({"stop_factor": float("inf")}, "stop_factor=inf"),
    ({"drop_threshold": 1.5}, "drop_threshold=1.5"),
    ({"drop_threshold": 0}, "drop_threshold=0"),
    ({"min_orders": 0}, "min_orders=0"),
    ({"min_expected_orders": -1}, "min_expected_orders=-1"),
    ({"include_all": "yes"}, "include_all="),
    ({"max_p_value": 0}, "max_p_value=0"),
    ({"max_p_value": 2}, "max_p_value=2"),
])
def test_bad_dropped_off_parameters(small, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        dropped_off(small, **kwargs)


# ----------------------------------------------------------------------------
# dropped-off customers, hand-made
# ----------------------------------------------------------------------------
# as_of 2024-12-31, recent window 90 days = 2024-10-03 .. 2024-12-31,
# baseline 365 days = 2023-10-04 .. 2024-10-02. Weekly orders from Thursday 2023-10-05:
# 52 of them up to 2024-09-26 (all in the baseline), 13 more from 2024-10-03 to 2024-12-26.
# expected orders in the recent window from a weekly baseline = 52 * 90 / 365 = 12.822.

AS_OF = pd.Timestamp("2024-12-31")
BASE_WEEKS = pd.date_range("2023-10-05", "2024-09-26", freq="7D")
RECENT_WEEKS = pd.date_range("2024-10-03", "2024-12-26", freq="7D")


def _dropped_tx() -> pd.DataFrame:
    assert len(BASE_WEEKS) == 52 and len(RECENT_WEEKS) == 13
    rows = []
    for d in BASE_WEEKS:
        rows += [("stopped", d, 10.0), ("fewer_orders", d, 10.0), ("smaller_baskets", d, 10.0),
                 ("steady", d, 10.0), ("big_steady", d, 100.0)]
    for d in RECENT_WEEKS:
        rows += [("smaller_baskets", d, 4.0), ("steady", d, 10.0), ("big_steady", d, 100.0)]
    # fewer orders but the same spend: every third week, 26 each (2024-10-03, 10-24, 11-14, 12-05, 12-26)
    rows += [("fewer_orders", d, 26.0) for d in pd.date_range("2024-10-03", "2024-12-31", freq="21D")]
    # too little history: 2 orders before the window (min_orders=3), then silent
    rows += [("newbie", "2024-08-01", 50.0), ("newbie", "2024-08-08", 50.0)]
    # a yearly buyer: gaps of 365 days, one order in the baseline (expected 90 / 365 = 0.25 in the window)
    rows += [("yearly", d, 80.0) for d in ("2022-01-10", "2023-01-10", "2024-01-10")]
    return make_tx(rows)


def test_dropped_off_flags_hand_made_customers():
    out = dropped_off(_dropped_tx(), as_of=AS_OF, include_all=True)
    assert "newbie" not in out.index  # not evaluated: 2 orders before the window
    assert set(out.index) == {"stopped", "fewer_orders", "smaller_baskets", "steady", "big_steady", "yearly"}
    flags = out[["stopped", "frequency_drop", "spend_drop"]].astype(bool)
    assert flags.loc["stopped"].tolist() == [True, True, True]
    assert flags.loc["fewer_orders"].tolist() == [False, True, False]
    assert flags.loc["smaller_baskets"].tolist() == [False, False, True]
    assert flags.loc["steady"].tolist() == [False, False, False]
    assert flags.loc["big_steady"].tolist() == [False, False, False]
    assert flags.loc["yearly"].tolist() == [False, False, False]  # 356 days since last < 3 x 365

    s = out.loc["stopped"]
    assert s["history_orders"] == 52 and s["baseline_orders"] == 52 and s["recent_orders"] == 0
    assert s["usual_gap_days"] == 7.0 and s["days_since_last"] == 96  # 2024-09-26 -> 2024-12-31
    assert s["expected_orders"] == pytest.approx(52 * 90 / 365)
    assert s["reasons"] == "stopped, frequency_drop, spend_drop"

    f = out.loc["fewer_orders"]
    assert f["recent_orders"] == 5 and f["recent_spend"] == 130.0
    assert f["frequency_ratio"] == pytest.approx(5 / (52 * 90 / 365))      # 0.39 < 0.5
    assert f["spend_ratio"] == pytest.approx(130 / (520 * 90 / 365))        # 1.01
    lam = 52 * 90 / 365  # P(N <= 5) for N ~ Poisson(12.82), summed by hand
    assert f["frequency_p_value"] == pytest.approx(sum(math.exp(-lam) * lam ** k / math.factorial(k) for k in range(6)))
    assert s["frequency_p_value"] == pytest.approx(math.exp(-lam))
    assert f["reasons"] == "frequency_drop"

    b = out.loc["smaller_baskets"]
    assert b["frequency_ratio"] == pytest.approx(13 / (52 * 90 / 365))     # 1.01
    assert b["spend_ratio"] == pytest.approx(52 / (520 * 90 / 365))        # 0.41 < 0.5
    assert b["reasons"] == "spend_drop"

    y = out.loc["yearly"]
    assert y["usual_gap_days"] == 365.0 and y["days_since_last"] == 356
    assert y["baseline_orders"] == 1 and y["expected_orders"] == pytest.approx(90 / 365)
    assert out.loc["steady", "gap_ratio"] == pytest.approx(5 / 7)  # last order 2024-12-26

    # sorted by baseline value: big_steady (5,200) first, then the four at 520, then yearly (80)
    assert out.index[0] == "big_steady" and out.index[-1] == "yearly"
    assert out["baseline_spend"].is_monotonic_decreasing


def test_dropped_off_default_returns_flagged_only_sorted():
    out = dropped_off(_dropped_tx(), as_of=AS_OF)
    assert out.index.tolist() == ["fewer_orders", "smaller_baskets", "stopped"]  # equal baseline spend 520:
    # ties by history spend (all 520), then customer_id
    assert out["flagged"].all()
    assert out.attrs["evaluated"] == 6 and out.attrs["flagged"] == 3
    assert out.attrs["recent_window"] == (pd.Timestamp("2024-10-03"), AS_OF)
    assert out.attrs["baseline_window"] == (pd.Timestamp("2023-10-04"), pd.Timestamp("2024-10-02"))


def test_dropped_off_parameters_change_the_verdicts():
    tx = _dropped_tx()
    # min_orders=2 lets the newbie in: gap 7 days, 145 days silent -> stopped
    out = dropped_off(tx, as_of=AS_OF, min_orders=2, include_all=True)
    assert out.loc["newbie", "stopped"] and out.loc["newbie", "usual_gap_days"] == 7.0
    # without the expected-orders guard the yearly buyer's silent quarter reads as a frequency drop
    out = dropped_off(tx, as_of=AS_OF, min_expected_orders=0.0, include_all=True)
    assert out.loc["yearly", "frequency_drop"] and not out.loc["yearly", "stopped"]
    # ... which a Poisson check calls noise: P(0 orders | mean 90/365) = exp(-0.247) = 0.78
    out = dropped_off(tx, as_of=AS_OF, min_expected_orders=0.0, max_p_value=0.05, include_all=True)
    assert not out.loc["yearly", "frequency_drop"]
    assert out.loc["yearly", "frequency_p_value"] == pytest.approx(math.exp(-90 / 365))
    assert out.loc["fewer_orders", "frequency_drop"]  # P(N <= 5 | 12.8) = 0.013
    # a stricter threshold (recent rate below 30% of baseline) no longer flags the 39% customer
    out = dropped_off(tx, as_of=AS_OF, drop_threshold=0.3, include_all=True)
    assert not out.loc["fewer_orders", "frequency_drop"]  # 0.39 is not < 0.3
    # stop_factor: the stopped weekly buyer has 96 days of silence = 13.7 gaps
    assert not dropped_off(tx, as_of=AS_OF, stop_factor=14.0, include_all=True).loc["stopped", "stopped"]
    assert dropped_off(tx, as_of=AS_OF, stop_factor=13.0, include_all=True).loc["stopped", "stopped"]


def test_dropped_off_ignores_orders_after_as_of_and_same_day_orders():
    # three orders on 2024-06-01, then 06-11 and 06-21: distinct days 10 days apart, so the usual gap
    # is 10 (counting the same-day repeats as gaps of 0 would give a median of 5)
    rows = [("a", "2024-06-01", 5.0)] * 3 + [("a", "2024-06-11", 5.0), ("a", "2024-06-21", 5.0)]
    rows += [("a", "2025-06-01", 5.0)]             # after as_of: ignored
    out = dropped_off(make_tx(rows), as_of="2024-12-31", include_all=True)
    assert out.loc["a", "history_orders"] == 5 and out.loc["a", "usual_gap_days"] == 10.0
    assert out.loc["a", "recent_orders"] == 0 and out.loc["a", "stopped"]


def test_stopped_needs_strictly_more_than_stop_factor_gaps():
    # gap 10 days; as_of 30 days after the last order = exactly 3 gaps: not stopped; 31 days: stopped
    rows = [("a", d, 5.0) for d in ("2024-01-01", "2024-01-11", "2024-01-21")]
    tx = make_tx(rows)
    assert not dropped_off(tx, as_of="2024-02-20", recent_days=20, include_all=True).loc["a", "stopped"]
    assert dropped_off(tx, as_of="2024-02-21", recent_days=20, include_all=True).loc["a", "stopped"]


# ----------------------------------------------------------------------------
# real data
# ----------------------------------------------------------------------------

def test_cdnow_one_order_customers_get_f1():
    # Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2):
    # of the 2,357 customers of the CDNOW 1/10 sample, 1,411 made no repeat purchase in the 39-week
    # calibration period (1997-01-01 .. 1997-09-30). The bundled sample holds one order per customer-day.
    from relmkt_helpers.datasets import load_cdnow

    rfm = rfm_table(load_cdnow(sample=True).transactions, as_of="1997-09-30")
    assert len(rfm) == 2357
    assert int((rfm["frequency"] == 1).sum()) == 1411
    # degenerate F: 60% of customers tie at one order; all of them get F 1, the next frequency
    # starts at 1 + floor(5 * 1411 / 2357) = 3
    assert (rfm.loc[rfm["frequency"] == 1, "F"] == 1).all()
    assert (rfm.loc[rfm["frequency"] == 2, "F"] == 3).all()
    assert not (rfm["F"] == 2).any()


@pytest.fixture(scope="module")
def shop_tx() -> pd.DataFrame:
    from relmkt_helpers.datasets import load_sample_shop

    return load_sample_shop().transactions


def test_sample_shop_segments_rank_later_behaviour(shop_tx):
    # Cut at 2025-06-30, segment, then look at what each segment actually did in 2025-07 .. 2025-12.
    # Recency and frequency predict future purchasing (the premise of RFM and of BG/NBD), so the
    # recently active segments must out-buy the lapsed ones, and Champions must lead.
    cut = pd.Timestamp("2025-06-30")
    rfm = rfm_table(shop_tx, as_of=cut)
    later = shop_tx[shop_tx["order_date"] > cut]
    orders = later.groupby("customer_id").size().reindex(rfm.index, fill_value=0)
    per_segment = orders.groupby(rfm["segment"], observed=False).mean()
    assert set(per_segment.index) == set(SEGMENTS)
    others = per_segment.drop("Champions")
    assert (per_segment["Champions"] > others).all()
    active = per_segment[["Champions", "Loyal", "Potential loyalist", "New"]]
    lapsed = per_segment[["At risk", "Can't lose them", "Hibernating", "Lost"]]
    assert active.min() > lapsed.max()
    assert per_segment["Champions"] > per_segment["Loyal"] > per_segment["Lost"]

    # VIPs by historic revenue spend more later than everyone else, per head
    vips = vip_list(rfm)
    revenue = later.groupby("customer_id")["amount"].sum().reindex(rfm.index, fill_value=0.0)
    is_vip = rfm.index.isin(vips.index)
    assert revenue[is_vip].mean() > 2 * revenue[~is_vip].mean()

    # customers flagged as stopped buy less later than evaluated customers who were not flagged
    drop = dropped_off(shop_tx, as_of=cut, include_all=True)
    later_orders = orders.reindex(drop.index)
    assert later_orders[drop["stopped"]].mean() < 0.5 * later_orders[~drop["flagged"]].mean()


# ----------------------------------------------------------------------------
# plots (headless)
# ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shop_rfm(shop_tx) -> pd.DataFrame:
    return rfm_table(shop_tx, as_of="2025-06-30")


def test_plot_rf_grid_draws_the_counts_and_segments(shop_rfm):
    fig, ax = plt.subplots()
    n_figs = len(plt.get_fignums())
    out = plot_rf_grid(shop_rfm, ax=ax)
    assert out is ax and len(plt.get_fignums()) == n_figs
    counts = pd.crosstab(shop_rfm["R"], shop_rfm["F"]).reindex(index=range(5, 0, -1), columns=range(1, 6),
                                                               fill_value=0)
    texts = [t.get_text().split("\n") for t in ax.texts]
    assert len(texts) == 25
    # texts are drawn row by row from the top (R 5) and left (F 1)
    expected = [[DOC_GRID[r][f - 1], f"{counts.loc[r, f]:,}"] for r in range(5, 0, -1) for f in range(1, 6)]
    assert texts == expected
    image = ax.images[0].get_array()
    np.testing.assert_array_equal(np.asarray(image), counts.to_numpy())
    assert int(np.asarray(image).sum()) == len(shop_rfm)
    assert [line.get_label() for line in ax.lines] == ["segment border"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["5", "4", "3", "2", "1"]
    assert "2025-06-30" in ax.get_title()
    assert len(fig.axes) == 2  # the plot and its colour bar


def test_plot_rf_grid_options(shop_rfm):
    ax = plot_rf_grid(shop_rfm, show_segments=False, colorbar=False)
    assert len(ax.lines) == 0 and all("\n" not in t.get_text() for t in ax.texts)
    assert len(ax.figure.axes) == 1
    ax = plot_rf_grid(shop_rfm, annot=False, show_segments=False, colorbar=False)
    assert len(ax.texts) == 0
    with pytest.raises(ParameterError, match="rfm_table"):
        plot_rf_grid(pd.DataFrame({"R": [1]}))


def test_plot_segment_summary_bars_equal_the_table(shop_rfm):
    clv = pd.Series(shop_rfm["monetary_total"].to_numpy() * 0.5, index=shop_rfm.index)
    summary = segment_summary(shop_rfm, clv=clv)
    fig, ax = plt.subplots()
    assert plot_segment_summary(summary, ax=ax) is ax
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, len(SEGMENTS))
    np.testing.assert_allclose(widths[0], summary["share_customers"])
    np.testing.assert_allclose(widths[1], summary["share_revenue"])
    np.testing.assert_allclose(widths[2], summary["share_clv"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["customers", "historic revenue",
                                                                   "expected value (CLV)"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == f"Champions (n={summary.loc['Champions', 'customers']:,})"
    no_clv = segment_summary(shop_rfm)
    assert len(plot_segment_summary(no_clv).patches) == 2 * len(SEGMENTS)
    with pytest.raises(ParameterError, match="no CLV"):
        plot_segment_summary(no_clv, clv=True)
    with pytest.raises(ParameterError, match="segment_summary"):
        plot_segment_summary(shop_rfm)


def test_plot_segment_shares_rows_add_to_one(shop_rfm):
    summary = segment_summary(shop_rfm)
    ax = plot_segment_shares(summary)
    widths = np.array([p.get_width() for p in ax.patches]).reshape(len(SEGMENTS), 2)  # segment x measure
    np.testing.assert_allclose(widths.sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(widths[:, 0], summary["share_customers"])
    colours = [matplotlib.colors.to_hex(ax.patches[2 * i].get_facecolor()) for i in range(len(SEGMENTS))]
    assert colours == [SEGMENT_COLOURS[s].lower() for s in SEGMENTS]
    labelled = [t.get_text() for t in ax.texts]
    big = [f"{w:.0%}" for w in widths.T.ravel() if w >= 0.06]
    assert sorted(labelled) == sorted(big)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(SEGMENTS)
