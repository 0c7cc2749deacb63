"""Tests of relmkt_helpers.datasets: the sample shop generator, its bundled files, and CDNOW.

Statistical checks compare the realised data with the generator's *true*
parameters (or with formulas from the cited papers), with a tolerance of
Z = 4 standard errors computed from the data (two-sided p ~ 6e-5 per check).
Seeds are fixed, so the tests are deterministic.
"""
from __future__ import annotations

import doctest
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from relmkt_helpers import config, datasets
from relmkt_helpers.datasets import (
    ShopParams,
    generate_sample_shop,
    load_cdnow,
    load_sample_shop,
    write_sample_shop,
)

CDNOW_SAMPLE_TRANSACTIONS = config.CDNOW_SAMPLE_TRANSACTIONS
from relmkt_helpers.errors import ParameterError
from relmkt_helpers.io import load_transactions

Z = 4.0
TRUTH_KEYS = {
    "generator", "generator_version", "numpy_version", "seed", "n_customers", "start", "end",
    "time_units", "acquisition", "bgnbd", "gamma_gamma", "subscriptions", "marketing",
    "definitions", "realised",
}


@pytest.fixture(scope="module")
def shop():
    """A fresh shop of the bundled size and seed (about 0.1 s)."""
    return generate_sample_shop(config.SAMPLE_CUSTOMERS, seed=config.SAMPLE_SEED)


@pytest.fixture(scope="module")
def big_shop():
    """200,000 customers (about 1 s): standard errors ~3x smaller than the bundled shop's."""
    return generate_sample_shop(200_000, seed=0)


@pytest.fixture(scope="module", params=["bundled", "big"])
def stat_shop(request):
    """The statistical checks run on the bundled-size shop and on the 10x larger one."""
    return request.getfixturevalue("shop" if request.param == "bundled" else "big_shop")


def _assert_shops_equal(a, b):
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    pd.testing.assert_frame_equal(a.spend, b.spend)
    pd.testing.assert_frame_equal(a.subscriptions, b.subscriptions)
    assert a.truth == b.truth


# ----------------------------------------------------------------------------
# determinism, files, bundled data
# ----------------------------------------------------------------------------

def test_same_seed_gives_identical_frames():
    _assert_shops_equal(generate_sample_shop(1500, seed=11), generate_sample_shop(1500, seed=11))


def test_different_seed_gives_different_frames():
    a, b = generate_sample_shop(1500, seed=11), generate_sample_shop(1500, seed=12)
    assert not a.transactions["amount"].equals(b.transactions["amount"])
    assert not a.transactions["order_date"].equals(b.transactions["order_date"])
    assert not a.spend["spend"].equals(b.spend["spend"])


