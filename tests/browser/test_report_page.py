"""The claims report as a reader opens it: every section there, every picture loads, offline.

Collected only once ``src/dlpipeline/pipelines/report`` exists (see ``conftest.py``). The
report is opened from disk (``file://``), as a reader of ``data/08_reporting/`` would.
"""

from pathlib import Path

import pytest
from tests.browser.browsing import Tab
from tests.helpers import SMOKE, copy_project, kedro_cli

REPORT = Path("data/08_reporting/index.html")
VERDICTS = ("supported", "not supported", "mixed")
MIN_CLAIMS = 15


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kedro run --pipelines report --env smoke`` in a project copy; the report's path."""
    project = copy_project(tmp_path_factory.mktemp("report") / "project")
    result = kedro_cli("run", "--pipelines", "report", "--env", SMOKE, cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project / REPORT


def test_every_claim_has_its_section_and_every_picture_loads(report: Path, tab: Tab):
    page = tab.page
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    sections = page.locator("section")
    assert sections.count() >= MIN_CLAIMS
    for section in sections.all():
        text = section.inner_text().lower()
        assert any(verdict in text for verdict in VERDICTS) or "not been run" in text, text[:300]
    images = page.locator("img")
    broken = [
        image.get_attribute("src")
        for image in images.all()
        if not image.evaluate("img => img.complete && img.naturalWidth > 0")
    ]
    assert broken == []
    page.screenshot(path=tab.screenshots / "report.png", full_page=True)
    assert tab.console_errors == []
    assert {url.split(":", 1)[0] for url in tab.requested} <= {"file", "data"}
