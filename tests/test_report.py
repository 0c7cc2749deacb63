"""The report runner: a small report end to end, atomicity, failures and bad input."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from relmkt_helpers import DataValidationError, ParameterError, ReportError, config
from relmkt_helpers.kpis import month_metrics
from relmkt_helpers.io import load_transactions
from relmkt_helpers.report import build_report, discover_notebooks

pytestmark = pytest.mark.slow

OVERVIEW = config.NOTEBOOKS_DIR / "00_data_overview.ipynb"


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> Path:
    """The first 2,000 orders of the bundled sample shop (Jan-Mar 2023)."""
    folder = tmp_path_factory.mktemp("data")
    raw = pd.read_csv(config.SAMPLE_TRANSACTIONS, dtype={"customer_id": "str", "order_id": "str"})
    raw = raw[raw["order_date"] < "2023-04-01"]
    path = folder / "tx.csv"
    raw.to_csv(path, index=False)
    return path


def failing_notebook(folder: Path) -> Path:
    nb = new_notebook(cells=[
        new_markdown_cell("# Always fails"),
        new_code_cell('month: str = ""  # month', metadata={"tags": ["parameters"]}),
        new_code_cell("x = 1"),
        new_code_cell("raise RuntimeError('boom in the analysis')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "01_always_fails.ipynb"
    nbformat.write(nb, path)
    return path


def test_discover_notebooks_is_sorted_and_skips_subfolders():
    names = [p.name for p in discover_notebooks()]
    assert names == sorted(names) and names[0] == "00_data_overview.ipynb"
    assert all("/" not in n and n[:2].isdigit() for n in names)


def test_small_report_end_to_end(tmp_path, small_data):
    result = build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    folder = tmp_path / "2023-02"
    assert result.path == folder and result.index == folder / "index.html"
    for name in ("index.html", "00_data_overview.html", "00_data_overview.ipynb", "metrics.json"):
        assert (folder / name).is_file(), name
    metrics = json.loads((folder / "metrics.json").read_text())
    # headline numbers equal an independent computation on the data cut at 28 February
    tx, _ = load_transactions(small_data, as_of="2023-02-28", after_as_of="drop")
    expected = month_metrics(tx, "2023-02")
    for key in ("customers_active", "customers_new", "orders", "retention_rate_prev_month",
                "repeat_purchase_rate"):
        assert metrics[key] == pytest.approx(expected[key]), key
    assert metrics["revenue"] == pytest.approx(expected["revenue"], rel=1e-9)
    assert metrics["month"] == "2023-02" and metrics["as_of"] == "2023-02-28"
    raw_rows = sum(1 for _ in open(small_data)) - 1
    assert metrics["rows_read"] == raw_rows
    assert metrics["rows_used"] == raw_rows - metrics["rows_dropped"]["dated after as_of 2023-02-28"]
    assert metrics["analyses"]["00_data_overview"]["data_last_date"] == "2023-02-28"
    index = (folder / "index.html").read_text()
    assert 'href="00_data_overview.html"' in index and f"{metrics['customers_active']:,}" in index
    assert 'href="index.html"' in (folder / "00_data_overview.html").read_text()  # way back from each page
    for img in folder.glob("img/*.png"):
        assert f'src="img/{img.name}"' in index
    assert list(folder.glob("img/*.png")), "headline charts are copied next to index.html"
    # no temporary folders left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-02"]


def test_code_hidden_unless_asked(tmp_path, small_data):
    build_report(small_data, month="2023-02", out_dir=tmp_path / "a", notebooks=[OVERVIEW], progress=False)
    build_report(small_data, month="2023-02", out_dir=tmp_path / "b", notebooks=[OVERVIEW], progress=False,
                 with_code=True)
    hidden = (tmp_path / "a" / "2023-02" / "00_data_overview.html").read_text()
    shown = (tmp_path / "b" / "2023-02" / "00_data_overview.html").read_text()
    assert "load_month_table" not in hidden and "load_month_table" in shown
    assert "injected-parameters" not in shown  # plumbing stays hidden
    assert "cdnjs" not in hidden and 'src="http' not in hidden  # readable offline


def test_rerun_gives_identical_metrics(tmp_path, small_data):
    first = build_report(small_data, month="2023-03", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    before = (first.path / "metrics.json").read_bytes()
    second = build_report(small_data, month="2023-03", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert (second.path / "metrics.json").read_bytes() == before


def test_failed_notebook_keeps_good_report_and_names_the_cell(tmp_path, small_data):
    good = build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    good_metrics = (good.path / "metrics.json").read_bytes()
    good_files = sorted(p.name for p in good.path.iterdir())
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    bad = failing_notebook(nb_dir)
    with pytest.raises(ReportError) as err:
        build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW, bad], progress=False)
    msg = str(err.value)
    assert "01_always_fails.ipynb failed in cell" in msg and "boom in the analysis" in msg
    assert "2023-02.failed" in msg
    # the good report is untouched, the failed run's notebooks are kept beside it
    assert (good.path / "metrics.json").read_bytes() == good_metrics
    assert sorted(p.name for p in good.path.iterdir()) == good_files
    failed = tmp_path / "2023-02.failed"
    executed = nbformat.read(failed / "01_always_fails.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in executed.cells for o in c.get("outputs", []))
    assert not list(tmp_path.glob(".2023-02.*"))


def test_unknown_parameter_rejected_before_anything_runs(tmp_path, small_data):
    with pytest.raises(ParameterError, match=r"unknown notebook parameter\(s\): histroy_months.*history_months"):
        build_report(small_data, out_dir=tmp_path, notebooks=[OVERVIEW], params={"histroy_months": 12},
                     progress=False)
    with pytest.raises(ParameterError, match=r"data_path is set by the runner"):
        build_report(small_data, out_dir=tmp_path, notebooks=[OVERVIEW], params={"data_path": "x"},
                     progress=False)
    assert list(tmp_path.iterdir()) == []


def test_declared_parameter_reaches_the_notebook(tmp_path, small_data):
    result = build_report(small_data, month="2023-03", out_dir=tmp_path, notebooks=[OVERVIEW],
                          params={"history_months": 2}, progress=False)
    nb = nbformat.read(result.path / "00_data_overview.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "history_months = 2" in injected[0].source


@pytest.mark.parametrize("month,pattern", [
    ("2030-01", r"month 2030-01 is outside the data"),
    ("March", r"'March' is not of the form YYYY-MM"),
])
def test_bad_month_leaves_nothing(tmp_path, small_data, month, pattern):
    with pytest.raises(ParameterError, match=pattern):
        build_report(small_data, month=month, out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unreadable_data_leaves_nothing(tmp_path):
    bad = tmp_path / "tx.csv"
    bad.write_text("customer_id,order_date,amount\na,2024-01-01,abc\n")
    out = tmp_path / "out"
    with pytest.raises(DataValidationError, match=r"non-numeric amount"):
        build_report(bad, out_dir=out, notebooks=[OVERVIEW], progress=False)
    assert not out.exists()


def test_spend_ledger_must_overlap_the_data(tmp_path, small_data):
    spend = tmp_path / "spend.csv"
    spend.write_text("month,channel,kind,spend\n2030-01,search,acquisition,100\n")
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=r"covers 2030-01 .. 2030-01, which does not overlap"):
        build_report(small_data, spend_path=spend, out_dir=out, notebooks=[OVERVIEW], progress=False)
    assert not out.exists()


def test_report_month_defaults_to_last_complete_month(tmp_path, small_data):
    # the small extract ends on 31 March 2023
    result = build_report(small_data, out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert result.month == "2023-03"


def test_existing_report_replaced_only_by_success(tmp_path, small_data):
    first = build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    marker = first.path / "stale.txt"
    marker.write_text("from an older run")
    build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert not marker.exists()  # replaced whole, not merged
    shutil.rmtree(tmp_path / "2023-02")


def test_batch_writes_every_month(tmp_path, small_data):
    from relmkt_helpers.report import build_reports

    results = build_reports(small_data, start="2023-01", end="2023-03", out_dir=tmp_path, notebooks=[OVERVIEW],
                            progress=False)
    assert [r.month for r in results] == ["2023-01", "2023-02", "2023-03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-01", "2023-02", "2023-03"]
    jan = json.loads((tmp_path / "2023-01" / "metrics.json").read_text())
    feb = json.loads((tmp_path / "2023-02" / "metrics.json").read_text())
    assert feb["previous_month"]["customers_active"] == jan["customers_active"]


@pytest.mark.parametrize("start,end,pattern", [
    ("2023-03", "2023-01", r"--from 2023-03 is after --to 2023-01"),
    ("2022-11", "2023-02", r"month 2022-11 is outside the data"),
    ("2023-01", "2024-05", r"month 2024-05 is outside the data"),
    ("2023-1", "2023-02", r"--from '2023-1' is not of the form YYYY-MM"),
])
def test_batch_bad_ranges_write_nothing(tmp_path, small_data, start, end, pattern):
    from relmkt_helpers.report import build_reports

    with pytest.raises(ParameterError, match=pattern):
        build_reports(small_data, start=start, end=end, out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert list(tmp_path.iterdir()) == []


def test_notebooks_read_the_validated_canonical_copy_and_it_is_removed(tmp_path, small_data, monkeypatch):
    """The data is validated once by the runner; notebooks load its canonical copy (the ledger
    they print still names the source) and the copy is deleted, also after a failed run."""
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    result = build_report(small_data, month="2023-02", out_dir=tmp_path / "out", notebooks=[OVERVIEW],
                          progress=False)
    nb = nbformat.read(result.path / "00_data_overview.ipynb", as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "relmkt-report-" in injected.source and "transactions.parquet" in injected.source
    printed = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for c in nb.cells
                      for o in c.get("outputs", []))
    assert f"{small_data.name} (validated once by the report runner)" in printed
    assert list(scratch.iterdir()) == []
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    with pytest.raises(ReportError):
        build_report(small_data, month="2023-02", out_dir=tmp_path / "out", notebooks=[failing_notebook(nb_dir)],
                     progress=False)
    assert list(scratch.iterdir()) == []


def test_a_rendering_failure_fails_cleanly(tmp_path, small_data, monkeypatch):
    import relmkt_helpers.report.render as render

    def broken(*args, **kwargs):
        raise RuntimeError("no HTML today")

    monkeypatch.setattr(render, "render_page", broken)
    with pytest.raises(ReportError, match="rendering the HTML pages failed: RuntimeError: no HTML today"):
        build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2023-02.failed"]


def test_executed_notebooks_rerun_as_they_stand_from_the_source(tmp_path, small_data):
    """A report's notebook names the source data, not only the runner's temporary copy: re-run later
    (the copy is gone), it reads the source with the same options and shows the same figures."""
    from conftest import execute

    result = build_report(small_data, month="2023-02", out_dir=tmp_path, notebooks=[OVERVIEW], progress=False)
    executed = result.path / "00_data_overview.ipynb"
    injected = next(c for c in nbformat.read(executed, as_version=4).cells
                    if "injected-parameters" in c.metadata.get("tags", []))
    assert f'data_path = "{small_data}"' in injected.source and "prepared_path" in injected.source
    rerun = tmp_path / "rerun.ipynb"
    execute(executed, rerun, cwd=OVERVIEW.parent)  # as it stands: no parameters passed

    def shown(path):
        nb = nbformat.read(path, as_version=4)
        return [o.get("text", "") + o.get("data", {}).get("text/plain", "")
                for c in nb.cells if "NBVAL_CHECK_OUTPUT" in c.source for o in c.outputs]

    assert shown(rerun) == shown(executed) and shown(rerun)
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   for c in nbformat.read(rerun, as_version=4).cells for o in c.get("outputs", []))
    assert f"Source: {small_data}. Rules applied" in text  # it really read the source, not the removed copy
    assert "validated once by the report runner" not in text


def test_report_from_a_parquet_folder_equals_the_csv_report(tmp_path, small_data):
    """Issue 13: a hive-partitioned Parquet folder is read by the engine and gives the same report."""
    raw = pd.read_csv(small_data, dtype={"customer_id": "str", "order_id": "str"})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).astype("datetime64[us]")
    lake = tmp_path / "lake"
    for month, part in raw.groupby(raw["order_date"].dt.strftime("%Y-%m")):
        (lake / f"month={month}").mkdir(parents=True)
        part.to_parquet(lake / f"month={month}" / "part-0.parquet", index=False)
    a = build_report(small_data, month="2023-02", out_dir=tmp_path / "csv", notebooks=[OVERVIEW], progress=False)
    b = build_report(lake, month="2023-02", out_dir=tmp_path / "lake_out", notebooks=[OVERVIEW], progress=False,
                     memory_limit="1GB")
    ma = json.loads((a.path / "metrics.json").read_text())
    mb = json.loads((b.path / "metrics.json").read_text())
    for key in ("customers_active", "customers_new", "orders", "revenue", "rows_read", "rows_used",
                "retention_rate_prev_month", "repeat_purchase_rate", "average_order_value"):
        assert mb[key] == pytest.approx(ma[key], rel=1e-12), key
    assert mb["significance"].keys() == ma["significance"].keys() and ma["significance"]
    for key, noise in ma["significance"].items():
        assert mb["significance"][key] == pytest.approx(noise, rel=1e-9), key


ENGINE_PAGES = [config.NOTEBOOKS_DIR / name for name in ("01_cohort_retention.ipynb", "02_churn_modelling.ipynb",
                                                        "03_customer_lifetime_value.ipynb",
                                                        "04_acquisition_vs_retention.ipynb")]


def _engine_report(path: Path, out: Path, engine: str):
    return build_report(path, month="2025-06", out_dir=out, notebooks=ENGINE_PAGES, progress=False, engine=engine,
                        params={"n_bootstrap": 0})


@pytest.fixture(scope="module")
def pandas_pages(tmp_path_factory):
    """The sample shop as a typed Parquet file, and the four analysis pages run on it by pandas."""
    root = tmp_path_factory.mktemp("engine_pages")
    raw = pd.read_csv(config.SAMPLE_TRANSACTIONS, dtype={"customer_id": "str", "order_id": "str"})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).astype("datetime64[us]")
    path = root / "shop.parquet"
    raw.to_parquet(path, index=False)
    return path, _engine_report(path, root / "pandas", "pandas")


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_pages_that_run_in_the_engine_give_the_same_results(tmp_path, pandas_pages, engine):
    """With --engine duckdb (or spark) every analysis notebook keeps the orders in the engine; the figures and
    lists equal the pandas run's (on this shop bit for bit after metrics.json's rounding to 10 significant
    digits)."""
    path, want = pandas_pages
    runs = {"pandas": want, engine: _engine_report(path, tmp_path / engine, engine)}
    for name, result in runs.items():
        for page in ENGINE_PAGES:
            cells = nbformat.read(result.path / page.name, as_version=4).cells
            injected = next(c.source for c in cells if "injected-parameters" in c.metadata.get("tags", []))
            assert (f'load_options = {{"engine": "{engine}"}}' in injected) == (name == engine), injected
    for name in ("customer_value.csv", "vip_list.csv", "retention_priority.csv"):
        a = pd.read_csv(runs["pandas"].path / name)
        b = pd.read_csv(runs[engine].path / name)
        pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    ma = json.loads((runs["pandas"].path / "metrics.json").read_text())
    mb = json.loads((runs[engine].path / "metrics.json").read_text())
    flat = json.dumps(ma)
    # every page's figures are compared
    assert all(f'"{key}"' in flat for key in ("retention_period_1", "churn_model", "clv_model", "retention_verdict"))
    assert mb == ma


@pytest.mark.parametrize("engine", ["pandas", "duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def test_typo_dates_stop_the_report_on_either_engine(tmp_path, small_data, engine):
    """A last month set by one order dated 2205 is the same clear error whichever engine reads the file."""
    raw = pd.read_csv(small_data, dtype={"customer_id": "str", "order_id": "str"})
    raw["order_date"] = pd.to_datetime(raw["order_date"]).astype("datetime64[us]")
    typo = raw.iloc[[0]].assign(order_date=pd.Timestamp("2205-03-02"), order_id="typo-1")
    path = tmp_path / "typo.parquet"
    pd.concat([raw, typo]).to_parquet(path, index=False)
    with pytest.raises(DataValidationError) as err:
        build_report(path, out_dir=tmp_path / "out", notebooks=[OVERVIEW], progress=False, engine=engine)
    message = str(err.value)
    assert "only because of 1 order(s) dated long after the rest, which ends in 2023-03" in message
    assert "order 'typo-1'" in message and "--as-of 2023-03-31" in message
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
