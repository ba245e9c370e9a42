"""The backtest's HTML report in a real headless browser (Debian's chromium): it renders, draws, sorts, no errors.

``make browser`` installs chromium. Without it the test is skipped, except in CI (``CI`` set), where a
missing browser is a failure: the report must have been seen working.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest

from demo.backtest import write_history
from iamwarden.app.cli import main
from tests.conftest import EXAMPLE_SETTINGS

pytestmark = pytest.mark.integration

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH in CI: run `make browser` (apt-get install -y chromium)")
        pytest.skip(
            "no chromium on PATH (install it with `make browser`); the HTML report was not checked in a browser"
        )
    return found


class Page(NamedTuple):
    dom: str
    console: list[str]


def load(url: str, profile: Path) -> Page:
    """The DOM after the page's scripts ran, and every console message the page produced."""
    answer = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    console = [line for line in answer.stderr.splitlines() if ":CONSOLE" in line]
    return Page(answer.stdout, console)


class Table(HTMLParser):
    """The text of each cell of one table, by row."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(dom: str, table_id: str) -> list[list[str]]:
    parser = Table(table_id)
    parser.feed(dom)
    return parser.rows


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("report")
    write_history(
        work / "history", start=date(2026, 11, 1), days=10, files_per_day=2, records_per_file=20, changes_per_file=2
    )
    html = work / "report.html"
    code = main(
        ["backtest", str(work / "history"), "--config", str(EXAMPLE_SETTINGS), "--jobs", "1", "--html", str(html)],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert code == 0
    return html


def test_report_renders_and_draws_its_timeline_without_errors(report: Path, tmp_path: Path) -> None:
    page = load(report.as_uri(), tmp_path / "profile")
    assert page.console == []
    assert 'data-ready="true"' in page.dom  # the script ran to its end
    drawn = re.search(r'<svg id="timeline"[^>]*data-drawn="(\d+)"', page.dom)
    assert drawn is not None
    bars = page.dom.count('class="bar"')
    assert int(drawn[1]) == bars > 0
    assert len(re.findall(r"<rect ", page.dom)) == bars
    assert page.dom.count("<span><i ") >= 2  # the legend, one entry per rule
    rules = table(page.dom, "per-rule")
    assert rules[0][0] == "rule"
    assert len(rules) > 2


def test_report_tables_sort_by_actor_and_resource(report: Path, tmp_path: Path) -> None:
    for column, index in (("actor", 5), ("resource", 6)):
        page = load(f"{report.as_uri()}#sort=findings:{column}", tmp_path / f"profile-{column}")
        assert page.console == []
        values = [row[index] for row in table(page.dom, "findings")[1:]]
        assert len(set(values)) > 1
        assert values == sorted(values), column
        assert f'class="sorted-asc">{column}</th>' in page.dom
    page = load(f"{report.as_uri()}#sort=by-actor:findings:desc", tmp_path / "profile-desc")
    counts = [int(row[1].replace(",", "")) for row in table(page.dom, "by-actor")[1:]]
    assert counts == sorted(counts, reverse=True)


def test_console_errors_are_seen(tmp_path: Path) -> None:
    """The check above can fail: a page with a script error shows up in the console lines."""
    broken = tmp_path / "broken.html"
    broken.write_text("<html><body><script>drawTimeline();</script></body></html>")
    page = load(broken.as_uri(), tmp_path / "profile")
    assert any("Uncaught ReferenceError: drawTimeline is not defined" in line for line in page.console)
