"""The engine (issue 13): DuckDB applies the data contract and the reductions with the pandas path's results.

Equality is the contract: the same orders, the same ledger and the same error messages as
``load_transactions``; the same per-customer summary, monthly counts and cohort activity as the
pandas/numpy functions (counts exactly, money to 1e-12 relative), on the bundled data and on
generated logs.
"""
from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relmkt_helpers.clv.prep import rfm_summary as pandas_rfm
from relmkt_helpers.cohorts import retention_matrix
from relmkt_helpers.engine import (DuckDBSession, cohort_activity, load_with_engine, monthly_counts, open_orders,
                                   resolve_engine, rfm_summary)
from relmkt_helpers.engine.api import new_session
from relmkt_helpers.errors import DataValidationError, ParameterError
from relmkt_helpers.io import load_transactions
from relmkt_helpers.kpis import monthly_summary

MONEY_RTOL = 1e-12


def _typed_parquet(path: Path, source: str) -> Path:
    """The bundled CSV as a Parquet file with typed columns (what a warehouse export looks like)."""
    from relmkt_helpers.config import resolve_input

    raw = pd.read_csv(resolve_input(source), dtype={"customer_id": str, "order_id": str})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).astype("datetime64[us]")
    raw.to_parquet(path, index=False)
    return path


ENGINE_PARAMS = [pytest.param(("sample", "duckdb"), id="sample-duckdb"),
                 pytest.param(("cdnow", "duckdb"), id="cdnow-duckdb"),
                 pytest.param(("sample", "spark"), id="sample-spark", marks=pytest.mark.spark),
                 pytest.param(("cdnow", "spark"), id="cdnow-spark", marks=pytest.mark.spark)]


@pytest.fixture(scope="module", params=ENGINE_PARAMS)
def bundled(request, tmp_path_factory):
    """(path, pandas frame, ledger, the same orders opened by the engine): DuckDB, and Spark in local mode.

    Every test that takes it checks one engine against the pandas path; Spark runs the same
    definitions as DuckDB, so the same tests hold it to the same answers."""
    data, engine = request.param
    path = _typed_parquet(tmp_path_factory.mktemp("engine") / f"{data}.parquet", data)
    tx, ledger = load_transactions(path)
    with new_session(engine, memory_limit="2GB") as session:
        with open_orders(path, session=session) as orders:
            yield path, tx, ledger, orders


def only_sample_on_spark(bundled) -> None:
    """The whole analyses run on Spark for the sample shop only: CDNOW's orders go through the same reductions
    (its contract and reductions are checked on Spark above), and this keeps the Spark tests to minutes."""
    path, _, _, orders = bundled
    if getattr(orders.session, "kind", "") == "spark" and "cdnow" in Path(path).name:
        pytest.skip("Spark runs the whole analyses on the sample shop only")


