"""The runner: a :class:`~relmkt_helpers.report.plan.RunPlan` -> one month's report folder, atomically."""
from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from .. import config
from .._kernels import WarmKernels, shutdown_kernel
from ..errors import ParameterError, ReportError
from ..io import RowLedger, load_transactions
from ..kpis import parse_month
from . import _fs, render
from .metrics import assemble_metrics
from .prepare import Prepared, prepare
from .plan import LoadOptions, RunPlan, discover_notebooks, notebook_parameters, resolve_user_params

__all__ = ["ReportResult", "build_report", "build_reports", "make_plan", "month_range"]

_LOAD_FIELDS = set(LoadOptions.__dataclass_fields__)


@dataclass
class ReportResult:
    """What :func:`build_report` returns.

    Attributes
    ----------
    month : str
    path : Path
        The report folder (``<out>/<month>``).
    index : Path
        Its ``index.html``.
    metrics : dict
        The contents of ``metrics.json``.
    timings : dict
        Seconds: ``prepare_data`` (load and validate the data, write the canonical copy), one
        entry per notebook, and ``total`` (not written to ``metrics.json``, which must be
        identical across reruns).
    """

    month: str
    path: Path
    index: Path
    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def make_plan(data_path: str | Path, *, spend_path: str | Path | None = None,
              subscriptions_path: str | Path | None = None, out_dir: str | Path = config.REPORTS_DIR,
              notebooks: Iterable[Path | str] | None = None, params: Mapping[str, Any] | None = None,
              with_code: bool = False, currency: str = "", cell_timeout: float | None = 3600.0,
              progress: bool = True, kernel_name: str = config.KERNEL_NAME, warm_kernels: bool = True,
              **load_options: Any) -> RunPlan:
    """Check everything that can be checked before the data is read, and fix what each notebook gets.

    ``load_options`` are :class:`LoadOptions` fields (column names, ``date_format``,
    ``timezone``, ``refunds``, ``on_invalid``, ``as_of`` ...). Raises :class:`ParameterError`
    for unknown or ambiguous parameters, an unusable output folder, or a bad option.

    Examples
    --------
    >>> import tempfile
    >>> from relmkt_helpers import config
    >>> plan = make_plan(config.SAMPLE_TRANSACTIONS, out_dir=tempfile.mkdtemp(), params={"03.model": "pnbd"},
    ...                  currency="eur", timezone="Europe/Berlin")
    >>> plan.params["03_customer_lifetime_value"], plan.currency, plan.load.loader_kwargs()["timezone"]
    ({'model': 'pnbd'}, 'EUR', 'Europe/Berlin')
    """
    unknown = sorted(set(load_options) - _LOAD_FIELDS)
    if unknown:
        raise TypeError(f"build_report() got unexpected keyword argument(s): {', '.join(unknown)}")
    if data_path is None or str(data_path).strip() == "":
        raise ParameterError("--data is empty: pass a transactions CSV/Parquet file, or 'sample' or 'cdnow'.")
    if cell_timeout is not None and not cell_timeout > 0:
        raise ParameterError(f"--cell-timeout must be a positive number of seconds (got {cell_timeout}).")
    load = LoadOptions(**{k: (None if k == "order_col" and v == "" else v) for k, v in load_options.items()})
    if load.as_of is not None:
        try:
            pd.Timestamp(load.as_of)
        except (ValueError, TypeError):
            raise ParameterError(f"--as-of {load.as_of!r} is not a date; use YYYY-MM-DD.") from None
    nb_paths = [Path(p).resolve() for p in (notebooks or discover_notebooks())]
    declared = {p.stem: notebook_parameters(p) for p in nb_paths}
    user = resolve_user_params(dict(params or {}), declared)
    out = _fs.check_output_dir(out_dir)
    return RunPlan(
        data=Path(data_path).resolve(), spend=Path(spend_path).resolve() if spend_path else None,
        subscriptions=Path(subscriptions_path).resolve() if subscriptions_path else None, load=load, out_dir=out,
        notebooks=nb_paths, declared=declared, params=user, with_code=with_code, currency=(currency or "").upper(),
        cell_timeout=cell_timeout, kernel_name=kernel_name, warm_kernels=warm_kernels, progress=progress)


