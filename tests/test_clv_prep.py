"""Tests for relmkt_helpers.clv.prep: RFM summaries in lifetimes' conventions.

Three kinds of evidence:

* **lifetimes itself** (0.11.3): wherever ``summary_data_from_transaction_data`` and
  ``calibration_and_holdout_data`` work on today's pandas, our frames must equal theirs, on the
  bundled CDNOW sample, on the sample shop and on hand-made edge cases.
* **Published figures** on the CDNOW 1/10th sample (Fader, Hardie & Lee 2005; Fader & Hardie 2013),
  as in ``tests/test_lifetimes_contract.py``.
* **Hand-worked cases** for what lifetimes cannot do (calendar months, the corrected holdout
  monetary value of lifetimes issue #431) and an independent slow pandas reference checked on
  random logs with hypothesis.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relmkt_helpers.clv.prep import CompressedSummary, calibration_holdout, compress_summary, rfm_summary
from relmkt_helpers.datasets import load_cdnow, load_sample_shop
from relmkt_helpers.errors import DataValidationError, ParameterError

lifetimes_utils = pytest.importorskip("lifetimes.utils")

CDNOW_CAL_END = "1997-09-30"   # 39-week calibration period of Fader, Hardie & Lee (2005)
CDNOW_END = "1998-06-30"       # end of the CDNOW log (78 weeks)
SUMMARY_COLS = ["frequency", "recency", "T", "monetary_value"]
CH_COLS = ["frequency_cal", "recency_cal", "T_cal", "monetary_value_cal", "frequency_holdout",
           "monetary_value_holdout", "duration_holdout"]


def make_tx(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    """A canonical frame from (customer, date, amount) rows (one order each)."""
    cust, dates, amounts = zip(*rows)
    return pd.DataFrame({
        "customer_id": pd.array(cust, dtype="string"),
        "order_date": pd.to_datetime(list(dates)).astype("datetime64[ns]"),
        "amount": np.asarray(amounts, dtype=np.float64),
        "order_id": pd.array([f"o{i}" for i in range(len(rows))], dtype="string"),
    })


def lifetimes_summary(tx: pd.DataFrame, end: str, freq: str, mult: float = 1) -> pd.DataFrame:
    """lifetimes on the orders up to ``end`` (it would keep later orders of end's week; see module doc)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lifetimes_utils.summary_data_from_transaction_data(
            tx[tx["order_date"] <= end], "customer_id", "order_date", monetary_value_col="amount",
            observation_period_end=end, freq=freq, freq_multiplier=mult)


