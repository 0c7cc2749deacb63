"""The per-order reductions, each written once as an Ibis expression (any Ibis backend runs it).

Each function takes the canonical orders as an Ibis table (``customer_id``, ``order_date`` at
midnight, ``amount``, ``order_id``: :attr:`relmkt_helpers.engine.EngineOrders.table`) and returns
an Ibis expression; nothing runs until the caller executes it. The definitions are those of the
pandas/numpy functions named in each docstring, and ``tests/test_engine.py`` checks that the
results are equal (counts exactly, money to 1e-12 relative) on the bundled data and on generated
logs with refunds, duplicates, same-day orders, month ends and leap days.

Periods are integer codes, as in :mod:`relmkt_helpers.clv.prep`: ``"D"`` days since 1970-01-01,
``"W"`` weeks running Monday to Sunday, ``"M"`` months since January 1970.

Examples
--------
An expression is built on any table with the canonical columns and compiled for an engine only when
it runs (here shown as DuckDB SQL, not run):

>>> import ibis
>>> orders = ibis.table({"customer_id": "string", "order_date": "timestamp", "amount": "float64",
...                      "order_id": "string"}, name="orders")
>>> expr = rfm_summary_expr(orders, observation_end="2024-12-31", freq="W")
>>> list(expr.columns)
['customer_id', 'frequency', 'recency', 'T', 'monetary_value']
>>> "GROUP BY" in ibis.to_sql(expr, dialect="duckdb")
True
"""
from __future__ import annotations

from typing import Any

import pandas as pd

_EPOCH = "1970-01-01"


def period_code(order_date, freq: str):
    """Integer period of a timestamp column (see the module docstring)."""
    import ibis

    if freq in ("M", "Q"):
        month = (order_date.year() - 1970) * 12 + order_date.month() - 1
        return month if freq == "M" else (month / 3).floor().cast("int64")
    days = order_date.date().delta(ibis.date(_EPOCH), unit="day")
    if freq == "D":
        return days
    return ((days + 3) / 7).floor().cast("int64")  # 1969-12-29 was a Monday


def first_by(value, *keys, skip_missing: bool = False):
    """``value`` at the row with the smallest ``keys`` (compared in order): a missing value included, or
    with ``skip_missing`` the first value present (as pandas' ``groupby(...).first()``).

    An aggregate. One definition for every backend: Ibis writes it as DuckDB's
    ``FIRST(... ORDER BY ...)`` and Spark's ``min_by`` (which has no ordered ``first``). The value
    is wrapped in a struct so that a missing first value is returned, not skipped.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"c": ["a", "a", "b"], "day": [2, 1, 1], "channel": ["web", None, "shop"]}))
    >>> e = t.group_by("c").agg(first=first_by(t.channel, t.day), present=first_by(t.channel, t.day, skip_missing=True))
    >>> ibis.duckdb.connect().execute(e.order_by("c")).values.tolist()
    [['a', nan, 'web'], ['b', 'shop', 'shop']]
    """
    import ibis

    key = ibis.struct({f"k{i}": k for i, k in enumerate(keys)})
    return ibis.struct({"v": value}).argmin(key, where=value.notnull() if skip_missing else None)["v"]


def _upto(orders, end: Any):
    import ibis

    return orders.filter(orders.order_date <= ibis.timestamp(pd.Timestamp(end).normalize()))


