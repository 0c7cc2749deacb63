"""Plot helpers: ``plot_<thing>(result, *, ax=None, **kwargs) -> Axes``.

Every helper draws on the Axes it is given (or a new one) with ``ax.set_*``
and never touches global ``plt`` state, so notebooks stay "compute, then plot"
and tests can draw headlessly.
"""
from __future__ import annotations

from ._common import get_ax, PALETTE, format_axis_percent

__all__ = ["get_ax", "PALETTE", "format_axis_percent"]
