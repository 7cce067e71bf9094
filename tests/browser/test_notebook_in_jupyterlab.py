"""The notes' demo as a learner meets it: the neuron slider in JupyterLab, in a real browser.

JupyterLab is started by the test (token-free, on 127.0.0.1) in a project copy with
``KEDRO_ENV=smoke``, which the notebook's ``%load_ext kedro.ipython`` reads. The test opens
``notebooks/mlp_slider.ipynb``, runs all cells from the menu, moves the slider, and waits for
the decision-boundary picture to change.
"""

import os
import sys
from collections.abc import Iterator

import pytest
from tests.browser.browsing import HOST, Server, Tab, free_port, serve, user_shell_env
from tests.helpers import SMOKE, copy_project

NOTEBOOK = "notebooks/mlp_slider.ipynb"
PICTURE = ".jp-OutputArea-output img"
CELL_TIMEOUT_MS = 240_000  # the kernel starts Kedro, then trains every seed, on a loaded 2-core machine


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("jupyterlab")
    project = copy_project(folder / "project")
    env = {
        **user_shell_env(project),
        "KEDRO_ENV": SMOKE,
        "KEDRO_DISABLE_TELEMETRY": "1",
        # JupyterLab's state for this test only: no user configuration, settings or workspace apply.
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }
    command = [
        *[sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--ServerApp.ip={HOST}"],
        *["--IdentityProvider.token=", f"--ServerApp.root_dir={project}"],
        *(["--allow-root"] if os.geteuid() == 0 else []),  # CI runs as root
        *["--port", str(free_port())],
    ]
    with serve(command, project, env, "/api/status", folder / "jupyterlab.log") as server:
        yield server


def picture_source(tab: Tab) -> str:
    """The ``src`` of the decision-boundary picture the slider's output shows now."""
    return tab.page.locator(PICTURE).last.get_attribute("src") or ""


def dismiss_news_question(tab: Tab) -> None:
    """Answer JupyterLab's first-start question about its news feed (No), which covers the page."""
    no = tab.page.get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click()


def test_the_neuron_slider_redraws_the_decision_boundary(jupyterlab: Server, tab: Tab):
    page = tab.page
    page.goto(f"{jupyterlab.url}/lab/tree/{NOTEBOOK}")
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    # The status bar names the kernel once it is connected: cells run before that are lost.
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=CELL_TIMEOUT_MS)

    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    slider = page.locator(".widget-slider").first
    slider.wait_for(timeout=CELL_TIMEOUT_MS)
    page.locator(PICTURE).last.wait_for(timeout=CELL_TIMEOUT_MS)
    before = picture_source(tab)
    readout = slider.locator(".widget-readout")
    assert readout.inner_text().strip() == "1"
    dismiss_news_question(tab)
    slider.scroll_into_view_if_needed()
    tab.screenshot("notebook_slider_1_neuron")

    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Each step retrains (2, then 3 neurons): the output is cleared, the training logs its line,
    # then the picture comes. Wait for the last step's line, then for its picture.
    page.locator(".jp-OutputArea-output", has_text="sklearn 3 neurons").first.wait_for(
        timeout=CELL_TIMEOUT_MS
    )
    page.wait_for_function(
        "([selector, before]) => { const images = document.querySelectorAll(selector);"
        " const last = images[images.length - 1]; return last && last.src !== before && last.complete; }",
        arg=[PICTURE, before],
        timeout=CELL_TIMEOUT_MS,
    )

    assert readout.inner_text().strip() == "3"
    assert picture_source(tab) != before
    assert page.locator(PICTURE).last.evaluate("img => img.naturalWidth > 0")
    # Kedro and MLflow log to stderr, which JupyterLab shows like errors: look for tracebacks.
    stderr = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert not [text for text in stderr.all_inner_texts() if "Traceback" in text]
    page.locator(PICTURE).last.scroll_into_view_if_needed()
    tab.screenshot("notebook_slider_3_neurons")
    assert tab.console_errors == []
    assert tab.hosts_contacted() == {HOST}