def lifetimes_cal_holdout(tx: pd.DataFrame, cal: str, end: str, freq: str, mult: float = 1) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lifetimes_utils.calibration_and_holdout_data(
            tx, "customer_id", "order_date", calibration_period_end=cal, observation_period_end=end,
            freq=freq, freq_multiplier=mult, monetary_value_col="amount")


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Same index (values, dtype, name, order), columns and values; sums may differ in the last bit."""
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12, atol=0.0)


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return load_cdnow(sample=True).transactions


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return load_sample_shop().transactions


# ----------------------------------------------------------------------------
# equal to lifetimes where lifetimes works
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("freq", ["D", "W"])
@pytest.mark.parametrize("mult", [1, 7])
@pytest.mark.parametrize("end", [CDNOW_CAL_END, CDNOW_END])
def test_rfm_summary_equals_lifetimes_on_cdnow(cdnow, freq, mult, end):
    ours = rfm_summary(cdnow, observation_end=end, freq=freq, freq_multiplier=mult)
    assert_same(ours, lifetimes_summary(cdnow, end, freq, mult))


@pytest.mark.parametrize("freq", ["D", "W"])
@pytest.mark.parametrize("mult", [1, 7])
@pytest.mark.parametrize("end", ["2024-06-30", "2025-12-31"])
def test_rfm_summary_equals_lifetimes_on_sample_shop(shop, freq, mult, end):
    ours = rfm_summary(shop, observation_end=end, freq=freq, freq_multiplier=mult)
    assert_same(ours, lifetimes_summary(shop, end, freq, mult))


# Hand-made edge cases. 2024-01-01 is a Monday.
EDGE_ROWS = [
    # several orders on one day: one purchase period, amounts summed (10 + 5 on day 1, 20 + 2 on 1-15)
    ("multi", "2024-01-01", 10.0), ("multi", "2024-01-01", 5.0),
    ("multi", "2024-01-15", 20.0), ("multi", "2024-01-15", 2.0), ("multi", "2024-01-29", 8.0),
    # only orders on its first day: no repeat purchase at all
    ("dayone", "2024-01-03", 4.0), ("dayone", "2024-01-03", 6.0), ("dayone", "2024-01-03", 1.0),
    # orders after observation_end (2024-02-14) must be ignored, including later in the same week
    ("late", "2024-01-02", 3.0), ("late", "2024-02-10", 9.0), ("late", "2024-02-15", 100.0),
    ("late", "2024-02-18", 100.0), ("late", "2024-03-01", 100.0),
    # a customer whose first order is after observation_end is not in the summary
    ("future", "2024-02-16", 50.0),
    # zero amounts are purchases: they count in frequency and pull the mean down
    ("zero", "2024-01-05", 0.0), ("zero", "2024-01-20", 0.0), ("zero", "2024-02-01", 12.0),
    # Sunday -> Monday is one week later; Monday -> Sunday is the same week
    ("weekedge", "2024-01-07", 1.0), ("weekedge", "2024-01-08", 2.0), ("weekedge", "2024-01-14", 4.0),
    # ids that sort differently as text and as numbers
    ("10", "2024-01-10", 1.0), ("9", "2024-01-11", 1.0), ("B", "2024-01-12", 1.0), ("a", "2024-01-13", 1.0),
]
EDGE_END = "2024-02-14"  # a Wednesday


@pytest.fixture(scope="module")
def edge_tx() -> pd.DataFrame:
    return make_tx(EDGE_ROWS)


@pytest.mark.parametrize("freq", ["D", "W"])
@pytest.mark.parametrize("mult", [1, 7, 2.5])
def test_rfm_summary_equals_lifetimes_on_edge_cases(edge_tx, freq, mult):
    ours = rfm_summary(edge_tx, observation_end=EDGE_END, freq=freq, freq_multiplier=mult)
    assert_same(ours, lifetimes_summary(edge_tx, EDGE_END, freq, mult))


def test_edge_cases_by_hand_daily(edge_tx):
    s = rfm_summary(edge_tx, observation_end=EDGE_END, freq="D")
    assert list(s.index) == ["10", "9", "B", "a", "dayone", "late", "multi", "weekedge", "zero"]  # code-point order
    assert "future" not in s.index
    # multi: periods 01-01 (first), 01-15 (22), 01-29 (8): 2 repeats, last at day 28, T = 44 days
    assert s.loc["multi"].tolist() == [2.0, 28.0, 44.0, 15.0]
    # dayone: three orders on its first day are one purchase: nothing repeats
    assert s.loc["dayone"].tolist() == [0.0, 0.0, 42.0, 0.0]
    # late: 01-02 then 02-10; the orders after 02-14 are ignored
    assert s.loc["late"].tolist() == [1.0, 39.0, 43.0, 9.0]
    # zero: repeats worth 0 and 12 -> mean 6
    assert s.loc["zero"].tolist() == [2.0, 27.0, 40.0, 6.0]


def test_edge_cases_by_hand_weekly(edge_tx):
    s = rfm_summary(edge_tx, observation_end=EDGE_END, freq="W")
    # weekedge: Sunday 01-07 is week 1; Monday 01-08 and Sunday 01-14 are week 2 (one period, 2 + 4)
    assert s.loc["weekedge"].tolist() == [1.0, 1.0, 6.0, 6.0]
    # multi: weeks 1, 3, 5 of 2024; observation_end in week 7
    assert s.loc["multi"].tolist() == [2.0, 4.0, 6.0, 15.0]
    # late: weeks 1 and 6; the order of Thursday 02-15 (same week as the end) is ignored
    assert s.loc["late"].tolist() == [1.0, 5.0, 6.0, 9.0]


def test_lifetimes_keeps_orders_after_observation_end_in_the_last_week(edge_tx):
    """The one documented difference: lifetimes compares period starts, so with freq='W' it keeps the
    orders of Thursday 2024-02-15 .. Sunday 2024-02-18 for observation_period_end=Wednesday 2024-02-14.
    We drop them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = lifetimes_utils.summary_data_from_transaction_data(
            edge_tx, "customer_id", "order_date", monetary_value_col="amount",
            observation_period_end=EDGE_END, freq="W")
    # late: weeks 1, 6 and 7; week 7 sums the orders of 02-15 and 02-18 (both after the end)
    assert theirs.loc["late", ["frequency", "monetary_value"]].tolist() == [2.0, (9.0 + 200.0) / 2]
    assert "future" in theirs.index   # acquired on 02-16, after the end, yet in lifetimes' summary
    assert rfm_summary(edge_tx, observation_end=EDGE_END, freq="W").loc["late", "monetary_value"] == 9.0


