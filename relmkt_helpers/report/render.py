"""Rendering: executed notebooks -> HTML pages, headline charts -> ``img/``, metrics -> ``index.html``."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from ..display import METRICS, fmt_change, fmt_value
from ..verdict import verdict

__all__ = ["render_page", "notebook_title", "headline_images", "write_index"]


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


_PAGE_STYLE = """<style>
table.relmkt-table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .92rem; }
table.relmkt-table caption { text-align: left; color: #5a6473; padding-bottom: .3rem; }
table.relmkt-table th { text-align: left; border-bottom: 2px solid #c9d1db; padding: .3rem .8rem .3rem 0; }
table.relmkt-table td { border-bottom: 1px solid #e6e9ee; padding: .25rem .8rem .25rem 0; }
table.relmkt-table.relmkt-table .num { text-align: right; font-variant-numeric: tabular-nums; }
table.relmkt-table.relmkt-table .txt { text-align: left; }
.jp-OutputArea-output { overflow-x: auto; }
@media (max-width: 600px) { body { font-size: 15px; } .jp-Cell { padding: 0 .3rem; } }
</style>"""


def render_page(nb_path: Path, html_path: Path, with_code: bool, title: str) -> None:
    """Render one executed notebook to a report page (code hidden unless ``with_code``)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    # The injected-parameters cell is plumbing; hide it even in --with-code pages.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    body, _ = _html_exporter(with_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    nav = ('<nav style="font-family: system-ui, sans-serif; padding: .6rem 1rem; background: #0b3d63;">'
           '<a href="index.html" style="color: #fff;">&larr; back to the report</a></nav>')
    body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
    body = body.replace("</head>", _PAGE_STYLE + "\n</head>", 1)
    html_path.write_text(_strip_cdn_scripts(body), encoding="utf-8")


def notebook_title(nb_path: Path) -> str:
    """The first ``# `` heading of a notebook (its file name if it has none)."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return nb_path.stem


def headline_images(nb_path: Path, img_dir: Path, stem: str) -> list[str]:
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


#: The month's KPIs on the index, in this order (labels and kinds from display.METRICS).
INDEX_KPIS = ("customers_active", "customers_new", "revenue", "orders", "retention_rate_prev_month",
              "repeat_purchase_rate", "average_order_value")


#: The analyses' figures listed on the index, in this order, when a notebook measured them.
INDEX_FIGURES = ("retention_period_1", "retention_period_12", "yearly_retention", "churn_expected_value_lost",
                 "churn_roc_auc_chosen", "contractual_all_survival_month_12", "mean_clv", "total_clv",
                 "vip_value_share", "cac_blended", "retention_cost_year", "cost_ratio_year", "payback_months",
                 "grr_12m_trailing", "nrr_12m_trailing")


def _analysis_rows(metrics: Mapping[str, Any], currency: str | None) -> list[dict[str, str]]:
    """Measured headline figures of the analyses (assumed figures are never headline figures)."""
    found: dict[str, tuple[Any, str]] = {}
    for figures in metrics.get("analyses", {}).values():
        for key in INDEX_FIGURES:
            if key not in found and isinstance(figures.get(key), (int, float)):
                found[key] = (figures[key], figures.get(f"{key}_basis", "measured"))
    rows = []
    for key in INDEX_FIGURES:
        if key in found and found[key][1] == "measured":
            m = METRICS[key]
            rows.append({"label": m.label, "value": fmt_value(found[key][0], m.kind, currency=currency),
                         "help": m.help})
    return rows


def write_index(path: Path, metrics: Mapping[str, Any], pages: list[dict[str, Any]], data_name: str,
                downloads: list[tuple[str, str | None]] | None = None, currency: str | None = None) -> None:
    """Write ``index.html`` from the assembled metrics and the rendered pages."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("relmkt_helpers", "templates"), autoescape=select_autoescape())
    kpis = []
    for key in INDEX_KPIS:
        m = METRICS[key]
        change = metrics["change_vs_previous_month"].get(key)
        noise = metrics.get("significance", {}).get(key)
        text = fmt_change(change, m.kind)
        if change is None and metrics.get("previous_month"):
            text = "not comparable (none the month before)"
        kpis.append({"label": m.label, "value": fmt_value(metrics.get(key), m.kind, currency=currency),
                     "change": text, "help": m.help,
                     "noise": "" if noise is None else ("beyond noise" if noise["significant"] else "within noise"),
                     "direction": "flat" if not change or (noise and not noise["significant"])
                     else ("up" if change > 0 else "down")})
    html = env.get_template("index.html").render(metrics=metrics, kpis=kpis, pages=pages, data_name=data_name,
                                                 downloads=downloads or [], verdict=verdict(metrics, currency),
                                                 headlines=_analysis_rows(metrics, currency),
                                                 currency=currency or "")
    path.write_text(html, encoding="utf-8")