def assert_same_orders(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values("order_id", kind="stable").reset_index(drop=True)
    b = b.sort_values("order_id", kind="stable").reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert a["customer_id"].tolist() == b["customer_id"].tolist()
    assert a["order_id"].tolist() == b["order_id"].tolist()
    assert (a["order_date"].to_numpy() == b["order_date"].to_numpy()).all()
    np.testing.assert_allclose(b["amount"].to_numpy(), a["amount"].to_numpy(), rtol=MONEY_RTOL, atol=0)
    for col in a.columns[4:]:
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


def assert_same_ledger(a, b) -> None:
    da, db = a.to_dict(), b.to_dict()
    da.pop("source"), db.pop("source")
    assert da == db


def test_bundled_data_same_orders_and_ledger(bundled):
    path, tx, ledger, orders = bundled
    assert_same_ledger(ledger, orders.ledger)
    assert_same_orders(tx, orders.to_pandas())
    assert orders.ledger.source == ledger.source


@pytest.mark.parametrize("freq,mult", [("D", 1), ("D", 7), ("W", 1), ("M", 1)])
def test_bundled_rfm_summary_equal(bundled, freq, mult):
    path, tx, ledger, orders = bundled
    end = ledger.last_date
    want = pandas_rfm(tx, observation_end=end, freq=freq, freq_multiplier=mult)
    got = rfm_summary(orders, observation_end=end, freq=freq, freq_multiplier=mult)
    assert got.index.tolist() == want.index.tolist()
    assert got.attrs == want.attrs
    for col in ("frequency", "recency", "T"):
        assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
    np.testing.assert_allclose(got["monetary_value"], want["monetary_value"], rtol=MONEY_RTOL, atol=1e-300)


def test_bundled_monthly_counts_equal(bundled):
    path, tx, ledger, orders = bundled
    want = monthly_summary(tx)
    got = monthly_counts(orders)
    want = want[want["orders"] > 0]
    assert got.index.equals(want.index)
    for col in ("orders", "customers_active", "customers_new", "customers_returning", "customers_reactivated"):
        assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
    np.testing.assert_allclose(got["revenue"], want["revenue"], rtol=MONEY_RTOL)


def assert_same_month_table(want: pd.DataFrame, got: pd.DataFrame) -> None:
    assert got.index.equals(want.index)
    assert list(got.columns) == list(want.columns)
    assert got["complete"].tolist() == want["complete"].tolist()
    for col in ("orders", "customers_active", "customers_new", "customers_returning", "customers_reactivated"):
        assert got[col].tolist() == want[col].astype(int).tolist(), col
    for col in ("revenue", "revenue_sq", "average_order_value", "retention_rate_prev_month", "repeat_purchase_rate"):
        np.testing.assert_allclose(got[col], want[col], rtol=MONEY_RTOL, atol=1e-300, err_msg=col)


@pytest.mark.parametrize("when", ["month_end", "mid_month"])
def test_bundled_month_table_equal(bundled, when):
    """The report's monthly table (headline KPIs, their noise inputs) is the same from either engine."""
    from relmkt_helpers.engine import month_table
    from relmkt_helpers.kpis import month_table as pandas_month_table

    path, tx, ledger, orders = bundled
    last = pd.Timestamp(ledger.last_date)
    as_of = last.to_period("M").end_time.normalize() - pd.DateOffset(months=2)
    if when == "mid_month":
        as_of = as_of.replace(day=15)
    want = pandas_month_table(tx[tx["order_date"] <= as_of], as_of=as_of)
    assert_same_month_table(want, month_table(orders, as_of=as_of))
    assert want["repeat_purchase_rate"].notna().sum() > 3  # the rates were compared, not only NaNs


def test_engine_writes_the_canonical_file(bundled, tmp_path):
    """write_canonical goes from DuckDB to Parquet; load_transactions reads back the pandas path's frame."""
    from relmkt_helpers.engine import write_canonical
    from relmkt_helpers.io import is_canonical, save_canonical

    path, tx, ledger, orders = bundled
    out = write_canonical(orders, tmp_path / "orders.parquet")
    assert is_canonical(out)
    got, got_ledger = load_transactions(out)
    want, want_ledger = load_transactions(save_canonical(tx, ledger, tmp_path / "pandas.parquet"))
    assert got.dtypes.to_dict() == want.dtypes.to_dict()
    assert_same_orders(want, got)
    assert got["order_date"].is_monotonic_increasing
    assert got_ledger.to_dict() == {**want_ledger.to_dict(), "source": got_ledger.source}


def test_clv_analysis_in_the_engine_equals_pandas(bundled):
    """The CLV page's analysis on orders kept in DuckDB: the same model, values, RFM, dropped-off list and
    tracking; every per-order reduction ran in the engine."""
    only_sample_on_spark(bundled)
    import relmkt_helpers as rh
    from relmkt_helpers.plots.clv import tracking_table

    path, tx, ledger, orders = bundled
    as_of = pd.Timestamp(ledger.last_date).to_period("M").end_time.normalize() - pd.DateOffset(months=1)
    kw = dict(as_of=as_of, n_bootstrap=20, compare_customers=None)
    a, b = rh.clv_analysis(tx, **kw), rh.clv_analysis(orders, **kw)
    assert a.choice.model == b.choice.model
    pd.testing.assert_frame_equal(a.choice.comparison, b.choice.comparison, rtol=1e-9)
    interval = ["clv_low", "clv_high"]  # bootstrap quantiles: the covariance's finite differences amplify 1e-16
    pd.testing.assert_frame_equal(a.value.drop(columns=interval), b.value.drop(columns=interval), rtol=1e-9)
    pd.testing.assert_frame_equal(a.value[interval], b.value[interval], rtol=1e-4)
    pd.testing.assert_frame_equal(a.rfm, b.rfm, rtol=MONEY_RTOL)
    pd.testing.assert_frame_equal(a.dropped, b.dropped, rtol=MONEY_RTOL)
    assert len(a.dropped) > 0 and a.dropped.attrs == b.dropped.attrs
    cal = a.choice
    want = tracking_table(tx, cal.calibration_model, calibration_end=cal.calibration_end, observation_end=as_of)
    got = tracking_table(orders, cal.calibration_model, calibration_end=cal.calibration_end, observation_end=as_of)
    pd.testing.assert_frame_equal(want, got, rtol=MONEY_RTOL)


@pytest.mark.parametrize("period", ["M", "W", "Q"])
def test_cohort_matrices_and_period_kpis_in_the_engine_equal_pandas(bundled, period):
    """Every cohort matrix (exact, unbounded, revenue, realised LTV; by channel too) and the period KPIs come
    from the engine's counts equal to numpy's, mid-period (partial cells) included."""
    only_sample_on_spark(bundled)
    from relmkt_helpers.cohorts import latest_cohorts_start, period_kpis, realised_ltv_matrix

    path, tx, ledger, orders = bundled
    as_of = pd.Timestamp(ledger.last_date) - pd.Timedelta(days=40)
    segments = [None, "channel"] if "channel" in tx.columns else [None]
    for kw in (dict(), dict(kind="unbounded"), dict(metric="revenue")):
        for seg in segments:
            a = retention_matrix(tx, period=period, as_of=as_of, segment=seg, **kw)
            b = retention_matrix(orders, period=period, as_of=as_of, segment=seg, **kw)
            pd.testing.assert_frame_equal(a.numerator, b.numerator, rtol=MONEY_RTOL)
            pd.testing.assert_frame_equal(a.matrix, b.matrix, rtol=MONEY_RTOL)
            pd.testing.assert_series_equal(a.sizes, b.sizes)
            assert (a.last_complete_period, a.as_of, a.segment) == (b.last_complete_period, b.as_of, b.segment)
    a, b = realised_ltv_matrix(tx, period=period, as_of=as_of), realised_ltv_matrix(orders, period=period, as_of=as_of)
    pd.testing.assert_frame_equal(a.matrix, b.matrix, rtol=MONEY_RTOL)
    for partial in (False, True):
        pd.testing.assert_frame_equal(period_kpis(tx, period=period, as_of=as_of, include_partial=partial),
                                      period_kpis(orders, period=period, as_of=as_of, include_partial=partial),
                                      rtol=MONEY_RTOL)
    assert latest_cohorts_start(tx, 5, period=period, as_of=as_of) == latest_cohorts_start(orders, 5, period=period,
                                                                                           as_of=as_of)


def test_cohort_analysis_in_the_engine_equals_pandas(bundled):
    import relmkt_helpers as rh

    path, tx, ledger, orders = bundled
    as_of = pd.Timestamp(ledger.last_date).to_period("M").end_time.normalize() - pd.DateOffset(months=1)
    a, b = rh.cohort_analysis(tx, as_of=as_of), rh.cohort_analysis(orders, as_of=as_of)
    for name in ("retention", "unbounded", "revenue", "ltv", "by_segment"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            pd.testing.assert_frame_equal(x.matrix, y.matrix, rtol=MONEY_RTOL)
    pd.testing.assert_frame_equal(a.average, b.average, rtol=MONEY_RTOL)
    pd.testing.assert_frame_equal(a.kpis, b.kpis, rtol=MONEY_RTOL)
    assert a.yearly_retention == b.yearly_retention and a.first_cohort == b.first_cohort
    ha, hb = a.headline_metrics(), b.headline_metrics()
    assert ha.keys() == hb.keys()
    for key, value in ha.items():
        assert hb[key] == (pytest.approx(value, rel=MONEY_RTOL) if isinstance(value, float) else value), key


def test_churn_analysis_in_the_engine_equals_pandas(bundled):
    """The churn page's analysis on orders kept in DuckDB: the same windows, labels, features and scores.

    A gradient-boosted tree is discontinuous in its inputs: a summed amount that differs in its last bit
    can move a customer across a split. Its predictions must agree for all but one customer in a
    thousand; everything else (logistic, the probabilistic models, values, the windows) to 1e-9.
    """
    only_sample_on_spark(bundled)
    import relmkt_helpers as rh

    path, tx, ledger, orders = bundled
    as_of = pd.Timestamp(ledger.last_date).to_period("M").end_time.normalize() - pd.DateOffset(months=1)
    a, b = rh.churn_analysis(tx, as_of=as_of), rh.churn_analysis(orders, as_of=as_of)
    pd.testing.assert_frame_equal(a.windows, b.windows)
    assert a.model == b.model and a.value_model == b.value_model and a.notes == b.notes
    pa, pb = a.predictions, b.predictions
    assert pa.index.equals(pb.index) and pa["churned"].equals(pb["churned"])
    for col in pa.columns.drop(["churned", "hgb"]):
        np.testing.assert_allclose(pb[col], pa[col], rtol=1e-9, err_msg=col)
    assert (np.abs(pb["hgb"] - pa["hgb"]) <= 1e-9).mean() >= 0.999
    sa, sb = (x.set_index("customer_id").sort_index() for x in (a.scored, b.scored))
    assert sa.index.equals(sb.index)
    for col in ("p_alive", "value_at_risk", "p_no_purchase", "expected_spend", "recency_days", "frequency"):
        if col in sa.columns:
            np.testing.assert_allclose(sb[col], sa[col], rtol=1e-9, err_msg=col)
    if a.model != "hgb":
        np.testing.assert_allclose(sb["churn_probability"], sa["churn_probability"], rtol=1e-9)


def test_economics_analysis_in_the_engine_equals_pandas(tmp_path):
    """The acquisition-versus-retention analysis on orders kept in DuckDB: every table and figure as on pandas,
    with and without the spend ledger."""
    import relmkt_helpers as rh
    from relmkt_helpers.config import resolve_input

    path = _typed_parquet(tmp_path / "sample.parquet", "sample")
    tx, _ = load_transactions(path)
    spend = rh.load_spend(resolve_input("sample", "spend"))
    subs = rh.load_subscriptions(resolve_input("sample", "subscriptions"))
    with open_orders(path, memory_limit="1GB") as orders:
        for ledger in (spend, None):
            a = rh.economics_analysis(tx, ledger, subs, rh.Assumptions(), channel_col="channel", as_of="2025-06-30")
            b = rh.economics_analysis(orders, ledger, subs, rh.Assumptions(), channel_col="channel",
                                      as_of="2025-06-30")
            frames = [k for k, v in vars(a).items() if isinstance(v, pd.DataFrame)]
            assert len(frames) >= 3
            for name in frames:
                pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), rtol=MONEY_RTOL, obj=name)
            assert a.headline.keys() == b.headline.keys()
            for key, value in a.headline.items():
                want = pytest.approx(value, rel=MONEY_RTOL, nan_ok=True) if isinstance(value, float) else value
                assert b.headline[key] == want, key
            assert a.verdict("EUR") == b.verdict("EUR")