def test_input_frame_is_not_modified(edge_tx):
    before = edge_tx.copy()
    rfm_summary(edge_tx, observation_end=EDGE_END, freq="M")
    calibration_holdout(edge_tx, calibration_end="2024-01-31", observation_end=EDGE_END, freq="D")
    pd.testing.assert_frame_equal(edge_tx, before)


# ----------------------------------------------------------------------------
# published CDNOW figures
# ----------------------------------------------------------------------------

def test_cdnow_calibration_summary_matches_published_figures(cdnow):
    s = rfm_summary(cdnow, observation_end=CDNOW_CAL_END, freq="D", freq_multiplier=7)
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), section 4: 2,357 customers, 1,411 of whom
    # made no repeat purchase in the 39-week calibration period (1997-01-01 .. 1997-09-30).
    assert len(s) == 2357
    assert int((s["frequency"] == 0).sum()) == 1411
    assert s["T"].max() == pytest.approx(272 / 7)  # a customer acquired on 1 January: 272 days
    # Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", p. 4: 946 repeat customers,
    # mean of their average repeat-transaction values $35.08.
    repeaters = s[s["frequency"] > 0]
    assert len(repeaters) == 946
    assert repeaters["monetary_value"].mean() == pytest.approx(35.08, abs=0.005)
    assert s.attrs == {"freq": "D", "freq_multiplier": 7, "unit_days": 7.0, "observation_end": "1997-09-30"}


# ----------------------------------------------------------------------------
# period alignment and monthly summaries
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("freq", ["W", "M"])
def test_period_alignment_matches_pandas_periods(freq):
    """Two days are in the same period exactly when pandas' Period (W-SUN / M) says so."""
    days = pd.date_range("1968-12-20", "2031-01-10", freq="D")
    tx = pd.DataFrame({"customer_id": pd.array(["c"] * len(days), dtype="string"),
                       "order_date": days, "amount": np.ones(len(days))})
    s = rfm_summary(tx, observation_end=days[-1], freq=freq)
    expected_periods = len(pd.PeriodIndex(days, freq=freq).unique())
    assert s.loc["c", "frequency"] == expected_periods - 1
    per = pd.PeriodIndex(days, freq=freq)
    assert s.loc["c", "T"] == (per[-1] - per[0]).n
    # the first period may be partial: its days are all in the first purchase period
    first_len = int((per == per[0]).sum())
    assert s.loc["c", "monetary_value"] == (len(days) - first_len) / (expected_periods - 1)


def test_monthly_summary_by_hand():
    tx = make_tx([
        ("a", "2024-01-31", 10.0), ("a", "2024-02-01", 5.0), ("a", "2024-02-29", 7.0),  # Jan, Feb (5+7)
        ("a", "2024-05-15", 3.0),                                                           # May
        ("b", "2024-03-01", 1.0), ("b", "2024-03-31", 2.0),                                 # March only
        ("c", "2024-07-01", 9.0),                                                           # after the end
    ])
    s = rfm_summary(tx, observation_end="2024-06-15", freq="M")
    assert s.loc["a"].tolist() == [2.0, 4.0, 5.0, 7.5]  # 31 January -> 1 February is one month
    assert s.loc["b"].tolist() == [0.0, 0.0, 3.0, 0.0]
    assert "c" not in s.index
    s3 = rfm_summary(tx, observation_end="2024-06-15", freq="M", freq_multiplier=3)
    assert s3.loc["a", "recency"] == pytest.approx(4 / 3) and s3.loc["a", "T"] == pytest.approx(5 / 3)
    assert s3.attrs["unit_days"] == pytest.approx(3 * 365.25 / 12)


