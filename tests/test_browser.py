"""The report in a real browser: headless Chromium (Debian's package, installed by `make test`).

Opens index.html and every analysis page of a full report on the bundled sample shop and checks
that every image loads, every link resolves to a file of the report, and the console shows no
errors. Screenshots are kept in tests/artifacts/ (git-ignored) for a person to look at.

Without chromium the test is skipped, except under CI (CI=true), where it fails: there the
project's own setup must have installed it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from relmkt_helpers import config

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed on this CI machine; `make test` should have installed it "
                    "(Debian package 'chromium')", pytrace=False)
    pytest.skip("Debian's chromium is not installed (make test installs it when run as root)",
                allow_module_level=True)
sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright


@pytest.fixture(scope="module")
def report(sample_report):
    """The session's sample-shop report (tests/conftest.py), shared with the page check."""
    return sample_report


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


#: Screen sizes every page is opened at (and photographed): a desktop and a phone.
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def visit(browser, page_path: Path, shot: Path, screen: str = "desktop"):
    page = browser.new_page(viewport=SCREENS[screen], device_scale_factor=2 if screen == "phone" else 1)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(page_path.as_uri(), wait_until="load")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: (e.getAttribute('src') || '').slice(0, 60), ok: e.complete && "
               "e.naturalWidth > 0}))")
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    page.close()
    return problems, images, links, overflow


def test_every_page_renders_without_errors(report, browser):
    pages = [report.index] + sorted(p for p in report.path.glob("*.html") if p.name != "index.html")
    assert len(pages) == 1 + len(list(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")))
    for page_path in pages:
        problems, images, links, _ = visit(browser, page_path, ARTIFACTS / f"report-{page_path.stem}-desktop.png")
        assert problems == [], f"{page_path.name}: {problems}"
        assert images, f"{page_path.name} shows no chart"
        broken = [i["src"] for i in images if not i["ok"]]
        assert broken == [], f"{page_path.name}: images that did not load: {broken}"
        for href in links:
            url = urlparse(href)
            if href.startswith("#"):
                continue
            assert url.scheme in ("", "file"), f"{page_path.name} links outside the report: {href}"
            target = (page_path.parent / unquote(url.path)).resolve()
            assert target.exists(), f"{page_path.name}: link {href} points to a missing file"


def test_index_links_every_analysis_page(report):
    index = report.index.read_text()
    for page in report.path.glob("[0-9][0-9]_*.html"):
        assert f'href="{page.name}"' in index


def test_every_page_at_phone_width(report, browser):
    """Screenshots at phone width for a person to look at; the index must fit the screen (no sideways scroll)."""
    pages = [report.index] + sorted(p for p in report.path.glob("*.html") if p.name != "index.html")
    for page_path in pages:
        problems, _, _, overflow = visit(browser, page_path, ARTIFACTS / f"report-{page_path.stem}-phone.png", "phone")
        assert problems == [], f"{page_path.name}: {problems}"
        if page_path.name == "index.html":
            assert overflow <= 1, f"index.html is {overflow}px wider than a phone screen"
