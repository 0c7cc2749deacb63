"""Shared test plumbing: the one way a test runs a notebook in a real kernel.

Every kernel a test starts gets a kernel start-up timeout and a per-cell timeout, set here and
nowhere else, so that no notebook can make a test wait forever (issue 11: the workshop's teacher-mode
test once hung for over 20 minutes with the kernel idle). pytest-timeout (``timeout`` in
pyproject.toml) is the outer limit for the whole test; these inner limits fail first, with a message
that names the cell.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import papermill as pm
import pytest

from relmkt_helpers import config

#: Seconds a single cell may run (papermill's ``execution_timeout``, nbclient's ``timeout``). The
#: slowest cell of a test run takes seconds; 300 leaves room for a loaded two-core machine.
CELL_TIMEOUT = 300
#: Seconds a kernel may take to start and answer (papermill's ``start_timeout``).
START_TIMEOUT = 120


def execute(notebook: str | Path, out: str | Path, *, cwd: str | Path | None = None,
            cell_timeout: int = CELL_TIMEOUT, **params: Any) -> Any:
    """Run ``notebook`` with papermill into ``out`` with ``params``, under the suite's timeouts.

    ``cwd`` defaults to the notebook's folder (as Jupyter would run it). Returns papermill's
    executed notebook; a cell over ``cell_timeout`` seconds raises nbclient's ``CellTimeoutError``.
    """
    notebook = Path(notebook)
    return pm.execute_notebook(str(notebook), str(out), parameters=params, kernel_name=config.KERNEL_NAME,
                               progress_bar=False, cwd=str(cwd or notebook.parent),
                               execution_timeout=cell_timeout, start_timeout=START_TIMEOUT)


@pytest.fixture(name="execute")
def execute_fixture():
    """:func:`execute`, for tests that take it as a fixture."""
    return execute


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory):
    """One full report on the bundled sample shop (with its ledger and subscriptions, money in EUR),
    built once per test session and shared by the page check and the browser test (~1 min each)."""
    from relmkt_helpers.report import build_report

    return build_report(config.SAMPLE_TRANSACTIONS, spend_path=config.SAMPLE_SPEND,
                        subscriptions_path=config.SAMPLE_SUBSCRIPTIONS, out_dir=tmp_path_factory.mktemp("sample-report"),
                        progress=False, currency="EUR")


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    """The Spark module's examples start a JVM: they are Spark tests too (``-m "not spark"`` leaves them out)."""
    for item in items:
        if type(item).__name__ == "DoctestItem" and Path(str(item.fspath)).name == "spark.py":
            item.add_marker(pytest.mark.spark)
