"""Report pages read like a report: no Python reprs, long decimals or cut-off text in what a reader sees.

The fast tests check :func:`pagecheck.page_problems` on small strings. The slow test builds the
full sample-shop report and the CDNOW report once each and checks every rendered page.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pagecheck import page_problems, visible_text  # noqa: E402


@pytest.mark.parametrize("page", [
    "<table><tr><th>Figure</th><th>Value</th></tr><tr><td>Revenue</td><td>€167,731</td></tr></table>",
    "<p>Retention vs previous month: 49.4% (+1.2 pts); first order 11 Oct 2025.</p>",
    "<td>0.1234</td><td>1,234.5</td><td>customer c000123</td>",
    "<p>Rows left out (exact duplicates, refunds netted, …) are counted.</p>",
    "<style>td::after {content: '...'} .x{'a': 1}</style><script>var a = {'k': 0.123456789};</script><p>ok</p>",
    "<p>None of the customers bought twice.</p>",
])
def test_clean_pages_have_no_problems(page):
    assert page_problems(page) == []


@pytest.mark.parametrize("page,kind", [
    ("<pre>{'customers_total': 20000}</pre>", "Python repr"),
    ("<pre>np.float64(0.49)</pre>", "np.float64("),
    ("<td>Timestamp('2025-10-11 00:00:00')</td>", "Timestamp("),
    ("<pre>a    1\nName: x, dtype: int64</pre>", "dtype:"),
    ("<pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre>", "<Figure size"),
    ("<td>2025-10-11 00:00:00</td>", "00:00:00"),
    ("<pre>array([1, 2])</pre>", "array("),
    ("<p>a DataFrame of 3 rows</p>", "DataFrame"),
    ("<td>0.494147</td>", "more than four decimals"),
    ("<td>-12,345.123456</td>", "more than four decimals"),
    ("<td>Direct Marketing Asso…</td>", "truncated"),
    ("<td>As widely quoted; usually attributed to Bain...</td>", "truncated"),
    ("<td>nan</td>", "missing value"),
])
def test_problems_are_found_with_their_snippet(page, kind):
    problems = page_problems(page)
    assert problems and any(kind in p for p in problems), problems


def test_visible_text_decodes_entities_and_splits_cells():
    assert visible_text("<tr><td>A &amp; B</td><td>&lt;x&gt;</td></tr>") == "A & B\n<x>"


# ----------------------------------------------------------------------------
# every page of a full report
# ----------------------------------------------------------------------------

def _build(tmp_path_factory, name: str, **kw):
    from relmkt_helpers.report import build_report

    out = tmp_path_factory.mktemp(name)
    return build_report(out_dir=out, progress=False, **kw)


@pytest.fixture(scope="module")
def cdnow_report(tmp_path_factory):
    from relmkt_helpers import config

    return _build(tmp_path_factory, "cdnow", data_path=config.CDNOW_TRANSACTIONS)


def _report_dir(result) -> Path:
    for attr in ("path", "out_dir", "folder", "directory"):
        p = getattr(result, attr, None)
        if p is not None:
            return Path(p)
    return Path(result)


def _check_pages(result) -> None:
    folder = _report_dir(result)
    pages = sorted(folder.glob("*.html"))
    assert pages, f"no pages in {folder}"
    found = {p.name: page_problems(p.read_text(encoding="utf-8")) for p in pages}
    bad = {k: v for k, v in found.items() if v}
    report = "\n".join(f"{name}:\n  " + "\n  ".join(v[:15]) + (f"\n  ... and {len(v) - 15} more" if len(v) > 15
                                                              else "") for name, v in bad.items())
    assert not bad, "pages showing Python to their reader:\n" + report


@pytest.mark.slow
def test_every_sample_shop_page_reads_as_a_report(sample_report):
    _check_pages(sample_report)


@pytest.mark.slow
def test_every_cdnow_page_reads_as_a_report(cdnow_report):
    _check_pages(cdnow_report)
