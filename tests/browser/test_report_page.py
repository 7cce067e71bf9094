"""The claims report as a reader opens it: every section there, every picture loads, offline.

The report is written after the mlp experiment (so its claims carry verdicts and figures, the
others say what to run) and opened from disk (``file://``), as a reader of
``data/08_reporting/`` would.
"""

from pathlib import Path

import pytest
from tests.browser.browsing import Tab

REPORT = Path("data/08_reporting/index.html")
VERDICTS = {"supported", "contradicted", "inconclusive", "not measured", "not run yet"}
MIN_CLAIMS = 15


@pytest.fixture(scope="module")
def report(mlp_and_report_run: Path) -> Path:
    """The report's path after ``kedro run --pipelines mlp,report --env smoke``."""
    return mlp_and_report_run / REPORT


def test_every_claim_has_its_section_and_every_picture_loads(report: Path, tab: Tab):
    page = tab.page
    page.goto(report.as_uri())
    page.wait_for_load_state("load")

    claims = page.locator("section[data-verdict]")
    assert claims.count() >= MIN_CLAIMS
    for claim in claims.all():
        assert claim.is_visible()
        assert claim.get_attribute("data-verdict") in VERDICTS
        assert claim.locator("blockquote").inner_text().strip()  # the quoted claim
    judged = [claim for claim in claims.all() if claim.get_attribute("data-verdict") != "not run yet"]
    assert judged, "the mlp claims carry verdicts after the mlp run"
    images = page.locator("img")
    assert images.count() >= len(judged) / 2
    broken = [
        image.get_attribute("src")
        for image in images.all()
        if not image.evaluate("img => img.complete && img.naturalWidth > 0")
    ]
    assert broken == []
    page.screenshot(path=tab.screenshots / "report.png", full_page=True)
    assert tab.console_errors == []
    assert {url.split(":", 1)[0] for url in tab.requested} <= {"file", "data"}