def test_bundled_cohort_activity_equal(bundled):
    path, tx, ledger, orders = bundled
    num = retention_matrix(tx, period="M").numerator
    long = num.stack().rename("customers").reset_index()
    long = long[long["customers"] > 0]
    want = pd.DataFrame({"cohort": long["cohort"].map(lambda p: p.ordinal).to_numpy(),
                         "period": (long["cohort"].map(lambda p: p.ordinal) + long["periods_since_acquisition"]
                                    ).to_numpy(),
                         "customers": long["customers"].to_numpy()}).sort_values(["cohort", "period"])
    got = cohort_activity(orders)
    month0 = pd.Period("1970-01", "M").ordinal
    assert got["cohort"].tolist() == (want["cohort"] - month0).tolist()
    assert got["period"].tolist() == (want["period"] - month0).tolist()
    assert got["customers"].tolist() == want["customers"].astype(int).tolist()
    assert int(got["orders"].sum()) == len(tx)
    np.testing.assert_allclose(got["revenue"].sum(), tx["amount"].sum(), rtol=1e-9)


@pytest.mark.parametrize("freq", ["D", "W", "M"])
def test_bundled_calibration_holdout_equal(bundled, freq):
    from relmkt_helpers.clv.prep import calibration_holdout as pandas_ch
    from relmkt_helpers.engine.api import calibration_holdout

    path, tx, ledger, orders = bundled
    end = pd.Timestamp(ledger.last_date)
    cal = (end - pd.DateOffset(months=9)).strftime("%Y-%m-%d")
    want = pandas_ch(tx, calibration_end=cal, observation_end=end, freq=freq)
    got = calibration_holdout(orders, calibration_end=cal, observation_end=end, freq=freq)
    assert_same_frame(want, got, money=["monetary_value_cal", "monetary_value_holdout"])


