"""The canonical Parquet file: save_canonical / is_canonical and load_transactions' fast path."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from relmkt_helpers import DataValidationError, ParameterError, is_canonical, load_transactions, save_canonical
from relmkt_helpers.io import CANONICAL_KEY

RAW = """order_id,customer_id,order_date,amount,channel
o1,007,2024-01-03,10.0,search
o1,007,2024-01-03,5.0,search
o2,008,2024-01-05,-3.0,social
o2,008,2024-01-04,8.0,social
o3,007,2024-02-10,7.5,search
o4,009,2024-03-01,4.0,email
o4,009,2024-03-01,4.0,email
"""


@pytest.fixture()
def source(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text(RAW)
    return path


def test_round_trip_keeps_frame_ledger_and_extra_columns(tmp_path, source):
    tx, ledger = load_transactions(source)
    path = save_canonical(tx, ledger, tmp_path / "tx.parquet")
    assert is_canonical(path) and not is_canonical(source)
    tx2, ledger2 = load_transactions(path)
    pd.testing.assert_frame_equal(tx2, tx)
    assert tx2["customer_id"].tolist() == ["007", "008", "007", "009"]  # leading zeros kept
    # the ledger is the one of the original load, naming the original source
    expected = ledger.to_dict()
    got = ledger2.to_dict()
    assert got.pop("policies") == {**expected.pop("policies"), "loaded_from": "canonical file"}
    assert got == expected
    assert ledger2.source.endswith("raw.csv") and ledger2.dropped == {"exact duplicate row": 1}
    assert ledger2.refund_rows_netted == 1
    ledger2.check_balanced()


def test_loading_is_validation_free_but_as_of_beyond_the_data_is_fine(tmp_path, source):
    tx, ledger = load_transactions(source, as_of="2024-02-29", after_as_of="drop")
    path = save_canonical(tx, ledger, tmp_path / "feb.parquet")
    tx2, ledger2 = load_transactions(path, as_of="2024-02-29")  # the same date: nothing to cut
    assert len(tx2) == len(tx) == 3 and ledger2.dropped == ledger.dropped
    tx3, _ = load_transactions(path, as_of="2030-01-01")
    assert len(tx3) == 3


def test_cutting_at_an_earlier_date_is_refused_with_the_fix(tmp_path, source):
    tx, ledger = load_transactions(source)
    path = save_canonical(tx, ledger, tmp_path / "tx.parquet")
    with pytest.raises(DataValidationError, match=r"orders run to 2024-03-01; 2 are dated after as_of 2024-01-31.*"
                                                  r"load the source file with this as_of"):
        load_transactions(path, as_of="2024-01-31", after_as_of="drop")


def test_column_mapping_is_rejected_with_the_fix(tmp_path, source):
    tx, ledger = load_transactions(source)
    path = save_canonical(tx, ledger, tmp_path / "tx.parquet")
    with pytest.raises(ParameterError, match=r"canonical relmkt file.*customer_col='client'.*defaults"):
        load_transactions(path, customer_col="client")
    tx2, _ = load_transactions(path, order_col="order_id")  # naming the canonical column is fine
    assert len(tx2) == len(tx)


def test_keep_cols_selects_extra_columns(tmp_path, source):
    tx, ledger = load_transactions(source)
    path = save_canonical(tx, ledger, tmp_path / "tx.parquet")
    tx2, _ = load_transactions(path, keep_cols=[])
    assert tx2.columns.tolist() == ["customer_id", "order_date", "amount", "order_id"]


def test_other_format_version_is_named(tmp_path, source):
    tx, ledger = load_transactions(source)
    path = save_canonical(tx, ledger, tmp_path / "tx.parquet")
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    info = json.loads(meta[CANONICAL_KEY])
    meta[CANONICAL_KEY] = json.dumps({**info, "version": 99}).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    with pytest.raises(DataValidationError, match=r"canonical format 99.*save_canonical it"):
        load_transactions(path)


def test_plain_parquet_goes_through_full_validation(tmp_path, source):
    raw = pd.read_csv(source, dtype={"customer_id": "str"})
    raw.to_parquet(tmp_path / "plain.parquet")
    assert not is_canonical(tmp_path / "plain.parquet")
    tx, ledger = load_transactions(tmp_path / "plain.parquet")
    assert ledger.rows_read == 7 and "loaded_from" not in ledger.policies
    assert not is_canonical(tmp_path / "missing.parquet")


def test_save_canonical_needs_the_loader_output(tmp_path):
    with pytest.raises(ParameterError, match="lacks"):
        save_canonical(pd.DataFrame({"a": [1]}), None, tmp_path / "x.parquet")
