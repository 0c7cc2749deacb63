"""One story across the pages: one repeat-purchase model per report, one value per customer,
the churn list scored by the backtest's winner, and headline figures named in the package."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relmkt_helpers import (
    METRICS,
    ParameterError,
    average_curve,
    choose_model,
    choose_scorer,
    churn_analysis,
    clv_analysis,
    cohort_analysis,
    period_kpis,
    retention_matrix,
    yearly_retention,
)
from relmkt_helpers.datasets import generate_sample_shop

AS_OF = "2025-12-31"


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return generate_sample_shop(1500, seed=1).transactions


# ----------------------------------------------------------------------------
# which model scores the churn list
# ----------------------------------------------------------------------------

def _auc(**values: float) -> pd.DataFrame:
    return pd.DataFrame({"roc_auc": list(values.values())}, index=list(values))


def test_scorer_probabilistic_model_wins():
    """The sample shop's backtest: gradient boosting 0.783 against BG/NBD 0.790."""
    name, why = choose_scorer(_auc(logistic=0.7712, hgb=0.7831, bgnbd=0.7903), ["bgnbd", "logistic", "hgb"])
    assert name == "bgnbd"
    assert why == ("BG/NBD ranked who would churn better than gradient boosting in the backtest: ROC AUC 0.790 "
                   "against 0.783, so the list is scored by BG/NBD.")


def test_scorer_ml_model_wins():
    name, why = choose_scorer(_auc(logistic=0.801, hgb=0.8312, pnbd=0.8104), ["pnbd", "logistic", "hgb"])
    assert name == "hgb"
    assert why.startswith("Gradient boosting ranked who would churn better than Pareto/NBD in the backtest: "
                          "ROC AUC 0.831 against 0.810")


def test_scorer_ties_go_to_the_simpler_model():
    # equal to three decimals, as the page shows them: the probabilistic model, then logistic regression
    assert choose_scorer(_auc(hgb=0.79049, bgnbd=0.7896), ["bgnbd", "hgb"])[0] == "bgnbd"
    assert choose_scorer(_auc(logistic=0.7801, hgb=0.7804, bgnbd=0.70), ["bgnbd", "logistic", "hgb"])[0] == "logistic"
    _, why = choose_scorer(_auc(hgb=0.7901, bgnbd=0.7898), ["bgnbd", "hgb"])
    assert "equally well" in why and "simpler BG/NBD" in why


def test_scorer_imposed_says_how_it_did():
    name, why = choose_scorer(_auc(hgb=0.70, bgnbd=0.80), ["bgnbd", "hgb"], imposed="hgb")
    assert name == "hgb" and "as set in the parameters" in why and "0.800 against 0.700" in why


def test_churn_list_is_scored_by_the_backtest_winner(tx):
    res = churn_analysis(tx, as_of=AS_OF, importance_repeats=1)
    shown = res.metrics.loc[[res.value_model, "logistic", "hgb"], "roc_auc"].round(3)
    assert res.model == shown.idxmax()  # idxmax keeps the first of ties: the simpler model
    assert res.scorer_reason.endswith(f"so the list is scored by {_label(res.model)}.")
    assert f"{shown.max():.3f}" in res.scorer_reason
    h = res.headline_metrics()
    assert h["churn_model_chosen"] == res.model and h["churn_roc_auc_chosen"] == res.metrics.loc[res.model, "roc_auc"]
    if res.model not in ("logistic", "hgb"):
        np.testing.assert_array_equal(res.scored["churn_probability"], res.scored["p_no_purchase"])


def _label(name: str) -> str:
    from relmkt_helpers.clv import model_label

    return model_label(name)


# ----------------------------------------------------------------------------
# one repeat-purchase model and one value per customer
# ----------------------------------------------------------------------------

def test_model_choice_is_shared_and_deterministic(tx):
    a = choose_model(tx, as_of=AS_OF)
    b = choose_model(tx, as_of=AS_OF)
    assert a.model == b.model == a.comparison.index[0] and a.requested == "auto"
    pd.testing.assert_frame_equal(a.comparison, b.comparison)
    assert choose_model(tx, as_of=AS_OF, model="best").requested == "auto"  # the older spelling
    with pytest.raises(ParameterError, match="model='gbm' is not known"):
        choose_model(tx, as_of=AS_OF, model="gbm")


@pytest.mark.parametrize("model", ["auto", "pnbd"])
def test_churn_list_value_equals_the_clv_of_the_same_customer(tx, model):
    """02's value_at_risk and 03's clv for one customer are the same number (same model, fit and settings)."""
    churn = churn_analysis(tx, as_of=AS_OF, model=model, margin_rate=0.25, annual_discount_rate=0.08,
                           importance_repeats=1)
    value = clv_analysis(tx, as_of=AS_OF, model=model, margin_rate=0.25, annual_discount_rate=0.08,
                         n_bootstrap=20)
    assert churn.value_model == value.model and (model == "auto" or value.model == model)
    listed = churn.scored.set_index("customer_id")["value_at_risk"]
    clv = value.value["clv"].reindex(listed.index)
    assert clv.notna().all() and len(listed) == len(value.value)
    np.testing.assert_allclose(listed.to_numpy(), clv.to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(churn.scored.set_index("customer_id")["p_alive"],
                               value.value["p_alive"].reindex(listed.index), rtol=1e-12)


# ----------------------------------------------------------------------------
# result objects and their headline figures
# ----------------------------------------------------------------------------

def test_cohort_analysis_gathers_the_page(tx):
    res = cohort_analysis(tx, as_of=AS_OF, period="M", max_periods=12)
    avg = average_curve(retention_matrix(tx, period="M", as_of=AS_OF, max_periods=12))
    h = res.headline_metrics()
    assert h["retention_period_1"] == pytest.approx(avg["weighted_mean"][1], rel=1e-12)
    assert h["latest_period"] == str(period_kpis(tx, period="M", as_of=AS_OF).index[-1])
    assert h["yearly_retention"] == yearly_retention(tx, as_of=AS_OF)
    assert set(h) <= set(METRICS)
    assert res.by_segment is not None and cohort_analysis(tx, as_of=AS_OF, segment_col="nope").by_segment is None
    assert "%" in res.summary_sentence()


def test_yearly_retention_by_hand():
    t = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d", "d"],
                      "order_date": pd.to_datetime(["2023-01-01", "2024-01-01", "2023-06-30", "2024-06-30",
                                                    "2022-12-31", "2024-12-31"]),
                      "amount": 1.0})
    # first year (2022-12-31, 2023-12-31]: a, b (d's order is on the excluded boundary); second: a, c, d
    assert yearly_retention(t, as_of="2024-12-31") == 0.5
    assert yearly_retention(t, as_of="2022-06-30") is None


def test_every_headline_key_has_a_label(tx):
    churn = churn_analysis(tx, as_of=AS_OF, importance_repeats=1, model="bgnbd")
    value = clv_analysis(tx, as_of=AS_OF, model="bgnbd", n_bootstrap=0)
    for h in (churn.headline_metrics(), value.headline_metrics()):
        assert not set(h) - set(METRICS), set(h) - set(METRICS)
    for key in ("churn_roc_auc_hgb", "churn_roc_auc_bgnbd", "churn_expected_value_lost"):
        assert key in churn.headline_metrics()
    for key in ("mean_clv", "vip_value_share", "clv_model_chosen"):
        assert key in value.headline_metrics()
    t = value.independence_table()
    assert t["measure"].tolist()[0] == "Pearson correlation" and len(t) == 3
