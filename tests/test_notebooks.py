"""Notebooks under other parameter sets than their defaults (nbval covers the defaults).

Each runs a real kernel with papermill, the way ``relmkt report`` does, and checks what the
notebook wrote with ``save_metrics`` against an independent computation.
"""
from __future__ import annotations

import json

import pytest
from conftest import execute

from relmkt_helpers import config, load_transactions, period_kpis

pytestmark = pytest.mark.slow


def run(tmp_path, notebook: str, **params) -> dict:
    metrics = tmp_path / "metrics.json"
    execute(config.NOTEBOOKS_DIR / notebook, tmp_path / notebook, **params, metrics_path=str(metrics))
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


def test_a_cell_that_never_ends_fails_the_test_within_seconds(tmp_path):
    """The suite's cell timeout is real: a stuck cell raises nbclient's CellTimeoutError, no test waits forever."""
    import time

    import nbformat
    from nbclient.exceptions import CellTimeoutError

    stuck = tmp_path / "stuck.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(60)")]), stuck)
    start = time.monotonic()
    with pytest.raises(CellTimeoutError, match="timed out"):
        execute(stuck, tmp_path / "out.ipynb", cell_timeout=2)
    elapsed = time.monotonic() - start
    assert 2 <= elapsed < 40, f"took {elapsed:.1f} s"  # start-up + 2 s + the kernel's shutdown, not 60 s


@pytest.mark.parametrize("path", sorted(config.NOTEBOOKS_DIR.rglob("*.ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_carry_no_machine_paths(path):
    """Outputs and papermill metadata are committed: they must not name this machine's folders."""
    import re

    text = path.read_text(encoding="utf-8")
    found = sorted(set(re.findall(r"(?:/work/|/tmp/|/root/|/home/)[^\s\"']*", text)))
    assert not found, f"{path.name} mentions {found[:3]}; re-run it with scripts/refresh_notebooks.py"



def test_churn_and_value_pages_use_one_model_on_cdnow(tmp_path):
    """-p model pnbd means the same on the churn and the value page: both value customers with Pareto/NBD."""
    common = dict(data_path="cdnow-sample", as_of="1998-06-30", model="pnbd", margin_rate=0.25, currency="USD")
    (tmp_path / "churn").mkdir()
    (tmp_path / "value").mkdir()
    churn = run(tmp_path / "churn", "02_churn_modelling.ipynb", **common, subscriptions_path="", horizon_days=90)
    value = run(tmp_path / "value", "03_customer_lifetime_value.ipynb", **common, n_bootstrap=0)
    assert churn["churn_value_model"] == value["clv_model"] == "pnbd"
    shown = {m: round(churn[f"churn_roc_auc_{m}"], 3) for m in ("pnbd", "logistic", "hgb")}
    assert churn["churn_model_chosen"] in shown
    assert round(churn["churn_roc_auc_chosen"], 3) == max(shown.values())
