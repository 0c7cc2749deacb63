"""The cohort analysis of notebook 01 in one call: :func:`cohort_analysis` returns a :class:`CohortResult`.

It gathers what the cohort page shows (retention triangles, exact and unbounded
curves, revenue retention, realised LTV, period KPIs, the segment comparison)
from the functions of :mod:`relmkt_helpers.cohorts`, and names the headline
figures (:meth:`CohortResult.headline_metrics`, keys of
:data:`relmkt_helpers.display.METRICS`).

Examples
--------
>>> from relmkt_helpers.datasets import generate_sample_shop
>>> from relmkt_helpers.display import METRICS
>>> res = cohort_analysis(generate_sample_shop(1500, seed=1).transactions, as_of="2025-12-31")
>>> h = res.headline_metrics()
>>> h["cohort_period"], 0 < h["retention_period_1"] < 1, 0 < h["yearly_retention"] < 1
('M', True, True)
>>> sorted(k for k in h if k not in METRICS)
[]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._arrays import customer_codes, order_days
from .cohorts import (
    CohortMatrix,
    average_curve,
    latest_cohorts_start,
    period_kpis,
    realised_ltv_matrix,
    retention_matrix,
)
from .errors import ParameterError

__all__ = ["CohortResult", "cohort_analysis", "yearly_retention"]

_PERIOD_WORDS = {"M": ("month", "months"), "W": ("week", "weeks"), "Q": ("quarter", "quarters")}


def yearly_retention(tx: pd.DataFrame, *, as_of: Any) -> float | None:
    """Of the customers who ordered in the year before the last one, the share who ordered in the last year.

    The years are ``(as_of - 2 years, as_of - 1 year]`` and ``(as_of - 1 year, as_of]``
    (calendar years back from ``as_of``, inclusive of ``as_of``). None when nobody
    ordered in the first year.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...     "order_date": pd.to_datetime(["2023-06-01", "2024-03-01", "2023-09-01", "2024-05-01"]),
    ...     "amount": [1.0, 1.0, 1.0, 1.0]})
    >>> yearly_retention(tx, as_of="2024-12-31")  # a and b bought in the first year, only a in the second
    0.5
    """
    from .engine.contract import EngineOrders

    if isinstance(tx, EngineOrders):
        from .engine.analyses import yearly_retention as in_engine

        return in_engine(tx, as_of=as_of)
    end = pd.Timestamp(as_of).normalize()
    mid, start = end - pd.DateOffset(years=1), end - pd.DateOffset(years=2)
    days = order_days(tx)
    codes, ids = customer_codes(tx)
    d0, d1, d2 = ((t - pd.Timestamp("1970-01-01")).days for t in (start, mid, end))
    first = np.zeros(len(ids), dtype=bool)
    first[codes[(days > d0) & (days <= d1)]] = True
    n_first = int(first.sum())
    if n_first == 0:
        return None
    second = np.zeros(len(ids), dtype=bool)
    second[codes[(days > d1) & (days <= d2)]] = True
    return int((first & second).sum()) / n_first


@dataclass(repr=False)
class CohortResult:
    """Everything :func:`cohort_analysis` computed.

    Attributes
    ----------
    period : str
        ``"M"``, ``"W"`` or ``"Q"``.
    as_of : Timestamp
    first_cohort : Timestamp
        Start of the earliest cohort shown in the triangle and curves.
    retention, unbounded, revenue, ltv : CohortMatrix
        Exact and unbounded customer retention, revenue retention and realised
        LTV of the recent cohorts (the charts).
    average, average_ltv : DataFrame
        Size-weighted average retention and realised-LTV curves over **every**
        cohort old enough (:func:`~relmkt_helpers.cohorts.average_curve`).
    kpis : DataFrame
        :func:`~relmkt_helpers.cohorts.period_kpis`.
    by_segment : CohortMatrix or None
        Retention by ``segment_col`` (None without that column).
    segment_col : str or None
    yearly_retention : float or None
        :func:`yearly_retention`.
    """

    period: str
    as_of: pd.Timestamp
    first_cohort: pd.Timestamp
    max_periods: int
    retention: CohortMatrix
    unbounded: CohortMatrix
    revenue: CohortMatrix
    ltv: CohortMatrix
    average: pd.DataFrame
    average_ltv: pd.DataFrame
    kpis: pd.DataFrame
    by_segment: CohortMatrix | None
    segment_col: str | None
    yearly_retention: float | None

    def __repr__(self) -> str:
        return (f"CohortResult(period={self.period!r}, as_of={self.as_of.date()}, "
                f"cohorts_shown={len(self.retention.matrix)}, segment={self.segment_col!r})")

    def retention_at(self, k: int) -> float | None:
        """Size-weighted average retention ``k`` periods after acquisition (None if no cohort is that old)."""
        v = self.average["weighted_mean"].get(k)
        return None if v is None or not np.isfinite(v) else float(v)

    def _ltv_at(self, k: int) -> float | None:
        v = self.average_ltv["weighted_mean"].get(k)
        return None if v is None or not np.isfinite(v) else float(v)

    def period_word(self, n: int = 1) -> str:
        """``"month"`` / ``"months"`` (or weeks, quarters)."""
        one, many = _PERIOD_WORDS.get(self.period, ("period", "periods"))
        return one if n == 1 else many

    def average_table(self, ages: tuple[int, ...] = (1, 2, 3, 6, 12)) -> pd.DataFrame:
        """The average curve at a few ages: ``age``, ``retention``, ``n_cohorts``, ``n_customers``."""
        ages = tuple(a for a in dict.fromkeys((*ages, self.max_periods)) if a <= self.max_periods)
        avg = self.average.reindex(list(ages))
        return pd.DataFrame({
            "age": [f"{a} {self.period_word(a)}" for a in ages],
            "retention": avg["weighted_mean"].to_numpy(),
            "n_cohorts": avg["n_cohorts"].to_numpy(),
            "n_customers": avg["n_customers"].to_numpy(),
        })

    def headline_metrics(self) -> dict[str, float | str | None]:
        """Flat ``name -> number or str`` for :func:`relmkt_helpers.save_metrics`.

        Every key is an entry of :data:`relmkt_helpers.display.METRICS`.
        """
        latest = self.kpis.iloc[-1]

        def num(v: Any) -> float | None:
            return None if v is None or pd.isna(v) else float(v)

        return {
            "cohort_period": self.period,
            "retention_period_1": self.retention_at(1),
            "retention_period_3": self.retention_at(3),
            "retention_period_6": self.retention_at(6),
            "retention_period_12": self.retention_at(12),
            "realised_ltv_period_12": self._ltv_at(12),
            "latest_period": str(self.kpis.index[-1]),
            "latest_retention_rate": num(latest["retention_rate"]),
            "latest_churn_rate": num(latest["churn_rate"]),
            "latest_repeat_purchase_rate": num(latest["repeat_purchase_rate"]),
            "yearly_retention": self.yearly_retention,
        }

    def summary_sentence(self) -> str:
        """One sentence on how cohorts are kept, with the numbers (for the page)."""
        from .display import fmt_value  # noqa: PLC0415

        word = self.period_word
        parts = []
        r1 = self.retention_at(1)
        if r1 is not None:
            parts.append(f"{fmt_value(r1, 'pct')} of a cohort buy again in the {word(1)} after their first order")
        k = max((a for a in (12, 6, 3) if a <= self.max_periods and self.retention_at(a) is not None), default=None)
        if k is not None:
            parts.append(f"{fmt_value(self.retention_at(k), 'pct')} buy in {word(1)} {k} after it")
        text = ("On average, " + " and ".join(parts) + ".") if parts else "No cohort is old enough for an average yet."
        if self.yearly_retention is not None:
            text += (f" Of the customers who bought in the year before last, "
                     f"{fmt_value(self.yearly_retention, 'pct')} bought again in the last year.")
        return text


def cohort_analysis(tx: pd.DataFrame, *, as_of: Any, period: str = "M", max_periods: int = 12,
                    recent_cohorts: int = 12, segment_col: str | None = "channel") -> CohortResult:
    """Every table of the cohort page, in one call.

    Parameters
    ----------
    tx : DataFrame or EngineOrders
        Canonical transactions; orders kept in the engine (:func:`relmkt_helpers.open_transactions`)
        are reduced there (three queries: the cohort counts, by segment, and the period KPIs).
    as_of : date-like
        Inclusive end of the data used.
    period : {"M", "W", "Q"}, default "M"
        Cohort period: calendar months, weeks from Monday, calendar quarters.
    max_periods : int, default 12
        Periods since acquisition shown.
    recent_cohorts : int, default 12
        How many of the latest cohorts the triangle and curves show (the averages
        use every cohort old enough).
    segment_col : str or None, default "channel"
        Customer attribute to compare cohorts by; skipped when the column is absent.

    Returns
    -------
    CohortResult

    Examples
    --------
    >>> import relmkt_helpers as rh
    >>> tx, _ = rh.load_transactions(rh.config.CDNOW_SAMPLE_TRANSACTIONS)
    >>> result = rh.cohort_analysis(tx, as_of="1998-06-30", segment_col=None)
    >>> round(result.headline_metrics()["retention_period_1"], 3)
    0.146
    """
    if segment_col is not None and not isinstance(segment_col, str):
        raise ParameterError(f"segment_col={segment_col!r} must be a column name or None.")
    as_of_ts = pd.Timestamp(as_of).normalize()
    first = latest_cohorts_start(tx, recent_cohorts, period=period, as_of=as_of_ts)
    columns = tx.table.columns if hasattr(tx, "table") else tx.columns  # orders in the engine, or a frame
    segment = segment_col if segment_col and segment_col in columns else None
    window = dict(period=period, as_of=as_of_ts, max_periods=max_periods)
    return CohortResult(
        period=period, as_of=as_of_ts, first_cohort=first, max_periods=int(max_periods),
        retention=retention_matrix(tx, **window, start=first),
        unbounded=retention_matrix(tx, **window, kind="unbounded", start=first),
        revenue=retention_matrix(tx, **window, metric="revenue", start=first),
        ltv=realised_ltv_matrix(tx, **window, start=first),
        average=average_curve(retention_matrix(tx, **window)),
        average_ltv=average_curve(realised_ltv_matrix(tx, **window)),
        kpis=period_kpis(tx, period=period, as_of=as_of_ts),
        by_segment=retention_matrix(tx, **window, segment=segment) if segment else None,
        segment_col=segment,
        yearly_retention=yearly_retention(tx, as_of=as_of_ts),
    )
