"""The report runner: notebooks -> one month's HTML report, atomically.

``relmkt report`` (and ``make report``) is the only path from the notebooks to a report. For one
month it:

1. plans the run (:mod:`.plan`): checks the options, the output folder and every ``-p``
   parameter (``name`` or ``NN.name``) against what each notebook declares, before any data is
   read;
2. validates the inputs at the edge (transactions, optional spend ledger and subscription table,
   the month, enough customers for every notebook), so bad input fails fast and leaves nothing;
3. runs every ``notebooks/NN_*.ipynb`` with papermill (:mod:`.runner`), each cell with a time
   limit, into a hidden folder;
4. renders each executed notebook to HTML and writes ``metrics.json`` and ``index.html``
   (:mod:`.render`, :mod:`.metrics`);
5. swaps the folder into place atomically (:mod:`._fs`). A failed run keeps its executed
   notebooks in ``<out>/<month>.failed/``; an interrupted one (SIGTERM, SIGINT) leaves nothing;
   neither touches an existing good report.
"""
from __future__ import annotations

from ._fs import Interrupted
from .metrics import METRICS_SCHEMA_VERSION
from .plan import RUNNER_PARAMETERS, LoadOptions, RunPlan, discover_notebooks, notebook_parameters
from .render import render_page
from .runner import ReportResult, build_report, build_reports, make_plan, month_range

__all__ = ["ReportResult", "build_report", "build_reports", "make_plan", "month_range", "discover_notebooks",
           "notebook_parameters", "METRICS_SCHEMA_VERSION", "RUNNER_PARAMETERS", "LoadOptions", "RunPlan",
           "Interrupted", "render_page"]