def rfm_summary_expr(orders, *, observation_end: Any, freq: str = "W", freq_multiplier: float = 1):
    """Per customer: ``frequency``, ``recency``, ``T``, ``monetary_value``, as
    :func:`relmkt_helpers.clv.prep.rfm_summary` defines them (lifetimes' conventions): all orders of
    a period are one purchase with their summed amount; the first period is the acquisition."""
    import ibis

    o = _upto(orders, observation_end)
    o = o.mutate(p=period_code(o.order_date, freq))
    pairs = o.group_by(["customer_id", "p"]).agg(v=o.amount.sum())
    pairs = pairs.mutate(first=pairs.p.min().over(group_by="customer_id"))
    per = pairs.group_by("customer_id").agg(
        n=pairs.count(), first=pairs.p.min(), last=pairs.p.max(),
        rest=(pairs.p > pairs.first).ifelse(pairs.v, 0.0).sum())
    end_p = _end_period(observation_end, freq)
    return per.select(
        "customer_id",
        frequency=(per.n - 1).cast("float64"),
        recency=(per.last - per.first) / freq_multiplier,
        T=(ibis.literal(end_p) - per.first) / freq_multiplier,
        monetary_value=(per.n > 1).ifelse(per.rest / (per.n - 1), 0.0),
    )


def _end_period(end: Any, freq: str) -> int:
    from ..clv.prep import _period_of_days, _to_day

    import numpy as np

    return int(_period_of_days(np.array([_to_day(end, "observation_end")]), freq)[0])


def rfm_counts_expr(orders, *, observation_end: Any, freq: str = "W", freq_multiplier: float = 1):
    """The unique ``(frequency, recency, T)`` rows with their number of customers: what the BTYD
    fitters read (:func:`relmkt_helpers.clv.prep.compress_summary`): bounded by the number of
    possible (x, t_x, T) triples, not by the number of customers."""
    s = rfm_summary_expr(orders, observation_end=observation_end, freq=freq, freq_multiplier=freq_multiplier)
    return s.group_by(["frequency", "recency", "T"]).agg(customers=s.count())


def cohort_activity_expr(orders, *, period: str = "M", as_of: Any = None):
    """Acquisition cohort (period of the first order) x period: active customers, orders and revenue
    (the numerators of :func:`relmkt_helpers.cohorts.retention_matrix` and its revenue matrix)."""
    o = orders if as_of is None else _upto(orders, as_of)
    o = o.mutate(p=period_code(o.order_date, period))
    o = o.mutate(cohort=o.p.min().over(group_by="customer_id"))
    return o.group_by(["cohort", "p"]).agg(
        customers=o.customer_id.nunique(), orders=o.count(), revenue=o.amount.sum()
    ).rename(period="p")


def monthly_counts_expr(orders, *, as_of: Any = None, freq: str = "M"):
    """Per calendar month with orders: ``orders``, ``revenue``, ``revenue_sq`` (sum of squared order
    values), ``customers_active``, ``customers_new``, ``customers_returning`` (active the month before
    too), ``customers_reactivated`` (back after a gap) and ``repeaters`` (customers whose second order
    falls in the month): the counts behind :func:`relmkt_helpers.kpis.month_table`."""
    import ibis

    o = orders if as_of is None else _upto(orders, as_of)
    o = o.mutate(p=period_code(o.order_date, freq))
    o = o.mutate(first=o.p.min().over(group_by="customer_id"))
    cm = o.group_by(["customer_id", "p"]).agg(first=o.first.min(), orders=o.count(), revenue=o.amount.sum(),
                                               revenue_sq=(o.amount * o.amount).sum())
    cm = cm.mutate(prev=cm.p.lag().over(ibis.window(group_by="customer_id", order_by="p")))
    months = cm.group_by("p").agg(
        orders=cm.orders.sum(),
        revenue=cm.revenue.sum(),
        revenue_sq=cm.revenue_sq.sum(),
        customers_active=cm.count(),
        customers_new=(cm.p == cm.first).sum(),
        customers_returning=(cm.prev == cm.p - 1).fill_null(False).sum(),
        customers_reactivated=((cm.p != cm.first) & (cm.prev < cm.p - 1)).fill_null(False).sum(),
    )
    # the month of each customer's second order: the first month if it holds two, else the next one
    per = cm.group_by("customer_id").agg(first=cm.first.min(), n_first=cm.orders.sum(where=cm.p == cm.first),
                                         later=cm.p.min(where=cm.p > cm.first))
    per = per.mutate(second=ibis.ifelse(per.n_first >= 2, per.first, per.later))
    per = per.filter(per.second.notnull())
    rep = per.group_by(q=per.second).agg(repeaters=per.count())
    j = months.left_join(rep, months.p == rep.q)
    return j.select(*[j[c] for c in months.columns], repeaters=j.repeaters.fill_null(0)).rename(month="p")