def test_bundled_rfm_table_equal(bundled):
    from relmkt_helpers.engine.api import rfm_table
    from relmkt_helpers.rfm import rfm_table as pandas_rfm_table

    path, tx, ledger, orders = bundled
    for as_of in (None, "2024-06-30" if ledger.first_date < "2024-06-30" else None):
        want = pandas_rfm_table(tx, as_of=as_of)
        got = rfm_table(orders, as_of=as_of)
        assert_same_frame(want, got, money=["monetary_total", "monetary_mean"])


def test_bundled_churn_features_and_labels_equal(bundled):
    from relmkt_helpers.churn.features import churn_features as pandas_features
    from relmkt_helpers.churn.features import churn_labels as pandas_labels
    from relmkt_helpers.engine.api import churn_features, churn_labels

    path, tx, ledger, orders = bundled
    as_of = (pd.Timestamp(ledger.last_date) - pd.Timedelta(days=90)).strftime("%Y-%m-%d")
    want = pandas_features(tx, as_of=as_of)
    got = churn_features(orders, as_of=as_of)
    assert_same_frame(want, got, money=["monetary_total", "monetary_mean", "spend_last_w", "spend_prev_w",
                                        "spend_trend", "gap_mean", "gap_std", "recency_gap_ratio"])
    y = pandas_labels(tx, as_of=as_of)
    ye = churn_labels(orders, as_of=as_of)
    assert ye.index.tolist() == y.index.tolist() and ye.tolist() == y.tolist() and ye.attrs == y.attrs


