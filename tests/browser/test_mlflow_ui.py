"""The MLflow UI as a user meets it after ``kedro run --pipelines mlp``, in a real browser.

The server is the README's command, ``kedro mlflow ui``, started from a user's shell
environment (no CI markers, no telemetry switch): the project itself must turn MLflow's
telemetry off.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from playwright.sync_api import Page
from tests.browser.browsing import HOST, Server, Tab, image_loaded, kedro_command, serve, user_shell_env
from tests.tracking import project_experiment

from dlpipeline import mlflow_ui

# The UI asks who is signed in; only MLflow's auth app (`--app-name basic-auth`) answers, a
# plain `mlflow ui` says 404, which the browser logs as a console error. Nothing is broken.
SIGNED_IN_USER_PROBE = "/ajax-api/2.0/mlflow/users/current"
TORCH_CHILDREN = "params.flavour = 'torch'"


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    return smoke_run("mlp")


@pytest.fixture(scope="module")
def ui(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("mlflow_ui") / "mlflow_ui.log"
    with serve(kedro_command("mlflow", "ui"), project, user_shell_env(project), "/health", log) as server:
        yield server


@pytest.fixture(scope="module")
def experiment_id(mlflow_client: MlflowClient) -> str:
    return project_experiment(mlflow_client).experiment_id


@pytest.fixture(scope="module")
def parent(mlflow_client: MlflowClient, experiment_id: str) -> Run:
    (run,) = mlflow_client.search_runs([experiment_id], "tags.`mlflow.parentRunId` IS NULL")
    return run


@pytest.fixture(scope="module")
def torch_children(mlflow_client: MlflowClient, experiment_id: str) -> list[Run]:
    children = mlflow_client.search_runs([experiment_id], TORCH_CHILDREN)
    return sorted(children, key=lambda run: int(run.data.params["hidden_neurons"]))


def assert_quiet_and_local(tab: Tab) -> None:
    """No console errors (but the signed-in-user probe), and no request left this machine."""
    errors = [error for error in tab.console_errors if SIGNED_IN_USER_PROBE not in error]
    assert not errors, errors
    assert tab.hosts_contacted() == {HOST}


def expand_parent(page: Page, parent_name: str) -> None:
    """Unfold the parent's row of the runs table (child runs start folded under it)."""
    row = page.locator(".ag-row", has_text=parent_name).first
    row.locator("[col-id='attributes.`Run Name`'] button").click()


def test_the_experiment_is_a_model_training_one_and_the_parent_is_named_after_its_pipeline(
    mlflow_client: MlflowClient, experiment_id: str, parent: Run
):
    experiment = mlflow_client.get_experiment(experiment_id)
    assert experiment.tags[mlflow_ui.EXPERIMENT_KIND_TAG] == "custom_model_development"
    assert parent.info.run_name == "mlp"


def test_the_ui_server_runs_with_mlflow_telemetry_off(ui: Server):
    environments = ui.child_environments()
    assert environments, "`kedro mlflow ui` started no server process"
    assert all(env.get("MLFLOW_DISABLE_TELEMETRY") == "true" for env in environments)


def test_the_ui_server_starts_no_job_queue_for_jobs_the_project_never_submits(ui: Server):
    commands = ui.child_commands()
    assert any("uvicorn" in command or "gunicorn" in command for command in commands), commands
    assert not [command for command in commands if "huey" in command or "mlflow.server.jobs" in command]


def test_the_link_a_run_prints_opens_the_runs_table_with_the_children_under_their_parent(
    ui: Server, tab: Tab, experiment_id: str, parent: Run, mlflow_client: MlflowClient
):
    page = tab.page
    page.goto(mlflow_ui.runs_page_url(ui.url, experiment_id))

    page.get_by_role("heading", name="Runs").wait_for()
    page.get_by_text(parent.info.run_name, exact=True).wait_for()
    expand_parent(page, parent.info.run_name)
    of_parent = f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'"
    children = mlflow_client.search_runs([experiment_id], of_parent)
    for child in children:
        page.get_by_text(child.info.run_name, exact=True).wait_for()
    tab.screenshot("mlflow_runs")
    assert_quiet_and_local(tab)


def test_a_child_run_shows_its_params_metrics_and_decision_boundary(
    ui: Server, tab: Tab, experiment_id: str, torch_children: list[Run]
):
    child = torch_children[-1]
    page = tab.page
    page.goto(
        f"{ui.url}/#/experiments/{experiment_id}/runs/{child.info.run_id}?workflowType=machine_learning"
    )

    page.get_by_text(child.info.run_name).first.wait_for()
    for name, value in [("hidden_neurons", child.data.params["hidden_neurons"]), ("flavour", "torch")]:
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        assert row.inner_text().split() == [name, value]
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="test_accuracy", exact=True))
    # the UI writes 1.0 as 1; MLflow 3 names the run's logged model after the value
    shown_name, shown_value = row.inner_text().split()[:2]
    assert (shown_name, float(shown_value)) == ("test_accuracy", child.data.metrics["test_accuracy"])
    page.get_by_role("tab", name="Artifacts").click()
    page.get_by_text("decision_boundary.png").first.click()
    image = "img[src^='blob:']"  # the UI fetches the file and shows it from memory
    page.locator(image).first.wait_for()
    page.wait_for_function(f'() => document.querySelector("{image}")?.complete')
    assert image_loaded(page, image)
    tab.screenshot("mlflow_child_run_artifact")
    assert_quiet_and_local(tab)


def test_the_compare_view_plots_hidden_neurons_against_test_accuracy(
    ui: Server, tab: Tab, experiment_id: str, parent: Run, torch_children: list[Run]
):
    # The clicks of docs/mlp.md: the runs link filtered to the torch children, unfold the parent,
    # tick the children, Compare, Scatter Plot, X-axis hidden_neurons, Y-axis test_accuracy.
    page = tab.page
    page.goto(mlflow_ui.runs_page_url(ui.url, experiment_id, TORCH_CHILDREN))
    page.get_by_text(parent.info.run_name, exact=True).wait_for()
    expand_parent(page, parent.info.run_name)
    for child in torch_children:
        page.locator(".ag-row", has_text=child.info.run_name).locator("input.ag-checkbox-input").check()
    page.get_by_role("button", name="Compare").click()
    page.get_by_text(f"Comparing {len(torch_children)} Runs").wait_for()
    page.get_by_text("Scatter Plot", exact=True).click()
    page.locator("#x-axis-selector").click()
    page.get_by_role("option", name="hidden_neurons", exact=True).click()
    page.locator("#y-axis-selector").click()
    page.get_by_role("option", name="test_accuracy", exact=True).click()

    plot = page.locator(".js-plotly-plot").first
    page.wait_for_function(
        "() => document.querySelector('.js-plotly-plot .ytitle')?.textContent === 'test_accuracy'"
    )
    assert plot.locator(".xtitle").text_content() == "hidden_neurons"
    # Plotly keeps the plotted traces on its element: one point per child, at its own values.
    points = plot.evaluate("plot => plot.data.flatMap(trace => trace.x.map((x, i) => [x, trace.y[i]]))")
    expected = [
        [int(run.data.params["hidden_neurons"]), run.data.metrics["test_accuracy"]] for run in torch_children
    ]
    assert sorted((float(x), y) for x, y in points) == sorted((float(x), y) for x, y in expected)
    assert "hidden_neurons" in page.locator("tr", has_text="hidden_neurons").first.inner_text()
    tab.screenshot("mlflow_compare")
    assert_quiet_and_local(tab)
