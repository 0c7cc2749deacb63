"""The workshop: every exercise's solution recomputed independently, and the notebook in teacher mode."""
from __future__ import annotations

import nbformat
import papermill as pm
import pytest

from relmkt_helpers import ParameterError, config, load_sample_shop, load_spend
from relmkt_helpers.cohorts import assign_cohorts
from relmkt_helpers.workshop import EXERCISES, check, solution

WORKSHOP = config.NOTEBOOKS_DIR / "workshop" / "retention_economics.ipynb"


@pytest.fixture(scope="module")
def shop():
    s = load_sample_shop()
    return s.transactions, load_spend(s.spend)


def test_cac_2025_by_hand(shop):
    tx, spend = shop
    cohorts = assign_cohorts(tx, period="M")
    new_2025 = int((cohorts["cohort"].dt.year == 2025).sum())
    acq = sum(spend.loc[(spend["kind"] == "acquisition") & (spend["month"] == m), "spend"].sum()
              for m in [f"2025-{i:02d}" for i in range(1, 13)])
    assert solution("cac_2025")["cac"] == pytest.approx(acq / new_2025, rel=1e-12)
    # ground truth: the generator's CACs (25-40 per channel) with mean-one noise
    assert 25 < acq / new_2025 < 40


def test_cost_ratio_2025_by_hand(shop):
    tx, spend = shop
    cohorts = assign_cohorts(tx, period="Y" if False else "M")
    before = set(cohorts.index[cohorts["first_order_date"] < "2025-01-01"])
    bought = set(tx.loc[(tx["order_date"] >= "2025-01-01") & (tx["order_date"] <= "2025-12-31"), "customer_id"])
    retained = len(before & bought)
    ret = spend.loc[(spend["kind"] == "retention") & (spend["month"].astype(str).str.startswith("2025")), "spend"].sum()
    expected = solution("cost_ratio_2025")
    assert expected["retention_cost_year"] == pytest.approx(ret / retained, rel=1e-12)
    assert expected["ratio"] == pytest.approx(solution("cac_2025")["cac"] / (ret / retained), rel=1e-12)


def test_formula_solutions_by_hand():
    # CLV, m = 50, r = 0.8, d = 0.1: 50 * 1.1 / 0.3 and 50 * 0.8 / 0.3 (Fader & Hardie 2012)
    assert solution("clv_conventions") == pytest.approx({"first_counted": 55 / 0.3, "first_not_counted": 40 / 0.3})
    # break-even: CLV(0.65) - CLV(0.6) = 55 / 0.45 - 55 / 0.5
    assert solution("breakeven")["spend"] == pytest.approx(55 / 0.45 - 55 / 0.5)
    # steady state base A / (1 - r): (1 / 0.15) / (1 / 0.2) - 1 = 1/3
    assert solution("profit_uplift")["increase"] == pytest.approx(1 / 3)


def test_check_verdicts(capsys):
    assert check("clv_conventions", {"first_counted": 183.33, "first_not_counted": 133.34})
    assert "correct" in capsys.readouterr().out
    assert not check("clv_conventions", {"first_counted": 133.33, "first_not_counted": 183.33})
    assert "Hint: First payment counted" in capsys.readouterr().out
    assert not check("breakeven", None)
    assert "not answered yet" in capsys.readouterr().out
    with pytest.raises(ParameterError, match="missing first_not_counted"):
        check("clv_conventions", {"first_counted": 1.0})
    with pytest.raises(ParameterError, match="unknown exercise 'nope'"):
        solution("nope")


@pytest.mark.slow
def test_workshop_in_teacher_mode_gets_everything_right(tmp_path):
    out = tmp_path / "workshop.ipynb"
    pm.execute_notebook(str(WORKSHOP), str(out), parameters={"reveal_solutions": True},
                        kernel_name=config.KERNEL_NAME, progress_bar=False, cwd=str(WORKSHOP.parent))
    nb = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    verdicts = [line for line in text.splitlines() if line.startswith("[")]
    assert len(verdicts) == len(EXERCISES)
    assert all("] correct:" in v for v in verdicts), verdicts


def test_explorer_redraws_on_slider_change():
    import matplotlib

    matplotlib.use("Agg")
    from relmkt_helpers.workshop import retention_explorer

    box = retention_explorer(retention=0.5, margin=40, discount=0.1, cac=60)
    point = box.figure.axes[0].lines[-1]  # the marker of the current retention on the CLV curve
    assert list(point.get_xdata()) == [0.5]
    box.children[0].value = 0.9  # moving the retention slider redraws every panel
    point = box.figure.axes[0].lines[-1]
    assert list(point.get_xdata()) == [0.9]
    assert point.get_ydata()[0] == pytest.approx(40 * 1.1 / (1.1 - 0.9))  # CLV, first payment counted
