"""kedro-viz as a user meets it: ``kedro viz run`` draws every pipeline's flowchart with all its nodes."""

import time
from collections.abc import Iterator

import pytest
import requests
from tests.browser.browsing import HOST, Server, Tab, kedro_command, serve, user_shell_env
from tests.helpers import PIPELINES, copy_project

# kedro-viz's page links its typeface from Google Fonts; offline the request fails (a console
# error) and the browser uses a local font. It is kedro-viz's own page, not this project's.
WEB_FONTS = "fonts.googleapis.com"
FLOWCHART_VIEWPORT = {"width": 1920, "height": 1080}  # the widest pipelines fit on a full-HD screen


@pytest.fixture(scope="module")
def viz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``kedro viz run`` on a project copy (it reads the pipelines, no data)."""
    folder = tmp_path_factory.mktemp("kedro_viz")
    project = copy_project(folder / "project")
    command = kedro_command("viz", "run", "--no-browser", "--host", HOST)
    with serve(command, project, user_shell_env(project), "/api/main", folder / "kedro_viz.log") as server:
        yield server


def task_names(viz: Server, pipeline: str) -> set[str]:
    """The nodes of ``pipeline`` as kedro-viz's API serves them to the page."""
    graph = requests.get(f"{viz.url}/api/pipelines/{pipeline}", timeout=30).json()
    return {node["name"] for node in graph["nodes"] if node["type"] == "task"}


def dismiss_welcome(tab: Tab) -> None:
    """Close kedro-viz's first-visit banner and feature tour, which cover part of the flowchart."""
    page = tab.page
    for button in (page.get_by_role("button", name="Dismiss"), page.locator(".feature-hints__close")):
        if button.count():
            button.first.click()


def drawn_tasks(tab: Tab) -> set[str]:
    """The task nodes the flowchart shows now (names repeat across namespaces, hence a set)."""
    return {
        node.get_attribute("data-node-fullname") or ""
        for node in tab.page.locator(".pipeline-node--task").all()
    }


def settled_drawing(tab: Tab, expected: set[str], timeout_s: float = 90.0) -> set[str]:
    """The drawn task nodes once they equal ``expected`` twice in a row, or the last drawing at the timeout.

    The page may draw the default pipeline first, then the one the address asks for, and it
    lays large graphs out in steps, so one matching look is not enough.
    """
    deadline = time.monotonic() + timeout_s
    previous: set[str] = set()
    while True:
        drawn = drawn_tasks(tab)
        if drawn == expected == previous or time.monotonic() > deadline:
            return drawn
        previous = drawn
        tab.page.wait_for_timeout(1000)


@pytest.mark.parametrize("pipeline", PIPELINES)
def test_each_pipeline_flowchart_shows_all_its_nodes(viz: Server, tab: Tab, pipeline: str):
    expected = task_names(viz, pipeline)
    page = tab.page
    page.set_viewport_size(FLOWCHART_VIEWPORT)
    page.goto(f"{viz.url}/?pid={pipeline}&expandAllPipelines=true")

    page.locator(".pipeline-node--task").first.wait_for()
    drawn = settled_drawing(tab, expected)
    assert expected, f"kedro-viz serves no nodes for {pipeline}"
    assert drawn == expected
    dismiss_welcome(tab)
    tab.screenshot(f"kedro_viz_{pipeline}")
    assert [error for error in tab.console_errors if WEB_FONTS not in error] == []
    assert tab.hosts_contacted() <= {HOST, WEB_FONTS}
