"""The report runner: notebooks -> one month's HTML report, atomically.

``relmkt report`` (and ``make report``) is the only path from the notebooks to a
report. For one month it:

1. validates the inputs at the edge (transactions, optional spend ledger and
   subscription table, the month) before any notebook runs, so bad input fails
   fast and leaves nothing behind;
2. runs every ``notebooks/NN_*.ipynb`` with papermill, injecting only the
   parameters each notebook declares (checked with ``papermill.inspect_notebook``;
   unknown user parameters are rejected, where papermill itself only warns);
3. renders each executed notebook to HTML (code hidden unless ``with_code``);
4. writes ``metrics.json`` (headline KPIs computed from the data, with the change
   against the previous month, merged with each notebook's own headline figures)
   and ``index.html``;
5. builds everything in a hidden temporary folder and renames it into place only
   when every notebook succeeded. A failed run keeps its executed notebooks in
   ``<out>/<month>.failed/`` and never touches an existing good report.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from . import config
from .errors import ParameterError, ReportError
from ._kernels import WarmKernels
from .io import RowLedger, load_spend, load_subscriptions, load_transactions, save_canonical
from .kpis import load_month, month_metrics
from .metrics_io import to_jsonable

__all__ = ["ReportResult", "build_report", "build_reports", "month_range", "discover_notebooks", "notebook_parameters",
           "METRICS_SCHEMA_VERSION"]

METRICS_SCHEMA_VERSION = 1
_NOTEBOOK_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")

#: Parameters the runner injects into every notebook that declares them.
RUNNER_PARAMETERS = (
    "data_path", "spend_path", "subscriptions_path", "month", "as_of", "metrics_path", "output_dir",
    "customer_col", "date_col", "amount_col", "order_col",
)


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
        Seconds: ``prepare_data`` (load and validate the data, write the
        canonical copy), one entry per notebook, and ``total`` (not written to
        ``metrics.json``, which must be identical across reruns).
    """

    month: str
    path: Path
    index: Path
    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


def discover_notebooks(folder: Path | str = config.NOTEBOOKS_DIR) -> list[Path]:
    """The analysis notebooks of a report: ``NN_name.ipynb`` in ``folder``, sorted.

    Sub-folders (``workshop/``) are not part of the report.

    Examples
    --------
    >>> [p.name for p in discover_notebooks()][:1]
    ['00_data_overview.ipynb']
    """
    folder = Path(folder)
    found = sorted(p for p in folder.glob("*.ipynb") if _NOTEBOOK_NAME.match(p.name))
    if not found:
        raise ReportError(f"no analysis notebooks (NN_name.ipynb) found in {folder}.")
    return found


