"""Notebooks under other parameter sets than their defaults (nbval covers the defaults).

Each runs a real kernel with papermill, the way ``relmkt report`` does, and checks what the
notebook wrote with ``save_metrics`` against an independent computation.
"""
from __future__ import annotations

import json

import papermill as pm
import pytest

from relmkt_helpers import config, load_transactions, period_kpis

pytestmark = pytest.mark.slow


def run(tmp_path, notebook: str, **params) -> dict:
    metrics = tmp_path / "metrics.json"
    pm.execute_notebook(str(config.NOTEBOOKS_DIR / notebook), str(tmp_path / notebook),
                        parameters={**params, "metrics_path": str(metrics)}, kernel_name=config.KERNEL_NAME,
                        progress_bar=False, cwd=str(config.NOTEBOOKS_DIR))
    return json.loads(metrics.read_text())


def test_overview_on_cdnow_sample_for_a_past_month(tmp_path):
    m = run(tmp_path, "00_data_overview.ipynb", data_path="cdnow-sample", month="1997-06")
    assert m["data_first_date"] == "1997-01-01" and m["data_last_date"] == "1997-06-30"
    assert m["customers_total"] == 2357  # everyone was acquired in Q1 1997


@pytest.mark.parametrize("period", ["W", "Q"])
def test_cohorts_on_cdnow_other_periods_without_segment(tmp_path, period):
    m = run(tmp_path, "01_cohort_retention.ipynb", data_path="cdnow-sample", period=period,
            as_of="1998-06-30", max_periods=4)
    tx, _ = load_transactions(config.CDNOW_SAMPLE_TRANSACTIONS)
    kpis = period_kpis(tx, period=period, as_of="1998-06-30")
    assert m["cohort_period"] == period and m["latest_period"] == str(kpis.index[-1])
    assert m["latest_retention_rate"] == pytest.approx(kpis["retention_rate"].iloc[-1], rel=1e-5)
    executed = (tmp_path / "01_cohort_retention.ipynb").read_text()
    assert "the segment comparison is skipped" in executed  # CDNOW has no channel column


@pytest.mark.parametrize("path", sorted(config.NOTEBOOKS_DIR.rglob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_carry_no_machine_paths(path):
    """Outputs and papermill metadata are committed: they must not name this machine's folders."""
    import re

    text = path.read_text(encoding="utf-8")
    found = sorted(set(re.findall(r"(?:/work/|/tmp/|/root/|/home/)[^\s\"']*", text)))
    assert not found, f"{path.name} mentions {found[:3]}; re-run it with scripts/refresh_notebooks.py"
