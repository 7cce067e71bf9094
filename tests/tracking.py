"""What the tests read from a project copy's MLflow store (``mlflow.db``): its experiment and runs."""

import sqlite3
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


MACHINE_METRICS = frozenset({"train_seconds", "cpu_seconds"})
"""Child-run metrics that measure the machine, not the training."""


def configuration_runs(client: MlflowClient) -> list[Run]:
    """The child runs of a pipeline's configurations: those a study logs name their ``study``."""
    return [run for run in experiment_runs(client)["children"] if "study" not in run.data.params]


def runs(project: Path) -> list[tuple[str, str, str | None]]:
    """Every MLflow run of the project's store as ``(run id, status, parent run id)``, oldest first."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        return connection.execute(
            "SELECT runs.run_uuid, runs.status, tags.value FROM runs LEFT JOIN tags "
            "ON tags.run_uuid = runs.run_uuid AND tags.key = 'mlflow.parentRunId' ORDER BY runs.start_time"
        ).fetchall()


def child_metrics(project: Path) -> dict[str, dict[str, float]]:
    """Each child run's latest metrics by run name, without the machine's timings."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        rows = connection.execute(
            "SELECT runs.name, latest_metrics.key, latest_metrics.value FROM latest_metrics "
            "JOIN runs ON runs.run_uuid = latest_metrics.run_uuid JOIN tags ON tags.run_uuid = runs.run_uuid "
            "WHERE tags.key = 'mlflow.parentRunId'"
        ).fetchall()
    found: dict[str, dict[str, float]] = {}
    for name, key, value in rows:
        if key not in MACHINE_METRICS:
            found.setdefault(name, {})[key] = value
    return found