def assert_same_frame(want: pd.DataFrame, got: pd.DataFrame, money: list[str]) -> None:
    """Same index, columns, dtypes and attrs; counts and labels exactly, money to 1e-12 relative."""
    assert got.index.tolist() == want.index.tolist()
    assert list(got.columns) == list(want.columns)
    assert got.attrs == want.attrs
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, col
        if col in money:
            np.testing.assert_allclose(got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float),
                                       rtol=MONEY_RTOL, atol=1e-12, err_msg=col)
        else:
            assert got[col].astype(object).where(got[col].notna(), None).tolist() == \
                want[col].astype(object).where(want[col].notna(), None).tolist(), col


# ------------------------------------------------------------------------------------------------
# generated logs: refunds, duplicates, same-day orders, month ends, leap days, invalid rows
# ------------------------------------------------------------------------------------------------

_DAYS = pd.to_datetime(["2023-01-31", "2023-02-28", "2023-03-01", "2024-01-01", "2024-02-28", "2024-02-29",
                        "2024-03-01", "2024-03-31", "2024-04-30", "2024-12-31"])


@st.composite
def raw_logs(draw):
    n = draw(st.integers(1, 40))
    cust = draw(st.lists(st.sampled_from(["a", "b", "c", " d ", "e\u00a0", "\tf", "", None]), min_size=n, max_size=n))
    day = draw(st.lists(st.one_of(st.sampled_from(list(_DAYS)), st.none()), min_size=n, max_size=n))
    amount = draw(st.lists(st.one_of(st.sampled_from([0.0, 1.5, 10.0, 99.99, -5.0, -10.0, 1e6]),
                                     st.just(float("nan"))), min_size=n, max_size=n))
    df = pd.DataFrame({"customer_id": pd.array(cust, dtype="string"),
                       "order_date": pd.to_datetime(pd.Series(day)).astype("datetime64[us]"),
                       "amount": amount})
    if draw(st.booleans()):
        df["order_id"] = pd.array(draw(st.lists(st.sampled_from(["o1", "o2", "o3", " o4", "", None]),
                                                min_size=n, max_size=n)), dtype="string")
    if draw(st.booleans()):
        df["channel"] = draw(st.lists(st.sampled_from(["web", "shop", None]), min_size=n, max_size=n))
    repeat = draw(st.lists(st.integers(0, n - 1), max_size=5))
    return pd.concat([df, df.iloc[repeat]], ignore_index=True)


POLICIES = st.fixed_dictionaries({
    "refunds": st.sampled_from(["net", "drop", "error"]),
    "duplicates": st.sampled_from(["auto", "drop", "keep", "error"]),
    "on_invalid": st.sampled_from(["error", "drop"]),
    "after_as_of": st.sampled_from(["error", "drop"]),
    "as_of": st.sampled_from([None, "2024-02-29", "2024-12-31"]),
})


@pytest.fixture(scope="module")
def session():
    with DuckDBSession(memory_limit="1GB", threads=1) as s:
        yield s


def _outcome(fn):
    try:
        return "ok", fn()
    except (DataValidationError, ParameterError) as exc:
        return type(exc).__name__, str(exc)


