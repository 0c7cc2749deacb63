"""The engine: read transaction data where it lies and reduce it there (issue 13).

* :mod:`.session`: :class:`DuckDBSession`, DuckDB embedded with a memory limit and a spill folder
  that is removed afterwards.
* :mod:`.sources`: Parquet files, folders (hive partitions too) and globs, DataFrames, DuckDB
  relations, opened as Ibis tables without going through pandas.
* :mod:`.contract`: the data contract of :func:`relmkt_helpers.io.load_transactions`, as Ibis
  expressions: same policies, same ledger, same messages.
* :mod:`.reductions`: the per-order reductions (per-customer RFM summary and its (x, t_x, T)
  counts, calibration/holdout, RFM inputs, churn features and labels, cohort activity, monthly
  counts), each one Ibis expression that any Ibis backend executes.
* :mod:`.api`: the results in the shapes of the pandas functions, whose ``engine=`` parameter
  routes here; :func:`~.api.open_transactions` and :func:`~.api.open_canonical` keep orders in DuckDB.
* :mod:`.analyses`: the compact counts behind the analyses that accept orders in the engine
  (cohorts, period KPIs, the dropped-off windows, purchases per day, activity per channel).

:func:`open_orders` is the entry point.
"""
from .contract import EngineOrders, engine_orders
from .session import DuckDBSession, EngineError, parse_memory_limit
from .sources import is_engine_source, open_source
from .api import (calibration_holdout, churn_features, churn_labels, cohort_activity, load_with_engine, month_table,
                  monthly_counts, open_orders, resolve_engine, rfm_summary, rfm_table, write_canonical)

__all__ = ["DuckDBSession", "EngineError", "EngineOrders", "calibration_holdout", "churn_features", "churn_labels",
           "cohort_activity", "engine_orders", "is_engine_source", "rfm_table",
           "load_with_engine", "month_table", "monthly_counts", "open_orders", "write_canonical", "rfm_summary",
           "open_source", "parse_memory_limit", "resolve_engine"]