def month_label(code) -> pd.PeriodIndex:
    """``Period[M]`` from the engine's month codes."""
    import numpy as np

    return pd.PeriodIndex(np.asarray(code, dtype="int64").astype("datetime64[M]"), freq="M")


def calibration_holdout_expr(orders, *, calibration_end: Any, observation_end: Any, freq: str = "W",
                             freq_multiplier: float = 1):
    """:func:`relmkt_helpers.clv.prep.calibration_holdout`: the calibration window's RFM summary, and per
    customer the distinct holdout periods with a purchase and the mean of their summed amounts."""
    import ibis

    cal = rfm_summary_expr(orders, observation_end=calibration_end, freq=freq, freq_multiplier=freq_multiplier)
    lo, hi = (ibis.timestamp(pd.Timestamp(d).normalize()) for d in (calibration_end, observation_end))
    h = orders.filter((orders.order_date > lo) & (orders.order_date <= hi))
    h = h.mutate(p=period_code(h.order_date, freq))
    pairs = h.group_by(["customer_id", "p"]).agg(v=h.amount.sum())
    per = pairs.group_by("customer_id").agg(n=pairs.count(), total=pairs.v.sum())
    j = cal.left_join(per, "customer_id")
    duration = (_end_period(observation_end, freq) - _end_period(calibration_end, freq)) / freq_multiplier
    return j.select(
        customer_id=cal.customer_id, frequency_cal=cal.frequency, recency_cal=cal.recency, T_cal=cal.T,
        monetary_value_cal=cal.monetary_value,
        frequency_holdout=per.n.fill_null(0).cast("float64"),
        monetary_value_holdout=(per.total / per.n).fill_null(0.0),
        duration_holdout=ibis.literal(float(duration)),
    )


def customer_orders_expr(orders, *, as_of: Any):
    """Per customer up to ``as_of``: first and last order day, orders and their total: the inputs of
    :func:`relmkt_helpers.rfm.rfm_table` (whose scores are then computed on this compact table)."""
    o = _upto(orders, as_of)
    return o.group_by("customer_id").agg(first_order=o.order_date.min(), last_order=o.order_date.max(),
                                         frequency=o.count(), monetary_total=o.amount.sum())


def churn_features_expr(orders, *, as_of: Any, window_days: int = 90, channel_col: str | None = None):
    """:func:`relmkt_helpers.churn.features.churn_features` before its last, per-customer arithmetic:
    recency, frequency, money, tenure, the gaps between distinct purchase days, the two windows'
    orders and spend, and the channel of the first order (ties on the first day: smallest order id)."""
    import ibis

    end = pd.Timestamp(as_of).normalize()
    o = _upto(orders, end)
    d = o.order_date.date().delta(ibis.date(_EPOCH), unit="day")
    o = o.mutate(d=d)
    e = int((end - pd.Timestamp(_EPOCH)).days)
    last_w = o.d > e - window_days
    prev_w = (o.d > e - 2 * window_days) & ~last_w
    base = o.group_by("customer_id").agg(
        first_d=o.d.min(), last_d=o.d.max(), frequency=o.count(), monetary_total=o.amount.sum(),
        orders_last_w=last_w.sum(), orders_prev_w=prev_w.sum(),
        spend_last_w=last_w.ifelse(o.amount, 0.0).sum(), spend_prev_w=prev_w.ifelse(o.amount, 0.0).sum(),
        **({"channel": first_by(o[channel_col], o.d, o.order_id)} if channel_col else {}),
    )
    days = o.select("customer_id", "d").distinct()
    days = days.mutate(gap=days.d - days.d.lag().over(ibis.window(group_by="customer_id", order_by="d")))
    g = days.filter(days.gap.notnull())
    gaps = g.group_by("customer_id").agg(n_gaps=g.count(), gap_mean=g.gap.mean(), gap_median=g.gap.median(),
                                         gap_std=g.gap.std(how="sample"))
    j = base.left_join(gaps, "customer_id")
    return j.select(
        customer_id=base.customer_id, recency_days=e - base.last_d, frequency=base.frequency,
        monetary_total=base.monetary_total, tenure_days=e - base.first_d, n_gaps=gaps.n_gaps.fill_null(0),
        gap_mean=gaps.gap_mean, gap_median=gaps.gap_median.cast("float64"), gap_std=gaps.gap_std,
        orders_last_w=base.orders_last_w, orders_prev_w=base.orders_prev_w, spend_last_w=base.spend_last_w,
        spend_prev_w=base.spend_prev_w, **({"channel": base.channel} if channel_col else {}))


