"""The engine: read transaction data where it lies and reduce it there (issue 13).

* :mod:`.session`: :class:`DuckDBSession`, DuckDB embedded with a memory limit and a spill folder
  that is removed afterwards.
* :mod:`.sources`: Parquet files, folders (hive partitions too) and globs, DataFrames, DuckDB
  relations, opened as Ibis tables without going through pandas.
* :mod:`.contract`: the data contract of :func:`relmkt_helpers.io.load_transactions`, as Ibis
  expressions: same policies, same ledger, same messages.
* :mod:`.reductions`: the per-order reductions (per-customer RFM summary, cohort activity,
  monthly KPIs), each one Ibis expression that any Ibis backend executes.

:func:`open_orders` is the entry point.
"""
from .contract import EngineOrders, engine_orders
from .session import DuckDBSession, EngineError, parse_memory_limit
from .sources import is_engine_source, open_source
from .api import cohort_activity, load_with_engine, monthly_counts, open_orders, resolve_engine, rfm_summary

__all__ = ["DuckDBSession", "EngineError", "EngineOrders", "cohort_activity", "engine_orders", "is_engine_source",
           "load_with_engine", "monthly_counts", "open_orders", "rfm_summary",
           "open_source", "parse_memory_limit", "resolve_engine"]
