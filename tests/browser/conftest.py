"""One headless Chromium per session, a fresh page per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from tests.browser.browsing import Tab, chromium_executable

VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """The system Chromium, headless, for the whole session."""
    executable = chromium_executable()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser: Browser, tmp_path: Path) -> Iterator[Tab]:
    """A page in a fresh browser profile (no stored UI state), watched from its first request."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)  # pages render slowly on a loaded 2-core machine
    tab = Tab(context.new_page(), screenshots=tmp_path).watch()
    yield tab
    tab.screenshot("last")  # what the page showed when the test ended, passed or failed
    context.close()
