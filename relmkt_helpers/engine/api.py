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

from ..errors import ParameterError
from .contract import EngineOrders, engine_orders
from .session import DuckDBSession
from .sources import PARQUET_SUFFIXES, is_engine_source, open_source

ENGINES = ("auto", "pandas", "duckdb")


def resolve_engine(source: Any, engine: str = "auto") -> str:
    """``"pandas"`` or ``"duckdb"`` for ``source``.

    ``"auto"`` picks DuckDB for what only it reads (Parquet folders and globs, DuckDB relations, Ibis
    tables) and pandas for a DataFrame (numpy is 3-8x faster on a frame already in memory,
    ``benchmarks/results/engines.md``) and for a single CSV or Parquet file (the report's notebooks
    read the canonical frame in memory; see ``ARCHITECTURE.md``).

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_engine(pd.DataFrame()), resolve_engine("lake/orders/*.parquet"), resolve_engine("x.csv", "pandas")
    ('pandas', 'duckdb', 'pandas')
    """
    if engine not in ENGINES:
        raise ParameterError(f"engine={engine!r} is not one of {', '.join(ENGINES)} (command line: --engine duckdb).")
    if engine != "auto":
        if engine == "pandas" and is_engine_source(source) and not isinstance(source, pd.DataFrame):
            raise ParameterError(
                f"engine='pandas' cannot read {str(source)[:120]!r}: folders, globs and DuckDB relations are read by "
                "the engine. Pass engine='duckdb' (command line: --engine duckdb), or one file.")
        return engine
    return "duckdb" if is_engine_source(source) else "pandas"


@contextmanager
def open_orders(source: Any, *, session: DuckDBSession | None = None, memory_limit: Any = None,
                **contract: Any) -> Iterator[EngineOrders]:
    """Open ``source`` with DuckDB and apply the data contract; the orders stay in the engine.

    ``contract`` takes the options of :func:`relmkt_helpers.io.load_transactions` (columns,
    ``as_of``, ``refunds``, ``duplicates``, ``on_invalid``, ``after_as_of``, ``keep_cols``,
    ``timezone``). Without ``session`` a new one is made with ``memory_limit`` and closed (its
    spill folder removed) when the ``with`` block ends, on success or failure.
    """
    own = session is None
    session = session or DuckDBSession(memory_limit=memory_limit)
    try:
        yield engine_orders(open_source(session, source), session, **contract)
    finally:
        if own:
            session.close()


def load_with_engine(source: Any, *, memory_limit: Any = None, **contract: Any):
    """The canonical pandas frame and ledger, read and validated by DuckDB (``load_transactions(engine="duckdb")``)."""
    from ..io import LoadedTransactions

    with open_orders(source, memory_limit=memory_limit, **contract) as orders:
        return LoadedTransactions(orders.to_pandas(), orders.ledger)


def rfm_summary(orders: EngineOrders, *, observation_end: Any, freq: str = "W", freq_multiplier: float = 1
                ) -> pd.DataFrame:
    """:func:`relmkt_helpers.clv.prep.rfm_summary` computed by the engine: same frame, index and attrs."""
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
    """The counts of :func:`relmkt_helpers.kpis.monthly_summary` for every month with orders, by the engine."""
    from .reductions import month_label, monthly_counts_expr

    out = orders.session.execute(monthly_counts_expr(orders.table, as_of=as_of).order_by("month"), "monthly KPIs")
    out.index = month_label(out.pop("month"))
    out.index.name = "month"
    return out


def cohort_activity(orders: EngineOrders, *, period: str = "M", as_of: Any = None) -> pd.DataFrame:
    """Cohort x period: active customers, orders, revenue (long form), by the engine."""
    from .reductions import cohort_activity_expr

    expr = cohort_activity_expr(orders.table, period=period, as_of=as_of)
    return orders.session.execute(expr.order_by(["cohort", "period"]), "cohort activity").reset_index(drop=True)


def is_parquet_path(source: Any) -> bool:
    return isinstance(source, (str, Path)) and Path(source).suffix.lower() in PARQUET_SUFFIXES
