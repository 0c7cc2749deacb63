"""Choosing the engine, opening data with it, and the reductions' results in the pandas path's shapes.

Examples
--------
The engine reads a folder of Parquet files where it lies, applies the data contract and reduces
the orders there; only the per-customer summary comes back:

>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> for month, rows in (("2024-01", [("a", "2024-01-05", 10.0), ("b", "2024-01-09", 4.0)]),
...                     ("2024-02", [("a", "2024-02-11", 6.0)])):
...     (folder / f"month={month}").mkdir()
...     pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]).astype(
...         {"order_date": "datetime64[us]"}).to_parquet(folder / f"month={month}" / "part-0.parquet")
>>> with open_orders(folder) as orders:
...     print(orders.ledger.rows_read, orders.ledger.orders, orders.ledger.customers)
...     summary = rfm_summary(orders, observation_end="2024-02-29", freq="D")
3 3 2
>>> summary[["frequency", "recency", "T"]].to_dict("index")["a"]
{'frequency': 1.0, 'recency': 37.0, 'T': 55.0}
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from ..errors import DataValidationError, ParameterError
from .contract import EngineOrders, engine_orders
from .session import DuckDBSession
from .sources import is_engine_source, open_source

ENGINES = ("auto", "pandas", "duckdb", "spark")
ON_ENGINE = ("duckdb", "spark")  # the engines that keep orders in themselves


def new_session(engine: str = "duckdb", *, memory_limit: Any = None, spark: Any = None):
    """A session of ``engine``: :class:`DuckDBSession`, or :class:`~.spark.SparkEngine` on ``spark`` (default:
    the active SparkSession, else the process's local one).

    Examples
    --------
    >>> with new_session("duckdb", memory_limit="256MB") as s:
    ...     type(s).__name__, int(s.execute(s.con.sql("select 42 as x"), "example").iloc[0, 0])
    ('DuckDBSession', 42)
    """
    if engine == "spark":
        from .spark import SparkEngine

        return SparkEngine(spark, memory_limit=memory_limit)
    return DuckDBSession(memory_limit=memory_limit)


def resolve_engine(source: Any, engine: str = "auto") -> str:
    """``"pandas"``, ``"duckdb"`` or ``"spark"`` for ``source``.

    ``"auto"`` picks Spark for a Spark DataFrame, DuckDB for what only it reads (Parquet folders and
    globs, DuckDB relations, Ibis tables) and pandas for a DataFrame (numpy is 3-8x faster on a
    frame already in memory, ``benchmarks/results/engines.md``) and for a single CSV or Parquet
    file (the report's notebooks read the canonical frame in memory; see ``ARCHITECTURE.md``).
    Spark runs only when asked (``engine="spark"``) or given a Spark DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_engine(pd.DataFrame()), resolve_engine("lake/orders/*.parquet"), resolve_engine("x.csv", "pandas")
    ('pandas', 'duckdb', 'pandas')
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine={engine!r} is not one of {', '.join(ENGINES)} (command line: --engine duckdb).")
    from .spark import is_spark_frame

    if engine != "auto":
        if engine != "spark" and is_spark_frame(source):
            raise ParameterError(f"engine={engine!r} cannot read a Spark DataFrame: pass engine='spark' (command line: "
                                 "--engine spark), or a pandas frame (df.toPandas()) if it is small.")
        if engine == "pandas" and is_engine_source(source) and not isinstance(source, pd.DataFrame):
            raise ParameterError(
                f"engine='pandas' cannot read {str(source)[:120]!r}: folders, globs and DuckDB relations are read by "
                "the engine. Pass engine='duckdb' (command line: --engine duckdb), or one file.")
        return engine
    if is_spark_frame(source):
        return "spark"
    return "duckdb" if is_engine_source(source) else "pandas"


@contextmanager
def open_orders(source: Any, *, session: Any = None, memory_limit: Any = None, engine: str = "auto",
                **contract: Any) -> Iterator[EngineOrders]:
    """Open ``source`` with the engine and apply the data contract; the orders stay in the engine.

    ``contract`` takes the options of :func:`relmkt_helpers.io.load_transactions` (columns,
    ``as_of``, ``refunds``, ``duplicates``, ``on_invalid``, ``after_as_of``, ``keep_cols``,
    ``timezone``). Without ``session`` a new one is made with ``memory_limit`` (DuckDB, or Spark
    for ``engine="spark"`` and Spark DataFrames) and closed (its spill folder removed, Spark's
    cached tables released) when the ``with`` block ends, on success or failure.
    """
    own = session is None
    if own:
        kind = "spark" if engine == "spark" or (engine == "auto" and resolve_engine(source) == "spark") else "duckdb"
        session = new_session(kind, memory_limit=memory_limit)
    try:
        yield engine_orders(open_source(session, source), session, **contract)
    finally:
        if own:
            session.close()


def load_with_engine(source: Any, *, engine: str = "auto", memory_limit: Any = None, **contract: Any):
    """The canonical pandas frame and ledger, read and validated by DuckDB (``load_transactions(engine="duckdb")``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> frame, ledger = load_with_engine(tx)
    >>> len(frame), ledger.customers, ledger.first_date
    (3, 2, '2024-01-05')
    """
    from ..io import LoadedTransactions

    with open_orders(source, engine=engine, memory_limit=memory_limit, **contract) as orders:
        return LoadedTransactions(orders.to_pandas(), orders.ledger)


def rfm_summary(orders: EngineOrders, *, observation_end: Any, freq: str = "W", freq_multiplier: float = 1
                ) -> pd.DataFrame:
    """:func:`relmkt_helpers.clv.prep.rfm_summary` computed by the engine: same frame, index and attrs.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     rfm_summary(orders, observation_end="2024-02-29", freq="D")["recency"].tolist()
    [27.0, 0.0]
    """
    from ..clv.prep import _check_freq, _check_multiplier, _set_attrs, _to_day
    from .reductions import rfm_summary_expr

    freq, freq_multiplier = _check_freq(freq), _check_multiplier(freq_multiplier)
    end_day = _to_day(observation_end, "observation_end")
    first = pd.Timestamp(orders.ledger.first_date)
    if pd.Timestamp(observation_end).normalize() < first:
        raise ParameterError(
            f"observation_end={pd.Timestamp(observation_end).date()} is before the first order ({first.date()}), so "
            f"no customer is observed. Pass a date on or after {first.date()}.")
    expr = rfm_summary_expr(orders.table, observation_end=observation_end, freq=freq, freq_multiplier=freq_multiplier)
    out = orders.session.execute(expr.order_by("customer_id"), "rfm_summary")
    out = out.set_index(pd.Index(out.pop("customer_id").astype(pd.StringDtype("pyarrow")), name="customer_id"))
    out = out.astype("float64")
    _set_attrs(out, freq, freq_multiplier, end_day)
    return out


def monthly_counts(orders: EngineOrders, *, as_of: Any = None) -> pd.DataFrame:
    """The counts of :func:`relmkt_helpers.kpis.monthly_summary` for every month with orders, by the engine.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     monthly_counts(orders)[["orders", "customers_new", "customers_returning"]].to_dict("list")
    {'orders': [1, 2], 'customers_new': [1, 1], 'customers_returning': [0, 1]}
    """
    from .reductions import month_label, monthly_counts_expr

    out = orders.session.execute(monthly_counts_expr(orders.table, as_of=as_of).order_by("month"), "monthly KPIs")
    out.index = month_label(out.pop("month"))
    out.index.name = "month"
    return out


def month_table(orders: EngineOrders, *, as_of: Any) -> pd.DataFrame:
    """:func:`relmkt_helpers.kpis.month_table` by the engine: the monthly KPIs up to ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     month_table(orders, as_of="2024-02-29")["repeat_purchase_rate"].tolist()
    [0.0, 0.5]
    """
    from ..kpis import summary_from_counts

    return summary_from_counts(monthly_counts(orders, as_of=as_of), as_of=as_of)


def cohort_activity(orders: EngineOrders, *, period: str = "M", as_of: Any = None) -> pd.DataFrame:
    """Cohort x period: active customers, orders, revenue (long form), by the engine.

    Periods are integer codes (months since January 1970, see :mod:`.reductions`).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     cohort_activity(orders)[["cohort", "period", "customers"]].values.tolist()
    [[648, 648, 1], [648, 649, 1], [649, 649, 1]]
    """
    from .reductions import cohort_activity_expr

    expr = cohort_activity_expr(orders.table, period=period, as_of=as_of)
    return orders.session.execute(expr.order_by(["cohort", "period"]), "cohort activity").reset_index(drop=True)


def _day(value: Any) -> int:
    return int((pd.Timestamp(value).normalize() - pd.Timestamp("1970-01-01")).days)


def _as_of_in_data(orders: EngineOrders, as_of: Any) -> int:
    """``as_of``'s day (default: the last order's), or the pandas path's error when it precedes every order."""
    from ..rfm import _as_of_day, _day_ts

    first_day = _day(orders.ledger.first_date)
    day = _day(orders.ledger.last_date) if as_of is None else _as_of_day(as_of)
    if day < first_day:
        raise ParameterError(
            f"as_of={_day_ts(day).date()} is before the first order ({_day_ts(first_day).date()}), "
            "so no customer exists yet. Pass a later as_of, or None for the last order date.")
    return day


def _customer_index(values) -> pd.Index:
    return pd.Index(pd.array(values, dtype=pd.StringDtype("pyarrow")), name="customer_id")


def calibration_holdout(orders: EngineOrders, *, calibration_end: Any, observation_end: Any, freq: str = "W",
                        freq_multiplier: float = 1) -> pd.DataFrame:
    """:func:`relmkt_helpers.clv.prep.calibration_holdout` computed by the engine (same checks, frame and attrs).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     ch = calibration_holdout(orders, calibration_end="2024-01-31", observation_end="2024-02-29", freq="D")
    >>> ch[["frequency_cal", "frequency_holdout", "duration_holdout"]].to_dict("index")
    {'a': {'frequency_cal': 0.0, 'frequency_holdout': 1.0, 'duration_holdout': 29.0}}
    """
    import ibis

    from ..clv.prep import _check_before, _check_freq, _check_multiplier, _check_windows, _iso, _set_attrs, _to_day
    from .reductions import calibration_holdout_expr

    freq, freq_multiplier = _check_freq(freq), _check_multiplier(freq_multiplier)
    cal_day, end_day = _to_day(calibration_end, "calibration_end"), _to_day(observation_end, "observation_end")
    _check_before(cal_day, end_day)
    t = orders.table
    lo, hi = ibis.timestamp(pd.Timestamp(_iso(cal_day))), ibis.timestamp(pd.Timestamp(_iso(end_day)))
    st = orders.session.execute(t.aggregate(h=((t.order_date > lo) & (t.order_date <= hi)).sum(),
                                            nxt=t.order_date.min(where=t.order_date > lo)), "calibration_holdout").iloc[0]
    _check_windows(cal_day, end_day, _day(orders.ledger.first_date), _day(orders.ledger.last_date), freq,
                   bool(st["h"]), None if pd.isna(st["nxt"]) else _day(st["nxt"]))
    expr = calibration_holdout_expr(t, calibration_end=_iso(cal_day), observation_end=_iso(end_day), freq=freq,
                                    freq_multiplier=freq_multiplier)
    out = orders.session.execute(expr.order_by("customer_id"), "calibration_holdout")
    out = out.set_index(_customer_index(out.pop("customer_id"))).astype("float64")
    _set_attrs(out, freq, freq_multiplier, cal_day)
    out.attrs["holdout_end"] = _iso(end_day)
    return out


def rfm_table(orders: EngineOrders, *, as_of: Any = None, bins: int = 5, monetary: str = "total",
              frequency_breaks: Any = None) -> pd.DataFrame:
    """:func:`relmkt_helpers.rfm.rfm_table`: the per-customer inputs reduced by the engine, the scores and
    segments computed on that compact table by the same code as the pandas path.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     rfm_table(orders, bins=2)[["frequency", "monetary_total", "R"]].to_dict("index")
    {'a': {'frequency': 2, 'monetary_total': 15.0, 'R': 1}, 'b': {'frequency': 1, 'monetary_total': 7.0, 'R': 2}}
    """
    from ..rfm import _MONETARY, _check_bins, _check_frequency_breaks, _day_ts, rfm_frame
    from .reductions import customer_orders_expr

    bins = _check_bins(bins)
    if not (isinstance(monetary, str) and monetary in _MONETARY):
        raise ParameterError(
            f"monetary={monetary!r} is not supported. Use monetary='total' (sum of order amounts, the "
            "default) or monetary='mean' (mean order value).")
    breaks = _check_frequency_breaks(frequency_breaks, bins)
    as_of_day = _as_of_in_data(orders, as_of)
    c = orders.session.execute(customer_orders_expr(orders.table, as_of=_day_ts(as_of_day)).order_by("customer_id"),
                               "rfm_table")
    days = lambda col: ((c[col] - pd.Timestamp("1970-01-01")).dt.days).to_numpy(dtype="int64")  # noqa: E731
    return rfm_frame(_customer_index(c["customer_id"]), first=days("first_order"), last=days("last_order"),
                     freq=c["frequency"].to_numpy(dtype="int64"), total=c["monetary_total"].to_numpy(dtype="float64"),
                     as_of_day=as_of_day, as_of=_day_ts(as_of_day), bins=bins, monetary=monetary, breaks=breaks)


def churn_features(orders: EngineOrders, *, as_of: Any, window_days: int = 90,
                   channel_col: str | None = "channel") -> pd.DataFrame:
    """:func:`relmkt_helpers.churn.features.churn_features` computed by the engine (same frame and attrs).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     churn_features(orders, as_of="2024-02-29", window_days=30)[["recency_days", "gap_median"]].to_dict("list")
    {'recency_days': [28, 26], 'gap_median': [27.0, nan]}
    """
    from ..churn.features import _check_days, _iso, _to_day, feature_frame
    from .reductions import churn_features_expr

    day = _to_day(as_of, "as_of")
    w = _check_days(window_days, "window_days")
    cols = orders.table.columns
    if channel_col is not None and channel_col not in cols:
        if channel_col != "channel":
            raise DataValidationError(
                f"transactions: channel_col={channel_col!r} is not a column (columns: {list(cols)}). "
                "Name the acquisition-channel column, or pass channel_col=None for no channel feature.")
        channel_col = None
    first_day = _day(orders.ledger.first_date)
    if day < first_day:
        raise ParameterError(
            f"as_of={_iso(day)} is before the first order ({_iso(first_day)}), so there are no "
            f"customers yet. Pass a date on or after {_iso(first_day)}.")
    f = orders.session.execute(churn_features_expr(orders.table, as_of=_iso(day), window_days=w,
                                                   channel_col=channel_col).order_by("customer_id"), "churn_features")
    return feature_frame(
        _customer_index(f["customer_id"]), as_of_day=day, window_days=w,
        last_day=day - f["recency_days"].to_numpy(dtype="int64"), first_day=day - f["tenure_days"].to_numpy(dtype="int64"),
        frequency=f["frequency"].to_numpy(dtype="int64"), total=f["monetary_total"].to_numpy(dtype="float64"),
        n_gaps=f["n_gaps"].to_numpy(dtype="int64"), gap_mean=f["gap_mean"].to_numpy(dtype="float64", na_value=float("nan")),
        gap_median=f["gap_median"].to_numpy(dtype="float64", na_value=float("nan")),
        gap_std=f["gap_std"].to_numpy(dtype="float64", na_value=float("nan")),
        o_last=f["orders_last_w"].to_numpy(dtype="int64"), o_prev=f["orders_prev_w"].to_numpy(dtype="int64"),
        s_last=f["spend_last_w"].to_numpy(dtype="float64"), s_prev=f["spend_prev_w"].to_numpy(dtype="float64"),
        channel=None if channel_col is None else f["channel"].to_numpy(dtype=object), channel_col=channel_col)


def churn_labels(orders: EngineOrders, *, as_of: Any, horizon_days: int = 90) -> pd.Series:
    """:func:`relmkt_helpers.churn.features.churn_labels` computed by the engine.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     churn_labels(orders, as_of="2024-01-31", horizon_days=30).to_dict()
    {'a': False}
    """
    from ..churn.features import _check_days, _iso, _to_day
    from .reductions import churn_labels_expr

    day, h = _to_day(as_of, "as_of"), _check_days(horizon_days, "horizon_days")
    first_day = _day(orders.ledger.first_date)
    if day < first_day:
        raise ParameterError(
            f"as_of={_iso(day)} is before the first order ({_iso(first_day)}), so there are no "
            f"customers yet. Pass a date on or after {_iso(first_day)}.")
    y = orders.session.execute(churn_labels_expr(orders.table, as_of=_iso(day), horizon_days=h).order_by("customer_id"),
                               "churn_labels")
    out = pd.Series(y["churned"].to_numpy(dtype=bool), index=_customer_index(y["customer_id"]), name="churned")
    out.attrs = {"as_of": _iso(day), "horizon_days": int(h), "label_window": f"({_iso(day)}, {_iso(day + h)}]"}
    return out


def on_engine(tx: Any, engine: str) -> bool:
    """Whether a public pandas function given ``tx`` and ``engine=`` hands the work to the engine.

    ``"auto"``: only when ``tx`` already lives in the engine (:class:`EngineOrders` from
    :func:`open_orders`); a DataFrame stays on numpy, which is faster for a frame in memory.

    Examples
    --------
    >>> import pandas as pd
    >>> on_engine(pd.DataFrame(), "auto"), on_engine(pd.DataFrame(), "duckdb")
    (False, True)
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine={engine!r} is not one of {', '.join(ENGINES)}.")
    if isinstance(tx, EngineOrders):
        if engine == "pandas":
            raise ParameterError("engine='pandas' was given orders that live in the engine; pass orders.to_pandas(), "
                                 "or engine='auto'.")
        return True
    return engine in ON_ENGINE


def run_on_engine(name: str, tx: Any, engine: str = "duckdb", **kwargs: Any):
    """Run the engine's ``name`` reduction on ``tx``: orders in the engine, or a canonical DataFrame that is
    registered with a new session of ``engine`` for the call (``engine="duckdb"`` on a frame in memory)."""
    from .analyses import daily_purchases, history_windows

    fn = {"rfm_summary": rfm_summary, "calibration_holdout": calibration_holdout, "rfm_table": rfm_table,
          "churn_features": churn_features, "churn_labels": churn_labels, "history_windows": history_windows,
          "daily_purchases": daily_purchases}[name]
    if isinstance(tx, EngineOrders):
        return fn(tx, **kwargs)
    with new_session("spark" if engine == "spark" else "duckdb") as session:
        return fn(canonical_orders(tx, session), **kwargs)


def canonical_orders(tx: pd.DataFrame, session: DuckDBSession) -> EngineOrders:
    """A canonical frame (from :func:`relmkt_helpers.io.load_transactions`) as orders in the engine, unchecked."""
    import ibis

    from ..io import RowLedger
    from .sources import FILE, ROW

    if not isinstance(tx, pd.DataFrame) or any(c not in tx.columns for c in ("customer_id", "order_date", "amount")):
        raise ParameterError("tx must be the canonical frame from load_transactions (customer_id, order_date, amount).")
    if len(tx) == 0:
        raise ParameterError("the transaction frame is empty.")
    frame = tx if "order_id" in tx.columns else tx.assign(order_id=tx["customer_id"].astype(str))
    table = ibis.memtable(frame.assign(**{ROW: range(len(frame)), FILE: ""}))
    days = frame["order_date"]
    ledger = RowLedger(source="<DataFrame>", rows_read=len(frame), rows_used=len(frame), orders=len(frame),
                       first_date=str(days.min().date()), last_date=str(days.max().date()))
    return EngineOrders(table, ledger, session)


def write_canonical(orders: EngineOrders, path: str | Path) -> Path:
    """Write the orders as a canonical file (:func:`relmkt_helpers.io.save_canonical`) straight from the engine.

    The rows go from DuckDB to Parquet without passing through pandas, so writing the file costs
    no more memory than the engine's limit. :func:`relmkt_helpers.load_transactions` reads it back
    as the same frame as :meth:`EngineOrders.to_pandas`, with the ledger.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from relmkt_helpers import load_transactions
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     path = write_canonical(orders, tempfile.mkdtemp() + "/orders.parquet")
    >>> frame, ledger = load_transactions(path)
    >>> frame["amount"].tolist(), ledger.customers
    ([10.0, 5.0, 7.0], 2)
    """
    import json

    import ibis

    from ..io import _CANONICAL_VERSION, CANONICAL_KEY
    from .contract import FILE, ROW

    t = orders.table
    sql = ibis.to_sql(t.order_by([t.order_date, t[FILE], t[ROW]]).drop(ROW, FILE), dialect="duckdb")
    meta = json.dumps({"version": _CANONICAL_VERSION, "ledger": orders.ledger.to_dict()})

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    path = Path(path)
    if getattr(orders.session, "kind", "duckdb") == "spark":
        from .spark import write_parquet_file

        return write_parquet_file(orders.session, t.order_by([t.order_date, t[FILE], t[ROW]]).drop(ROW, FILE), path,
                                  {CANONICAL_KEY: meta.encode()})
    raw = orders.session.raw
    raw.execute("SET preserve_insertion_order = true")  # the file keeps the ORDER BY
    try:
        orders.session._guard(lambda: raw.execute(
            f"COPY ({sql}) TO {quoted(str(path))} (FORMAT parquet, "
            f"KV_METADATA {{{quoted(CANONICAL_KEY.decode())}: {quoted(meta)}}})"), "writing the canonical orders")
    finally:
        raw.execute("SET preserve_insertion_order = false")
    return path


def check_late_outliers(orders: EngineOrders) -> None:
    """:func:`relmkt_helpers.kpis.load_month`'s check for typo dates (2205 for 2025), by the engine.

    Raises the same :class:`~relmkt_helpers.errors.DataValidationError` as the pandas path when the
    data's last month is set by a few orders dated long after the rest.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [10.0, 5.0, 7.0], "order_id": ["1", "2", "3"],
    ...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2204-02-03"])})
    >>> with open_orders(tx) as orders:
    ...     check_late_outliers(orders)
    Traceback (most recent call last):
    relmkt_helpers.errors.DataValidationError: ...only because of 1 order(s) dated long after the rest...
    """
    from ..kpis import _late_cut, _raise_late
    from .reductions import period_code
    from .sources import FILE, ROW

    t = orders.table
    months = t.mutate(p=period_code(t.order_date, "M"))
    counts = orders.session.execute(months.group_by("p").agg(n=months.count()), "orders per month")
    cut = _late_cut(counts.set_index("p")["n"].sort_index())
    if cut is None:
        return
    late = months.filter(months.p > cut)
    first = orders.session.execute(late.order_by([late.order_date, late[FILE], late[ROW]]).limit(5), "late orders")
    _raise_late(orders.ledger, cut, first, int(counts.loc[counts["p"] > cut, "n"].sum()))


def open_canonical(path: str | Path, session: DuckDBSession | None = None) -> EngineOrders:
    """A canonical file (:func:`relmkt_helpers.io.save_canonical`, :func:`write_canonical`) as orders in the
    engine: its rows were validated when it was written, so no contract runs; the ledger is the file's.

    The session (a new one by default, closed when the process ends) stays open with the orders.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from relmkt_helpers.io import load_transactions, save_canonical
    >>> tx, ledger = load_transactions(pd.DataFrame({"customer_id": ["a", "b"], "amount": [3.0, 4.0],
    ...                                              "order_date": ["2024-01-03", "2024-02-01"]}))
    >>> orders = open_canonical(save_canonical(tx, ledger, tempfile.mkdtemp() + "/tx.parquet"))
    >>> orders.ledger.customers, int(orders.table.count().to_pyarrow().as_py())
    (2, 2)
    >>> orders.session.close()
    """
    import json

    import ibis
    import pyarrow.parquet as pq

    from ..io import CANONICAL_KEY, RowLedger, is_canonical
    from .sources import FILE, ROW

    if not is_canonical(path):
        raise ParameterError(f"{path} is not a canonical relmkt file (written by save_canonical or write_canonical).")
    info = json.loads(pq.read_schema(path).metadata[CANONICAL_KEY])
    session = session or DuckDBSession()
    if getattr(session, "kind", "duckdb") == "spark":
        from pyspark.sql import functions as F

        frame = session.spark.read.parquet(str(Path(path).resolve()))
        table = session.register(frame.select("*", F.col("_metadata.row_index").alias(ROW)))
    else:
        table = session.con.read_parquet(str(path), file_row_number=True).rename({ROW: "file_row_number"})
    table = table.mutate(**{FILE: ibis.literal("")})
    return EngineOrders(table, RowLedger.from_dict(info["ledger"], loaded_from="canonical file"), session)


def open_transactions(source: Any, *, engine: str = "auto", prepared_path: str | Path | None = None,
                      memory_limit: Any = None, **contract: Any):
    """:func:`relmkt_helpers.load_transactions` for an analysis that can run in the engine.

    Where ``engine`` resolves to DuckDB (folders, globs, relations, or ``engine="duckdb"``) the
    orders stay in DuckDB (:class:`EngineOrders`, its session open until the process ends) and the
    kit's analyses that accept them reduce them there; otherwise this is ``load_transactions``. A
    notebook run by ``relmkt report`` reads the runner's validated copy (``prepared_path``) either way.

    Returns
    -------
    (orders, ledger)
        A canonical DataFrame or :class:`EngineOrders`, and the row ledger.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"customer_id": ["a", "b"], "amount": [3.0, 4.0], "order_date": ["2024-01-03", "2024-02-01"]})
    >>> orders, ledger = open_transactions(raw, engine="duckdb")
    >>> type(orders).__name__, ledger.customers
    ('EngineOrders', 2)
    >>> orders.session.close()
    """
    from ..io import is_canonical, load_transactions

    prepared = prepared_path and Path(prepared_path).is_file() and is_canonical(prepared_path)
    kind = engine if engine in ON_ENGINE else ("auto" if prepared else resolve_engine(source, engine))
    if kind not in ON_ENGINE:
        return load_transactions(source, engine=engine, prepared_path=prepared_path, memory_limit=memory_limit,
                                 **contract)
    if contract.pop("dayfirst", None) is not None:
        raise ParameterError("dayfirst is applied by the pandas contract to text dates; pass engine='pandas' "
                             "(command line: --engine pandas), or store the dates as a date or timestamp column.")
    session = new_session(kind, memory_limit=memory_limit)
    try:
        if prepared:
            orders = open_canonical(prepared_path, session)
        else:
            orders = engine_orders(open_source(session, source), session, **contract)
    except BaseException:
        session.close()
        raise
    return orders, orders.ledger