"""The index page's words: noise intervals with known truth, the four answers, measured figures only."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relmkt_helpers.report.render import _analysis_rows
from relmkt_helpers.verdict import month_noise, verdict


def stationary_shop(seed: int, customers: int = 600) -> pd.DataFrame:
    """Customers who each buy in any month with probability 0.3, amounts lognormal: nothing changes."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2024-01", "2024-04", freq="M")
    rows = []
    for m in months:
        buyers = np.nonzero(rng.random(customers) < 0.3)[0]
        days = rng.integers(1, 28, buyers.size)
        for c, d in zip(buyers, days):
            rows.append((f"c{c}", pd.Timestamp(year=m.year, month=m.month, day=int(d)), float(rng.lognormal(3, 0.6))))
    tx = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    tx["order_id"] = [str(i) for i in range(len(tx))]
    return tx.sort_values("order_date", kind="stable").reset_index(drop=True)


def test_noise_intervals_flag_about_five_percent_of_changes_when_nothing_changed():
    """Known truth: a stationary shop. A 95% interval should call ~5% of month-on-month changes real."""
    flags = {k: [] for k in ("orders", "customers_active", "revenue", "retention_rate_prev_month")}
    for seed in range(120):
        noise = month_noise(stationary_shop(seed), "2024-04")
        for k in flags:
            flags[k].append(noise[k]["significant"])
    for k, v in flags.items():
        rate = float(np.mean(v))
        assert 0.0 <= rate <= 0.12, f"{k}: {rate:.1%} of no-change months were called beyond noise"


def test_a_real_jump_is_beyond_noise():
    tx = stationary_shop(0)
    extra = tx[tx["order_date"] >= "2024-04-01"].copy()
    extra["order_id"] = "x" + extra["order_id"]
    jumped = pd.concat([tx, extra]).sort_values("order_date", kind="stable").reset_index(drop=True)
    noise = month_noise(jumped, "2024-04")
    assert noise["orders"]["significant"] and noise["orders"]["change"] > 0.5  # April doubled
    assert month_noise(tx, "2024-01") == {}  # no month before: nothing to compare


def test_verdict_without_a_ledger_says_what_it_needs():
    m = {"customers_active": 10, "retention_rate_prev_month": None, "change_vs_previous_month": {},
         "previous_month": None, "analyses": {"02": {"churn_expected_value_lost": 1234.5, "churn_model_chosen": "BG/NBD",
                                                      "churn_roc_auc_chosen": 0.79}}}
    answers = {a["question"]: a["answer"] for a in verdict(m, currency="EUR")}
    assert "no previous month" in answers["Are we keeping our customers?"]
    assert "€1,234" in answers["Who is about to leave?"] and "BG/NBD (ROC AUC 0.790" in answers["Who is about to leave?"]
    assert "--spend" in answers["Does retention pay better than acquisition here?"]
    assert "not computed" in answers["What is each customer worth?"]


def test_assumed_figures_are_never_headline_figures():
    metrics = {"analyses": {"04": {"cac_blended": 30.0, "cac_blended_basis": "assumed", "cost_ratio_year": 2.0,
                                   "cost_ratio_year_basis": "measured"},
                            "03": {"mean_clv": 52.123456, "clv_model_chosen": "BG/NBD"}}}
    rows = _analysis_rows(metrics, "USD")
    labels = [r["label"] for r in rows]
    assert "Cost to win a customer (CAC)" not in labels
    assert [r["value"] for r in rows] == ["$52.12", "2.0×"]


def test_a_change_from_zero_is_not_called_no_previous_month(tmp_path):
    """CDNOW acquires nobody after March 1997: 0 new customers in both months is not a missing month."""
    from relmkt_helpers.report.render import write_index

    metrics = {"month": "1998-06", "as_of": "1998-06-30", "rows_read": 1, "rows_used": 1, "rows_dropped": {},
               "inputs": {"spend_ledger": False, "subscriptions": False}, "customers_active": 5, "customers_new": 0,
               "previous_month": {"month": "1998-05", "customers_new": 0}, "analyses": {},
               "change_vs_previous_month": {"customers_active": 0.25, "customers_new": None}}
    write_index(tmp_path / "index.html", metrics, [], "tx.csv")
    html = (tmp_path / "index.html").read_text()
    assert "not comparable (none the month before)" in html and "+25.0% vs previous month" in html
