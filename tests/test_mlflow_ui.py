"""What the MLflow UI is given: a model-training experiment, parents named after their pipelines, the link."""

from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from mlflow.exceptions import MlflowException
from tests.helpers import PIPELINES, SMOKE, kedro_cli
from tests.tracking import project_experiment, tracking_client

from dlpipeline import mlflow_ui

REGISTERED = ["__default__", "sequence", "mlp", "cnn"]


def test_a_run_of_every_pipeline_is_named_after_them_in_a_stable_order():
    assert mlflow_ui.run_name(["__default__"], REGISTERED) == "cnn+mlp+sequence"
    assert mlflow_ui.run_name([], REGISTERED) == "cnn+mlp+sequence"


def test_a_run_of_chosen_pipelines_keeps_their_names_and_order():
    assert mlflow_ui.run_name(["mlp"], REGISTERED) == "mlp"
    assert mlflow_ui.run_name(["sequence", "mlp"], REGISTERED) == "sequence+mlp"


def test_the_runs_link_opens_the_model_training_face_of_the_experiment():
    url = mlflow_ui.runs_page_url("http://127.0.0.1:5000/", "7", "params.flavour = 'torch'")
    route = urlsplit(urlsplit(url).fragment)

    assert url.startswith("http://127.0.0.1:5000/#/experiments/7/runs?")
    assert route.path == "/experiments/7/runs"
    assert parse_qs(route.query) == {
        "workflowType": ["machine_learning"],
        "searchFilter": ["params.flavour = 'torch'"],
    }


def test_a_plain_kedro_run_is_recorded_under_the_pipelines_names_in_a_model_training_experiment(
    project_copy: Path,
):
    # `--tags data` runs every pipeline's data nodes only: the default pipeline, in seconds.
    result = kedro_cli("run", "--env", SMOKE, "--tags", "data", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]

    client = tracking_client(project_copy)
    experiment = project_experiment(client)
    (parent,) = client.search_runs([experiment.experiment_id])
    assert experiment.tags[mlflow_ui.EXPERIMENT_KIND_TAG] == "custom_model_development"
    assert parent.info.run_name == "+".join(PIPELINES)
    link = mlflow_ui.runs_page_url("http://127.0.0.1:5000", experiment.experiment_id)
    log_without_line_wraps = "".join((result.stdout + result.stderr).split())
    assert link in log_without_line_wraps


class _RacingClient:
    """A tracking client on which a teammate's run tags the experiment just before ours does."""

    def __init__(self, teammate_tags: bool) -> None:
        self.tags: dict[str, str] = {}
        self.teammate_tags = teammate_tags

    def get_experiment(self, experiment_id: str) -> SimpleNamespace:
        return SimpleNamespace(experiment_id=experiment_id, tags=dict(self.tags))

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        if self.teammate_tags:
            self.tags[key] = value
        raise MlflowException('duplicate key value violates unique constraint "experiment_tag_pk"')


def test_two_runs_tagging_the_experiment_at_once_both_go_on():
    client = _RacingClient(teammate_tags=True)

    mlflow_ui.mark_model_training(client, "1")

    assert client.tags == {mlflow_ui.EXPERIMENT_KIND_TAG: mlflow_ui.MODEL_TRAINING}


def test_a_tag_that_cannot_be_written_is_still_an_error():
    with pytest.raises(MlflowException, match="experiment_tag_pk"):
        mlflow_ui.mark_model_training(_RacingClient(teammate_tags=False), "1")
