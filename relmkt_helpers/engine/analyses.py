"""The engine's side of the analyses that accept orders kept in DuckDB.

Each function reduces the orders with one or two expressions of :mod:`.reductions` and returns the
compact counts the pandas analysis finishes with its own code: the cohort x age counts of every
cohort matrix and the period KPIs (:mod:`relmkt_helpers.cohorts`), yearly retention, the
dropped-off windows (:func:`relmkt_helpers.rfm.dropped_off`), purchases per day
(:func:`relmkt_helpers.plots.clv.tracking_table`) and activity per period and channel
(:mod:`relmkt_helpers.economics`).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import DataValidationError, ParameterError
from .api import _customer_index, _day, open_orders  # noqa: F401 - open_orders: the docstring examples
from .contract import EngineOrders



def history_windows(orders: EngineOrders, *, as_of: Any, recent_days: int, baseline_days: int,
                    min_orders: int) -> tuple[pd.DataFrame, int]:
    """:func:`relmkt_helpers.rfm.dropped_off`'s per-customer inputs, reduced by the engine, and ``as_of``'s day.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a"] * 4, "amount": 5.0,
    ...                    "order_date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-22", "2024-06-01"])})
    >>> with open_orders(tx) as orders:
    ...     h, day = history_windows(orders, as_of="2024-06-30", recent_days=90, baseline_days=365, min_orders=3)
    >>> int(h.loc["a", "history_orders"]), int(h.loc["a", "recent_orders"]), float(h.loc["a", "usual_gap_days"])
    (3, 1, 10.5)
    """
    from ..rfm import _day_ts
    from .api import _as_of_in_data
    from .reductions import history_windows_expr

    A = _as_of_in_data(orders, as_of)
    recent_start = A - recent_days + 1
    expr = history_windows_expr(orders.table, as_of=_day_ts(A), recent_start=recent_start,
                                baseline_start=recent_start - baseline_days, min_orders=min_orders)
    h = orders.session.execute(expr.order_by("customer_id"), "dropped_off")
    h.index = _customer_index(h.pop("customer_id"))
    return h, A


def daily_purchases(orders: EngineOrders, *, observation_end: Any) -> pd.DataFrame:
    """:func:`relmkt_helpers.plots.clv.tracking_table`'s inputs by the engine: per day with a purchase
    (index: days since 1970-01-01), ``births`` and ``repeats``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-01-09", "2024-01-09"])})
    >>> with open_orders(tx) as orders:
    ...     daily_purchases(orders, observation_end="2024-01-31").to_dict("list")
    {'births': [1, 1], 'repeats': [0, 1]}
    """
    from .reductions import daily_purchases_expr

    d = orders.session.execute(daily_purchases_expr(orders.table, observation_end=observation_end).order_by("day"),
                               "tracking_table")
    return d.set_index("day").astype("int64")


def activity(orders: EngineOrders, *, channel_col: str | None, as_of: Any = None, freq: str = "M"):
    """:func:`relmkt_helpers.economics._common.activity` (the counts the economics analysis reads from orders),
    reduced by the engine into the same :class:`~relmkt_helpers.economics._common.Activity` arrays.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     a = activity(orders, channel_col=None)
    >>> a.channels, a.new[:, 0].tolist(), a.returning[:, 0].tolist()
    (['all'], [1, 1], [0, 1])
    """
    import numpy as np

    from ..economics._common import Activity, as_of_day
    from .reductions import activity_expr

    if channel_col is not None and channel_col not in orders.table.columns:
        raise DataValidationError(
            f"transactions: the channel column {channel_col!r} is missing. Pass channel_col='<column>', "
            "or channel_col=None and a spend ledger with channel 'all'.")
    end = as_of_day(None, as_of) if as_of is not None else np.datetime64(orders.ledger.last_date, "D")
    if end < np.datetime64(orders.ledger.first_date, "D"):
        raise ParameterError(f"as_of={end} is before the first order: nothing to analyse. Pass a later as_of.")
    long = orders.session.execute(activity_expr(orders.table, as_of=str(end), channel_col=channel_col, freq=freq),
                                  "activity")
    channels = sorted(long["channel"].unique().tolist())
    end_m = int(end.astype("datetime64[M]").astype(np.int64))
    p_end = end_m if freq == "M" else end_m // 12
    p0 = int(long["period"].min())
    P, C = p_end - p0 + 1, len(channels)
    rows = long["period"].to_numpy(dtype=np.int64) - p0
    cols = np.searchsorted(channels, long["channel"].to_numpy(dtype=object))
    grids = {}
    for name in ("new", "active", "returning", "revenue"):
        g = np.zeros((P, C), dtype=np.float64 if name == "revenue" else np.int64)
        g[rows, cols] = long[name].to_numpy()
        grids[name] = g
    periods = pd.PeriodIndex.from_ordinals(np.arange(P) + p0, freq="M" if freq == "M" else "Y",
                                           name="month" if freq == "M" else "year")
    last_days = (periods + 1).start_time.to_numpy().astype("datetime64[D]") - np.timedelta64(1, "D")
    first_day = np.datetime64(orders.ledger.first_date, "D")
    return Activity(periods=periods, channels=channels, complete=last_days <= end, first_day=first_day, as_of=end,
                    **grids)


#: The last few cohort count tables, by (session, orders, period, as_of, segment): small (cohort x age rows).
_CELLS_CACHE: dict[tuple, tuple[pd.DataFrame, pd.DataFrame]] = {}


def cohort_cells(orders: EngineOrders, *, period: str, as_of: Any, segment: Any):
    """The cohort x age counts of :mod:`relmkt_helpers.cohorts` (``_Cells``), reduced by the engine.

    ``segment`` is a column name (the value on each customer's first order) or None; a Series of
    customer attributes needs the pandas path.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 20.0, 5.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"])})
    >>> with open_orders(tx) as orders:
    ...     cells = cohort_cells(orders, period="M", as_of="2024-03-31", segment=None)
    >>> cells.sizes.tolist(), cells.active[0].tolist(), cells.revenue[0].tolist()
    ([2, 0, 0], [2, 0, 1], [30.0, 0.0, 5.0])
    """
    import numpy as np

    from ..cohorts import _Cells, _day_ts, _period_of_days, _to_day
    from ..io import resolve_column
    from .reductions import cohort_cells_expr

    first_day, last_day = _day(orders.ledger.first_date), _day(orders.ledger.last_date)
    as_of_day = last_day if as_of is None else _to_day(as_of, "as_of")
    if as_of_day < first_day:
        raise ParameterError(
            f"as_of={_day_ts(as_of_day).date()} is before the first order ({_day_ts(first_day).date()}), "
            "so there is nothing to analyse. Pass a later as_of, or None for the last order date.")
    col = None
    if segment is not None:
        if not isinstance(segment, str):
            raise ParameterError("segment: with orders in the engine, pass a column name (e.g. segment='channel'); "
                                 "a Series of customer attributes needs the pandas path (orders.to_pandas()).")
        col = resolve_column(pd.DataFrame(columns=orders.table.columns), segment, role="segment",
                             source="transactions", param="segment")
        if col in ("customer_id", "order_id", "order_date"):
            raise ParameterError(f"segment={col!r} is not a customer attribute. Pass a column such as 'channel'.")
    p0 = int(_period_of_days(np.array([first_day]), period)[0])
    end = _period_of_days(np.array([as_of_day, as_of_day + 1]), period)
    P = int(end[0]) - p0 + 1
    # cohort_analysis asks for the same counts up to eight times (each matrix, the averages, the start)
    key = (orders.session.temp_dir, hash(orders.table), period, as_of_day, col)
    if key not in _CELLS_CACHE:
        cells_expr, lasts_expr = cohort_cells_expr(orders.table, as_of=_day_ts(as_of_day), period=period,
                                                   segment_col=col)
        while len(_CELLS_CACHE) >= 4:
            _CELLS_CACHE.pop(next(iter(_CELLS_CACHE)))
        _CELLS_CACHE[key] = (orders.session.execute(cells_expr, "cohort matrices"),
                             orders.session.execute(lasts_expr, "cohort matrices"))
    cells, lasts = _CELLS_CACHE[key]
    labels = None
    if col is not None:  # sorted, missing last: pandas.factorize(sort=True, use_na_sentinel=False)
        values = pd.concat([cells["seg"], lasts["seg"]])
        labels = pd.Index(sorted(values.dropna().unique()) + ([np.nan] if values.isna().any() else []))
    G = (len(labels) if labels is not None else 1) * P

    def group(frame: pd.DataFrame) -> np.ndarray:
        seg = 0 if labels is None else labels.get_indexer(frame["seg"])
        return seg * P + frame["cohort"].to_numpy(dtype=np.int64) - p0

    def matrix(frame: pd.DataFrame, age: str, value: str) -> np.ndarray:
        idx = group(frame) * P + frame[age].to_numpy(dtype=np.int64)
        return np.bincount(idx, weights=frame[value].to_numpy(dtype=np.float64), minlength=G * P).reshape(G, P)

    last_age = matrix(lasts, "span", "n").astype(np.int64)
    return _Cells(per=period, p0=p0, n_periods=P, last_complete=int(end[1]) - 1 - p0, as_of_day=as_of_day,
                  sizes=last_age.sum(axis=1), active=matrix(cells, "k", "active").astype(np.int64),
                  last_age=last_age, revenue=matrix(cells, "k", "revenue"), seg_labels=labels,
                  seg_name=col)


def period_counts(orders: EngineOrders, *, period: str, as_of: Any):
    """The counts behind :func:`relmkt_helpers.cohorts.period_kpis`, by the engine: the period frame (``per``,
    ``p0``, ``n_periods``, ``last_complete``, ``as_of_day``) and per period from the first order's
    ``active``, ``new``, ``returning``, ``reactivated``, ``orders``, ``revenue`` and the customers whose
    second order falls in it.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 20.0, 5.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"])})
    >>> with open_orders(tx) as orders:
    ...     frame, counts = period_counts(orders, period="M", as_of="2024-03-31")
    >>> frame.n_periods, counts[0].tolist(), counts[3].tolist()
    (3, [2, 0, 1], [0, 0, 1])
    """
    import numpy as np

    from .reductions import monthly_counts_expr

    cells = cohort_cells(orders, period=period, as_of=as_of, segment=None)  # checks as_of, sets the frame
    c = orders.session.execute(monthly_counts_expr(orders.table, as_of=cells.as_of, freq=period), "period KPIs")
    P = cells.n_periods
    at = c["month"].to_numpy(dtype=np.int64) - cells.p0

    def col(name: str) -> np.ndarray:
        out = np.zeros(P, dtype=np.float64 if name == "revenue" else np.int64)
        out[at] = c[name].to_numpy()
        return out

    return cells, tuple(col(n) for n in ("customers_active", "customers_new", "customers_returning",
                                         "customers_reactivated", "orders", "revenue", "repeaters"))


def yearly_retention(orders: EngineOrders, *, as_of: Any) -> float | None:
    """:func:`relmkt_helpers.cohort_result.yearly_retention` by the engine.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": 1.0,
    ...     "order_date": pd.to_datetime(["2023-06-01", "2024-03-01", "2023-09-01", "2024-05-01"])})
    >>> with open_orders(tx) as orders:
    ...     yearly_retention(orders, as_of="2024-12-31")
    0.5
    """
    from .reductions import yearly_activity_expr

    end = pd.Timestamp(as_of).normalize()
    mid, start = end - pd.DateOffset(years=1), end - pd.DateOffset(years=2)
    r = orders.session.execute(yearly_activity_expr(orders.table, after=start, middle=mid, end=end), "yearly retention")
    n_first = int(r["n_first"].fillna(0).iloc[0])
    return None if n_first == 0 else int(r["n_both"].iloc[0]) / n_first


class ChurnSource:
    """What :func:`relmkt_helpers.churn_analysis` reads from orders kept in the engine: features and labels at
    a date (:func:`~relmkt_helpers.engine.api.churn_features`, :func:`~relmkt_helpers.engine.api.churn_labels`),
    and how many customers were acquired by a day (from one histogram of first-order days).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 20.0, 5.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"])})
    >>> with open_orders(tx) as orders:
    ...     src = ChurnSource(orders, "channel")
    ...     jan31 = 19753  # days since 1970-01-01
    ...     src.n_acquired_by(jan31), src.n_after(jan31), src.labels(jan31, 60).tolist()
    (2, 1, [False, True])
    """

    def __init__(self, orders: EngineOrders, channel_col: str | None):
        import numpy as np

        from .reductions import period_code

        from ..churn.features import _channel_column

        self.orders, self.channel_col = orders, _channel_column(channel_col, list(orders.columns))
        t = orders.table
        per = t.group_by("customer_id").agg(first=period_code(t.order_date.min(), "D"))
        hist = orders.session.execute(per.group_by("first").agg(n=per.count()).order_by("first"), "churn_analysis")
        self._first_days = hist["first"].to_numpy(dtype=np.int64)
        self._acquired = np.cumsum(hist["n"].to_numpy(dtype=np.int64))
        self.data_first_day, self.data_last_day = _day(orders.ledger.first_date), _day(orders.ledger.last_date)

    def n_acquired_by(self, day: int) -> int:
        import numpy as np

        at = int(np.searchsorted(self._first_days, day, side="right"))
        return int(self._acquired[at - 1]) if at else 0

    def nth_acquisition_day(self, n: int) -> int:
        import numpy as np

        return int(self._first_days[np.searchsorted(self._acquired, n)])

    def n_after(self, day: int) -> int:
        import ibis

        t = self.orders.table
        after = t.filter(t.order_date > ibis.timestamp(pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(day))))
        return int(self.orders.session.execute(after.count().as_table(), "churn_analysis").iloc[0, 0])

    def features(self, day: int, window_days: int) -> pd.DataFrame:
        from .api import churn_features

        return churn_features(self.orders, as_of=_iso(day), window_days=window_days, channel_col=self.channel_col)

    def labels(self, day: int, horizon_days: int) -> pd.Series:
        from .api import churn_labels

        return churn_labels(self.orders, as_of=_iso(day), horizon_days=horizon_days)


def _iso(day: int) -> str:
    return str((pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(day))).date())