def test_lifetimes_cannot_do_months(cdnow):
    """Why relmkt owns monthly summaries (also pinned in test_lifetimes_contract.py)."""
    with pytest.raises(ValueError, match="Unit M is not supported"):
        lifetimes_summary(cdnow, CDNOW_END, "M")


@pytest.mark.parametrize("freq, mult, unit_days", [("D", 1, 1.0), ("D", 7, 7.0), ("W", 1, 7.0), ("W", 2, 14.0),
                                                  ("M", 1, 365.25 / 12), ("M", 12, 365.25)])
def test_attrs_carry_the_time_unit(edge_tx, freq, mult, unit_days):
    s = rfm_summary(edge_tx, observation_end="2024-02-14 17:30", freq=freq, freq_multiplier=mult)
    assert s.attrs["freq"] == freq and s.attrs["freq_multiplier"] == mult
    assert s.attrs["unit_days"] == pytest.approx(unit_days)
    assert s.attrs["observation_end"] == "2024-02-14"   # the time of day is dropped


def test_result_dtypes_and_index(edge_tx):
    s = rfm_summary(edge_tx, observation_end=EDGE_END, freq="M")
    assert list(s.columns) == SUMMARY_COLS
    assert all(s[c].dtype == np.float64 for c in s.columns)
    assert s.index.name == "customer_id" and s.index.dtype == edge_tx["customer_id"].dtype
    assert s.index.is_monotonic_increasing and s.index.is_unique


# ----------------------------------------------------------------------------
# an independent, slow reference on random logs (hypothesis)
# ----------------------------------------------------------------------------

def reference_summary(tx: pd.DataFrame, end: str, freq: str, mult: float) -> pd.DataFrame:
    """Straight from the definitions, with pandas Periods (obviously correct, slow)."""
    tx = tx[tx["order_date"] <= end]
    per = tx["order_date"].dt.to_period(freq)
    end_p = pd.Period(end, freq)
    rows = {}
    for cust, g in tx.assign(per=per).groupby("customer_id"):
        sums = g.groupby("per")["amount"].sum().sort_index()
        first, last = sums.index[0], sums.index[-1]
        rows[cust] = [len(sums) - 1.0, (last - first).n / mult, (end_p - first).n / mult,
                      float(sums.iloc[1:].mean()) if len(sums) > 1 else 0.0]
    return pd.DataFrame.from_dict(rows, orient="index", columns=SUMMARY_COLS)


tx_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(0, 120),
              st.sampled_from([0.0, 1.0, 2.5, 10.0, 99.99])),
    min_size=1, max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=tx_strategy, end_offset=st.integers(0, 130), freq=st.sampled_from(["D", "W", "M"]),
       mult=st.sampled_from([1, 7, 2.5]))
def test_rfm_summary_matches_reference_on_random_logs(rows, end_offset, freq, mult):
    start = pd.Timestamp("2023-12-28")  # a Thursday, so weeks and months cut the range unevenly
    tx = make_tx([(c, str((start + pd.Timedelta(days=d)).date()), a) for c, d, a in rows])
    end = str((start + pd.Timedelta(days=end_offset)).date())
    if end_offset < min(d for _, d, _ in rows):
        with pytest.raises(ParameterError, match="before the first order"):
            rfm_summary(tx, observation_end=end, freq=freq, freq_multiplier=mult)
        return
    ours = rfm_summary(tx, observation_end=end, freq=freq, freq_multiplier=mult)
    ref = reference_summary(tx, end, freq, mult)
    np.testing.assert_array_equal(ours.index.to_numpy(dtype=object), ref.index.to_numpy(dtype=object))
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12, atol=0)
    if freq != "M":
        assert_same(ours, lifetimes_summary(tx, end, freq, mult))


