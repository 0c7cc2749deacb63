"""relmkt_helpers.save_table: the report's CSV lists read back exactly and are byte-stable."""
from __future__ import annotations

import numpy as np
import pandas as pd

from relmkt_helpers import save_table


def test_round_trip_of_every_column_kind(tmp_path):
    t = pd.DataFrame({
        "clv": [12.5, 0.1 + 0.2, np.nan],
        "orders": [3, 0, 7],
        "vip": [True, False, True],
        "segment": pd.Categorical(["champions", "at risk", "champions"]),
        "first_order": pd.to_datetime(["2024-01-02", "2024-02-03", None]),
        "seen_at": pd.to_datetime(["2024-01-02 10:30", "2024-02-03 00:00", "2024-02-04 00:00"]),
        "channel": pd.array(["search", None, 'say "hi", ok'], dtype="string"),
    }, index=pd.Index(["007", "c2", "c3"], name="customer_id"))
    path = save_table(t, tmp_path, "list.csv")
    text = path.read_text()
    assert text.splitlines()[0].startswith('"customer_id","clv"')
    assert "2024-01-02," in text and "2024-01-02 10:30:00" in text  # dates without a time stay dates
    back = pd.read_csv(path, dtype={"customer_id": "string"}, parse_dates=["first_order", "seen_at"]
                       ).set_index("customer_id")
    assert back.index.tolist() == ["007", "c2", "c3"]  # leading zeros kept
    np.testing.assert_array_equal(back["clv"].to_numpy(), t["clv"].to_numpy())  # exact, NaN included
    assert back["orders"].tolist() == [3, 0, 7] and back["vip"].tolist() == [True, False, True]
    assert back["segment"].tolist() == ["champions", "at risk", "champions"]
    assert back["first_order"].tolist()[:2] == t["first_order"].tolist()[:2] and pd.isna(back["first_order"].iloc[2])
    assert back["channel"].iloc[2] == 'say "hi", ok' and pd.isna(back["channel"].iloc[1])


def test_plain_range_index_is_not_written_but_a_named_one_is(tmp_path):
    plain = pd.DataFrame({"a": [1, 2]})
    assert save_table(plain, tmp_path, "p.csv").read_text().splitlines()[0] == '"a"'
    named = plain.rename_axis("rank")
    assert save_table(named, tmp_path, "n.csv").read_text().splitlines()[0] == '"rank","a"'
    assert save_table(named, tmp_path, "f.csv", index=False).read_text().splitlines()[0] == '"a"'


def test_same_table_same_bytes(tmp_path):
    rng = np.random.default_rng(0)
    t = pd.DataFrame({"x": rng.normal(size=1000).round(6), "y": rng.integers(0, 9, 1000)})
    a = save_table(t, tmp_path / "a", "t.csv").read_bytes()
    b = save_table(t.copy(), tmp_path / "b", "t.csv").read_bytes()
    assert a == b


def test_parquet_copy_beside_the_csv_reads_back_typed(tmp_path):
    import pyarrow.parquet as pq

    t = pd.DataFrame({"clv": [12.5, np.nan], "seen_at": pd.to_datetime(["2024-01-02 10:30", "2024-02-03 00:00"])},
                     index=pd.Index(["007", "c2"], name="customer_id"))
    save_table(t, tmp_path, "list.csv")
    back = pd.read_parquet(tmp_path / "list.parquet").set_index("customer_id")
    assert back.index.tolist() == ["007", "c2"]
    np.testing.assert_array_equal(back["clv"].to_numpy(), t["clv"].to_numpy())
    assert back["seen_at"].tolist() == t["seen_at"].tolist()
    # microseconds, not pandas' nanoseconds: Spark refuses TIMESTAMP(NANOS) columns (issue 14)
    assert pq.read_schema(tmp_path / "list.parquet").field("seen_at").type.unit == "us"
    save_table(t, tmp_path, "csv_only.csv", parquet=False)
    assert not (tmp_path / "csv_only.parquet").exists()