def _same_contract(session, raw, policies):
    """pandas and the engine on one generated log: the same error and message, or the same orders and ledger.

    Returns (pandas frame, ledger, engine orders) when both loaded it, else None (both refused it alike)."""
    want = _outcome(lambda: load_transactions(raw, **policies))
    got = _outcome(lambda: _engine_load(session, raw, policies))
    assert want[0] == got[0], (want, got)
    if want[0] != "ok":
        assert got[1] == want[1]
        return None
    (tx, ledger), (etx, eledger, orders) = want[1], got[1]
    assert_same_ledger(ledger, eledger)
    assert_same_orders(tx, etx)
    return tx, ledger, orders


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(raw=raw_logs(), policies=POLICIES)
def test_generated_logs_same_as_pandas(session, raw, policies):
    loaded = _same_contract(session, raw, policies)
    if loaded is None:
        return
    tx, ledger, orders = loaded
    end = ledger.last_date
    for freq in ("D", "W", "M"):
        a = pandas_rfm(tx, observation_end=end, freq=freq)
        b = rfm_summary(orders, observation_end=end, freq=freq)
        assert a.index.tolist() == b.index.tolist()
        np.testing.assert_array_equal(a[["frequency", "recency", "T"]].to_numpy(),
                                      b[["frequency", "recency", "T"]].to_numpy())
        np.testing.assert_allclose(b["monetary_value"], a["monetary_value"], rtol=MONEY_RTOL, atol=1e-9)
    _same_reductions(tx, orders, ledger)


@pytest.fixture(scope="module")
def spark_session():
    with new_session("spark") as s:
        yield s


@pytest.mark.spark
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          derandomize=True)
@given(raw=raw_logs(), policies=POLICIES)
def test_generated_logs_same_on_spark(spark_session, raw, policies):
    """The contract's corner cases (padded and missing ids, refunds, duplicates, leap days) on Spark: the same
    outcome, message, orders and ledger as pandas, and the same summary (fewer examples: each costs seconds)."""
    loaded = _same_contract(spark_session, raw, policies)
    if loaded is None:
        return
    tx, ledger, orders = loaded
    a = pandas_rfm(tx, observation_end=ledger.last_date, freq="W")
    b = rfm_summary(orders, observation_end=ledger.last_date, freq="W")
    assert a.index.tolist() == b.index.tolist()
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=MONEY_RTOL, atol=1e-9)


def _same_reductions(tx, orders, ledger):
    """Every other engine reduction equals its pandas function on a generated log."""
    from relmkt_helpers.churn.features import churn_features as pandas_features
    from relmkt_helpers.churn.features import churn_labels as pandas_labels
    from relmkt_helpers.engine.api import churn_features, churn_labels, rfm_table
    from relmkt_helpers.rfm import rfm_table as pandas_rfm_table

    assert_same_frame(pandas_rfm_table(tx, bins=3), rfm_table(orders, bins=3), money=["monetary_total", "monetary_mean"])
    mid = pd.Timestamp(ledger.first_date) + (pd.Timestamp(ledger.last_date) - pd.Timestamp(ledger.first_date)) / 2
    money = ["monetary_total", "monetary_mean", "spend_last_w", "spend_prev_w", "spend_trend", "gap_mean", "gap_std",
             "recency_gap_ratio"]
    assert_same_frame(pandas_features(tx, as_of=mid, window_days=30), churn_features(orders, as_of=mid, window_days=30),
                      money=money)
    assert pandas_labels(tx, as_of=mid, horizon_days=60).tolist() == churn_labels(orders, as_of=mid,
                                                                                  horizon_days=60).tolist()
    want = monthly_summary(tx)
    want = want[want["orders"] > 0]
    got = monthly_counts(orders)
    for col in ("orders", "customers_active", "customers_new", "customers_returning", "customers_reactivated"):
        assert got[col].tolist() == want[col].astype(int).tolist(), col
    from relmkt_helpers.cohorts import period_kpis

    for period in ("M", "W"):
        pd.testing.assert_frame_equal(period_kpis(tx, period=period, include_partial=True),
                                      period_kpis(orders, period=period, include_partial=True), rtol=MONEY_RTOL)
        for kw in (dict(), dict(kind="unbounded"), dict(metric="revenue")):
            pd.testing.assert_frame_equal(retention_matrix(tx, period=period, **kw).numerator,
                                          retention_matrix(orders, period=period, **kw).numerator, rtol=MONEY_RTOL)
    from relmkt_helpers.engine import month_table
    from relmkt_helpers.kpis import month_table as pandas_month_table

    end = pd.Timestamp(ledger.last_date).to_period("M").end_time.normalize()
    assert_same_month_table(pandas_month_table(tx, as_of=end), month_table(orders, as_of=end))