def churn_labels_expr(orders, *, as_of: Any, horizon_days: int = 90):
    """``churned`` per customer acquired on or before ``as_of``: no order in ``(as_of, as_of + H]``
    (:func:`relmkt_helpers.churn.features.churn_labels`)."""
    import ibis

    end = pd.Timestamp(as_of).normalize()
    lo, hi = ibis.timestamp(end), ibis.timestamp(end + pd.Timedelta(days=horizon_days))
    o = orders
    per = o.group_by("customer_id").agg(first=o.order_date.min(),
                                        future=((o.order_date > lo) & (o.order_date <= hi)).sum())
    return per.filter(per.first <= lo).select("customer_id", churned=per.future == 0)


def activity_expr(orders, *, as_of: Any, channel_col: str | None = None, freq: str = "M"):
    """Per (period, channel): ``new``, ``active`` and ``returning`` customers and ``revenue``: the counts of
    :func:`relmkt_helpers.economics._common.activity` (``freq`` "M" months or "Y" years). A customer's channel
    is the value on their first order (the first row, in input order, of their first day), stripped,
    ``"(missing)"`` when empty, as in :func:`relmkt_helpers.economics._common.customer_channels`."""
    import ibis

    from .sources import FILE, ROW

    o = _upto(orders, as_of)
    month = period_code(o.order_date, "M")
    o = o.mutate(p=month if freq == "M" else (month / 12).floor().cast("int64"))
    if channel_col is None:
        ch = o.group_by("customer_id").agg(ch=ibis.literal("all"))
    else:
        first = first_by(o[channel_col], o.order_date, o[FILE], o[ROW])
        ch = o.group_by("customer_id").agg(ch=first.cast("string").fill_null("(missing)").strip())
    cp = o.group_by(["customer_id", "p"]).agg(revenue=o.amount.sum())
    w = ibis.window(group_by="customer_id", order_by="p")
    cp = cp.mutate(first=cp.p.min().over(group_by="customer_id"), prev=cp.p.lag().over(w))
    j = cp.inner_join(ch, "customer_id")
    return j.group_by(["p", "ch"]).agg(
        active=j.count(), new=(j.p == j.first).sum(), returning=(j.prev == j.p - 1).fill_null(False).sum(),
        revenue=j.revenue.sum()).rename(channel="ch", period="p")


def daily_purchases_expr(orders, *, observation_end: Any):
    """Per day with a purchase up to ``observation_end`` (``day``, days since 1970-01-01): ``births``
    (customers whose first purchase day it is) and ``repeats`` (later purchase days of other customers).
    A customer's orders on one day are one purchase, as in the models' frequency: the inputs of
    :func:`relmkt_helpers.plots.clv.tracking_table`."""
    o = _upto(orders, observation_end)
    cd = o.select("customer_id", day=period_code(o.order_date, "D")).distinct()
    cd = cd.mutate(first=cd.day.min().over(group_by="customer_id"))
    return cd.group_by("day").agg(births=(cd.day == cd.first).sum(), repeats=(cd.day > cd.first).sum())


