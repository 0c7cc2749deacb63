"""Inputs that real exports produce and that once escaped the data contract (issue 11, loader part).

Each test is one reported case, or one finding of the fuzzer (fuzz/fuzz_load.py): the loader returns the
canonical frame or raises ONE kit error whose message names the file, the column, the lines and the fix.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zipfile

import pandas as pd
import pytest

from relmkt_helpers import DataValidationError, ParameterError, RelmktError, load_transactions
from relmkt_helpers._messages import OPTION_FLAGS, SWITCH_FLAGS

HEADER = "customer_id,order_date,amount\n"
ROWS = "".join(f"c{i},2024-01-{i + 1:02d},{i + 1}.50\n" for i in range(200))
MESSAGES: list[str] = []  # every message a quirk produced: test_recommended_flags_exist checks their flags


def write(tmp_path, text: str | bytes, name: str = "tx.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def fails(exc_type, pattern: str, *args, **kwargs) -> str:
    with pytest.raises(exc_type, match=pattern) as err:
        load_transactions(*args, **kwargs)
    MESSAGES.append(str(err.value))
    return str(err.value)


# --- 1. damaged compressed files ---------------------------------------------------------------

def _compressed(kind: str, data: bytes) -> bytes:
    if kind == "gz":
        return gzip.compress(data)
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "xz":
        return lzma.compress(data)
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tx.csv", data)
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zip"])
@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_compressed_file_is_one_clear_error(tmp_path, kind, damage):
    data = _compressed(kind, (HEADER + ROWS * 50).encode())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        mid = len(data) // 2
        data = data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64]) + data[mid + 64:]
    msg = fails(DataValidationError, r"tx\.csv\.", write(tmp_path, data, f"tx.csv.{kind}"))
    assert "damaged or truncated" in msg or "could not be read" in msg
    assert "again" in msg


def test_truncated_gzip_names_the_fix(tmp_path):
    data = gzip.compress((HEADER + ROWS * 50).encode())[:-40]
    fails(DataValidationError, r"tx\.csv\.gz is a damaged or truncated compressed file.*download or export it again",
          write(tmp_path, data, "tx.csv.gz"))


# --- 2. trailing delimiter and unquoted thousands separators -------------------------------------

def test_trailing_delimiter_is_accepted(tmp_path):
    text = HEADER + "a,2024-01-01,5,\nb,2024-01-02,6,\n"
    tx, ledger = load_transactions(write(tmp_path, text))
    assert tx["customer_id"].tolist() == ["a", "b"] and tx["amount"].tolist() == [5.0, 6.0]
    assert ledger.rows_read == 2


def test_trailing_delimiter_in_header_too(tmp_path):
    text = "customer_id,order_date,amount,\na,2024-01-01,5,\n"
    tx, _ = load_transactions(write(tmp_path, text))
    assert tx["amount"].tolist() == [5.0]


@pytest.mark.parametrize("first_row_bad", [True, False])
def test_unquoted_thousands_separator_names_lines(tmp_path, first_row_bad):
    bad = "a,2024-01-01,1,234.50\n"
    good = "b,2024-01-02,6\n"
    text = HEADER + (bad + good if first_row_bad else good + bad)
    line = 2 if first_row_bad else 3
    msg = fails(DataValidationError, rf"tx\.csv: line\(s\) {line} have more fields than the header's 3.*"
                                     r"thousands separator.*quote the field", write(tmp_path, text))
    assert "trailing delimiter" in msg


def test_rows_have_their_own_line_numbers_not_the_first_column(tmp_path):
    text = HEADER + "a,2024-01-01,5,\nb,not-a-date,6,\n"
    fails(DataValidationError, r"'order_date' has 1 rows with a unparseable date \(line 3: 'not-a-date'\)",
          write(tmp_path, text))


# --- 3. dates pandas cannot hold ------------------------------------------------------------------

def test_year_after_2262_is_a_clear_error_and_droppable(tmp_path):
    text = HEADER + "a,2024-01-01,5\nb,2924-01-02,6\n"
    fails(DataValidationError, r"'order_date' has 1 rows with a date out of range \(line 3: '2924-01-02'\).*"
                               r"2262", write(tmp_path, text))
    tx, ledger = load_transactions(write(tmp_path, text), on_invalid="drop")
    assert tx["customer_id"].tolist() == ["a"] and ledger.dropped == {"date out of range": 1}
    ledger.check_balanced()


def test_datetime_column_past_2262_in_a_dataframe():
    raw = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
                        "order_date": pd.to_datetime(["2024-01-01", "3000-01-01"]).astype("datetime64[us]")})
    fails(DataValidationError, r"date out of range \(row 1", raw)


# --- 4. an empty path -------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["", "   ", None])
def test_empty_path_is_a_clear_error(source):
    fails(ParameterError, r"transactions: no file was given.*--data", source)


# --- 5. two columns with one name -------------------------------------------------------------------

def test_duplicate_header_names_are_an_error(tmp_path):
    text = "customer_id,amount,order_date,amount\na,1,2024-01-01,2\n"
    fails(DataValidationError, r"tx\.csv: the header has two columns named 'amount' \(columns 2 and 4\).*Rename one",
          write(tmp_path, text))


def test_duplicate_names_after_stripping_spaces(tmp_path):
    text = "customer_id,amount ,order_date, amount\na,1,2024-01-01,2\n"
    fails(DataValidationError, r"two columns named 'amount'", write(tmp_path, text))


def test_duplicate_labels_in_a_dataframe_and_parquet(tmp_path):
    raw = pd.DataFrame([["a", "2024-01-01", 1.0, 2.0]], columns=["customer_id", "order_date", "amount", "amount"])
    fails(DataValidationError, r"<DataFrame>: the DataFrame has two columns named 'amount' \(columns 3 and 4\)", raw)
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_arrays([pa.array(["a"]), pa.array(["2024-01-01"]), pa.array([1.0]), pa.array([2.0])],
                                 names=["customer_id", "order_date", "amount", "amount"])
    pq.write_table(table, tmp_path / "tx.parquet")
    fails(DataValidationError, r"tx\.parquet: the Parquet schema has two columns named 'amount'",
          tmp_path / "tx.parquet")


# --- 6. the date format is decided from the whole column -----------------------------------------

def _dated(dates: list[str]) -> str:
    return HEADER + "".join(f"c{i},{d},1\n" for i, d in enumerate(dates))


@pytest.mark.parametrize("dates,fmt,expected", [
    (["01/02/2024", "13/02/2024"], "%d/%m/%Y", ["2024-02-01", "2024-02-13"]),
    (["02/01/2024", "02/13/2024"], "%m/%d/%Y", ["2024-02-01", "2024-02-13"]),
    (["31.12.2024", "01.02.2024"], "%d.%m.%Y", ["2024-12-31", "2024-02-01"]),
    (["31-12-2024", "01-02-2024"], "%d-%m-%Y", ["2024-12-31", "2024-02-01"]),
    (["31/12/24", "01/02/24"], "%d/%m/%y", ["2024-12-31", "2024-02-01"]),
    (["31/12/2024 13:45", "01/02/2024 08:00:59"], "%d/%m/%Y", ["2024-12-31", "2024-02-01"]),
    (["12/31/2024 1:05 PM", "02/01/2024 11:59 AM"], "%m/%d/%Y", ["2024-12-31", "2024-02-01"]),
    (["2024/12/31", "2024/02/01"], "%Y/%m/%d", ["2024-12-31", "2024-02-01"]),
    (["20241231", "20240201"], "%Y%m%d", ["2024-12-31", "2024-02-01"]),
    (["2024-12-31T23:59:00", "2024-02-01"], "ISO 8601", ["2024-12-31", "2024-02-01"]),
])
def test_date_formats_exports_produce(tmp_path, dates, fmt, expected):
    tx, ledger = load_transactions(write(tmp_path, _dated(dates)))
    assert sorted(tx["order_date"].dt.strftime("%Y-%m-%d")) == sorted(expected)
    assert ledger.policies["date_format"] == fmt


def test_day_first_decided_from_a_late_row(tmp_path):
    # the reported export: the first 9,000 values fit both readings, a later one says day first
    dates = [f"{d:02d}/{m:02d}/2024" for m in range(1, 13) for d in range(1, 13)] * 20 + ["25/12/2024"]
    tx, ledger = load_transactions(write(tmp_path, _dated(dates)), on_invalid="drop")
    assert ledger.policies["date_format"] == "%d/%m/%Y" and ledger.dropped == {}
    assert tx["order_date"].max() == pd.Timestamp("2024-12-25")
    assert (tx["order_date"] == pd.Timestamp("2024-02-01")).sum() == 20  # "01/02/2024" is 1 February


def test_mixed_day_first_and_month_first_is_an_error(tmp_path):
    fails(DataValidationError, r"'order_date' mixes day-first and month-first dates: day first .*line 2: "
                               r"'25/12/2024'.*month first in line 3: '12/25/2024'.*--date-format",
          write(tmp_path, _dated(["25/12/2024", "12/25/2024"])))


def test_ambiguous_dates_ask_for_the_format(tmp_path):
    path = write(tmp_path, _dated(["01/02/2024", "03/04/2024"]))
    msg = fails(ParameterError, r"could be day first or month first", path)
    assert "date_format='%d/%m/%Y' (command line: --date-format '%d/%m/%Y')" in msg
    assert "--dayfirst" in msg and "--monthfirst" in msg
    tx, ledger = load_transactions(path, dayfirst=True)
    assert tx["order_date"].tolist() == [pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-03")]
    tx, _ = load_transactions(path, dayfirst=False)
    assert tx["order_date"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-03-04")]
    tx, ledger = load_transactions(path, date_format="%m/%d/%Y")
    assert ledger.policies["date_format"] == "%m/%d/%Y" and tx["order_date"].dt.month.tolist() == [1, 3]


def test_rows_that_fail_the_decided_format_are_named(tmp_path):
    fails(DataValidationError, r"1 rows with a unparseable date \(line 4: '2024-02-01'\).*decided as '%d/%m/%Y'",
          write(tmp_path, _dated(["31/12/2024", "13/01/2024", "2024-02-01"])))


def test_drop_refuses_to_drop_most_rows(tmp_path):
    dates = ["2024-01-05"] + ["05/01/2024"] * 3
    fails(DataValidationError, r"3 of 4 rows have a date .*more than half.*--date-format",
          write(tmp_path, _dated(dates + ["x"] * 0)), dayfirst=True, date_format="%Y-%m-%d", on_invalid="drop")


# --- 7/8. time zones ------------------------------------------------------------------------------------

def test_berlin_summer_and_winter_offsets_with_timezone(tmp_path):
    text = HEADER + ("a,2024-01-15T23:30:00+01:00,1\nb,2024-07-15T23:30:00+02:00,2\n"
                     "c,2024-03-31T00:30:00+01:00,3\nd,2024-10-26T22:30:00+00:00,4\n")
    fails(DataValidationError, r"mixes time zones.*timezone='Europe/London' \(command line: --timezone Europe/London\)",
          write(tmp_path, text))
    tx, ledger = load_transactions(write(tmp_path, text), timezone="Europe/Berlin")
    got = dict(zip(tx["customer_id"], tx["order_date"].dt.strftime("%Y-%m-%d")))
    # 22:30 UTC on 26 October is 00:30 on 27 October in Berlin (summer time ends on the 27th)
    assert got == {"a": "2024-01-15", "b": "2024-07-15", "c": "2024-03-31", "d": "2024-10-27"}
    assert ledger.policies["timezone"] == "Europe/Berlin"


# --- semicolons, encodings, blank lines -----------------------------------------------------------

def test_semicolon_file_is_read_and_recorded(tmp_path):
    text = "customer_id;order_date;amount\na;31.12.2024;5\nb;01.02.2024;6.5\n"
    tx, ledger = load_transactions(write(tmp_path, text))
    assert tx["amount"].tolist() == [6.5, 5.0] and ledger.policies["delimiter"] == ";"


def test_windows_1252_file_is_read(tmp_path):
    text = "customer_id,order_date,amount,city\nMüller,2024-01-01,5,Köln €\n"
    tx, ledger = load_transactions(write(tmp_path, text.encode("cp1252")))
    assert tx["customer_id"].tolist() == ["Müller"] and tx["city"].tolist() == ["Köln €"]
    assert ledger.policies["encoding"] == "cp1252"


def test_blank_lines_are_not_rows_and_lines_stay_physical(tmp_path):
    text = HEADER + "\n\na,2024-01-01,5\r\n,,\nb,bad,6\n"
    fails(DataValidationError, r"line 6: 'bad'", write(tmp_path, text))
    _, ledger = load_transactions(write(tmp_path, text), on_invalid="drop")
    assert ledger.rows_read == 2 and ledger.dropped == {"unparseable date": 1}


def test_gzip_named_csv_says_what_it_is(tmp_path):
    fails(DataValidationError, r"binary file.*gzip-compressed.*\.csv\.gz",
          write(tmp_path, gzip.compress((HEADER + ROWS).encode())))


# --- 7. every recommended flag exists -------------------------------------------------------------------

def test_recommended_flags_exist_in_the_command_line():
    from relmkt_helpers.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    table = set(OPTION_FLAGS.values()) | set(SWITCH_FLAGS.values())
    for msg in MESSAGES:  # filled by the tests above (this test runs last in the file)
        table |= set(re.findall(r"command line: (--[a-z-]+)", msg))
    assert len(table) >= 10
    for command in ("validate", "report"):
        flags = {opt for action in subs[command]._actions for opt in action.option_strings}
        missing = sorted(table - flags)
        assert not missing, f"relmkt {command} lacks {missing}, which the loader's messages recommend"
