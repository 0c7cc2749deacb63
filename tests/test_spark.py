"""The Spark engine (issue 14): what Spark reads, and its errors, equal the other engines'.

The reductions and analyses on Spark are held to the pandas path's answers by the engine tests
(``tests/test_engine.py``, whose bundled-data fixture runs on DuckDB and on Spark) and by the
report test (``tests/test_report.py``). This file covers the inputs only Spark takes (a Spark
DataFrame, a table name, CSV read by Spark) and the errors. Spark runs in local mode, one
session for the whole test process.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from relmkt_helpers.config import resolve_input
from relmkt_helpers.engine import load_with_engine, open_orders, resolve_engine
from relmkt_helpers.errors import DataValidationError
from relmkt_helpers.io import load_transactions

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    from relmkt_helpers.engine.spark import local_spark

    return local_spark()


@pytest.fixture(scope="module")
def sample_raw():
    """The bundled sample shop's rows as a warehouse holds them: typed dates, text ids."""
    raw = pd.read_csv(resolve_input("sample"), dtype={"customer_id": str, "order_id": str})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).astype("datetime64[us]")
    return raw


def same(a: tuple, b: tuple) -> None:
    """Two (frame, ledger) pairs hold the same orders and the same ledger (sources aside)."""
    (ta, la), (tb, lb) = a, b
    key = ["order_id"]
    pd.testing.assert_frame_equal(ta.sort_values(key).reset_index(drop=True),
                                  tb.sort_values(key).reset_index(drop=True), rtol=1e-12)
    da, db = la.to_dict(), lb.to_dict()
    da.pop("source"), db.pop("source")
    assert da == db


def test_a_spark_dataframe_and_a_table_name(spark, sample_raw):
    want = load_transactions(sample_raw)
    frame = spark.createDataFrame(sample_raw)
    assert resolve_engine(frame) == "spark"
    same(want, load_with_engine(frame))
    frame.createOrReplaceTempView("relmkt_test_orders")
    got = load_with_engine("relmkt_test_orders", engine="spark")
    same(want, got)
    assert got.ledger.source == "table relmkt_test_orders"


def test_csv_read_by_spark_equals_the_pandas_reader():
    """The bundled CSV (gzipped, ISO dates) read by Spark: the same orders and ledger as the kit's CSV reader."""
    path = resolve_input("sample")
    want = load_transactions(path)
    got = load_with_engine(path, engine="spark")
    same(want, got)
    assert got.ledger.source == want.ledger.source


def test_a_bad_csv_row_gets_the_pandas_message(tmp_path):
    """Rows are named by their line in the file (the header is line 1), as the pandas reader names them."""
    lines = ["customer_id,order_date,amount"] + [f"c{i},2024-01-{i + 1:02d},{i + 1}.5" for i in range(9)]
    lines[6] = "c5,2024-01-06,twelve"
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as pandas_err:
        load_transactions(path)
    with pytest.raises(DataValidationError) as spark_err:
        load_with_engine(path, engine="spark")
    assert "line 7: 'twelve'" in str(pandas_err.value)
    assert str(spark_err.value) == str(pandas_err.value)


def test_a_folder_with_hive_partitions(tmp_path, sample_raw):
    for month, part in sample_raw.groupby(sample_raw["order_date"].dt.strftime("%Y-%m")):
        (tmp_path / f"month={month}").mkdir()
        part.to_parquet(tmp_path / f"month={month}" / "part-0.parquet", index=False)
    want = load_with_engine(tmp_path, engine="duckdb", keep_cols=["channel"])
    same(want, load_with_engine(tmp_path, engine="spark", keep_cols=["channel"]))


def test_missing_column_is_the_same_error(sample_raw, spark):
    frame = sample_raw.drop(columns=["amount"])
    with pytest.raises(DataValidationError) as pandas_err:
        load_transactions(frame)
    with pytest.raises(DataValidationError) as spark_err:
        load_with_engine(spark.createDataFrame(frame))
    assert "amount" in str(spark_err.value)
    assert str(spark_err.value).replace("<Spark DataFrame>", "<DataFrame>") == str(pandas_err.value)


