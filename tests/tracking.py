"""What the tests read from a project copy's MLflow store (``mlflow.db``): its experiment and runs."""

from pathlib import Path
from typing import TypedDict

from mlflow.entities import Experiment, Run
from mlflow.tracking import MlflowClient

EXPERIMENT = "dlpipeline"
"""The experiment every ``kedro run`` of the project records its runs in."""

PARENT_TAG = "mlflow.parentRunId"


class ExperimentRuns(TypedDict):
    """The experiment's runs: one parent per ``kedro run``, one child per trained configuration."""

    parents: list[Run]
    children: list[Run]


def tracking_client(project: Path) -> MlflowClient:
    """A client of the MLflow store that runs in ``project`` write to."""
    return MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")


def project_experiment(client: MlflowClient) -> Experiment:
    """The project's experiment in the client's store."""
    return client.get_experiment_by_name(EXPERIMENT)


def experiment_runs(client: MlflowClient) -> ExperimentRuns:
    """Every run of the project's experiment, parents apart from children."""
    runs = client.search_runs([project_experiment(client).experiment_id])
    return {
        "parents": [run for run in runs if PARENT_TAG not in run.data.tags],
        "children": [run for run in runs if PARENT_TAG in run.data.tags],
    }
