"""The report's one data path: validate each input once, compute the shared tables once.

:func:`prepare` runs before the first notebook. It reads the transactions with the engine the
plan resolves to (pandas for one CSV or Parquet file, DuckDB for folders, globs and
``--engine duckdb``, Spark for ``--engine spark``), applies the data contract up to the report month's last day, and writes
into the run's work folder:

* ``transactions.parquet``: the canonical orders (:func:`relmkt_helpers.io.save_canonical`), which
  the analysis notebooks read instead of the raw file. On the DuckDB and Spark paths the rows go
  from the engine to the file without passing through pandas, so the runner itself never holds
  the data; the notebooks then open the file in the same engine (Spark: on the runner's master).
* ``monthly.parquet``: the monthly KPI table (:func:`relmkt_helpers.kpis.month_table`) and the row
  ledger. The headline, its noise intervals and the overview notebook all come from it.

The spend ledger and the subscription table are checked here too, so that a bad one stops the
run before any notebook starts.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ParameterError
from ..io import RowLedger, load_spend, load_subscriptions, load_transactions, save_canonical
from ..kpis import _check_late_outliers, cut_at_month, metrics_from_table, month_table, save_month_table
from ..verdict import noise_from_table
from .plan import RunPlan

__all__ = ["Prepared", "prepare"]


@dataclass
class Prepared:
    """What :func:`prepare` made: the shared tables' paths, the ledger, the month and its headline."""

    orders: Path
    monthly: Path
    ledger: RowLedger
    period: pd.Period
    kpis: dict[str, Any]
    engine: str

    @property
    def as_of(self) -> pd.Timestamp:
        return self.period.end_time.normalize()


def prepare(plan: RunPlan, month: str | None, work: Path) -> Prepared:
    """Validate the inputs and write the shared tables into ``work``; see the module docstring.

    Raises what :func:`relmkt_helpers.load_transactions`, :func:`relmkt_helpers.load_spend` and
    :func:`relmkt_helpers.load_subscriptions` raise, and :class:`ParameterError` for a spend ledger
    that does not overlap the transactions.
    """
    from ..engine import resolve_engine

    options = plan.load.loader_kwargs()
    engine = resolve_engine(plan.data, options.pop("engine", "auto"))
    memory_limit = options.pop("memory_limit", None)
    if options.get("order_col") == "":
        options["order_col"] = None
    orders_path, monthly_path = work / "transactions.parquet", work / "monthly.parquet"
    if engine == "pandas":
        (tx, ledger), period = cut_at_month(lambda **cut: load_transactions(plan.data, **options, **cut), month,
                                            as_of=plan.load.as_of, check_late=lambda got: _check_late_outliers(*got))
        save_canonical(tx, ledger, orders_path)
        table = month_table(tx, as_of=period.end_time.normalize())
        del tx
    else:
        table, ledger, period = _prepare_with_engine(plan, month, options, memory_limit, orders_path, engine)
    save_month_table(table, ledger, monthly_path)
    kpis = metrics_from_table(table, period)
    kpis["significance"] = noise_from_table(table, period)
    _check_optional_inputs(plan, ledger, period)
    return Prepared(orders=orders_path, monthly=monthly_path, ledger=ledger, period=period, kpis=kpis, engine=engine)


def _prepare_with_engine(plan: RunPlan, month: str | None, options: dict[str, Any], memory_limit: Any,
                         orders_path: Path, engine: str = "duckdb") -> tuple[pd.DataFrame, RowLedger, pd.Period]:
    from ..engine import engine_orders, month_table as engine_month_table, open_source, write_canonical
    from ..engine.api import check_late_outliers, new_session

    if options.get("dayfirst") is not None:
        raise ParameterError("--dayfirst is applied by the pandas contract to text dates; pass --engine pandas, or "
                             "store the dates as a date or timestamp column.")
    options.pop("dayfirst", None)
    with new_session(engine, memory_limit=memory_limit) as session:
        if engine == "spark":  # the notebooks' kernels start their sessions on the runner's master (a cluster's)
            os.environ.setdefault("RELMKT_SPARK_MASTER", session.spark.sparkContext.master)
        source = open_source(session, plan.data)
        orders, period = cut_at_month(lambda **cut: engine_orders(source, session, **options, **cut), month,
                                      as_of=plan.load.as_of, check_late=check_late_outliers)
        write_canonical(orders, orders_path)
        table = engine_month_table(orders, as_of=period.end_time.normalize())
        return table, orders.ledger, period


def _check_optional_inputs(plan: RunPlan, ledger: RowLedger, period: pd.Period) -> None:
    if plan.spend:
        spend = load_spend(plan.spend)
        data_months = pd.period_range(pd.Timestamp(ledger.first_date), period.end_time.normalize(), freq="M")
        if not spend["month"].isin(data_months).any():
            raise ParameterError(
                f"the spend ledger {plan.spend} covers {spend['month'].min()} .. {spend['month'].max()}, "
                f"which does not overlap the transactions ({data_months[0]} .. {data_months[-1]}). "
                "Pass the ledger for the same business and period, or leave --spend out."
            )
    if plan.subscriptions:
        load_subscriptions(plan.subscriptions)