def build_report(data_path: str | Path, *, month: str | None = None, _bar: Any = None, **options: Any
                 ) -> ReportResult:
    """Run the analysis notebooks for one month and write ``<out_dir>/<month>/``.

    Parameters
    ----------
    data_path : path
        Transactions (CSV/Parquet), read through :func:`relmkt_helpers.load_transactions`.
    month : str, optional
        ``YYYY-MM``; default: the last complete month in the data (up to ``as_of`` if given).
        The analysis date is the month's last day; later rows are left out (and counted in
        the row ledger).
    **options
        ``spend_path``, ``subscriptions_path`` (optional inputs: without them the notebooks say
        what they cannot compute); ``out_dir`` (default ``reports/``); ``notebooks`` (default
        every ``notebooks/NN_*.ipynb``); ``params`` (``-p`` values: ``name`` or ``NN.name``);
        ``with_code``; ``currency`` (ISO code shown with money); ``cell_timeout`` (seconds one
        notebook cell may run, default 3600; ``None`` for none); ``progress``; ``kernel_name``;
        ``warm_kernels``; and the data-contract options of :class:`LoadOptions`
        (``customer_col``, ``date_col``, ``amount_col``, ``order_col``, ``date_format``,
        ``dayfirst``, ``timezone``, ``refunds``, ``duplicates``, ``on_invalid``, ``as_of``).

    Returns
    -------
    ReportResult

    Raises
    ------
    DataValidationError
        Bad input data (nothing is written).
    ParameterError
        Bad month, option or parameter, unusable output folder, too few customers (nothing
        is written).
    ReportError
        A notebook failed or timed out; its executed copy is in ``<out_dir>/<month>.failed/``.
    Interrupted
        The run was stopped by SIGTERM or SIGINT; nothing is left behind.

    Examples
    --------
    >>> from relmkt_helpers import config
    >>> result = build_report(config.SAMPLE_TRANSACTIONS, month="2025-06", out_dir="/tmp/relmkt-doc",
    ...                       progress=False)  # doctest: +SKIP
    >>> result.index.name  # doctest: +SKIP
    'index.html'
    """
    with _fs.interrupts_raise():
        started = time.perf_counter()
        if month is not None and month != "":
            parse_month(month, "--month")
        plan = make_plan(data_path, **options)
        _fs.remove_stale(plan.out_dir)
        return _run(plan, month, started, _bar)


def _run(plan: RunPlan, month: str | None, started: float, bar: Any) -> ReportResult:
    # the first notebook's kernel starts (and imports) while the data is validated
    with WarmKernels(plan.kernel_name, [p.parent for p in plan.notebooks], enabled=plan.warm_kernels) as pool:
        # 1. validate every input once and compute the shared tables (report/prepare.py) --------
        # Into a temporary folder: the notebooks read the canonical orders and the monthly table
        # from it, not the raw file; nothing is written next to the reports until a notebook runs.
        work = _fs.work_dir()
        try:
            prepared = prepare(plan, month, work)
            _check_customers(plan, prepared.ledger, prepared.as_of)
            _release_memory()
            seconds = time.perf_counter() - started
            return _run_notebooks(plan, prepared, bar=bar, started=started, pool=pool, prepared_seconds=seconds)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _check_customers(plan: RunPlan, ledger: RowLedger, as_of: pd.Timestamp) -> None:
    for stem, need in plan.min_customers().items():
        if ledger.customers < need:
            raise ParameterError(
                f"notebook {stem} needs at least {need:,} customers (its min_customers), but the data up to "
                f"{as_of.date()} has {ledger.customers:,}. Report a later month, use more data, or lower the "
                f"threshold with -p {stem[:2]}.min_customers {max(ledger.customers, 1)} (results on so few "
                "customers are unreliable).")


def _release_memory() -> None:
    """Hand freed memory back to the system before the notebook kernels start (they need it)."""
    import ctypes
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # noqa: BLE001 - best effort
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _running_cell(executed: Path) -> tuple[int | None, str]:
    """The cell papermill had started when execution stopped (index, first line of source)."""
    import nbformat

    try:
        nb = nbformat.read(executed, as_version=4)
    except Exception:  # noqa: BLE001 - not written yet
        return None, ""
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            lines = cell.source.strip().splitlines()
            return i, (lines[0] if lines else "")
    return None, ""


def _timed_out_cell(nb: Path, exc: BaseException) -> tuple[int | None, str]:
    """The cell nbclient's timeout message previews, found in the notebook (index, first line)."""
    import re

    import nbformat

    m = re.search(r"preview of the cell contents:\n-+\n(.*?)\n-+\n?$", str(exc), flags=re.S)
    if not m:
        return None, ""
    preview = m.group(1).strip()
    for i, cell in enumerate(nbformat.read(nb, as_version=4).cells):
        if cell.cell_type == "code" and preview and cell.source.strip().startswith(preview.splitlines()[0]) and \
                preview in cell.source:
            return i, preview.splitlines()[0]
    return None, preview.splitlines()[0] if preview else ""