def test_files_that_disagree_on_a_type_and_nanosecond_timestamps(tmp_path):
    """Disagreeing files are a clear error; pandas' nanosecond timestamps are read (Spark alone refuses them)."""
    for i, amount in enumerate([[1.0, 2.0], ["1.0", "x"]]):
        d = tmp_path / "lake" / f"part{i}"
        d.mkdir(parents=True)
        days = pd.to_datetime(["2024-01-01"] * 2).astype("datetime64[us]")
        pd.DataFrame({"customer_id": ["a", "b"], "order_date": days, "amount": amount}).to_parquet(d / "x.parquet")
    with pytest.raises(DataValidationError, match=r"disagree on the type of column 'amount'.*part0.*part1"):
        load_with_engine(tmp_path / "lake", engine="spark")
    nanos = tmp_path / "nanos.parquet"  # pandas' default unit, which Spark refuses unless read as numbers
    raw = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.0, 2.0],
                        "order_date": pd.to_datetime(["2024-01-01 23:59:59.999999999",
                                                      "1969-12-31 23:59:59.999999999"])})
    raw.to_parquet(nanos)
    same(load_transactions(raw), load_with_engine(nanos, engine="spark"))


def test_a_name_that_is_neither_a_file_nor_a_table():
    with pytest.raises(DataValidationError, match="neither a file or folder .* nor a table Spark knows"):
        load_with_engine("no_such_table", engine="spark")


def test_missing_java_says_so_in_one_line(tmp_path):
    """Without Java the command line stops before starting Spark, in one line that says what to install."""
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(tmp_path)  # no java on it
    proc = subprocess.run([sys.executable, "-m", "relmkt_helpers.cli", "validate", "--data", "sample",
                           "--engine", "spark"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, proc.stderr
    assert "Spark needs Java 17 or 21" in err[0] and "openjdk-17-jre-headless" in err[0]
    assert "--engine duckdb" in err[0]


EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "spark"


def test_the_spark_submit_example(tmp_path):
    """examples/spark/job.py under spark-submit (local[2] here, yarn or k8s on a cluster) reads the bundled CSV
    with Spark and writes the pandas path's cohort matrix."""
    import json

    import relmkt_helpers as rh

    import pyspark

    venv = Path(sys.executable).parent
    # as a user's activated virtual environment has it: its python first on PATH
    env = dict(os.environ, PATH=f"{venv}{os.pathsep}{os.environ.get('PATH', '')}", PYSPARK_PYTHON=sys.executable,
               SPARK_HOME=str(Path(pyspark.__file__).parent))
    out = tmp_path / "out"
    proc = subprocess.run([str(venv / "spark-submit"), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                           str(EXAMPLES / "job.py"), "--orders", str(resolve_input("sample")), "--as-of", "2025-03-31",
                           "--out", str(out)],
                          capture_output=True, text=True, timeout=480, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    tx, ledger = load_transactions(resolve_input("sample"), as_of="2025-03-31", after_as_of="drop")
    assert summary["orders"] == ledger.orders and summary["customers"] == ledger.customers
    want = rh.cohort_analysis(tx, as_of="2025-03-31").retention.matrix
    got = pd.read_csv(out / "retention.csv", index_col=0)
    assert got.shape == want.shape
    assert (got.fillna(-1).to_numpy() - want.fillna(-1).to_numpy()).max() < 1e-9


def test_the_existing_session_notebook(tmp_path, execute):
    """examples/spark/existing_session.ipynb runs (here on the kit's local session) and prints the ledger."""
    nb = execute(EXAMPLES / "existing_session.ipynb", tmp_path / "out.ipynb")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Spark 4." in text and "rows read" in text
