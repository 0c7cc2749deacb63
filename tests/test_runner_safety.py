"""The runner under abuse: bad options fail before any work, nothing waits forever, nothing is left behind.

Issue 11: a scheduler stops runs with SIGTERM, kills them outright, runs two at once, and points
``--out`` at the wrong place; every one of those must end cleanly.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from relmkt_helpers import DataValidationError, ParameterError, ReportError, config
from relmkt_helpers.cli import build_parser, main
from relmkt_helpers.kpis import load_month, parse_month
from relmkt_helpers.report import _fs, build_report
from relmkt_helpers.report.plan import resolve_user_params


def write_notebook(folder: Path, name: str, *cells: str, params: str = 'month: str = ""  # month') -> Path:
    nb = new_notebook(cells=[new_markdown_cell(f"# {name}"), new_code_cell(params, metadata={"tags": ["parameters"]}),
                             *[new_code_cell(c) for c in cells]])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    """Sample-shop orders of Jan-Mar 2023 (a few hundred customers)."""
    raw = pd.read_csv(config.SAMPLE_TRANSACTIONS, dtype={"customer_id": "str", "order_id": "str"})
    path = tmp_path_factory.mktemp("data") / "tx.csv"
    raw[raw["order_date"] < "2023-04-01"].to_csv(path, index=False)
    return path


# --- options checked before anything is read ---------------------------------------------------

@pytest.mark.parametrize("month,pattern", [("2024-13", "is not a month"), ("2024-00", "is not a month"),
                                           ("24-01", "not of the form YYYY-MM"), ("", "not of the form")])
def test_parse_month_rejects_impossible_months(month, pattern):
    with pytest.raises(ParameterError, match=pattern):
        parse_month(month)


def test_cli_bad_month_is_one_line_not_a_traceback(tmp_path, capsys):
    assert main(["report", "--data", "sample", "--out", str(tmp_path), "--month", "2024-13", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relmkt: error: --month '2024-13' is not a month") and "Traceback" not in err
    assert main(["report", "--data", "sample", "--out", str(tmp_path), "--from", "2024-01", "--to", "2024-13",
                 "--no-progress"]) == 2
    assert "--to '2024-13' is not a month" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_out_naming_a_file_fails_before_the_data_is_read(tmp_path, capsys):
    out = tmp_path / "report.html"
    out.write_text("not a folder")
    bad_data = tmp_path / "tx.csv"
    bad_data.write_text("customer_id,order_date,amount\na,2024-01-01,abc\n")  # would fail validation
    assert main(["report", "--data", str(bad_data), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"--out {out} is a file, not a folder" in err and "non-numeric" not in err
    assert out.read_text() == "not a folder"


def test_out_that_cannot_be_written_fails_before_the_data_is_read(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad_data = tmp_path / "tx.csv"
    bad_data.write_text("customer_id,order_date,amount\na,2024-01-01,abc\n")
    for out in (blocker / "reports", Path("/proc/relmkt-cannot-write-here")):
        assert main(["report", "--data", str(bad_data), "--out", str(out), "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "cannot be written" in err and "non-numeric" not in err, err


def test_empty_data_argument(capsys):
    for cmd in (["validate", "--data", ""], ["report", "--data", "", "--no-progress"]):
        assert main(cmd) == 2
        assert "--data is empty" in capsys.readouterr().err


def test_every_option_a_runner_message_recommends_exists():
    """Messages name command-line options; each must be one the parser knows."""
    import re

    from relmkt_helpers import kpis
    from relmkt_helpers.report import _fs as fs, plan, runner

    parser = build_parser()
    known = {opt for action in parser._subparsers._group_actions[0].choices["report"]._actions
             for opt in action.option_strings}
    text = "".join(Path(m.__file__).read_text() for m in (kpis, fs, plan, runner))
    recommended = set(re.findall(r"(?<!papermill )(--[a-z][a-z-]+)", text)) - {"--help"}  # not papermill's own
    assert recommended and recommended <= known, sorted(recommended - known)


def test_report_accepts_every_validate_contract_option():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices
    opts = {name: {o for a in sub[name]._actions for o in a.option_strings} for name in ("report", "validate")}
    contract = {"--as-of", "--drop-after-as-of", "--on-invalid", "--refunds", "--duplicates", "--date-format",
                "--dayfirst", "--monthfirst", "--timezone", "--customer-col", "--date-col", "--amount-col",
                "--order-col"}
    assert contract <= opts["report"] and contract <= opts["validate"]


# --- parameters that cannot collide -----------------------------------------------------------

DECLARED = {
    "02_churn": {"margin": {"inferred_type_name": "float", "help": "share of revenue"},
                 "model": {"inferred_type_name": "str", "help": "repeat-purchase model"}},
    "03_clv": {"model": {"inferred_type_name": "str", "help": "repeat-purchase model"}},
    "04_econ": {"margin": {"inferred_type_name": "float", "help": "money per customer-year"}},
}


def test_a_name_with_two_meanings_must_be_targeted():
    with pytest.raises(ParameterError, match=r"-p margin means different things.*-p 02\.margin VALUE"):
        resolve_user_params({"margin": 0.3}, DECLARED)
    assert resolve_user_params({"02.margin": 0.3, "04_econ.margin": 40}, DECLARED) == {
        "02_churn": {"margin": 0.3}, "03_clv": {}, "04_econ": {"margin": 40}}
    assert resolve_user_params({"model": "pnbd"}, DECLARED)["03_clv"] == {"model": "pnbd"}
    assert resolve_user_params({"03.model": "pnbd"}, DECLARED)["02_churn"] == {}


@pytest.mark.parametrize("params,pattern", [
    ({"07.model": "x"}, r"there is no notebook 07"),
    ({"03.margin": 1}, r"notebook 03_clv does not declare 'margin'"),
    ({"modle": "x"}, r"unknown notebook parameter\(s\): modle"),
    ({"02.data_path": "x"}, r"data_path is set by the runner"),
])
def test_bad_targets(params, pattern):
    with pytest.raises(ParameterError, match=pattern):
        resolve_user_params(params, DECLARED)


def test_bundled_notebooks_give_shared_names_one_meaning():
    """A -p name declared by several report notebooks must mean the same in each (else it errors)."""
    from relmkt_helpers.report import discover_notebooks, notebook_parameters
    from relmkt_helpers.report.plan import RUNNER_PARAMETERS

    declared = {p.stem: notebook_parameters(p) for p in discover_notebooks()}
    names = set().union(*map(set, declared.values())) - set(RUNNER_PARAMETERS)
    resolve_user_params({n: 1 for n in names}, declared)  # raises on any collision


# --- checks that can fail early do --------------------------------------------------------------

@pytest.mark.slow
def test_too_few_customers_fails_before_any_notebook_runs(tmp_path, small_csv):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    first = write_notebook(nbs, "00_first.ipynb", "open('ran', 'w').write('x')")
    needy = write_notebook(nbs, "01_needy.ipynb", "pass",
                           params='month: str = ""  # month\nmin_customers: int = 100000  # fewest customers')
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=r"notebook 01_needy needs at least 100,000 customers.*"
                                             r"-p 01\.min_customers"):
        build_report(small_csv, month="2023-02", out_dir=out, notebooks=[first, needy], progress=False)
    assert not (nbs / "ran").exists() and not out.exists()


def make_outlier_log(tmp_path: Path) -> Path:
    path = tmp_path / "tx.csv"
    rows = ["customer_id,order_date,amount,order_id"]
    rows += [f"c{i % 40},2025-{1 + i % 12:02d}-{1 + i % 28:02d},{10 + i},o{i}" for i in range(400)]
    rows.append("c7,2205-11-03,99,o-typo")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_far_future_typo_is_named_and_as_of_gets_past_it(tmp_path):
    path = make_outlier_log(tmp_path)
    with pytest.raises(DataValidationError) as err:
        load_month(path)
    msg = str(err.value)
    assert "order 'o-typo' of customer 'c7' dated 2205-11-03" in msg and "ends in 2025-12" in msg
    assert "--as-of 2025-12-31" in msg
    tx, ledger, month = load_month(path, as_of="2025-12-31")
    assert str(month) == "2025-12" and ledger.dropped == {"dated after as_of 2025-12-31": 1}
    tx, ledger, month = load_month(path, month="2025-11")  # an explicit month leaves it out anyway
    assert str(month) == "2025-11"


def test_month_after_as_of_is_refused(tmp_path):
    with pytest.raises(ParameterError, match=r"--month 2025-12 ends after --as-of 2025-12-15"):
        load_month(make_outlier_log(tmp_path), month="2025-12", as_of="2025-12-15")


# --- atomic publish, stale clean-up --------------------------------------------------------------

def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "index.html").write_text(text)
    return path


def test_publish_swaps_without_a_gap_and_concurrent_runs_both_succeed(tmp_path):
    final = tmp_path / "2025-12"
    _fs.publish(_folder(tmp_path / ".a", "first"), final)
    assert (final / "index.html").read_text() == "first"
    gaps, stop = [], threading.Event()

    def watch():
        while not stop.is_set():
            if not (final / "index.html").exists():
                gaps.append(time.perf_counter())

    watcher = threading.Thread(target=watch)
    watcher.start()
    errors = []

    def run(i):
        try:
            for j in range(20):
                _fs.publish(_folder(tmp_path / f".p{i}-{j}", f"run {i}.{j}"), final)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    watcher.join()
    assert errors == [] and gaps == []
    assert (final / "index.html").read_text().startswith("run ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-12"]  # every old report deleted


def test_publish_into_an_empty_place_by_two_runs(tmp_path):
    final = tmp_path / "2025-12"
    a, b = _folder(tmp_path / ".a", "a"), _folder(tmp_path / ".b", "b")
    _fs.publish(a, final)
    _fs.publish(b, final)  # the second finds the place taken and exchanges instead of failing
    assert (final / "index.html").read_text() == "b" and not a.exists() and not b.exists()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_remove_stale_takes_only_dead_runs_leftovers(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    gone = dead_pid()
    stale = [_folder(out / f".2025-12.partial-{gone}", "x"), _folder(out / f".2025-11.old-{gone}", "x"),
             _folder(scratch / f"relmkt-report-{gone}-abc", "x"), _folder(scratch / f"relmkt-duckdb-{gone}-q1", "x")]
    live = [_folder(out / f".2025-12.partial-{os.getpid()}", "x"), _folder(scratch / f"relmkt-report-{os.getpid()}-d", "x"),
            _folder(scratch / f"relmkt-duckdb-{os.getpid()}-q2", "x"),
            _folder(out / "2025-10", "a report"), _folder(scratch / "someone-elses", "x")]
    removed = _fs.remove_stale(out, scratch)
    assert sorted(removed) == sorted(stale)
    assert all(not p.exists() for p in stale) and all(p.exists() for p in live)


# --- interrupted and hanging runs -----------------------------------------------------------------

RUNNER = """
import sys
from relmkt_helpers.report import build_report
build_report(sys.argv[1], month="2023-02", out_dir=sys.argv[2], notebooks=sys.argv[3:], progress=False,
             warm_kernels=True)
