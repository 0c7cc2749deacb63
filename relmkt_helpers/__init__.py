"""relmkt_helpers: the package behind the relmkt notebooks.

Flat public API: everything an analyst calls is importable from here.
"""
from __future__ import annotations

from .errors import DataValidationError, ParameterError, RelmktError, ReportError
from .io import LoadedTransactions, RowLedger, load_transactions, read_table
from .metrics_io import save_metrics

__version__ = "0.1.0"

__all__ = [
    "DataValidationError",
    "ParameterError",
    "RelmktError",
    "ReportError",
    "LoadedTransactions",
    "RowLedger",
    "load_transactions",
    "read_table",
    "save_metrics",
]