# ----------------------------------------------------------------------------
# calibration / holdout
# ----------------------------------------------------------------------------

def issue_431_holdout_value(tx: pd.DataFrame, cal: str, end: str, freq: str) -> pd.Series:
    """The fix proposed in lifetimes issue #431: per-period sums, then their mean per customer."""
    h = tx[(tx["order_date"] > cal) & (tx["order_date"] <= end)]
    h = h.assign(per=h["order_date"].dt.to_period(freq))
    return h.groupby(["customer_id", "per"])["amount"].sum().groupby(level="customer_id").mean()


@pytest.mark.parametrize("freq", ["D", "W"])
@pytest.mark.parametrize("mult", [1, 7])
@pytest.mark.parametrize("data, cal, end", [("cdnow", CDNOW_CAL_END, CDNOW_END),
                                            ("shop", "2024-12-31", "2025-12-31"),
                                            ("shop", "2023-06-30", "2024-03-31")])
def test_calibration_holdout_equals_lifetimes_except_the_holdout_value(request, data, cal, end, freq, mult):
    tx = request.getfixturevalue(data)
    ours = calibration_holdout(tx, calibration_end=cal, observation_end=end, freq=freq, freq_multiplier=mult)
    theirs = lifetimes_cal_holdout(tx, cal, end, freq, mult)
    assert list(ours.columns) == CH_COLS == list(theirs.columns)
    same = [c for c in CH_COLS if c != "monetary_value_holdout"]
    assert_same(ours[same], theirs[same])
    expected = issue_431_holdout_value(tx, cal, end, freq).reindex(ours.index, fill_value=0.0)
    np.testing.assert_allclose(ours["monetary_value_holdout"].to_numpy(), expected.to_numpy(), rtol=1e-12, atol=0)
    assert ours.attrs == {"freq": freq, "freq_multiplier": mult, "unit_days": {"D": 1, "W": 7}[freq] * mult,
                          "observation_end": cal, "holdout_end": end}


def test_calibration_holdout_value_agrees_with_lifetimes_when_one_order_per_period(cdnow):
    """CDNOW has one order per customer-day, so with freq='D' the bug of issue #431 cannot show."""
    ours = calibration_holdout(cdnow, calibration_end=CDNOW_CAL_END, observation_end=CDNOW_END, freq="D")
    theirs = lifetimes_cal_holdout(cdnow, CDNOW_CAL_END, CDNOW_END, "D")
    assert_same(ours, theirs)


def test_calibration_holdout_by_hand():
    tx = make_tx([
        ("a", "2024-01-01", 10.0), ("a", "2024-01-10", 20.0),            # calibration: 1 repeat
        ("a", "2024-02-05", 6.0), ("a", "2024-02-05", 4.0),              # holdout day 1: 10 in total
        ("a", "2024-02-20", 30.0),                                       # holdout day 2
        ("b", "2024-01-20", 7.0),                                        # no holdout purchase
        ("c", "2024-02-10", 5.0),                                        # acquired in the holdout: left out
        ("a", "2024-03-05", 1000.0),                                     # after observation_end
    ])
    ch = calibration_holdout(tx, calibration_end="2024-01-31", observation_end="2024-02-29", freq="D")
    assert list(ch.index) == ["a", "b"]
    assert ch.loc["a"].tolist() == [1.0, 9.0, 30.0, 20.0, 2.0, 20.0, 29.0]  # (10 + 30) / 2 holdout days
    assert ch.loc["b"].tolist() == [0.0, 0.0, 11.0, 0.0, 0.0, 0.0, 29.0]
    # lifetimes averages the three holdout rows instead: (6 + 4 + 30) / 3 (issue #431)
    theirs = lifetimes_cal_holdout(tx, "2024-01-31", "2024-02-29", "D")
    assert theirs.loc["a", "monetary_value_holdout"] == pytest.approx(40 / 3)
    monthly = calibration_holdout(tx, calibration_end="2024-01-31", observation_end="2024-02-29", freq="M")
    assert monthly.loc["a"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 40.0, 1.0]  # January once, February once
    assert monthly.attrs["unit_days"] == pytest.approx(365.25 / 12)


