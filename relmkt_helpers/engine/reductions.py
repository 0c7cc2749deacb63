"""The per-order reductions, each written once as an Ibis expression (any Ibis backend runs it).

Each function takes the canonical orders as an Ibis table (``customer_id``, ``order_date`` at
midnight, ``amount``, ``order_id``: :attr:`relmkt_helpers.engine.EngineOrders.table`) and returns
an Ibis expression; nothing runs until the caller executes it. The definitions are those of the
pandas/numpy functions named in each docstring, and ``tests/test_engine.py`` checks that the
results are equal (counts exactly, money to 1e-12 relative) on the bundled data and on generated
logs with refunds, duplicates, same-day orders, month ends and leap days.

Periods are integer codes, as in :mod:`relmkt_helpers.clv.prep`: ``"D"`` days since 1970-01-01,
``"W"`` weeks running Monday to Sunday, ``"M"`` months since January 1970.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

_EPOCH = "1970-01-01"


def period_code(order_date, freq: str):
    """Integer period of a timestamp column (see the module docstring)."""
    import ibis

    if freq == "M":
        return (order_date.year() - 1970) * 12 + order_date.month() - 1
    days = order_date.date().delta(ibis.date(_EPOCH), unit="day")
    if freq == "D":
        return days
    return ((days + 3) / 7).floor().cast("int64")  # 1969-12-29 was a Monday


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
    fitters read (:func:`relmkt_helpers.clv.prep.compress_summary`), a few thousand rows however
    many customers."""
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


def monthly_counts_expr(orders, *, as_of: Any = None):
    """Per calendar month with orders: ``orders``, ``revenue``, ``customers_active``, ``customers_new``,
    ``customers_returning`` (active the month before too) and ``customers_reactivated`` (back after a
    gap): the counts of :func:`relmkt_helpers.kpis.monthly_summary`."""
    import ibis

    o = orders if as_of is None else _upto(orders, as_of)
    o = o.mutate(p=period_code(o.order_date, "M"))
    o = o.mutate(first=o.p.min().over(group_by="customer_id"))
    cm = o.group_by(["customer_id", "p"]).agg(first=o.first.min(), orders=o.count(), revenue=o.amount.sum())
    cm = cm.mutate(prev=cm.p.lag().over(ibis.window(group_by="customer_id", order_by="p")))
    return cm.group_by("p").agg(
        orders=cm.orders.sum(),
        revenue=cm.revenue.sum(),
        customers_active=cm.count(),
        customers_new=(cm.p == cm.first).sum(),
        customers_returning=(cm.prev == cm.p - 1).fill_null(False).sum(),
        customers_reactivated=((cm.p != cm.first) & (cm.prev < cm.p - 1)).fill_null(False).sum(),
    ).rename(month="p")


def month_label(code) -> pd.PeriodIndex:
    """``Period[M]`` from the engine's month codes."""
    import numpy as np

    return pd.PeriodIndex(np.asarray(code, dtype="int64").astype("datetime64[M]"), freq="M")