"""


def _start(tmp_path: Path, small_csv: Path, notebooks: list[Path]) -> tuple[subprocess.Popen, Path, Path]:
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    proc = subprocess.Popen([sys.executable, "-c", RUNNER, str(small_csv), str(out), *map(str, notebooks)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    return proc, out, scratch


def _wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


def _start_slow_run(tmp_path: Path, small_csv: Path) -> tuple[subprocess.Popen, Path, Path]:
    """A report run in a child process, returned once its one notebook is running (it sleeps 120 s)."""
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    slow = write_notebook(nbs, "00_slow.ipynb", "open(r'%s', 'w').write('started')\nimport time\ntime.sleep(120)"
                          % (tmp_path / "started"))
    proc, out, scratch = _start(tmp_path, small_csv, [slow])
    _wait_for(lambda: (tmp_path / "started").exists())
    return proc, out, scratch


def _session_processes(sid: int) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid=,sid=,args="], capture_output=True, text=True).stdout
    return [line for line in ps.splitlines() if line.split()[1] == str(sid)]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_leaves_nothing_behind(tmp_path, small_csv, sig):
    proc, out, scratch = _start_slow_run(tmp_path, small_csv)
    assert list(out.glob(".2023-02.partial-*")) and list(scratch.glob("relmkt-report-*"))
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert list(out.iterdir()) == [], list(out.iterdir())
    assert list(scratch.glob("relmkt-report-*")) == []
    _wait_for(lambda: not _session_processes(proc.pid), timeout=30)  # no kernel left running


@pytest.mark.slow
def test_a_killed_run_is_cleaned_up_by_the_next_one(tmp_path, small_csv):
    proc, out, scratch = _start_slow_run(tmp_path, small_csv)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its kernels, as a scheduler's kill -9 would
    proc.wait(timeout=30)
    assert list(out.glob(".2023-02.partial-*")) and list(scratch.glob("relmkt-report-*"))
    quick = write_notebook(tmp_path / "nbs", "00_quick.ipynb", "x = 1")
    env_tmp = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)
    import tempfile

    tempfile.tempdir = None
    try:
        build_report(small_csv, month="2023-02", out_dir=out, notebooks=[quick], progress=False)
    finally:
        if env_tmp is None:
            os.environ.pop("TMPDIR")
        else:
            os.environ["TMPDIR"] = env_tmp
        tempfile.tempdir = None
    assert sorted(p.name for p in out.iterdir()) == ["2023-02"]
    # the killed run's copy of the data is gone (a kernel connection file jupyter wrote may remain)
    assert list(scratch.glob("relmkt-report-*")) == [] and not list(scratch.rglob("*.parquet"))


@pytest.mark.slow
def test_a_hanging_cell_times_out_with_its_notebook_and_cell_named(tmp_path, small_csv):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    hang = write_notebook(nbs, "00_hangs.ipynb", "x = 1", "import time\ntime.sleep(600)")
    started = time.monotonic()
    with pytest.raises(ReportError) as err:
        build_report(small_csv, month="2023-02", out_dir=tmp_path / "out", notebooks=[hang], progress=False,
                     cell_timeout=3)
    assert time.monotonic() - started < 120
    msg = str(err.value)
    # the cell is counted in the executed notebook the message points to (papermill adds its parameters cell)
    assert re.search(r"notebook 00_hangs\.ipynb: cell \d \(`import time`\) did not finish within 3 s", msg), msg
    failed_nb = nbformat.read(tmp_path / "out" / "2023-02.failed" / "00_hangs.ipynb", as_version=4)
    index = int(re.search(r"cell (\d)", msg).group(1))
    assert failed_nb.cells[index].source.startswith("import time")
    assert "--cell-timeout SECONDS" in msg and (tmp_path / "out" / "2023-02.failed").is_dir()


def test_real_report_on_too_few_customers_fails_in_seconds_naming_the_option(tmp_path, capsys):
    """Issue 11: 'too few customers' used to surface only after two notebooks had run."""
    path = tmp_path / "tiny.csv"
    rows = ["customer_id,order_date,amount"] + [f"c{i % 30},2024-{1 + i % 12:02d}-05,{10 + i}" for i in range(200)]
    path.write_text("\n".join(rows) + "\n")
    started = time.monotonic()
    assert main(["report", "--data", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "notebook 02_churn_modelling needs at least 100 customers" in err and "-p 02.min_customers 30" in err
    assert time.monotonic() - started < 60 and not (tmp_path / "out").exists()