def test_calibration_holdout_calibration_part_is_rfm_summary(shop):
    for freq in ("D", "W", "M"):
        ch = calibration_holdout(shop, calibration_end="2024-09-30", observation_end="2025-06-30", freq=freq)
        s = rfm_summary(shop, observation_end="2024-09-30", freq=freq)
        cal = ch[CH_COLS[:4]].set_axis(SUMMARY_COLS, axis=1)
        cal.attrs = {}
        s.attrs = {}
        pd.testing.assert_frame_equal(cal, s)


def test_lifetimes_calibration_and_holdout_fails_without_monetary_value(cdnow):
    """Checked on pandas 3: lifetimes' split fails without a monetary column (and for 'M', like its summary)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="No objects to concatenate"):
            lifetimes_utils.calibration_and_holdout_data(
                cdnow, "customer_id", "order_date", calibration_period_end=CDNOW_CAL_END,
                observation_period_end=CDNOW_END, freq="W")
        with pytest.raises(ValueError, match="Unit M is not supported"):
            lifetimes_cal_holdout(cdnow, CDNOW_CAL_END, CDNOW_END, "M")


# ----------------------------------------------------------------------------
# errors a user can cause
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"freq": "Q"}, r"freq='Q' is not supported.*'D'.*'W'.*'M'"),
    ({"freq": "w"}, r"freq='w' is not supported"),
    ({"freq_multiplier": 0}, r"freq_multiplier=0 must be a positive number"),
    ({"freq_multiplier": True}, r"freq_multiplier=True must be a positive number"),
    ({"observation_end": "2023-12-31"}, r"observation_end=2023-12-31 is before the first order \(2024-01-01\)"),
    ({"observation_end": "not a date"}, r"observation_end='not a date' is not a date"),
    ({"observation_end": None}, r"observation_end is required"),
    ({"observation_end": 20240101}, r"observation_end=20240101 is not a date"),
    ({"observation_end": pd.Timestamp("2024-02-01", tz="UTC")}, r"carries a time zone"),
])
def test_rfm_summary_parameter_errors(edge_tx, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        rfm_summary(edge_tx, **{"observation_end": EDGE_END, **kwargs})


def test_rfm_summary_data_errors(edge_tx):
    with pytest.raises(DataValidationError, match="'amount' missing"):
        rfm_summary(edge_tx.drop(columns="amount"), observation_end=EDGE_END)
    with pytest.raises(DataValidationError, match="no orders"):
        rfm_summary(edge_tx.iloc[:0], observation_end=EDGE_END)
    bad = edge_tx.copy()
    bad.loc[2, "order_date"] = pd.NaT
    with pytest.raises(DataValidationError, match="'order_date' has missing dates"):
        rfm_summary(bad, observation_end=EDGE_END)
    bad = edge_tx.copy()
    bad.loc[2, "customer_id"] = pd.NA
    with pytest.raises(DataValidationError, match="'customer_id' has missing values"):
        rfm_summary(bad, observation_end=EDGE_END)
    with pytest.raises(ParameterError, match="tx must be the transaction DataFrame"):
        rfm_summary(edge_tx.to_dict(), observation_end=EDGE_END)


@pytest.mark.parametrize("cal, end, freq, match", [
    ("2023-12-31", "2024-02-14", "D", r"calibration_end=2023-12-31 is before the first order \(2024-01-01\)"),
    ("2024-02-14", "2024-02-14", "D", r"calibration_end=2024-02-14 must be before observation_end=2024-02-14"),
    ("2024-03-01", "2024-04-30", "D", r"on or after the last order \(2024-03-01\)"),
    ("2024-03-05", "2024-04-30", "D", r"on or after the last order"),
    ("2024-02-01", "2024-02-04", "D", r"holdout \(2024-02-01, 2024-02-04\] has no orders .*2024-02-10"),
    ("2024-02-12", "2024-02-14", "W", r"same period of freq='W'"),
    ("2024-01-31", "2024-02-14", "Y", r"freq='Y' is not supported"),
])
def test_calibration_holdout_errors(edge_tx, cal, end, freq, match):
    with pytest.raises(ParameterError, match=match):
        calibration_holdout(edge_tx, calibration_end=cal, observation_end=end, freq=freq)


# ----------------------------------------------------------------------------
# compress_summary
# ----------------------------------------------------------------------------

def test_compress_summary_round_trips(shop):
    s = rfm_summary(shop, observation_end="2025-12-31", freq="W")
    res = compress_summary(s)
    assert isinstance(res, CompressedSummary)
    unique, inverse = res
    cols = ["frequency", "recency", "T"]
    assert list(unique.columns) == cols + ["weights"]
    assert len(unique) < len(s)   # many customers share (x, t_x, T)
    # rebuilding from the inverse gives back every customer's values, in order
    np.testing.assert_array_equal(unique[cols].to_numpy()[inverse], s[cols].to_numpy())
    # rows are distinct and sorted, weights are the counts
    assert not unique.duplicated(cols).any()
    assert unique[cols].equals(unique[cols].sort_values(cols, ignore_index=True))
    counts = s.groupby(cols).size().to_numpy()
    np.testing.assert_array_equal(unique["weights"].to_numpy(), counts)
    assert unique["weights"].dtype == np.int64 and unique["weights"].sum() == len(s)
    assert unique.attrs == s.attrs


def test_compress_summary_other_columns_and_errors():
    s = pd.DataFrame({"frequency": [1.0, 1.0, 0.0], "monetary_value": [5.0, 5.0, 0.0]})
    unique, inverse = compress_summary(s, cols=("frequency", "monetary_value"))
    assert unique.to_dict("list") == {"frequency": [0.0, 1.0], "monetary_value": [0.0, 5.0], "weights": [1, 2]}
    assert inverse.tolist() == [1, 1, 0]
    with pytest.raises(DataValidationError, match="'T' missing"):
        compress_summary(s)
    with pytest.raises(ParameterError, match="not 'weights'"):
        compress_summary(s.assign(weights=1), cols=("frequency", "weights"))
    with pytest.raises(ParameterError, match="one or more distinct columns"):
        compress_summary(s, cols=())
    with pytest.raises(DataValidationError, match="'frequency'.*missing values"):
        compress_summary(s.assign(frequency=[1.0, np.nan, 0.0]), cols=("frequency",))
    empty_unique, empty_inverse = compress_summary(s.iloc[:0], cols=("frequency",))
    assert len(empty_unique) == 0 and len(empty_inverse) == 0 and "weights" in empty_unique


def test_compress_summary_with_more_combinations_than_an_int64_key():
    """Five columns of 10,000 distinct values: 1e20 combinations, beyond one int64 key (lexsort path)."""
    rng = np.random.default_rng(0)
    base = rng.permutation(10_000).astype(float)
    s = pd.DataFrame({f"c{i}": np.roll(base, i) for i in range(5)})
    s = pd.concat([s, s.iloc[:3]], ignore_index=True)         # three rows repeated
    unique, inverse = compress_summary(s, cols=list(s.columns))
    assert len(unique) == 10_000 and unique["weights"].sum() == len(s)
    np.testing.assert_array_equal(unique.drop(columns="weights").to_numpy()[inverse], s.to_numpy())
    assert unique["c0"].is_monotonic_increasing


def test_sort_keys_packed_and_fallback_agree():
    from relmkt_helpers.clv.prep import _sort_keys

    key = np.random.default_rng(0).integers(0, 50, 1_000).astype(np.int64)
    expected_order = np.argsort(key, kind="stable")
    order, ks = _sort_keys(key.copy(), 50)                    # packed np.sort path
    np.testing.assert_array_equal(order, expected_order)
    np.testing.assert_array_equal(ks, key[expected_order])
    order, ks = _sort_keys(key.copy(), 2**60)                 # too wide to pack: argsort path
    np.testing.assert_array_equal(order, expected_order)
    np.testing.assert_array_equal(ks, key[expected_order])