def _engine_load(session, raw, policies):
    from relmkt_helpers.engine import engine_orders, open_source

    orders = engine_orders(open_source(session, raw), session, **policies)
    return orders.to_pandas(), orders.ledger, orders


# ------------------------------------------------------------------------------------------------
# inputs where they lie, and bad input
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_tx():
    from relmkt_helpers.config import resolve_input

    return load_transactions(resolve_input("sample")).transactions


def _write_hive(tx: pd.DataFrame, root: Path) -> None:
    raw = tx.assign(order_date=tx["order_date"].astype("datetime64[us]"))
    for month, part in raw.groupby(raw["order_date"].dt.strftime("%Y-%m")):
        d = root / f"month={month}"
        d.mkdir(parents=True)
        part.drop(columns=[]).to_parquet(d / "part-0.parquet", index=False)


def test_folder_glob_and_relation_give_the_same_orders(tmp_path, sample_tx):
    import duckdb

    _write_hive(sample_tx, tmp_path / "lake")
    want = sample_tx
    for source in (tmp_path / "lake", str(tmp_path / "lake" / "*" / "*.parquet"),
                   duckdb.sql(f"select * from read_parquet('{tmp_path}/lake/*/*.parquet')")):
        assert resolve_engine(source) == "duckdb"
        tx, ledger = load_with_engine(source, keep_cols=[c for c in want.columns[4:]], memory_limit="1GB")
        assert ledger.rows_read == len(want) and ledger.rows_used == len(want)
        assert_same_orders(want, tx)


def test_folder_with_disagreeing_types_is_a_clear_error(tmp_path):
    for i, amount in enumerate([[1.0, 2.0], ["1.0", "x"]]):
        d = tmp_path / f"part{i}"
        d.mkdir()
        pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(["2024-01-01"] * 2),
                      "amount": amount}).to_parquet(d / "x.parquet")
    with pytest.raises(DataValidationError, match=r"disagree on the type of column 'amount'.*part0.*part1"):
        load_with_engine(tmp_path)


def test_empty_glob_and_empty_folder(tmp_path):
    with pytest.raises(DataValidationError, match="matches no file"):
        load_with_engine(str(tmp_path / "*.parquet"))
    with pytest.raises(DataValidationError, match="holds no Parquet files"):
        load_with_engine(tmp_path)


def test_errors_in_a_folder_name_the_file_and_row(tmp_path):
    for i, amount in enumerate([[1.0, 2.0], [3.0, float("nan")]]):
        pd.DataFrame({"customer_id": ["a", "b"], "order_date": pd.to_datetime(["2024-01-01"] * 2),
                      "amount": amount}).to_parquet(tmp_path / f"p{i}.parquet")
    with pytest.raises(DataValidationError, match=r"non-numeric amount \(.*p1\.parquet row 1: nan\)"):
        load_with_engine(tmp_path)


def test_csv_needs_the_pandas_engine(tmp_path):
    with pytest.raises(ParameterError, match="--engine pandas"):
        from relmkt_helpers.config import resolve_input

        load_with_engine(resolve_input("sample"))


def test_spill_folder_removed_after_success_and_failure(tmp_path):
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), f"relmkt-duckdb-{os.getpid()}-*")))
    s = DuckDBSession(memory_limit="256MB")
    assert os.path.isdir(s.temp_dir)
    s.close()
    assert not os.path.exists(s.temp_dir)
    with pytest.raises(DataValidationError):
        load_with_engine(str(tmp_path / "none*.parquet"))
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), f"relmkt-duckdb-{os.getpid()}-*")))
    assert after <= before