def _failure_message(nb: Path, exc: BaseException, failed_dir: Path, executed: Path,
                     timeout: float | None) -> str:
    if isinstance(exc, TimeoutError) or type(exc).__name__ in ("CellTimeoutError", "DeadKernelError"):
        cell, first_line = _running_cell(executed)
        if cell is None:  # papermill saves the notebook at most every 30 s: ask the timeout message
            cell, first_line = _timed_out_cell(executed if executed.is_file() else nb, exc)
        where = f" cell {cell}" if cell is not None else " a cell"
        code = f" (`{first_line[:80]}`)" if first_line else ""
        if type(exc).__name__ == "DeadKernelError":
            what = f"the kernel died in{where}{code} (often: out of memory)"
            fix = "Run it with fewer customers (e.g. -p 02.max_train_rows) or on a machine with more memory."
        else:
            what = f"{where.strip()}{code} did not finish within {timeout:g} s"
            fix = "If the data is simply large, raise the limit with --cell-timeout SECONDS."
        return (f"notebook {nb.name}: {what}. {fix}\nThe executed notebooks are in {failed_dir}. "
                "No report was replaced.")
    cell = getattr(exc, "cell_index", None)
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    where = f" in cell {cell}" if cell is not None else ""
    source = getattr(exc, "source", "")
    first_line = source.strip().splitlines()[0] if source and source.strip() else ""
    code = f" (`{first_line[:80]}`)" if first_line else ""
    return (
        f"notebook {nb.name} failed{where}{code}: {ename}: {evalue}\n"
        f"The executed notebooks, with the error shown, are in {failed_dir}. "
        "No report was replaced."
    )