def history_windows_expr(orders, *, as_of: Any, recent_start: int, baseline_start: int, min_orders: int):
    """Per customer with at least ``min_orders`` orders before day ``recent_start``: the orders and spend
    of their history (before ``recent_start``), baseline (``baseline_start`` .. ``recent_start - 1``)
    and recent window (``recent_start`` .. ``as_of``), first and last order day, and the median gap
    between consecutive distinct order days of the history: the inputs of
    :func:`relmkt_helpers.rfm.dropped_off` (days since 1970-01-01)."""
    import ibis

    o = _upto(orders, as_of)
    o = o.mutate(day=period_code(o.order_date, "D"))
    hist, base = o.day < recent_start, (o.day >= baseline_start) & (o.day < recent_start)
    per = o.group_by("customer_id").agg(
        history_orders=hist.sum(), history_spend=o.amount.sum(where=hist).fill_null(0.0),
        first_day=o.day.min(), last_day=o.day.max(),
        baseline_orders=base.sum(), baseline_spend=o.amount.sum(where=base).fill_null(0.0),
        recent_orders=(~hist).sum(), recent_spend=o.amount.sum(where=~hist).fill_null(0.0))
    per = per.filter(per.history_orders >= min_orders)
    days = o.filter(hist).select("customer_id", "day").distinct()
    days = days.mutate(gap=days.day - days.day.lag().over(ibis.window(group_by="customer_id", order_by="day")))
    gaps = days.filter(days.gap.notnull())
    gaps = gaps.group_by("customer_id").agg(usual_gap_days=gaps.gap.cast("float64").median())
    j = per.left_join(gaps, "customer_id")
    return j.select(*[j[c] for c in per.columns], usual_gap_days=j.usual_gap_days)


def cohort_cells_expr(orders, *, as_of: Any, period: str = "M", segment_col: str | None = None):
    """The counts behind every cohort matrix of :mod:`relmkt_helpers.cohorts`, for orders up to ``as_of``.

    Two expressions: per (``seg``, ``cohort``, ``k`` periods since acquisition) the ``active``
    customers and their ``revenue``; and per (``seg``, ``cohort``, ``span``) the customers whose last
    active period is ``span`` periods after their cohort (the unbounded retention). ``seg`` is the
    value of ``segment_col`` on the customer's first order (first row of the first day), or "".
    """
    import ibis

    from .sources import FILE, ROW

    o = _upto(orders, as_of)
    o = o.mutate(p=period_code(o.order_date, period))
    if segment_col is None:
        seg = ibis.literal("")
    else:
        seg = first_by(o[segment_col], o.order_date, o[FILE], o[ROW]).cast("string")
    per = o.group_by("customer_id").agg(cohort=o.p.min(), last=o.p.max(), seg=seg)
    pairs = o.group_by(["customer_id", "p"]).agg(revenue=o.amount.sum())
    j = pairs.inner_join(per, "customer_id")
    cells = j.group_by(["seg", "cohort", (j.p - j.cohort).name("k")]).agg(active=j.count(), revenue=j.revenue.sum())
    lasts = per.group_by(["seg", "cohort", (per.last - per.cohort).name("span")]).agg(n=per.count())
    return cells, lasts


def yearly_activity_expr(orders, *, after: Any, middle: Any, end: Any):
    """Customers with an order in ``(after, middle]``, and of them those with one in ``(middle, end]``: the
    counts of :func:`relmkt_helpers.cohort_result.yearly_retention`."""
    import ibis

    lo, mid, hi = (ibis.timestamp(pd.Timestamp(d).normalize()) for d in (after, middle, end))
    o = orders.filter((orders.order_date > lo) & (orders.order_date <= hi))
    per = o.group_by("customer_id").agg(first=(o.order_date <= mid).any(), second=(o.order_date > mid).any())
    return per.agg(n_first=per.first.sum(), n_both=(per.first & per.second).sum())