def test_a_session_left_open_until_the_process_exits_leaves_no_spill_folder(tmp_path):
    """A notebook's orders stay in DuckDB for the kernel's life; its spill folder goes when the kernel exits."""
    import subprocess
    import sys

    code = ("import builtins; from relmkt_helpers.engine import DuckDBSession; "
            f"builtins.kept = DuckDBSession(memory_limit='256MB', temp_root={str(tmp_path)!r}); "
            "print(builtins.kept.temp_dir)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    spill = out.stdout.strip().splitlines()[-1]
    assert spill.startswith(str(tmp_path)) and not os.path.exists(spill)
    assert not list(tmp_path.iterdir())


def test_memory_limit_words():
    with pytest.raises(ParameterError, match="--memory-limit"):
        DuckDBSession(memory_limit="lots")
    with pytest.raises(ParameterError, match="below 64 MB"):
        DuckDBSession(memory_limit="10MB")


def test_memory_limit_too_small_is_a_clear_error_and_leaves_nothing(tmp_path):
    from relmkt_helpers.engine import EngineError

    rng = np.random.default_rng(1)
    n = 1_000_000
    pd.DataFrame({"customer_id": pd.array(rng.integers(0, 100_000, n).astype(str), dtype="string"),
                  "order_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
                  "amount": rng.gamma(2.0, 20.0, n)}).astype({"order_date": "datetime64[us]"}).to_parquet(
        tmp_path / "big.parquet")
    root = tmp_path / "spill"
    root.mkdir()
    session = DuckDBSession(memory_limit="70MB", temp_root=root)
    with pytest.raises(EngineError, match=r"ran out of its memory limit.*--memory-limit \d+GB"):
        with open_orders(tmp_path / "big.parquet", session=session):
            pass
    session.close()
    assert list(root.iterdir()) == []


def test_command_line_validate_reads_a_folder(tmp_path, sample_tx, capsys):
    from relmkt_helpers.cli import main

    _write_hive(sample_tx, tmp_path / "lake")
    assert main(["validate", "--data", str(tmp_path / "lake"), "--memory-limit", "1GB", "--json"]) == 0
    out = capsys.readouterr().out
    assert f'"rows_read": {len(sample_tx)}' in out and '"orders": ' in out
    assert main(["validate", "--data", str(tmp_path / "lake"), "--engine", "pandas"]) == 2
    assert "--engine duckdb" in capsys.readouterr().err


def test_public_functions_take_engine(sample_tx):
    """engine= on the public functions: "duckdb" on a frame in memory gives the pandas result; orders that live in
    the engine are reduced there under "auto" and refused under "pandas"."""
    from relmkt_helpers.churn.features import churn_features as features
    from relmkt_helpers.clv.prep import calibration_holdout as ch
    from relmkt_helpers.rfm import rfm_table as rfm_tab

    tx = sample_tx[sample_tx["order_date"] <= "2024-06-30"]
    assert_same_frame(pandas_rfm(tx, observation_end="2024-06-30", freq="W"),
                      pandas_rfm(tx, observation_end="2024-06-30", freq="W", engine="duckdb"), money=["monetary_value"])
    assert_same_frame(rfm_tab(tx), rfm_tab(tx, engine="duckdb"), money=["monetary_total", "monetary_mean"])
    assert_same_frame(ch(tx, calibration_end="2024-01-31", observation_end="2024-06-30", freq="W"),
                      ch(tx, calibration_end="2024-01-31", observation_end="2024-06-30", freq="W", engine="duckdb"),
                      money=["monetary_value_cal", "monetary_value_holdout"])
    assert_same_frame(features(tx, as_of="2024-03-31"), features(tx, as_of="2024-03-31", engine="duckdb"),
                      money=["monetary_total", "monetary_mean", "spend_last_w", "spend_prev_w", "spend_trend",
                             "gap_mean", "gap_std", "recency_gap_ratio"])
    with open_orders(tx.assign(order_date=tx["order_date"].astype("datetime64[us]"))) as orders:
        got = pandas_rfm(orders, observation_end="2024-06-30", freq="D")
        # two executions: DuckDB's parallel sums may differ in the last bit between runs
        assert_same_frame(rfm_summary(orders, observation_end="2024-06-30", freq="D"), got, money=["monetary_value"])
        with pytest.raises(ParameterError, match="to_pandas"):
            pandas_rfm(orders, observation_end="2024-06-30", engine="pandas")
    with pytest.raises(ParameterError, match="not one of auto, pandas, duckdb, spark"):
        pandas_rfm(tx, observation_end="2024-06-30", engine="polars")


@pytest.mark.parametrize("freq", ["M", "Y"])
def test_bundled_economics_activity_equal(bundled, freq):
    from relmkt_helpers.economics._common import activity as pandas_activity
    from relmkt_helpers.engine.analyses import activity

    path, tx, ledger, orders = bundled
    channel = "channel" if "channel" in tx.columns else None
    want = pandas_activity(tx, channel_col=channel, as_of=None, freq=freq)
    got = activity(orders, channel_col=channel, as_of=None, freq=freq)
    assert got.channels == want.channels and got.periods.equals(want.periods)
    for name in ("new", "active", "returning"):
        np.testing.assert_array_equal(got.__dict__[name], want.__dict__[name], err_msg=name)
    np.testing.assert_allclose(got.revenue, want.revenue, rtol=MONEY_RTOL, atol=1e-9)
    np.testing.assert_array_equal(got.complete, want.complete)
    assert got.first_day == want.first_day and got.as_of == want.as_of