def test_write_sample_shop_files_keys_and_deterministic_bytes(tmp_path):
    shop = generate_sample_shop(1500, seed=5)
    p1 = write_sample_shop(shop, tmp_path / "one")
    p2 = write_sample_shop(generate_sample_shop(1500, seed=5), tmp_path / "two")
    names = {config.SAMPLE_TRANSACTIONS.name, config.SAMPLE_SPEND.name,
             config.SAMPLE_SUBSCRIPTIONS.name, config.SAMPLE_TRUTH.name}
    assert {p.name for p in p1.values()} == names
    for key in p1:
        assert p1[key].is_file()
        assert p1[key].read_bytes() == p2[key].read_bytes(), key
    truth = json.loads(p1["truth"].read_text())
    assert set(truth) == TRUTH_KEYS
    assert truth["seed"] == 5 and truth["n_customers"] == 1500
    assert truth["time_units"]["bgnbd"] == "weeks" and truth["time_units"]["subscriptions"] == "months"
    # dates as YYYY-MM-DD, money with 2 decimals, empty end_date for active subscriptions
    head = pd.read_csv(p1["transactions"], dtype=str, nrows=50)
    assert head["order_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert head["amount"].str.fullmatch(r"\d+\.\d{2}").all()
    subs = pd.read_csv(p1["subscriptions"], dtype=str, keep_default_na=False)
    assert ((subs["end_date"] == "") == shop.subscriptions["end_date"].isna().to_numpy()).all()
    # and what was written loads back to the same values
    back = load_sample_shop(tmp_path / "one")
    assert back.ledger.rows_dropped == 0
    tx = back.transactions[list(shop.transactions.columns)].astype({c: "str" for c in ("order_id", "customer_id", "channel")})
    pd.testing.assert_frame_equal(tx, shop.transactions)
    pd.testing.assert_frame_equal(back.spend, shop.spend)
    pd.testing.assert_frame_equal(back.subscriptions, shop.subscriptions)
    assert back.truth == shop.truth


def test_bundled_sample_shop_equals_fresh_regeneration(shop):
    """Guards against drift between the committed files and the generator."""
    bundled = load_sample_shop()
    assert bundled.truth == shop.truth
    tx = bundled.transactions[list(shop.transactions.columns)]
    tx = tx.astype({c: "str" for c in ("order_id", "customer_id", "channel")})
    pd.testing.assert_frame_equal(tx, shop.transactions)
    pd.testing.assert_frame_equal(bundled.spend, shop.spend)
    pd.testing.assert_frame_equal(bundled.subscriptions, shop.subscriptions)


def test_bundled_transactions_load_without_drops():
    tx, ledger = load_transactions(config.SAMPLE_TRANSACTIONS)
    truth = json.loads(config.SAMPLE_TRUTH.read_text())
    assert ledger.rows_dropped == 0
    assert ledger.rows_read == ledger.orders == len(tx) == truth["realised"]["orders"]
    assert tx["order_id"].is_unique
    assert ledger.customers == truth["n_customers"] == config.SAMPLE_CUSTOMERS
    assert ledger.first_date >= truth["start"] and ledger.last_date <= truth["end"]
    assert tx.groupby("customer_id")["channel"].nunique().max() == 1
    assert (tx["amount"] > 0).all()


def test_bundled_files_are_small():
    total = sum(p.stat().st_size for p in (config.SAMPLE_TRANSACTIONS, config.SAMPLE_SPEND,
                                           config.SAMPLE_SUBSCRIPTIONS, config.SAMPLE_TRUTH))
    assert total < 3_000_000


def test_module_examples_run():
    result = doctest.testmod(datasets, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------

def test_params_override_is_partial_and_recorded():
    shop = generate_sample_shop(300, seed=1, params={"bgnbd": {"social": {"r": 0.5}}, "cac": {"search": 55.0}})
    assert shop.truth["bgnbd"]["social"] == {**ShopParams().bgnbd["social"], "r": 0.5}
    assert shop.truth["bgnbd"]["search"] == ShopParams().bgnbd["search"]
    assert shop.truth["marketing"]["cac"]["search"] == 55.0


@pytest.mark.parametrize("params", [
    {"no_such_parameter": 1},
    {"channel_shares": {"search": 0.5, "social": 0.25, "affiliate": 0.2, "referral": 0.15}},  # sums to 1.1
    {"bgnbd": {"search": {"r": -1.0}}},
    {"cac": {"tv": 10.0}},  # a channel unknown to channel_shares
])
def test_invalid_params_raise(params):
    with pytest.raises(ParameterError):
        generate_sample_shop(100, seed=1, params=params)


def test_add_months_matches_pandas_dateoffset():
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    for k in (1, 2, 13):
        got = datasets._add_months(days.to_numpy().astype("datetime64[D]"), np.full(len(days), k))
        want = (days + pd.DateOffset(months=k)).to_numpy().astype("datetime64[D]")
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------------------------
# ground truth vs realised data
# ----------------------------------------------------------------------------

def _first_orders(tx: pd.DataFrame) -> pd.DataFrame:
    # order ids follow purchase time, so the first row per customer is the acquisition order
    return tx.sort_values("order_id").drop_duplicates("customer_id")


def test_channel_and_subscription_shares(stat_shop):
    shop = stat_shop
    first = _first_orders(shop.transactions)
    n = len(first)
    subscribed = first["customer_id"].isin(shop.subscriptions["customer_id"])
    truth = shop.truth
    for ch, share in truth["acquisition"]["channel_shares"].items():
        is_ch = first["channel"] == ch
        assert abs(is_ch.mean() - share) < Z * math.sqrt(share * (1 - share) / n), ch
        s = truth["subscriptions"]["share_by_channel"][ch]
        m = int(is_ch.sum())
        assert abs(subscribed[is_ch].mean() - s) < Z * math.sqrt(s * (1 - s) / m), ch
    assert truth["realised"]["customers_by_channel"] == first["channel"].value_counts().to_dict()
    # the subscription starts on the acquisition day, with the customer's channel
    merged = shop.subscriptions.merge(first, on="customer_id", suffixes=("", "_tx"))
    assert len(merged) == len(shop.subscriptions)
    assert (merged["start_date"] == merged["order_date"]).all()
    assert (merged["channel"] == merged["channel_tx"]).all()


def test_mean_order_value_matches_gamma_gamma(stat_shop):
    shop = stat_shop
    """E[order value] = p * gamma / (q - 1) (Fader & Hardie 2013). First orders are iid across customers."""
    gg = shop.truth["gamma_gamma"]
    expected = gg["p"] * gg["gamma"] / (gg["q"] - 1)
    assert gg["mean_order_value"] == pytest.approx(expected)
    z = _first_orders(shop.transactions)["amount"].to_numpy()
    assert abs(z.mean() - expected) < Z * z.std(ddof=1) / math.sqrt(len(z))
    # second moment: E[z^2] = p (p + 1) gamma^2 / ((q - 1)(q - 2)) (Gamma given nu, then E[nu^-2])
    m2 = gg["p"] * (gg["p"] + 1) * gg["gamma"] ** 2 / ((gg["q"] - 1) * (gg["q"] - 2))
    assert abs((z**2).mean() - m2) < Z * (z**2).std(ddof=1) / math.sqrt(len(z))


def test_subscription_churn_matches_shifted_beta_geometric(stat_shop):
    shop = stat_shop
    """sBG (Fader & Hardie 2007): P(T=1) = a/(a+b), P(T=2) = a b / ((a+b)(a+b+1))."""
    subs = shop.subscriptions
    end = pd.Timestamp(shop.truth["end"])
    tenure = ((subs["end_date"].dt.year - subs["start_date"].dt.year) * 12
              + subs["end_date"].dt.month - subs["start_date"].dt.month)
    assert (tenure.dropna() >= 1).all()
    assert (subs["end_date"].dropna() <= end).all()
    for plan, prm in shop.truth["subscriptions"]["plans"].items():
        a, b = prm["alpha"], prm["beta"]
        is_plan = subs["plan"] == plan
        assert (subs.loc[is_plan, "monthly_price"] == prm["monthly_price"]).all()
        for t, prob in ((1, a / (a + b)), (2, a * b / ((a + b) * (a + b + 1)))):
            # subscribers whose end after t months would have been observed
            seen = is_plan & (subs["start_date"] + pd.DateOffset(months=t) <= end)
            share = (tenure[seen] == t).mean()
            assert abs(share - prob) < Z * math.sqrt(prob * (1 - prob) / int(seen.sum())), (plan, t)


def _ledger_ratio_check(spend, counts, kind, unit_costs, sigma):
    """Total spend / total count per channel vs the true unit cost; mean-one noise."""
    sd_noise = math.sqrt(math.exp(sigma**2) - 1)
    led = spend[spend["kind"] == kind].set_index(["month", "channel"])["spend"]
    for ch, cost in unit_costs.items():
        n = counts.xs(ch, level="channel").reindex(led.xs(ch, level="channel").index, fill_value=0)
        s = led.xs(ch, level="channel")
        assert (s[n == 0] == 0).all()
        ratio = s.sum() / n.sum()
        se = cost * sd_noise * math.sqrt((n.astype(float) ** 2).sum()) / n.sum()
        assert abs(ratio - cost) < Z * se + 0.01, (kind, ch, ratio, cost)


def test_acquisition_and_retention_spend_match_true_unit_costs(stat_shop):
    shop = stat_shop
    tx = shop.transactions.assign(month=shop.transactions["order_date"].dt.strftime("%Y-%m"))
    new = _first_orders(tx).groupby(["month", "channel"]).size()
    active = tx.drop_duplicates(["customer_id", "month"]).groupby(["month", "channel"]).size()
    mk = shop.truth["marketing"]
    sigma = mk["noise"]["sigma"]
    assert set(shop.spend["month"]) == set(pd.period_range(shop.truth["start"], shop.truth["end"], freq="M").strftime("%Y-%m"))
    _ledger_ratio_check(shop.spend, new, "acquisition", mk["cac"], sigma)
    _ledger_ratio_check(shop.spend, active, "retention", mk["retention_cost_per_active_customer_month"], sigma)
    ratio = {ch: mk["cac"][ch] / mk["retention_cost_per_active_customer_month"][ch] for ch in mk["cac"]}
    assert all(3 <= v <= 8 for v in ratio.values()), ratio


def bgnbd_expected_repeats(t, r, alpha, a, b):
    """E[X(t)], Fader, Hardie & Lee (2005), eq. 9."""
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def test_bgnbd_expected_repeats_formula_matches_its_mixture():
    """Checks the test's own E[X(t)] (FHL 2005, eq. 9) against Monte Carlo of the conditional mean
    E[X(t) | lambda, p] = (1 - exp(-lambda p t)) / p (FHL 2005, eq. 7) mixed over Gamma and Beta,
    at the paper's CDNOW estimates r=0.243, alpha=4.414, a=0.793, b=2.426 (Table 1)."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    rng = np.random.default_rng(0)
    lam = rng.gamma(r, 1 / alpha, 400_000)
    p = rng.beta(a, b, 400_000)
    for t in (39.0, 78.0):
        mc = (1 - np.exp(-lam * p * t)) / p
        assert abs(mc.mean() - bgnbd_expected_repeats(t, r, alpha, a, b)) < Z * mc.std() / math.sqrt(mc.size)


@pytest.mark.parametrize("weeks", [26, 52, 104])
def test_repeat_purchases_match_bgnbd(stat_shop, weeks):
    """Repeat orders in the first `weeks` after acquisition vs E[X(t)] and P(X(t)=0) = (alpha/(alpha+t))^r.

    Only customers whose window ends before `end` count (selection by acquisition date is
    independent of behaviour). An order d days after the first order's day was placed less
    than d + 1 - frac(t0) days after t0, so counting d <= 7*weeks - 1 counts purchases in
    (t0, t0 + 7*weeks - frac(t0)); with frac(t0) ~ U(0, 1) we compare with t = weeks - 0.5/7.
    """
    shop = stat_shop
    tx = shop.transactions
    end = pd.Timestamp(shop.truth["end"])
    first = _first_orders(tx).set_index("customer_id")
    first_day = tx["customer_id"].map(first["order_date"])
    lag = (tx["order_date"] - first_day).dt.days
    is_repeat = ~tx["order_id"].isin(first["order_id"])
    in_window = is_repeat & (lag <= 7 * weeks - 1)
    counts = in_window.groupby(tx["customer_id"]).sum()
    eligible = first.index[first["order_date"] + pd.Timedelta(days=7 * weeks) <= end + pd.Timedelta(days=1)]
    t = weeks - 0.5 / 7
    for ch, prm in shop.truth["bgnbd"].items():
        ids = eligible[first.loc[eligible, "channel"] == ch]
        x = counts.reindex(ids).to_numpy(dtype=float)
        n = len(x)
        assert n > 500
        expected = bgnbd_expected_repeats(t, prm["r"], prm["alpha"], prm["a"], prm["b"])
        assert abs(x.mean() - expected) < Z * x.std(ddof=1) / math.sqrt(n), (ch, x.mean(), expected)
        p0 = (prm["alpha"] / (prm["alpha"] + t)) ** prm["r"]
        assert abs((x == 0).mean() - p0) < Z * math.sqrt(p0 * (1 - p0) / n), (ch, (x == 0).mean(), p0)


# ----------------------------------------------------------------------------
# CDNOW
# ----------------------------------------------------------------------------

def _raw_cdnow(path):
    return pd.read_csv(path, dtype={"customer_id": str, "order_date": str})


def test_cdnow_master_file_published_facts():
    """Fader & Hardie (2001); FHL (2005) section 4: 23,570 customers, first purchase in
    1997 Q1, observed to the end of June 1998."""
    raw = _raw_cdnow(config.CDNOW_TRANSACTIONS)
    assert raw.columns.tolist() == ["customer_id", "order_date", "quantity", "amount"]
    assert len(raw) == 69_659
    assert raw["customer_id"].nunique() == 23_570
    assert raw["customer_id"].str.fullmatch(r"\d{5}").all()
    first = raw.groupby("customer_id")["order_date"].min()
    assert first.min() >= "1997-01-01" and first.max() <= "1997-03-31"
    assert raw["order_date"].max() == "1998-06-30"
    assert (raw["amount"] >= 0).all() and (raw["quantity"] >= 1).all()


def test_cdnow_sample_is_the_published_tenth_sample_of_master():
    """FHL (2005): a 1/10th random sample of 2,357 customers; rows are the master rows of those customers."""
    master = _raw_cdnow(config.CDNOW_TRANSACTIONS)
    sample = _raw_cdnow(CDNOW_SAMPLE_TRANSACTIONS)
    assert sample["customer_id"].nunique() == 2_357
    cols = list(master.columns)
    sub = master[master["customer_id"].isin(sample["customer_id"])].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(sub, sample.sort_values(cols).reset_index(drop=True))
    assert sample["order_date"].max() == "1998-06-30"


def test_cdnow_files_equal_a_fresh_conversion_of_the_lifetimes_source():
    spec = importlib.util.spec_from_file_location("convert_cdnow", config.REPO_ROOT / "scripts" / "convert_cdnow.py")
    conv = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conv)
    src = conv.lifetimes_datasets_dir()
    if not (src / conv.MASTER_NAME).is_file():
        pytest.skip("lifetimes' CDNOW source files are not installed")
    for fresh, path in ((conv.read_master(src / conv.MASTER_NAME), config.CDNOW_TRANSACTIONS),
                        (conv.read_sample(src / conv.SAMPLE_NAME), CDNOW_SAMPLE_TRANSACTIONS)):
        committed = pd.read_csv(path, dtype={"customer_id": str, "order_date": str})
        pd.testing.assert_frame_equal(committed, fresh)


def test_load_cdnow_accounts_for_every_row_and_sums_quantity():
    raw = _raw_cdnow(config.CDNOW_TRANSACTIONS)
    tx, ledger = load_cdnow()
    assert ledger.rows_read == len(raw)
    ledger.check_balanced()
    assert ledger.policies["orders"] == "customer-day"
    assert tx["order_id"].is_unique
    assert ledger.first_date == "1997-01-01" and ledger.last_date == "1998-06-30"
    # quantity and amount are summed over the customer-day's rows
    day = raw.groupby(["customer_id", "order_date"])[["quantity", "amount"]].sum()
    key = pd.MultiIndex.from_arrays([tx["customer_id"].astype(str), tx["order_date"].dt.strftime("%Y-%m-%d")])
    np.testing.assert_array_equal(tx["quantity"].to_numpy(), day["quantity"].reindex(key).to_numpy())
    np.testing.assert_allclose(tx["amount"].to_numpy(), day["amount"].reindex(key).to_numpy())


@pytest.mark.parametrize("sample, customers", [(False, 23_570), (True, 2_357)])
def test_load_cdnow_keeps_every_customer_and_zero_amount_orders(sample, customers):
    """CDNOW has $0 rows (free CDs); they are orders, not refunds, so nothing is dropped."""
    path = CDNOW_SAMPLE_TRANSACTIONS if sample else config.CDNOW_TRANSACTIONS
    raw = _raw_cdnow(path)
    tx, ledger = load_cdnow(sample=sample)
    assert ledger.rows_dropped == 0
    assert tx["customer_id"].nunique() == customers
    day = raw.groupby(["customer_id", "order_date"])["amount"].sum()
    assert len(tx) == len(day)
    assert int((tx["amount"] == 0).sum()) == int((day == 0).sum()) > 0


def test_load_cdnow_does_not_import_lifetimes():
    code = (
        "import sys\n"
        "from relmkt_helpers.datasets import load_cdnow\n"
        "tx, ledger = load_cdnow(sample=True)\n"
        "assert ledger.rows_read == 6919, ledger.rows_read\n"
        "bad = [m for m in sys.modules if m == 'lifetimes' or m.startswith('lifetimes.')]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=config.REPO_ROOT)
    assert res.returncode == 0, res.stderr