def _run_notebooks(plan: RunPlan, prepared: Prepared, *, bar: Any, started: float, pool: WarmKernels,
                   prepared_seconds: float) -> ReportResult:
    import papermill
    from tqdm.auto import tqdm

    kpis, ledger, period, as_of = prepared.kpis, prepared.ledger, prepared.period, prepared.as_of
    out_dir = plan.out_dir
    final = out_dir / str(period)
    tmp = _fs.partial_dir(out_dir, str(period))
    failed = out_dir / f"{period}.failed"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "metrics").mkdir(parents=True)  # creates out_dir too
    cols = plan.load.loader_kwargs()
    base = {
        # the source as the user named it (an executed notebook re-run later reads it) and the validated
        # copy every notebook reads while the report is built (removed afterwards)
        "data_path": str(plan.data),
        "prepared_path": str(prepared.orders),
        "prepared_monthly": str(prepared.monthly),
        # notebooks whose analyses run in the engine keep the orders there when the runner used it
        "load_options": {**{k: v for k, v in cols.items() if not k.endswith("_col")},
                         **({"engine": prepared.engine} if prepared.engine in ("duckdb", "spark") else {})},
        "spend_path": str(plan.spend) if plan.spend else "",
        "subscriptions_path": str(plan.subscriptions) if plan.subscriptions else "",
        "month": str(period),
        "as_of": str(as_of.date()),
        "output_dir": str(tmp),
        "customer_col": plan.load.customer_col,
        "date_col": plan.load.date_col,
        "amount_col": plan.load.amount_col,
        "order_col": plan.load.order_col or "",
    }
    timings: dict[str, float] = {"prepare_data": round(prepared_seconds, 2)}
    own_bar = bar is None  # batch mode passes one bar across months
    if own_bar:
        bar = tqdm(total=len(plan.notebooks), desc=f"report {period}", unit="notebook", disable=not plan.progress)
    # HTML pages are rendered on a helper thread while the next notebook runs (the runner only
    # waits on the kernel meanwhile); every page is finished before the folder is renamed.
    renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relmkt-render")
    rendering = []

    def page(nb: Path, executed: Path) -> dict[str, Any]:
        title = render.notebook_title(executed)
        render.render_page(executed, tmp / f"{nb.stem}.html", plan.with_code, title)
        return {"stem": nb.stem, "title": title, "html": f"{nb.stem}.html", "ipynb": nb.name,
                "images": render.headline_images(executed, tmp / "img", nb.stem)}

    def fail(message: str, cause: BaseException | None = None) -> ReportError:
        renderer.shutdown(wait=True)
        _fs.keep_failed(tmp, failed)
        return ReportError(message)

    published = False
    try:
        for nb in plan.notebooks:
            bar.set_postfix_str(f"{period} {nb.stem}")
            values = {**base, "metrics_path": str(tmp / "metrics" / f"{nb.stem}.json")}
            executed = tmp / nb.name
            t0 = time.perf_counter()
            km = pool.take()  # warmed while the previous notebook ran (None: papermill starts one)
            try:
                papermill.execute_notebook(
                    str(nb), str(executed), parameters=plan.injected(nb.stem, values), kernel_name=plan.kernel_name,
                    progress_bar=False, log_output=False, cwd=str(nb.parent), execution_timeout=plan.cell_timeout,
                    start_timeout=120, **({"km": km} if km else {}),
                )
            except Exception as exc:  # papermill wraps kernel errors in PapermillExecutionError
                raise fail(_failure_message(nb, exc, failed, executed, plan.cell_timeout)) from None
            finally:
                if km is not None:
                    shutdown_kernel(km)
            timings[nb.stem] = round(time.perf_counter() - t0, 2)
            bar.update(1)
            rendering.append(renderer.submit(page, nb, executed))
        try:
            pages = [f.result() for f in rendering]  # in notebook order
        except Exception as exc:  # noqa: BLE001 - any rendering failure fails the run, cleanly
            raise fail(f"rendering the HTML pages failed: {type(exc).__name__}: {exc}. The executed notebooks "
                       f"are in {failed}. No report was replaced.") from exc

        # 3. metrics and index ------------------------------------------------------
        metrics = assemble_metrics(kpis, ledger, period, tmp / "metrics", bool(plan.spend),
                                   bool(plan.subscriptions), plan.data, plan.currency)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        shutil.rmtree(tmp / "metrics")  # merged into metrics.json
        downloads = [(p.name, p.with_suffix(".parquet").name if p.with_suffix(".parquet").exists() else None)
                     for p in sorted(tmp.glob("*.csv"))]
        render.write_index(tmp / "index.html", metrics, pages, plan.data.name, downloads, plan.currency or None)

        # 4. swap into place atomically: there is never a moment without a report ----
        _fs.publish(tmp, final)
        published = True
        if failed.exists():
            shutil.rmtree(failed, ignore_errors=True)  # this month now has a good report
    finally:
        renderer.shutdown(wait=True)
        if own_bar:
            bar.close()
        if not published and tmp.exists():  # interrupted (or an unexpected error): leave nothing behind
            shutil.rmtree(tmp, ignore_errors=True)
    timings["total"] = round(time.perf_counter() - started, 2)
    return ReportResult(month=str(period), path=final, index=final / "index.html", metrics=metrics, timings=timings)


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM`` strings.

    Examples
    --------
    >>> month_range("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    if last < first:
        raise ParameterError(f"--from {start} is after --to {end}: swap them.")
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def build_reports(data_path: str | Path, *, start: str, end: str, progress: bool = True,
                  **kwargs: Any) -> list[ReportResult]:
    """Write one report per month from ``start`` to ``end`` (inclusive), oldest first.

    Every month is checked against the data before the first notebook runs, so a range reaching
    outside the data fails at once and writes nothing. Each month is written atomically, as by
    :func:`build_report`; the batch stops at the first failed month (earlier months stay
    written, the failed one keeps its ``.failed`` folder) and raises its :class:`ReportError`.

    Parameters
    ----------
    data_path : path
    start, end : str
        ``YYYY-MM``.
    progress : bool
        One progress bar across months and notebooks.
    **kwargs
        Passed to :func:`build_report` (inputs, ``out_dir``, data-contract options, ``params``...).

    Examples
    --------
    >>> results = build_reports(config.SAMPLE_TRANSACTIONS, start="2025-10", end="2025-12",
    ...                         out_dir="/tmp/relmkt-doc")  # doctest: +SKIP
    >>> [r.month for r in results]  # doctest: +SKIP
    ['2025-10', '2025-11', '2025-12']
    """
    from tqdm.auto import tqdm

    from ..kpis import resolve_month

    months = month_range(start, end)
    with _fs.interrupts_raise():
        plan = make_plan(data_path, progress=progress, **kwargs)  # options checked once, before the data
        load = plan.load
        _, ledger = load_transactions(plan.data, as_of=load.as_of, after_as_of="drop", **load.loader_kwargs())
        for m in (months[0], months[-1]):
            resolve_month(m, ledger.first_date, ledger.last_date)
        with tqdm(total=len(months) * len(plan.notebooks), desc=f"reports {months[0]}..{months[-1]}",
                  unit="notebook", disable=not progress) as bar:
            return [build_report(data_path, month=month, progress=progress, _bar=bar, **kwargs) for month in months]
