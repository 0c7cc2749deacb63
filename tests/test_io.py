"""The transaction data contract: canonical output, the row ledger, and every bad-input message."""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from relmkt_helpers import DataValidationError, ParameterError, load_transactions
from relmkt_helpers.io import load_spend, load_subscriptions


def write_csv(tmp_path, text: str, name: str = "tx.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """customer_id,order_date,amount
c1,2024-01-05,10.00
c1,2024-02-10,20.50
c2,2024-01-31,5
"""


# --------------------------------------------------------------------------
# the canonical frame
# --------------------------------------------------------------------------

def test_canonical_frame_types_and_order(tmp_path):
    tx, ledger = load_transactions(write_csv(tmp_path, GOOD))
    assert list(tx.columns[:4]) == ["customer_id", "order_date", "amount", "order_id"]
    assert tx["order_date"].dtype == "datetime64[ns]"
    assert tx["amount"].dtype == "float64"
    assert pd.api.types.is_string_dtype(tx["customer_id"])
    assert tx["order_date"].is_monotonic_increasing
    assert tx["amount"].tolist() == [10.0, 5.0, 20.5]
    assert (ledger.rows_read, ledger.rows_used, ledger.orders, ledger.customers) == (3, 3, 3, 2)
    assert (ledger.first_date, ledger.last_date) == ("2024-01-05", "2024-02-10")


def test_leading_zeros_in_ids_survive(tmp_path):
    tx, _ = load_transactions(write_csv(tmp_path, "customer_id,order_date,amount\n00042,2024-01-01,1\n"))
    assert tx["customer_id"].tolist() == ["00042"]


def test_same_day_orders_without_ids_are_one_customer_day_order(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01 09:00,3\na,2024-01-01 17:30,4\na,2024-01-02,1\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text))
    assert tx["amount"].tolist() == [7.0, 1.0]
    assert tx["order_id"].tolist() == ["a|2024-01-01", "a|2024-01-02"]
    assert ledger.rows_used == 3 and ledger.policies["orders"] == "customer-day"


def test_line_items_sum_into_their_order(tmp_path):
    text = "order_id,customer_id,order_date,amount\no1,a,2024-01-01,3\no1,a,2024-01-01,4\no2,a,2024-01-01,1\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text))
    assert dict(zip(tx["order_id"], tx["amount"])) == {"o1": 7.0, "o2": 1.0}
    assert ledger.policies["orders"] == "order id"  # order_id picked up automatically


def test_extra_columns_are_carried(tmp_path):
    text = "customer_id,order_date,amount,channel\na,2024-01-01,3,search\nb,2024-01-02,4,social\n"
    tx, _ = load_transactions(write_csv(tmp_path, text))
    assert tx["channel"].tolist() == ["search", "social"]
    tx2, _ = load_transactions(write_csv(tmp_path, text), keep_cols=[])
    assert "channel" not in tx2.columns


def test_custom_column_names_and_parquet(tmp_path):
    raw = pd.DataFrame({"cust": ["a", "b"], "when": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 00:00"]),
                        "value": [1.5, 2.5]})
    path = tmp_path / "tx.parquet"
    raw.to_parquet(path)
    tx, _ = load_transactions(path, customer_col="cust", date_col="when", amount_col="value")
    assert tx["order_date"].tolist() == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-02")]


def test_compact_dates_and_gzip(tmp_path):
    path = tmp_path / "tx.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("customer_id,order_date,amount\n1,19970101,11.77\n")
    tx, _ = load_transactions(path)
    assert tx["order_date"].iloc[0] == pd.Timestamp("1997-01-01")


def test_dataframe_input_is_not_modified():
    raw = pd.DataFrame({"customer_id": ["a", "a"], "order_date": ["2024-01-01", "2024-01-01"], "amount": [1, 1]})
    before = raw.copy()
    load_transactions(raw)
    pd.testing.assert_frame_equal(raw, before)


# --------------------------------------------------------------------------
# explicit policies: duplicates, refunds, as_of, time zones
# --------------------------------------------------------------------------

def test_exact_duplicates_dropped_and_counted(tmp_path):
    text = "order_id,customer_id,order_date,amount\no1,a,2024-01-01,3\no1,a,2024-01-01,3\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text))
    assert tx["amount"].tolist() == [3.0]
    assert ledger.dropped == {"exact duplicate row": 1}
    ledger.check_balanced()


def test_duplicates_keep_and_error(tmp_path):
    text = "order_id,customer_id,order_date,amount\no1,a,2024-01-01,3\no1,a,2024-01-01,3\n"
    tx, _ = load_transactions(write_csv(tmp_path, text), duplicates="keep")
    assert tx["amount"].tolist() == [6.0]  # two identical line items of one order
    with pytest.raises(DataValidationError, match=r"repeat an earlier row exactly.*line 3.*duplicates='drop'"):
        load_transactions(write_csv(tmp_path, text), duplicates="error")


REFUNDS = """order_id,customer_id,order_date,amount
o1,a,2024-01-01,30
o1,a,2024-01-09,-10
o2,b,2024-01-02,20
o2,b,2024-01-05,-20
o3,c,2024-01-03,-5
"""


def test_refunds_net_into_their_order(tmp_path):
    tx, ledger = load_transactions(write_csv(tmp_path, REFUNDS))
    # o1 nets to 20 and keeps its purchase date; o2 fully refunded; o3 refund of an unseen order
    assert tx[["order_id", "amount"]].values.tolist() == [["o1", 20.0]]
    assert tx["order_date"].iloc[0] == pd.Timestamp("2024-01-01")
    assert ledger.dropped == {"order fully refunded (net amount <= 0)": 2, "refund whose order is not in the data": 1}
    assert ledger.rows_used == 2
    ledger.check_balanced()


def test_refunds_drop_keeps_gross(tmp_path):
    tx, ledger = load_transactions(write_csv(tmp_path, REFUNDS), refunds="drop")
    assert dict(zip(tx["order_id"], tx["amount"])) == {"o1": 30.0, "o2": 20.0}
    assert ledger.dropped == {"refund (negative amount) ignored": 3}


def test_refunds_error_names_rows(tmp_path):
    with pytest.raises(DataValidationError, match=r"'amount' has 3 negative amounts.*line 3: -10.*refunds='net'"):
        load_transactions(write_csv(tmp_path, REFUNDS), refunds="error")


def test_refund_without_order_ids_is_dropped_and_counted(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01,30\na,2024-01-05,-10\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text))
    assert tx["amount"].tolist() == [30.0]
    assert ledger.dropped == {"refund without order id (cannot be matched)": 1}


def test_rows_after_as_of(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01,1\na,2052-01-03,2\n"
    with pytest.raises(DataValidationError, match=r"1 rows in 'order_date' are dated after as_of 2024-06-30.*"
                                                  r"line 3: '2052-01-03'.*after_as_of='drop'"):
        load_transactions(write_csv(tmp_path, text), as_of="2024-06-30")
    tx, ledger = load_transactions(write_csv(tmp_path, text), as_of="2024-06-30", after_as_of="drop")
    assert len(tx) == 1 and ledger.dropped == {"dated after as_of 2024-06-30": 1}


def test_order_on_as_of_counts(tmp_path):
    tx, _ = load_transactions(write_csv(tmp_path, "customer_id,order_date,amount\na,2024-06-30 23:59,1\n"),
                              as_of="2024-06-30")
    assert len(tx) == 1


def test_single_offset_is_read_as_local_day(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01T23:30:00+02:00,1\nb,2024-01-02T00:30:00+02:00,1\n"
    tx, _ = load_transactions(write_csv(tmp_path, text))
    assert tx["order_date"].dt.day.tolist() == [1, 2]
    assert tx["order_date"].dt.tz is None


def test_mixed_time_zones_error_and_fix(tmp_path):
    text = ("customer_id,order_date,amount\na,2024-01-01T23:30:00+00:00,1\n"
            "b,2024-01-01T23:30:00-05:00,1\nc,2024-07-01T10:00:00Z,1\n")
    with pytest.raises(DataValidationError, match=r"mixes time zones.*line 3.*timezone='Europe/London'"):
        load_transactions(write_csv(tmp_path, text))
    tx, ledger = load_transactions(write_csv(tmp_path, text), timezone="UTC")
    # 23:30 at -05:00 is 04:30 UTC on 2 January
    assert sorted(tx["order_date"].dt.strftime("%m-%d")) == ["01-01", "01-02", "07-01"]
    assert ledger.policies["timezone"] == "UTC"


def test_naive_and_zoned_mix_is_an_error(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01T10:00:00+01:00,1\nb,2024-01-01 10:00,1\n"
    with pytest.raises(DataValidationError, match=r"mixes dates with a time zone and dates without one.*line 3"):
        load_transactions(write_csv(tmp_path, text))


def test_tz_aware_dataframe_column_converted():
    raw = pd.DataFrame({"customer_id": ["a"], "amount": [1.0],
                        "order_date": pd.to_datetime(["2024-01-01 23:30"]).tz_localize("UTC")})
    tx, _ = load_transactions(raw, timezone="Asia/Tokyo")
    assert tx["order_date"].iloc[0] == pd.Timestamp("2024-01-02")


# --------------------------------------------------------------------------
# bad input: each message names the file, the column, the rows and the fix
# --------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"transactions file not found: .*nope\.csv.*sample shop"):
        load_transactions(tmp_path / "nope.csv")


def test_missing_file_suggests_near_name(tmp_path):
    write_csv(tmp_path, GOOD, "sales_2024.csv")
    with pytest.raises(DataValidationError, match=r"Did you mean .*sales_2024\.csv"):
        load_transactions(tmp_path / "sales_2042.csv")


def test_empty_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"tx\.csv is empty \(0 bytes\)"):
        load_transactions(write_csv(tmp_path, ""))


def test_header_only_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"tx\.csv: the transactions have a header but no rows"):
        load_transactions(write_csv(tmp_path, "customer_id,order_date,amount\n"))


def test_misspelled_column_suggests_closest(tmp_path):
    text = "customer_id,orderdate,amount\na,2024-01-01,1\n"
    with pytest.raises(DataValidationError, match=r"tx\.csv: the order date column 'order_date' is missing\. "
                                                  r"Did you mean 'orderdate'\? Pass date_col='orderdate'"):
        load_transactions(write_csv(tmp_path, text))


def test_case_insensitive_suggestion(tmp_path):
    text = "Customer_ID,order_date,amount\na,2024-01-01,1\n"
    with pytest.raises(DataValidationError, match=r"Did you mean 'Customer_ID'\? Pass customer_col='Customer_ID'"):
        load_transactions(write_csv(tmp_path, text))


def test_missing_column_without_near_match_lists_columns(tmp_path):
    text = "customer_id,order_date,price_eur\na,2024-01-01,1\n"
    with pytest.raises(DataValidationError, match=r"'amount' is missing\. Pass amount_col='<your column>' "
                                                  r"\(command line: --amount-col '<your column>'\)\. "
                                                  r"Columns found: 'customer_id', 'order_date', 'price_eur'"):
        load_transactions(write_csv(tmp_path, text))


def test_unparseable_dates_name_lines(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01,1\nb,not a date,2\nc,2024-13-45,3\n"
    with pytest.raises(DataValidationError) as err:
        load_transactions(write_csv(tmp_path, text))
    msg = str(err.value)
    assert "tx.csv" in msg and "'order_date'" in msg and "2 rows with a unparseable date" in msg
    assert "line 3: 'not a date'" in msg and "line 4: '2024-13-45'" in msg and "date_format=" in msg


def test_non_numeric_amounts(tmp_path):
    text = "customer_id,order_date,amount\na,2024-01-01,$12.50\nb,2024-01-02,1\nc,2024-01-03,\"1,234.00\"\n"
    with pytest.raises(DataValidationError, match=r"'amount' has 2 rows with a non-numeric amount "
                                                  r"\(line 2: '\$12\.50'; line 4: '1,234\.00'\)"):
        load_transactions(write_csv(tmp_path, text))


def test_missing_customer_ids(tmp_path):
    text = "customer_id,order_date,amount\n,2024-01-01,1\nb,2024-01-02,1\n   ,2024-01-03,1\n"
    with pytest.raises(DataValidationError, match=r"'customer_id' has 2 rows with a missing customer id.*line 2.*"
                                                  r"line 4.*on_invalid='drop'"):
        load_transactions(write_csv(tmp_path, text))


def test_invalid_rows_can_be_dropped_into_the_ledger(tmp_path):
    text = "customer_id,order_date,amount\n,2024-01-01,1\nb,2024-01-02,x\nc,bad,1\nd,2024-01-04,2\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text), on_invalid="drop")
    assert tx["customer_id"].tolist() == ["d"]
    assert ledger.dropped == {"missing customer id": 1, "unparseable date": 1, "non-numeric amount": 1}
    ledger.check_balanced()


def test_many_bad_rows_are_summarised(tmp_path):
    rows = "".join(f"c{i},2024-01-01,oops\n" for i in range(50))
    with pytest.raises(DataValidationError, match=r"50 rows.*and 45 more"):
        load_transactions(write_csv(tmp_path, "customer_id,order_date,amount\n" + rows))


def test_order_id_shared_by_two_customers(tmp_path):
    text = "order_id,customer_id,order_date,amount\no1,a,2024-01-01,1\no1,b,2024-01-01,2\n"
    with pytest.raises(DataValidationError, match=r"order ids belong to more than one customer \(e\.g\. 'o1'\)"):
        load_transactions(write_csv(tmp_path, text))


def test_everything_filtered_out(tmp_path):
    with pytest.raises(DataValidationError, match=r"no orders remain"):
        load_transactions(write_csv(tmp_path, "customer_id,order_date,amount\na,2024-05-01,1\n"),
                          as_of="2024-01-01", after_as_of="drop")


def test_unreadable_binary_file(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_bytes(b"\xff\xfe\x00\x81" * 100)
    with pytest.raises(DataValidationError, match=r"tx\.csv could not be read as CSV"):
        load_transactions(path)


def test_bad_policy_value():
    with pytest.raises(ParameterError, match=r"refunds='keep' is not one of 'net', 'drop', 'error'"):
        load_transactions(pd.DataFrame(), refunds="keep")


def test_folder_without_parquet_files(tmp_path):
    # a folder is read by the engine (issue 13); one without Parquet files says so
    (tmp_path / "orders.csv").write_text("customer_id,order_date,amount\na,2024-01-01,1\n")
    with pytest.raises(DataValidationError, match=r"holds no Parquet files.*or at one file"):
        load_transactions(tmp_path)


# --------------------------------------------------------------------------
# spend ledger and subscriptions
# --------------------------------------------------------------------------

def test_load_spend_sums_and_validates(tmp_path):
    text = "month,channel,kind,spend\n2024-01,search,acquisition,100\n2024-01,search,Acquisition,50\n" \
           "2024-02-15,social,retention,20\n"
    spend = load_spend(write_csv(tmp_path, text, "spend.csv"))
    assert spend["spend"].tolist() == [150.0, 20.0]
    assert [str(m) for m in spend["month"]] == ["2024-01", "2024-02"]


@pytest.mark.parametrize("row,pattern", [
    ("2024-01,search,brand,1", r"must be 'acquisition' or 'retention'.*line 2: 'brand'"),
    ("2024-01,search,acquisition,-5", r"non-negative numbers.*line 2"),
    ("Jan 24x,search,acquisition,5", r"not months.*line 2: 'Jan 24x'.*YYYY-MM"),
    ("2024-01,,acquisition,5", r"'channel' is empty"),
])
def test_load_spend_errors(tmp_path, row, pattern):
    with pytest.raises(DataValidationError, match=pattern):
        load_spend(write_csv(tmp_path, "month,channel,kind,spend\n" + row + "\n", "spend.csv"))


def test_load_subscriptions_end_before_start(tmp_path):
    text = ("subscription_id,customer_id,plan,start_date,end_date\ns1,a,basic,2024-01-01,2024-03-01\n"
            "s2,b,plus,2024-05-01,2024-02-01\n")
    with pytest.raises(DataValidationError, match=r"1 subscriptions end before they start \(line 3: 's2'\)"):
        load_subscriptions(write_csv(tmp_path, text, "subs.csv"))


def test_load_subscriptions_active_is_nat(tmp_path):
    text = "subscription_id,customer_id,plan,start_date,end_date,monthly_price\ns1,a,basic,2024-01-01,,9.5\n"
    subs = load_subscriptions(write_csv(tmp_path, text, "subs.csv"))
    assert subs["end_date"].isna().all() and subs["monthly_price"].tolist() == [9.5]
    assert np.issubdtype(subs["start_date"].dtype, np.datetime64)


def test_zero_amount_orders_are_kept_not_called_refunds(tmp_path):
    # CDNOW has $0 purchases; they are orders (activity), not refunds.
    text = "customer_id,order_date,amount\na,2024-01-01,0\na,2024-01-03,0.00\n"
    tx, ledger = load_transactions(write_csv(tmp_path, text))
    assert tx["amount"].tolist() == [0.0, 0.0] and ledger.dropped == {}


def test_duplicates_auto_depends_on_order_ids(tmp_path):
    no_ids = "customer_id,order_date,amount\na,2024-01-01,5\na,2024-01-01,5\n"
    tx, ledger = load_transactions(write_csv(tmp_path, no_ids))
    # two identical purchases on one day: summed into the customer-day order, not dropped
    assert tx["amount"].tolist() == [10.0] and ledger.policies["duplicates"] == "keep"
    with_ids = "order_id,customer_id,order_date,amount\no1,a,2024-01-01,5\no1,a,2024-01-01,5\n"
    tx, ledger = load_transactions(write_csv(tmp_path, with_ids))
    assert tx["amount"].tolist() == [5.0] and ledger.policies["duplicates"] == "drop"


@pytest.mark.parametrize("with_ids", [True, False])
def test_candidate_duplicate_check_equals_full_row_check(with_ids):
    """The loader looks for exact duplicates only among rows whose key repeats; same answer as pandas."""
    from relmkt_helpers.io import _exact_duplicates

    rng = np.random.default_rng(5)
    n = 3000
    raw = pd.DataFrame({
        "order_id": pd.array([None if v == 0 else f"o{v}" for v in rng.integers(0, 150, n)], dtype="string"),
        "customer_id": [f"c{v}" for v in rng.integers(0, 4, n)],
        "order_date": [f"2024-01-{d:02d}" for d in rng.integers(1, 4, n)],
        "amount": rng.integers(1, 3, n).astype(float),
    })
    codes = pd.factorize(raw["order_id"])[0] if with_ids else None
    got = _exact_duplicates(raw, codes, "customer_id", "order_date")
    want = raw.duplicated(keep="first")
    assert want.sum() > 50
    pd.testing.assert_series_equal(got, want, check_names=False)