def notebook_parameters(path: Path | str) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters``-tagged cell.

    Returns papermill's description: name -> {inferred_type_name, default, help}.

    Examples
    --------
    >>> "data_path" in notebook_parameters(discover_notebooks()[0])
    True
    """
    import papermill

    return dict(papermill.inspect_notebook(str(path)))


def _html_exporter(with_code: bool):
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = not with_code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    # Reports are read offline: no scripts from CDNs (they would fail without a network).
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.widget_renderer_url = ""
    exporter.jquery_url = ""
    return exporter


def _strip_cdn_scripts(html: str) -> str:
    """Remove script tags that would reach for the network (or load the page itself as a script)."""
    html = re.sub(r'<script[^>]+src="(https?://[^"]*)?"[^>]*>\s*</script>', "", html)
    return re.sub(r'<script type="module">(?:(?!</script>).)*cdnjs(?:(?!</script>).)*</script>', "", html,
                  flags=re.S)


def _render_html(nb_path: Path, html_path: Path, with_code: bool, title: str) -> None:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    # The injected-parameters cell is plumbing; hide it even in --with-code pages.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    body, _ = _html_exporter(with_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    nav = ('<nav style="font-family: system-ui, sans-serif; padding: .6rem 1rem; background: #0b3d63;">'
           '<a href="index.html" style="color: #fff;">&larr; back to the report</a></nav>')
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
    html_path.write_text(_strip_cdn_scripts(body), encoding="utf-8")


def _notebook_title(nb_path: Path) -> str:
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb_path.stem


def _headline_images(nb_path: Path, img_dir: Path, stem: str) -> list[str]:
    """Save the PNG outputs of cells tagged ``headline`` and return their relative paths."""
    import base64

    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    out: list[str] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or "headline" not in cell.get("metadata", {}).get("tags", []):
            continue
        for j, output in enumerate(cell.get("outputs", [])):
            data = output.get("data", {})
            if "image/png" in data:
                img_dir.mkdir(parents=True, exist_ok=True)
                name = f"{stem}-{i:02d}-{j}.png"
                (img_dir / name).write_bytes(base64.b64decode(data["image/png"]))
                out.append(f"{img_dir.name}/{name}")
    return out


def _parse_user_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(params or {})


def _check_user_params(user: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]) -> None:
    known = set().union(*declared.values()) if declared else set()
    unknown = sorted(set(user) - known)
    if unknown:
        raise ParameterError(
            f"unknown notebook parameter(s): {', '.join(unknown)}. The notebooks declare: "
            f"{', '.join(sorted(known - set(RUNNER_PARAMETERS)))} (and the runner sets "
            f"{', '.join(RUNNER_PARAMETERS)}). Check the spelling; see `papermill --help-notebook NOTEBOOK`."
        )
    clash = sorted(set(user) & set(RUNNER_PARAMETERS))
    if clash:
        raise ParameterError(
            f"parameter(s) {', '.join(clash)} are set by the runner from its own options "
            "(--data, --spend, --subscriptions, --month, --*-col); use those instead of -p."
        )


def _failure_message(nb: Path, exc: Exception, failed_dir: Path) -> str:
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


def build_report(
    data_path: str | Path,
    *,
    spend_path: str | Path | None = None,
    subscriptions_path: str | Path | None = None,
    month: str | None = None,
    out_dir: str | Path = config.REPORTS_DIR,
    notebooks: Iterable[Path | str] | None = None,
    params: Mapping[str, Any] | None = None,
    with_code: bool = False,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    order_col: str | None = None,
    progress: bool = True,
    kernel_name: str = config.KERNEL_NAME,
    warm_kernels: bool = True,
    _bar: Any = None,
) -> ReportResult:
    """Run the analysis notebooks for one month and write ``<out_dir>/<month>/``.

    Parameters
    ----------
    data_path : path
        Transactions (CSV/Parquet), read through :func:`relmkt_helpers.load_transactions`.
    spend_path, subscriptions_path : path, optional
        Marketing-spend ledger and subscription table. Without them the notebooks
        say what they cannot compute.
    month : str, optional
        ``YYYY-MM``; default: the last complete month in the data. The analysis date
        ``as_of`` is the month's last day; later rows are left out (and counted in
        the row ledger).
    out_dir : path
        Parent folder of the report (default ``reports/``).
    notebooks : iterable of paths, optional
        Default: every ``notebooks/NN_*.ipynb``.
    params : mapping, optional
        Extra notebook parameters; each must be declared by at least one notebook.
    with_code : bool
        Show code cells in the HTML pages.
    customer_col, date_col, amount_col, order_col : str
        Column mapping of the transactions file.
    progress : bool
        Show a progress bar across notebooks.
    kernel_name : str
        Jupyter kernel the notebooks run in.
    warm_kernels : bool
        Start each notebook's kernel, and import the libraries in it, while the
        previous notebook runs (saves about 3 s per notebook; every notebook still
        gets a fresh kernel). ``False``: papermill starts each kernel itself.

    Returns
    -------
    ReportResult

    Raises
    ------
    DataValidationError
        Bad input data (nothing is written).
    ParameterError
        Bad month or unknown parameter (nothing is written).
    ReportError
        A notebook failed; its executed copy is in ``<out_dir>/<month>.failed/``.

    Examples
    --------
    >>> from relmkt_helpers import config
    >>> result = build_report(config.SAMPLE_TRANSACTIONS, month="2025-06", out_dir="/tmp/relmkt-doc",
    ...                       progress=False)  # doctest: +SKIP
    >>> result.index.name  # doctest: +SKIP
    'index.html'
    """
    started = time.perf_counter()
    data_path = Path(data_path).resolve()
    user_params = _parse_user_params(params)
    cols = dict(customer_col=customer_col, date_col=date_col, amount_col=amount_col, order_col=order_col)

    nb_paths = [Path(p).resolve() for p in (notebooks or discover_notebooks())]
    declared = {p.stem: notebook_parameters(p) for p in nb_paths}
    _check_user_params(user_params, declared)
    # the first notebook's kernel starts (and imports) while the data is validated
    with WarmKernels(kernel_name, [p.parent for p in nb_paths], enabled=warm_kernels) as pool:
        # 1. validate at the edge, before anything is written -------------------
        tx, ledger, period = load_month(data_path, month, **cols)
        as_of = period.end_time.normalize()
        if spend_path:
            spend = load_spend(spend_path)
            data_months = pd.period_range(tx["order_date"].min(), as_of, freq="M")
            if not spend["month"].isin(data_months).any():
                raise ParameterError(
                    f"the spend ledger {spend_path} covers {spend['month'].min()} .. {spend['month'].max()}, "
                    f"which does not overlap the transactions ({data_months[0]} .. {data_months[-1]}). "
                    "Pass the ledger for the same business and period, or leave --spend out."
                )
        if subscriptions_path:
            load_subscriptions(subscriptions_path)

        # 2. run into a temporary folder ------------------------------------------
        # The notebooks read the validated canonical frame (save_canonical), not the raw file: the
        # data is parsed and checked once per report instead of once per notebook.
        work = Path(tempfile.mkdtemp(prefix="relmkt-report-"))
        try:
            canonical = save_canonical(tx, ledger, work / "transactions.parquet")
            kpis = month_metrics(tx, period)
            del tx  # the notebooks each load the canonical file: do not hold a second copy meanwhile
            _release_memory()
            prepared = time.perf_counter() - started
            return _run_notebooks(
                kpis, ledger, period, as_of, canonical, data_path=data_path, spend_path=spend_path,
                subscriptions_path=subscriptions_path, out_dir=out_dir, nb_paths=nb_paths, declared=declared,
                user_params=user_params, with_code=with_code, progress=progress, kernel_name=kernel_name,
                bar=_bar, started=started, pool=pool, prepared=prepared)
        finally:
            shutil.rmtree(work, ignore_errors=True)


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


def _run_notebooks(kpis: Mapping[str, Any], ledger: RowLedger, period: pd.Period, as_of: pd.Timestamp, canonical: Path, *,
                   data_path: Path, spend_path: str | Path | None, subscriptions_path: str | Path | None,
                   out_dir: str | Path, nb_paths: list[Path], declared: Mapping[str, Mapping[str, Any]],
                   user_params: Mapping[str, Any], with_code: bool, progress: bool, kernel_name: str, bar: Any,
                   started: float, pool: WarmKernels, prepared: float) -> ReportResult:
    import papermill
    from tqdm.auto import tqdm

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / str(period)
    tmp = out_dir / f".{period}.partial-{os.getpid()}"
    failed = out_dir / f"{period}.failed"
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / "metrics").mkdir(parents=True)
    base = {
        "data_path": str(canonical),
        "spend_path": str(Path(spend_path).resolve()) if spend_path else "",
        "subscriptions_path": str(Path(subscriptions_path).resolve()) if subscriptions_path else "",
        "month": str(period),
        "as_of": str(as_of.date()),
        "output_dir": str(tmp),
        # the canonical file's own column names
        "customer_col": "customer_id",
        "date_col": "order_date",
        "amount_col": "amount",
        "order_col": "order_id",
    }
    # load and validate the data, write the canonical copy, month KPIs
    timings: dict[str, float] = {"prepare_data": round(prepared, 2)}
    pages: list[dict[str, Any]] = []
    own_bar = bar is None  # batch mode passes one bar across months
    if own_bar:
        bar = tqdm(total=len(nb_paths), desc=f"report {period}", unit="notebook", disable=not progress)
    # HTML pages are rendered on a helper thread while the next notebook runs (the runner only
    # waits on the kernel meanwhile); every page is finished before the folder is renamed.
    from concurrent.futures import ThreadPoolExecutor

    render = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relmkt-render")
    rendering = []

    def page(nb: Path, executed: Path) -> dict[str, Any]:
        title = _notebook_title(executed)
        _render_html(executed, tmp / f"{nb.stem}.html", with_code, title)
        return {"stem": nb.stem, "title": title, "html": f"{nb.stem}.html", "ipynb": nb.name,
                "images": _headline_images(executed, tmp / "img", nb.stem)}

    try:
        for nb in nb_paths:
            bar.set_postfix_str(f"{period} {nb.stem}")
            wanted = declared[nb.stem]
            values = {**base, "metrics_path": str(tmp / "metrics" / f"{nb.stem}.json"), **user_params}
            injected = {k: v for k, v in values.items() if k in wanted}
            executed = tmp / nb.name
            t0 = time.perf_counter()
            km = pool.take()  # warmed while the previous notebook ran (None: papermill starts one)
            try:
                papermill.execute_notebook(
                    str(nb), str(executed), parameters=injected, kernel_name=kernel_name,
                    progress_bar=False, log_output=False, cwd=str(nb.parent), **({"km": km} if km else {}),
                )
            except Exception as exc:  # papermill wraps kernel errors in PapermillExecutionError
                render.shutdown(wait=True)
                if failed.exists():
                    shutil.rmtree(failed)
                tmp.rename(failed)
                raise ReportError(_failure_message(nb, exc, failed)) from None
            finally:
                if km is not None:
                    km.shutdown_kernel(now=True)
            timings[nb.stem] = round(time.perf_counter() - t0, 2)
            bar.update(1)
            rendering.append(render.submit(page, nb, executed))
        try:
            pages.extend(f.result() for f in rendering)  # in notebook order
        except Exception as exc:  # noqa: BLE001 - any rendering failure fails the run, cleanly
            render.shutdown(wait=True)
            if failed.exists():
                shutil.rmtree(failed)
            tmp.rename(failed)
            raise ReportError(f"rendering the HTML pages failed: {type(exc).__name__}: {exc}. The executed "
                              f"notebooks are in {failed}. No report was replaced.") from exc
    finally:
        render.shutdown(wait=True)
        if own_bar:
            bar.close()

    # 3. metrics and index ------------------------------------------------------
    metrics = _assemble_metrics(kpis, ledger, period, tmp / "metrics", bool(spend_path), bool(subscriptions_path),
                                data_path)
    (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    shutil.rmtree(tmp / "metrics")  # merged into metrics.json
    downloads = sorted(p.name for p in tmp.glob("*.csv"))
    _write_index(tmp / "index.html", metrics, pages, data_path, downloads)

    # 4. swap into place atomically ---------------------------------------------
    old = out_dir / f".{period}.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
    if failed.exists():
        shutil.rmtree(failed)  # this month now has a good report
    timings["total"] = round(time.perf_counter() - started, 2)
    return ReportResult(month=str(period), path=final, index=final / "index.html", metrics=metrics, timings=timings)


def _assemble_metrics(m: Mapping[str, Any], ledger: RowLedger, period: pd.Period, metrics_dir: Path,
                      has_spend: bool, has_subs: bool, data_path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema_version": METRICS_SCHEMA_VERSION,
        "month": str(period),
        "as_of": str(period.end_time.date()),
        "data_file": data_path.name,
        "rows_read": ledger.rows_read,
        "rows_used": ledger.rows_used,
        "rows_dropped": ledger.dropped,
        "inputs": {"spend_ledger": has_spend, "subscriptions": has_subs},
    }
    for key in ("orders", "revenue", "customers_active", "customers_new", "customers_returning",
                "customers_reactivated", "retention_rate_prev_month", "repeat_purchase_rate",
                "average_order_value"):
        out[key] = m[key]
    out["previous_month"] = m["previous"]
    out["change_vs_previous_month"] = m["change"]
    analyses: dict[str, Any] = {}
    for f in sorted(metrics_dir.glob("*.json")):
        analyses[f.stem] = json.loads(f.read_text(encoding="utf-8"))
    out["analyses"] = analyses
    return to_jsonable(out)


_KPI_LABELS = (
    ("customers_active", "Active customers", "int"),
    ("customers_new", "New customers", "int"),
    ("revenue", "Revenue", "money"),
    ("orders", "Orders", "int"),
    ("retention_rate_prev_month", "Retention vs previous month", "pct"),
    ("repeat_purchase_rate", "Repeat-purchase rate", "pct"),
    ("average_order_value", "Average order value", "money"),
)


#: Figures from the analysis notebooks shown on index.html: (notebook stem, metrics key, label, format).
#: A figure that an analysis did not produce (e.g. no spend ledger) is listed as "not computed".
_ANALYSIS_HEADLINES = (
    ("01_cohort_retention", "retention_period_1", "Cohort retention after 1 month (size-weighted)", "pct"),
    ("01_cohort_retention", "retention_period_12", "Cohort retention after 12 months", "pct"),
    ("02_churn_modelling", "churn_roc_auc_hgb", "Churn model ROC AUC (gradient boosting, out of time)", "num"),
    ("02_churn_modelling", "churn_roc_auc_bgnbd", "Churn baseline ROC AUC (BG/NBD)", "num"),
    ("02_churn_modelling", "churn_expected_value_lost", "Expected value at risk (churn probability x value)", "money"),
    ("02_churn_modelling", "contractual_all_survival_month_12", "Subscribers still active after 12 months (sBG)", "pct"),
    ("03_customer_lifetime_value", "mean_clv", "Mean CLV per customer (next 12 months, margin)", "money"),
    ("03_customer_lifetime_value", "vip_value_share", "Share of expected value held by the top 10%", "pct"),
    ("04_acquisition_vs_retention", "cac_blended", "Blended CAC", "money"),
    ("04_acquisition_vs_retention", "cost_ratio_year", "Acquisition / retention cost per customer-year", "num"),
    ("04_acquisition_vs_retention", "payback_months", "CAC payback (months of life)", "num"),
)


def _analysis_rows(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    analyses = metrics.get("analyses", {})
    for stem, key, label, kind in _ANALYSIS_HEADLINES:
        if stem not in analyses:
            continue
        found = analyses[stem]
        value = found.get(key)
        basis = found.get(f"{key}_basis", "")
        text = "not computed from these inputs" if value is None else (
            f"{value:.2f}" if kind == "num" else _fmt(value, kind))
        rows.append({"label": label, "value": text, "basis": basis})
    return rows


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return f"{100 * value:.1f}%"


def _fmt_change(value: Any, kind: str) -> tuple[str, str]:
    if value is None:
        return "no previous month", "flat"
    if kind == "pct":
        text = f"{100 * value:+.1f} pts"
    else:
        text = f"{100 * value:+.1f}%"
    return text, ("up" if value > 0 else "down" if value < 0 else "flat")


def _write_index(path: Path, metrics: Mapping[str, Any], pages: list[dict[str, Any]], data_path: Path,
                 downloads: list[str] | None = None) -> None:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("relmkt_helpers", "templates"), autoescape=select_autoescape())
    kpis = []
    for key, label, kind in _KPI_LABELS:
        change, direction = _fmt_change(metrics["change_vs_previous_month"].get(key), kind)
        kpis.append({"label": label, "value": _fmt(metrics.get(key), kind), "change": change,
                     "direction": direction})
    html = env.get_template("index.html").render(metrics=metrics, kpis=kpis, pages=pages, data_name=data_path.name,
                                                 downloads=downloads or [], headlines=_analysis_rows(metrics))
    path.write_text(html, encoding="utf-8")


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end`` inclusive, as ``YYYY-MM`` strings.

    Examples
    --------
    >>> month_range("2024-11", "2025-02")
    ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    for name, value in (("--from", start), ("--to", end)):
        if not re.fullmatch(r"\d{4}-\d{2}", str(value)):
            raise ParameterError(f"{name} {value!r} is not of the form YYYY-MM (e.g. 2024-03).")
    first, last = pd.Period(start, "M"), pd.Period(end, "M")
    if last < first:
        raise ParameterError(f"--from {start} is after --to {end}: swap them.")
    return [str(p) for p in pd.period_range(first, last, freq="M")]


def build_reports(data_path: str | Path, *, start: str, end: str, progress: bool = True,
                  **kwargs: Any) -> list[ReportResult]:
    """Write one report per month from ``start`` to ``end`` (inclusive), oldest first.

    Every month is checked against the data before the first notebook runs, so a
    range reaching outside the data fails at once and writes nothing. Each month
    is written atomically, as by :func:`build_report`; the batch stops at the
    first failed month (earlier months stay written, the failed one keeps its
    ``.failed`` folder) and raises its :class:`ReportError`.

    Parameters
    ----------
    data_path : path
    start, end : str
        ``YYYY-MM``.
    progress : bool
        One progress bar across months and notebooks.
    **kwargs
        Passed to :func:`build_report` (spend and subscription paths, ``out_dir``,
        column names, ``params``, ``with_code``, ``notebooks``).

    Examples
    --------
    >>> results = build_reports(config.SAMPLE_TRANSACTIONS, start="2025-10", end="2025-12",
    ...                         out_dir="/tmp/relmkt-doc")  # doctest: +SKIP
    >>> [r.month for r in results]  # doctest: +SKIP
    ['2025-10', '2025-11', '2025-12']
    """
    from tqdm.auto import tqdm

    from .kpis import resolve_month

    months = month_range(start, end)
    cols = {k: kwargs[k] for k in ("customer_col", "date_col", "amount_col", "order_col") if k in kwargs}
    _, ledger = load_transactions(Path(data_path), **cols)
    for m in (months[0], months[-1]):
        resolve_month(m, ledger.first_date, ledger.last_date)
    n_notebooks = len(list(kwargs.get("notebooks") or discover_notebooks()))
    results: list[ReportResult] = []
    with tqdm(total=len(months) * n_notebooks, desc=f"reports {months[0]}..{months[-1]}", unit="notebook",
              disable=not progress) as bar:
        for month in months:
            results.append(build_report(data_path, month=month, progress=progress, _bar=bar, **kwargs))
    return results
