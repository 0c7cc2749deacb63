"""The report runner's warm kernels: ready with the imports done, invisible in the notebook, never left behind."""
from __future__ import annotations

import nbformat
import pandas as pd
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from relmkt_helpers import ReportError, config
from relmkt_helpers._kernels import WarmKernels
from relmkt_helpers.report import build_report

pytestmark = pytest.mark.slow


def kernels_alive() -> int:
    """Kernel processes among this process's descendants (a zombie, e.g. a launcher Spark left, is none)."""
    alive = 0
    for p in psutil.Process().children(recursive=True):
        try:
            alive += "ipykernel" in " ".join(p.cmdline())
        except (psutil.ZombieProcess, psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return alive


def probe_notebook(folder, name="00_probe.ipynb", fail=False):
    cells = [
        new_code_cell('month: str = ""', metadata={"tags": ["parameters"]}),
        new_code_cell("import sys\nprint('warm' if 'relmkt_helpers' in sys.modules else 'cold')"),
    ]
    if fail:
        cells.append(new_code_cell("raise RuntimeError('probe failure')"))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    raw = pd.read_csv(config.SAMPLE_TRANSACTIONS, dtype={"customer_id": "str", "order_id": "str"})
    path = tmp_path_factory.mktemp("data") / "tx.csv"
    raw[raw["order_date"] < "2023-03-01"].to_csv(path, index=False)
    return path


@pytest.mark.parametrize("warm", [True, False])
def test_notebooks_get_a_kernel_with_the_imports_done_only_when_warm(tmp_path, small_data, warm):
    nbs = [probe_notebook(tmp_path, "00_a.ipynb"), probe_notebook(tmp_path, "01_b.ipynb")]
    result = build_report(small_data, month="2023-02", out_dir=tmp_path / "out", notebooks=nbs, progress=False,
                          warm_kernels=warm)
    for nb_path in nbs:
        executed = nbformat.read(result.path / nb_path.name, as_version=4)
        code = [c for c in executed.cells if c.cell_type == "code"]
        assert code[0].execution_count == 1  # the warm-up left no trace in the notebook
        printed = "".join(o.get("text", "") for c in code for o in c.get("outputs", []))
        assert printed.strip() == ("warm" if warm else "cold")
    assert kernels_alive() == 0


def test_failed_notebook_leaves_no_kernel_running(tmp_path, small_data):
    nbs = [probe_notebook(tmp_path, "00_ok.ipynb"), probe_notebook(tmp_path, "01_fails.ipynb", fail=True),
           probe_notebook(tmp_path, "02_never.ipynb")]
    with pytest.raises(ReportError, match="01_fails.ipynb failed"):
        build_report(small_data, month="2023-02", out_dir=tmp_path / "out", notebooks=nbs, progress=False)
    assert kernels_alive() == 0


def test_bad_data_leaves_no_kernel_running(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nc1,not a date,3\n")
    with pytest.raises(Exception, match="unparseable date"):
        build_report(bad, out_dir=tmp_path / "out", notebooks=[probe_notebook(tmp_path)], progress=False)
    assert kernels_alive() == 0


def test_a_failed_warm_up_falls_back_to_no_kernel(tmp_path):
    with WarmKernels("python3", [tmp_path, tmp_path], code="raise ValueError('no warm-up today')") as pool:
        assert pool.take() is None
        assert pool.take() is None
    assert len(pool.errors) == 2 and "no warm-up today" in pool.errors[0]
    assert kernels_alive() == 0
