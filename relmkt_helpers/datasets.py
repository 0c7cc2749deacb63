"""Bundled data sets: the synthetic sample shop (with known ground truth) and CDNOW.

The sample shop
---------------
:func:`generate_sample_shop` simulates an online shop from a fixed seed. Every
random step is a published model, so later tests can check that the kit's
estimators recover the true parameters, which are returned in ``shop.truth`` and
written to ``ground_truth.json``. The processes, in the order they are drawn:

1. **Acquisition.** ``n_customers`` customers arrive between ``start`` and
   ``end`` (both inclusive days). The arrival intensity is piecewise constant
   by calendar month: ``(1 + annual_growth) ** years_since_start *
   (1 + seasonality * cos(2 pi (month - seasonal_peak_month) / 12))``. Each
   customer's month is drawn with probability proportional to that intensity
   times the days of the month inside the window; the arrival time ``t0`` is
   uniform (continuous) within the month. Customer ids ``C000001, C000002, ...``
   follow arrival order. The acquisition channel is drawn independently with
   probabilities ``channel_shares`` and stays fixed for the customer.
2. **Repeat purchasing: BG/NBD** (Fader, Hardie & Lee 2005), per channel.
   Time unit: **weeks**. ``lambda ~ Gamma(shape r, rate alpha)`` (purchases per
   week while alive), ``p ~ Beta(a, b)``. The first order is placed at ``t0``
   (the acquisition order; it is *not* a repeat purchase). Repeat purchases
   follow a Poisson process with rate ``lambda``; right after each *repeat*
   purchase the customer drops out for good with probability ``p``. Nobody
   drops out at ``t0``, exactly as in the BG/NBD likelihood, so a customer's
   number of repeat purchases in ``(t0, t0 + t]`` has the BG/NBD distribution
   of ``X(t)``. Purchases after ``end`` are not observed (right censoring).
   ``order_date`` is the calendar day (floor) of the continuous time, so two
   orders of one customer can share a day (they keep separate order ids).
3. **Order value: Gamma-Gamma** (Colombo & Jiang 1999; Fader & Hardie 2013,
   "The Gamma-Gamma Model of Monetary Value"). ``nu ~ Gamma(shape q, rate
   gamma)`` per customer and each order's value ``~ Gamma(shape p, rate nu)``,
   for every order including the first; independent of the purchase process.
   The mean order value is ``p * gamma / (q - 1)``. Amounts are rounded to
   cents (at least 0.01).
4. **Subscriptions: shifted-beta-geometric** (Fader & Hardie 2007, "How to
   project customer retention"). A share of each channel's customers (drawn
   independently of everything else) starts a monthly subscription on the
   acquisition day, on a plan drawn with probabilities ``plans[...]["share"]``.
   Per subscriber ``theta ~ Beta(alpha, beta)`` of the plan; at the end of each
   paid month the subscriber cancels with probability ``theta``, so the tenure
   ``T`` (paid months, ``>= 1``) is geometric: ``P(T = t) = theta (1 -
   theta) ** (t - 1)``. ``end_date = start_date + T`` calendar months (day
   clipped to the month's end, like ``pd.DateOffset(months=T)``). If
   ``end_date > end`` the subscription is right-censored and ``end_date`` is
   empty. Time unit: **months**. ``P(T = 1) = alpha / (alpha + beta)``.
5. **Marketing spend ledger**, one row per calendar month, channel and kind:
   ``acquisition`` spend = new customers of the channel in the month * ``cac``
   * noise; ``retention`` spend = *active* customers of the channel in the month
   (customers with at least one order in that month, the acquisition order
   included) * ``retention_cost`` * noise. The noise is **mean-one**
   log-normal, ``exp(sigma Z - sigma**2 / 2)``, independent per row, so that
   ``E[spend] = count * unit cost``. Rows with a count of zero have spend 0.

References
----------
Colombo, R. & Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive
Marketing* 13(3), 2-12.
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers" the
easy way: An alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90.
Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
http://www.brucehardie.com/notes/025/

CDNOW
-----
:func:`load_cdnow` loads the CDNOW master log (Fader & Hardie 2001; 23,570
customers, 69,659 rows) or its 1/10th sample (2,357 customers; Fader, Hardie &
Lee 2005), converted by ``scripts/convert_cdnow.py`` (see ``data/README.md``).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import config
from .errors import ParameterError
from .io import LoadedTransactions, RowLedger, load_transactions, read_table

__all__ = [
    "ShopParams",
    "SampleShop",
    "generate_sample_shop",
    "write_sample_shop",
    "load_sample_shop",
    "load_cdnow",
]

_GZIP = {"method": "gzip", "mtime": 0}
_GENERATOR_VERSION = 1


def _default_channel_shares() -> dict[str, float]:
    return {"search": 0.40, "social": 0.25, "affiliate": 0.20, "referral": 0.15}


def _default_bgnbd() -> dict[str, dict[str, float]]:
    # Rates per WEEK. Mean purchase rate r/alpha; mean drop-out probability a/(a+b).
    return {
        "search": {"r": 0.80, "alpha": 10.0, "a": 1.40, "b": 4.00},
        "social": {"r": 0.60, "alpha": 10.0, "a": 1.60, "b": 3.00},
        "affiliate": {"r": 0.70, "alpha": 10.0, "a": 1.50, "b": 3.50},
        "referral": {"r": 1.00, "alpha": 10.0, "a": 1.20, "b": 4.50},
    }


def _default_gamma_gamma() -> dict[str, float]:
    return {"p": 6.0, "q": 4.0, "gamma": 25.0}


def _default_subscription_share() -> dict[str, float]:
    return {"search": 0.25, "social": 0.18, "affiliate": 0.22, "referral": 0.35}


def _default_plans() -> dict[str, dict[str, float]]:
    return {
        "basic": {"share": 0.70, "monthly_price": 9.99, "alpha": 0.90, "beta": 4.00},
        "plus": {"share": 0.30, "monthly_price": 19.99, "alpha": 1.20, "beta": 8.00},
    }


def _default_cac() -> dict[str, float]:
    return {"search": 40.0, "social": 30.0, "affiliate": 25.0, "referral": 15.0}


def _default_retention_cost() -> dict[str, float]:
    return {"search": 6.0, "social": 6.0, "affiliate": 5.0, "referral": 4.0}


@dataclass(frozen=True)
class ShopParams:
    """True parameters of the sample shop (all documented in :mod:`relmkt_helpers.datasets`).

    Attributes
    ----------
    channel_shares : dict
        Channel -> probability that a new customer comes through it (sums to 1).
        Its keys define the channels; every per-channel dict must use the same keys.
    bgnbd : dict
        Channel -> ``{"r", "alpha", "a", "b"}``: BG/NBD parameters, rates per **week**.
    gamma_gamma : dict
        ``{"p", "q", "gamma"}`` of the Gamma-Gamma spend model (all channels).
    subscription_share : dict
        Channel -> probability that a new customer also subscribes.
    plans : dict
        Plan -> ``{"share", "monthly_price", "alpha", "beta"}``: plan choice
        probability (sums to 1), price per month and shifted-beta-geometric churn
        parameters (time unit **months**).
    cac : dict
        Channel -> true acquisition cost per new customer.
    retention_cost : dict
        Channel -> true retention cost per active customer and month.
    spend_noise_sigma : float
        ``sigma`` of the mean-one log-normal noise on each ledger row.
    annual_growth : float
        Growth of the acquisition intensity per year (0.35 = +35 %/year).
    seasonality : float
        Amplitude of the monthly cosine seasonality of acquisitions (0 = none).
    seasonal_peak_month : float
        Month of the seasonal peak (11.5 = between November and December).

    Examples
    --------
    >>> ShopParams().bgnbd["referral"]["r"]
    1.0
    >>> ShopParams.from_overrides({"cac": {"search": 50.0}}).cac["search"]
    50.0
    """

    channel_shares: dict[str, float] = field(default_factory=_default_channel_shares)
    bgnbd: dict[str, dict[str, float]] = field(default_factory=_default_bgnbd)
    gamma_gamma: dict[str, float] = field(default_factory=_default_gamma_gamma)
    subscription_share: dict[str, float] = field(default_factory=_default_subscription_share)
    plans: dict[str, dict[str, float]] = field(default_factory=_default_plans)
    cac: dict[str, float] = field(default_factory=_default_cac)
    retention_cost: dict[str, float] = field(default_factory=_default_retention_cost)
    spend_noise_sigma: float = 0.10
    annual_growth: float = 0.35
    seasonality: float = 0.25
    seasonal_peak_month: float = 11.5

    @classmethod
    def from_overrides(cls, overrides: Mapping[str, Any] | None = None) -> "ShopParams":
        """Defaults updated by a (possibly nested, partial) dict of overrides.

        Nested dicts are merged key by key, so ``{"bgnbd": {"social": {"r": 0.5}}}``
        changes one number. A new channel or plan must be given in full.

        Examples
        --------
        >>> p = ShopParams.from_overrides({"bgnbd": {"social": {"r": 0.5}}})
        >>> p.bgnbd["social"], p.bgnbd["search"]["r"]
        ({'r': 0.5, 'alpha': 10.0, 'a': 1.6, 'b': 3.0}, 0.8)
        """
        base = asdict(cls())
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(overrides or {}) - known)
        if unknown:
            raise ParameterError(
                f"unknown sample-shop parameter(s) {unknown}; the parameters are {sorted(known)}."
            )

        def merge(dst: Any, src: Any) -> Any:
            if isinstance(dst, dict) and isinstance(src, Mapping):
                out = dict(dst)
                for k, v in src.items():
                    out[k] = merge(dst.get(k), v) if k in dst else copy.deepcopy(dict(v) if isinstance(v, Mapping) else v)
                return out
            return src

        for key, value in (overrides or {}).items():
            if isinstance(base[key], dict) != isinstance(value, Mapping):
                raise ParameterError(f"sample-shop parameter {key!r} must be a {type(base[key]).__name__}, got {value!r}.")
            base[key] = merge(base[key], value)
        return cls(**base)

    def validate(self) -> None:
        """Raise :class:`ParameterError` for inconsistent or impossible parameters.

        Examples
        --------
        >>> ShopParams().validate()
        """
        channels = list(self.channel_shares)
        if not channels:
            raise ParameterError("channel_shares must name at least one channel.")
        for name in ("bgnbd", "subscription_share", "cac", "retention_cost"):
            keys = list(getattr(self, name))
            if sorted(keys) != sorted(channels):
                raise ParameterError(
                    f"{name} has channels {sorted(keys)} but channel_shares has {sorted(channels)}; use the same channels."
                )
        for name, shares in (("channel_shares", self.channel_shares),
                             ("plan shares", {k: v["share"] for k, v in self.plans.items()})):
            vals = np.array(list(shares.values()), dtype=float)
            if (vals < 0).any() or not math.isclose(vals.sum(), 1.0, abs_tol=1e-9):
                raise ParameterError(f"{name} must be non-negative and sum to 1, got {shares}.")
        for ch, prm in self.bgnbd.items():
            if set(prm) != {"r", "alpha", "a", "b"} or min(prm.values()) <= 0:
                raise ParameterError(f"bgnbd[{ch!r}] needs positive r, alpha, a, b; got {prm}.")
        gg = self.gamma_gamma
        if set(gg) != {"p", "q", "gamma"} or min(gg.values()) <= 0:
            raise ParameterError(f"gamma_gamma needs positive p, q, gamma; got {gg}.")
        for plan, prm in self.plans.items():
            if set(prm) != {"share", "monthly_price", "alpha", "beta"} or prm["alpha"] <= 0 or prm["beta"] <= 0:
                raise ParameterError(f"plans[{plan!r}] needs share, monthly_price and positive alpha, beta; got {prm}.")
        for ch, s in self.subscription_share.items():
            if not 0 <= s <= 1:
                raise ParameterError(f"subscription_share[{ch!r}] must be in [0, 1], got {s}.")
        for name in ("cac", "retention_cost"):
            if min(getattr(self, name).values()) < 0:
                raise ParameterError(f"{name} must be non-negative, got {getattr(self, name)}.")
        if self.spend_noise_sigma < 0 or self.annual_growth <= -1 or not 0 <= self.seasonality < 1:
            raise ParameterError("need spend_noise_sigma >= 0, annual_growth > -1 and 0 <= seasonality < 1.")


@dataclass(frozen=True, eq=False)
class SampleShop:
    """The sample shop's tables and its ground truth.

    Attributes
    ----------
    transactions : DataFrame
        One row per order: ``order_id`` (str, ``O0000001`` in time order),
        ``customer_id`` (str, ``C000001`` in acquisition order), ``order_date``
        (``datetime64[ns]``, a calendar day), ``amount`` (float, 2 decimals) and
        ``channel`` (the customer's acquisition channel). A customer's first
        order is the acquisition order. Loaded from disk by
        :func:`load_sample_shop`, the frame is the canonical frame of
        :func:`relmkt_helpers.io.load_transactions` (column order
        ``customer_id, order_date, amount, order_id, channel``).
    spend : DataFrame
        Marketing spend ledger: ``month`` (str ``YYYY-MM``), ``channel``, ``kind``
        (``"acquisition"`` or ``"retention"``), ``spend`` (float, 2 decimals).
    subscriptions : DataFrame
        ``subscription_id``, ``customer_id``, ``plan``, ``channel``,
        ``start_date``, ``end_date`` (``NaT`` = still active at ``end``),
        ``monthly_price``.
    truth : dict
        JSON-ready true parameters, definitions and a few realised totals.
    ledger : RowLedger or None
        The row ledger when the transactions were loaded from a file.

    Examples
    --------
    >>> shop = generate_sample_shop(200, seed=1)
    >>> sorted(shop.truth["bgnbd"])
    ['affiliate', 'referral', 'search', 'social']
    """

    transactions: pd.DataFrame
    spend: pd.DataFrame
    subscriptions: pd.DataFrame
    truth: dict[str, Any]
    ledger: RowLedger | None = None


# ----------------------------------------------------------------------------
# generation
# ----------------------------------------------------------------------------

def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, as an object array of str (vectorised)."""
    s = pd.Series(numbers, dtype="int64").astype(str).str.zfill(width)
    return (prefix + s).to_numpy(dtype=object)


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Calendar ``days`` (datetime64[D]) plus whole ``months``, day clipped to month end."""
    m0 = days.astype("datetime64[M]")
    day = (days - m0.astype("datetime64[D]")).astype(np.int64)
    target = m0 + months.astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    last_day = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64) - 1
    return first + np.minimum(day, last_day).astype("timedelta64[D]")


def _month_segments(start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, list[str]]:
    """Boundaries (days since ``start``) of the calendar months covering ``[start, end]``."""
    month_starts = pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")
    inner = [(m - start).days for m in month_starts if m > start]
    horizon = (end - start).days + 1
    bounds = np.array([0, *inner, horizon], dtype=np.int64)
    labels = [start.strftime("%Y-%m")] + [m.strftime("%Y-%m") for m in month_starts if m > start]
    return bounds, labels


def generate_sample_shop(
    n_customers: int = config.SAMPLE_CUSTOMERS,
    *,
    seed: int = config.SAMPLE_SEED,
    start: str | pd.Timestamp = "2023-01-01",
    end: str | pd.Timestamp = "2025-12-31",
    params: ShopParams | Mapping[str, Any] | None = None,
) -> SampleShop:
    """Simulate the sample shop: orders, subscriptions and marketing spend with known truth.

    The processes (acquisition, BG/NBD repeat purchasing in weeks, Gamma-Gamma
    order values, shifted-beta-geometric subscriptions in months, and a
    marketing ledger with mean-one log-normal noise) are described in the
    :mod:`relmkt_helpers.datasets` module docstring and in ``truth["definitions"]``.
    Fully vectorised: a million customers take a few seconds.

    Parameters
    ----------
    n_customers : int
        Number of customers acquired between ``start`` and ``end``.
    seed : int
        Seed of ``numpy.random.default_rng``. Same seed, size, window and
        parameters give identical frames (with the pinned numpy version).
    start, end : date-like
        First and last calendar day (both inclusive) of acquisition and of
        observation. Orders after ``end`` are not observed.
    params : ShopParams or dict, optional
        True parameters. A dict is a partial, nested override of the defaults of
        :class:`ShopParams` (for example ``{"bgnbd": {"social": {"r": 0.5}}}``).

    Returns
    -------
    SampleShop
        ``transactions``, ``spend``, ``subscriptions`` and the ``truth`` dict.

    Examples
    --------
    >>> shop = generate_sample_shop(200, seed=7)
    >>> shop.transactions.columns.tolist()
    ['order_id', 'customer_id', 'order_date', 'amount', 'channel']
    >>> shop.transactions["customer_id"].nunique()
    200
    >>> shop.truth["time_units"]["bgnbd"]
    'weeks'
    >>> shop.spend["kind"].unique().tolist()
    ['acquisition', 'retention']
    """
    if isinstance(params, ShopParams):
        prm = params
    elif params is None or isinstance(params, Mapping):
        prm = ShopParams.from_overrides(params)
    else:
        raise ParameterError(f"params must be a ShopParams, a dict or None, not {type(params).__name__}.")
    prm.validate()
    n = int(n_customers)
    if n < 1 or n != n_customers:
        raise ParameterError(f"n_customers must be a positive integer, got {n_customers!r}.")
    start_ts, end_ts = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end_ts <= start_ts:
        raise ParameterError(f"end ({end_ts.date()}) must be after start ({start_ts.date()}).")

    rng = np.random.default_rng(seed)
    channels = list(prm.channel_shares)
    n_ch = len(channels)
    start_day = np.datetime64(start_ts.date(), "D")

    # --- 1. acquisition -----------------------------------------------------
    bounds, month_labels = _month_segments(start_ts, end_ts)
    horizon = float(bounds[-1])  # observation ends at midnight after `end`, in days since start
    n_months = len(month_labels)
    seg_len = np.diff(bounds).astype(float)
    mid_years = (bounds[:-1] + seg_len / 2) / 365.25
    moy = np.array([int(lbl[5:]) for lbl in month_labels], dtype=float)
    intensity = (1 + prm.annual_growth) ** mid_years * (
        1 + prm.seasonality * np.cos(2 * np.pi * (moy - prm.seasonal_peak_month) / 12)
    )
    w = intensity * seg_len
    seg = rng.choice(n_months, size=n, p=w / w.sum())
    t0 = np.sort(bounds[seg] + rng.random(n) * seg_len[seg])  # days since start; ids follow arrival
    last_day = int(bounds[-1]) - 1
    acq_day = np.minimum(np.floor(t0).astype(np.int64), last_day)
    acq_month = np.searchsorted(bounds, acq_day, side="right") - 1
    ch = rng.choice(n_ch, size=n, p=np.array([prm.channel_shares[c] for c in channels]))

    # --- 2. BG/NBD repeat purchases (weeks) ---------------------------------
    bg = np.array([[prm.bgnbd[c][k] for k in ("r", "alpha", "a", "b")] for c in channels])
    r_i, alpha_i, a_i, b_i = bg[ch].T
    lam = rng.gamma(r_i, 1.0 / alpha_i)  # purchases per week while alive
    p_drop = np.clip(rng.beta(a_i, b_i), 1e-12, 1.0)
    exposure_weeks = (horizon - t0) / 7.0
    m_poisson = rng.poisson(lam * exposure_weeks)  # purchases in (t0, end] if never dropping out
    n_before_drop = rng.geometric(p_drop)  # the repeat purchase after which the customer drops (>= 1)
    k_obs = np.minimum(m_poisson, n_before_drop)
    # Given M Poisson arrivals in the window their times are M sorted uniforms, and the
    # customer makes the first K = min(M, N). The first K order statistics of M uniforms are
    # drawn directly (Renyi): -log(1 - U_(k)) = sum_{j<k} E_j / (M - j), E_j ~ Exp(1).
    total = int(k_obs.sum())
    rep_owner = np.repeat(np.arange(n), k_obs)
    group_start = np.cumsum(k_obs) - k_obs
    rank = np.arange(total) - np.repeat(group_start, k_obs)
    e = rng.standard_exponential(total) / (m_poisson[rep_owner] - rank)
    c = np.cumsum(e)
    before = np.concatenate([[0.0], c])[group_start]
    u = -np.expm1(-(c - np.repeat(before, k_obs)))
    rep_time = t0[rep_owner] + u * (horizon - t0[rep_owner])

    # --- 3. Gamma-Gamma order values ----------------------------------------
    gg = prm.gamma_gamma
    nu = rng.gamma(gg["q"], 1.0 / gg["gamma"], size=n)
    o_cust = np.concatenate([np.arange(n), rep_owner])
    o_time = np.concatenate([t0, rep_time])
    order = np.argsort(o_time, kind="stable")
    o_cust, o_time = o_cust[order], o_time[order]
    amount = rng.gamma(gg["p"], 1.0 / nu[o_cust])
    amount = np.maximum(np.round(amount, 2), 0.01)
    o_day = np.minimum(np.floor(o_time).astype(np.int64), last_day)

    cid_width = max(6, len(str(n)))
    cust_ids = _ids("C", np.arange(1, n + 1), cid_width)
    channel_arr = np.array(channels, dtype=object)
    n_orders = o_cust.size
    transactions = pd.DataFrame({
        "order_id": _ids("O", np.arange(1, n_orders + 1), max(7, len(str(n_orders)))),
        "customer_id": cust_ids[o_cust],
        "order_date": (start_day + o_day.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "amount": amount,
        "channel": channel_arr[ch[o_cust]],
    })
    for col in ("order_id", "customer_id", "channel"):
        transactions[col] = transactions[col].astype("str")

    # --- 4. subscriptions (shifted-beta-geometric, months) ------------------
    sub_share = np.array([prm.subscription_share[c] for c in channels])
    is_sub = rng.random(n) < sub_share[ch]
    subs = np.flatnonzero(is_sub)
    plans = list(prm.plans)
    plan_i = rng.choice(len(plans), size=subs.size, p=np.array([prm.plans[p]["share"] for p in plans]))
    sbg = np.array([[prm.plans[p]["alpha"], prm.plans[p]["beta"]] for p in plans])
    theta = np.clip(rng.beta(sbg[plan_i, 0], sbg[plan_i, 1]), 1e-12, 1.0)
    tenure = np.minimum(rng.geometric(theta), 12 * 200)  # months paid; > window is censored anyway
    sub_start = start_day + acq_day[subs].astype("timedelta64[D]")
    sub_end = _add_months(sub_start, tenure)
    end_day = np.datetime64(end_ts.date(), "D")
    censored = sub_end > end_day
    price = np.array([prm.plans[p]["monthly_price"] for p in plans], dtype=float)
    subscriptions = pd.DataFrame({
        "subscription_id": _ids("S", np.arange(1, subs.size + 1), cid_width),
        "customer_id": cust_ids[subs],
        "plan": np.array(plans, dtype=object)[plan_i],
        "channel": channel_arr[ch[subs]],
        "start_date": sub_start.astype("datetime64[ns]"),
        "end_date": pd.Series(sub_end.astype("datetime64[ns]")).mask(censored).to_numpy(),
        "monthly_price": price[plan_i],
    })
    for col in ("subscription_id", "customer_id", "plan", "channel"):
        subscriptions[col] = subscriptions[col].astype("str")
    subscriptions["end_date"] = subscriptions["end_date"].astype("datetime64[ns]")

    # --- 5. marketing spend ledger -----------------------------------------
    new_counts = np.bincount(acq_month * n_ch + ch, minlength=n_months * n_ch).reshape(n_months, n_ch)
    o_month = np.searchsorted(bounds, o_day, side="right") - 1
    # distinct (customer, month) pairs with an order: orders are in time order, so after a
    # stable sort by customer each customer's months are non-decreasing.
    by_cust = np.argsort(o_cust, kind="stable")
    c_sorted, m_sorted = o_cust[by_cust], o_month[by_cust]
    first = np.ones(n_orders, dtype=bool)
    first[1:] = (c_sorted[1:] != c_sorted[:-1]) | (m_sorted[1:] != m_sorted[:-1])
    act_month, act_cust = m_sorted[first], c_sorted[first]
    active_counts = np.bincount(act_month * n_ch + ch[act_cust], minlength=n_months * n_ch).reshape(n_months, n_ch)
    sigma = prm.spend_noise_sigma
    unit = {
        "acquisition": np.array([prm.cac[c] for c in channels]),
        "retention": np.array([prm.retention_cost[c] for c in channels]),
    }
    rows = []
    for kind, counts in (("acquisition", new_counts), ("retention", active_counts)):
        noise = rng.lognormal(-sigma**2 / 2, sigma, size=counts.shape)
        spend = np.round(counts * unit[kind][None, :] * noise, 2)
        rows.append(pd.DataFrame({
            "month": np.repeat(month_labels, n_ch),
            "channel": np.tile(channels, n_months),
            "kind": kind,
            "spend": spend.ravel() + 0.0,
        }))
    spend_df = pd.concat(rows).sort_values(["month", "kind"], kind="stable").reset_index(drop=True)
    for col in ("month", "channel", "kind"):
        spend_df[col] = spend_df[col].astype("str")

    truth = _truth(prm, seed=seed, n=n, start=start_ts, end=end_ts, transactions=transactions,
                   subscriptions=subscriptions, spend=spend_df, new_counts=new_counts, channels=channels)
    return SampleShop(transactions=transactions, spend=spend_df, subscriptions=subscriptions, truth=truth)


def _truth(prm: ShopParams, *, seed: int, n: int, start: pd.Timestamp, end: pd.Timestamp,
           transactions: pd.DataFrame, subscriptions: pd.DataFrame, spend: pd.DataFrame,
           new_counts: np.ndarray, channels: list[str]) -> dict[str, Any]:
    gg = prm.gamma_gamma
    by_kind = spend.groupby("kind")["spend"].sum()
    return {
        "generator": "relmkt_helpers.datasets.generate_sample_shop",
        "generator_version": _GENERATOR_VERSION,
        "numpy_version": np.__version__,
        "seed": int(seed),
        "n_customers": n,
        "start": str(start.date()),
        "end": str(end.date()),
        "time_units": {
            "bgnbd": "weeks",
            "gamma_gamma": "currency per order",
            "subscriptions": "months",
            "marketing_spend": "currency per calendar month",
        },
        "acquisition": {
            "channel_shares": dict(prm.channel_shares),
            "annual_growth": prm.annual_growth,
            "seasonality": prm.seasonality,
            "seasonal_peak_month": prm.seasonal_peak_month,
        },
        "bgnbd": {c: dict(prm.bgnbd[c]) for c in channels},
        "gamma_gamma": {**gg, "mean_order_value": (gg["p"] * gg["gamma"] / (gg["q"] - 1)) if gg["q"] > 1 else None},
        "subscriptions": {
            "share_by_channel": dict(prm.subscription_share),
            "plans": {k: dict(v) for k, v in prm.plans.items()},
        },
        "marketing": {
            "cac": dict(prm.cac),
            "retention_cost_per_active_customer_month": dict(prm.retention_cost),
            "noise": {"distribution": "lognormal, mean one: exp(sigma*Z - sigma^2/2)",
                      "sigma": prm.spend_noise_sigma},
        },
        "definitions": {
            "acquisition": "intensity by calendar month = (1+annual_growth)^years_since_start * "
                           "(1+seasonality*cos(2*pi*(month-seasonal_peak_month)/12)) * days in window; "
                           "time uniform within the month; channel drawn with channel_shares",
            "first_order": "placed at the acquisition time t0; it is not a repeat purchase",
            "bgnbd": "lambda ~ Gamma(shape r, rate alpha) per week; p ~ Beta(a, b); repeat purchases "
                     "Poisson(lambda) after t0; drop-out with prob p right after each repeat purchase, "
                     "never at t0 (Fader, Hardie & Lee 2005)",
            "gamma_gamma": "nu ~ Gamma(shape q, rate gamma) per customer; every order value "
                           "~ Gamma(shape p, rate nu); mean p*gamma/(q-1) (Fader & Hardie 2013)",
            "subscriptions": "start on the acquisition day; theta ~ Beta(alpha, beta) per plan; "
                             "tenure T months ~ Geometric(theta) >= 1; end_date = start_date + T calendar "
                             "months; empty end_date = right-censored (end_date > end) "
                             "(Fader & Hardie 2007)",
            "acquisition_spend": "new customers (month, channel) * cac * noise",
            "retention_spend": "customers with >= 1 order in the month (acquisition order included), "
                               "by channel, * retention cost * noise",
            "order_date": "calendar day (floor) of the continuous purchase time; orders after end unobserved",
            "amount": "rounded to cents, at least 0.01",
        },
        "realised": {
            "customers_by_channel": {c: int(new_counts[:, j].sum()) for j, c in enumerate(channels)},
            "orders": int(len(transactions)),
            "repeat_orders": int(len(transactions) - n),
            "revenue": round(float(transactions["amount"].sum()), 2),
            "subscriptions": int(len(subscriptions)),
            "subscriptions_active_at_end": int(subscriptions["end_date"].isna().sum()),
            "acquisition_spend": round(float(by_kind.get("acquisition", 0.0)), 2),
            "retention_spend": round(float(by_kind.get("retention", 0.0)), 2),
        },
    }


# ----------------------------------------------------------------------------
# writing and loading
# ----------------------------------------------------------------------------

def _sample_paths(out_dir: Path) -> dict[str, Path]:
    return {
        "transactions": out_dir / config.SAMPLE_TRANSACTIONS.name,
        "spend": out_dir / config.SAMPLE_SPEND.name,
        "subscriptions": out_dir / config.SAMPLE_SUBSCRIPTIONS.name,
        "truth": out_dir / config.SAMPLE_TRUTH.name,
    }


def write_sample_shop(shop: SampleShop, out_dir: str | Path) -> dict[str, Path]:
    """Write the shop's four files with deterministic bytes.

    Dates are written as ``YYYY-MM-DD`` (an empty ``end_date`` is an active
    subscription), money with two decimals, gzip with ``mtime=0``, ``\\n`` line
    ends, so the same shop gives byte-identical files. File names come from
    :mod:`relmkt_helpers.config` (``transactions.csv.gz``, ``marketing_spend.csv``,
    ``subscriptions.csv.gz``, ``ground_truth.json``).

    Parameters
    ----------
    shop : SampleShop
        From :func:`generate_sample_shop`.
    out_dir : str or Path
        Folder to write to (created if missing).

    Returns
    -------
    dict of str to Path
        ``{"transactions", "spend", "subscriptions", "truth"}`` -> written path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_sample_shop(generate_sample_shop(200, seed=1), d)
    ...     sorted(p.name for p in paths.values())
    ['ground_truth.json', 'marketing_spend.csv', 'subscriptions.csv.gz', 'transactions.csv.gz']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = _sample_paths(out)
    csv = {"index": False, "lineterminator": "\n", "date_format": "%Y-%m-%d", "float_format": "%.2f"}
    tx = shop.transactions[["order_id", "customer_id", "order_date", "amount", "channel"]]
    tx.to_csv(paths["transactions"], compression=_GZIP, **csv)
    shop.spend[["month", "channel", "kind", "spend"]].to_csv(paths["spend"], **csv)
    subs = shop.subscriptions[["subscription_id", "customer_id", "plan", "channel",
                               "start_date", "end_date", "monthly_price"]]
    subs.to_csv(paths["subscriptions"], compression=_GZIP, **csv)
    paths["truth"].write_text(json.dumps(shop.truth, indent=2) + "\n", encoding="utf-8")
    return paths


def load_sample_shop(data_dir: str | Path | None = None) -> SampleShop:
    """Load the bundled sample shop (or one written by :func:`write_sample_shop`).

    The transactions go through :func:`relmkt_helpers.io.load_transactions` (the
    canonical frame, with the row ledger in ``.ledger``). The spend ledger and
    the subscriptions are read as they are, with ids as text and the date
    columns parsed to ``datetime64[ns]`` (``end_date`` is ``NaT`` for an active
    subscription).

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder with the four files. Default :data:`config.SAMPLE_SHOP_DIR`.

    Returns
    -------
    SampleShop
        ``transactions`` (canonical frame, plus ``channel``), ``spend``,
        ``subscriptions``, ``truth`` and ``ledger``.

    Examples
    --------
    >>> shop = load_sample_shop()
    >>> shop.truth["seed"] == config.SAMPLE_SEED, shop.ledger.rows_dropped
    (True, 0)
    """
    paths = _sample_paths(Path(data_dir) if data_dir is not None else config.SAMPLE_SHOP_DIR)
    tx, ledger = load_transactions(paths["transactions"])
    spend = read_table(paths["spend"], what="spend ledger", str_cols=("month", "channel", "kind"))
    subs = read_table(paths["subscriptions"], what="subscriptions",
                      str_cols=("subscription_id", "customer_id", "plan", "channel"))
    for col in ("start_date", "end_date"):
        subs[col] = pd.to_datetime(subs[col], format="%Y-%m-%d").astype("datetime64[ns]")
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    return SampleShop(transactions=tx, spend=spend, subscriptions=subs, truth=truth, ledger=ledger)


def load_cdnow(sample: bool = False) -> LoadedTransactions:
    """Load the bundled CDNOW transaction log as the canonical frame (customer-day orders).

    CDNOW (Fader & Hardie 2001) has no order ids: following the kit's
    convention, all rows of a customer on one day are one order (amounts and the
    ``quantity`` of CDs summed). Rows that repeat an earlier row exactly are
    genuine purchases in this log (255 in the master file), so they are kept
    (``duplicates="keep"``). Does not import ``lifetimes``.

    Parameters
    ----------
    sample : bool
        ``False``: the master file (23,570 customers, 69,659 rows, 1997-01-01 to
        1998-06-30). ``True``: the 1/10th sample used by Fader, Hardie & Lee (2005)
        (2,357 customers, 6,919 rows; ``customer_id`` is the master file's id).

    Returns
    -------
    LoadedTransactions
        ``(transactions, ledger)``: columns ``customer_id, order_date, amount,
        order_id, quantity``.

    Examples
    --------
    >>> tx, ledger = load_cdnow(sample=True)
    >>> ledger.rows_read, ledger.first_date, ledger.last_date
    (6919, '1997-01-01', '1998-06-30')
    """
    path = config.CDNOW_SAMPLE_TRANSACTIONS if sample else config.CDNOW_TRANSACTIONS
    tx, ledger = load_transactions(path, duplicates="keep")
    raw = read_table(path, what="transactions", str_cols=("customer_id",))
    qty = raw.groupby(raw["customer_id"] + "|" + raw["order_date"], sort=False)["quantity"].sum()
    tx["quantity"] = tx["order_id"].map(qty).astype("int64")
    return LoadedTransactions(tx, ledger)


def _main(argv: list[str] | None = None) -> int:
    """``python -m relmkt_helpers.datasets [--customers N] [--seed S] [--out DIR]``."""
    ap = argparse.ArgumentParser(prog="python -m relmkt_helpers.datasets",
                                 description="Generate the sample shop and write its four files.")
    ap.add_argument("--customers", type=int, default=config.SAMPLE_CUSTOMERS)
    ap.add_argument("--seed", type=int, default=config.SAMPLE_SEED)
    ap.add_argument("--out", type=Path, default=config.SAMPLE_SHOP_DIR)
    args = ap.parse_args(argv)
    paths = write_sample_shop(generate_sample_shop(args.customers, seed=args.seed), args.out)
    for p in paths.values():
        print(f"{p}  {p.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
