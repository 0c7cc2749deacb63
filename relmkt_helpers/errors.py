"""The kit's own exceptions.

Every error a user can cause by passing bad data or bad parameters is one of
these, and its message names what to fix. A bare pandas traceback reaching a
user is a bug in relmkt.

Examples
--------
>>> from relmkt_helpers.errors import DataValidationError, RelmktError
>>> issubclass(DataValidationError, RelmktError) and issubclass(DataValidationError, ValueError)
True
"""
from __future__ import annotations


class RelmktError(Exception):
    """Base class of every error raised on purpose by relmkt."""


class DataValidationError(RelmktError, ValueError):
    """Input data does not meet the kit's data contract (file, column, rows and fix in the message)."""


class ParameterError(RelmktError, ValueError):
    """A parameter passed to a helper, a notebook or the runner is not valid."""


class ReportError(RelmktError, RuntimeError):
    """A report run failed; the message names the notebook and the cell."""


class ConvergenceError(RelmktError, RuntimeError):
    """A model fit did not reach a usable maximum of its likelihood.

    Raised by the repeat-purchase models (BG/NBD, Pareto/NBD, MBG/NBD), the
    Gamma-Gamma spend model and the shifted-beta-geometric fit
    (:class:`relmkt_helpers.contractual.SBGConvergenceError`, a subclass). The
    message says what went wrong and what to change (a penalizer, another time
    unit, more data).

    Examples
    --------
    >>> from relmkt_helpers.contractual import SBGConvergenceError
    >>> issubclass(SBGConvergenceError, ConvergenceError) and issubclass(ConvergenceError, RelmktError)
    True
    """
