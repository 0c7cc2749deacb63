"""The workshop: every exercise's solution recomputed independently, and the notebook in teacher mode."""
from __future__ import annotations

import nbformat
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
def test_workshop_in_teacher_mode_gets_everything_right(tmp_path, execute):
    out = tmp_path / "workshop.ipynb"
    execute(WORKSHOP, out, reveal_solutions=True)
    nb = nbformat.read(out, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    verdicts = [line for line in text.splitlines() if line.startswith("[")]
    assert len(verdicts) == len(EXERCISES)
    assert all("] correct:" in v for v in verdicts), verdicts
    # the explorer's chart travels in the Output widget's state (saved with the notebook), not by capture
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    charts = [o for m in state.values() if m["model_name"] == "OutputModel" for o in m["state"]["outputs"]]
    assert [sorted(o["data"]) for o in charts] == [["image/png", "text/plain"]]


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


def test_explorer_never_captures_output(monkeypatch):
    """Issue 11: ``with out:`` in the explorer made papermill write to the kernel's shell socket while it
    waited there for the cell's reply, and on a loaded machine it never saw the reply (a hang with the
    kernel idle). The explorer must fill its Output widget through the widget's state instead."""
    import ipywidgets
    import IPython
    import matplotlib

    matplotlib.use("Agg")
    from relmkt_helpers.workshop import retention_explorer

    def no_capture(self):
        raise AssertionError("retention_explorer captured output with `with out:`")

    formatted = []

    class Formatter:
        def format(self, fig):
            formatted.append(fig.axes[0].lines[-1].get_xdata()[0])
            return {"image/png": "iVBOR", "text/plain": "<Figure>"}, {}

    monkeypatch.setattr(ipywidgets.Output, "__enter__", no_capture)
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Shell", (), {"display_formatter": Formatter()})())
    box = retention_explorer(retention=0.5)
    out = box.children[-1]
    assert out.outputs == ({"output_type": "display_data", "data": {"image/png": "iVBOR", "text/plain": "<Figure>"},
                            "metadata": {}},)
    box.children[0].value = 0.9  # a slider move replaces the chart, never appends a second one
    assert len(out.outputs) == 1 and formatted == [0.5, 0.9]
    assert box.figure.canvas.manager is None  # not a pyplot figure: no backend shows it again, nothing to close
