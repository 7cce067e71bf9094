"""What the tests read from a project copy's MLflow store (``mlflow.db``): its experiment and runs."""

import sqlite3
from pathlib import Path
from typing import TypedDict

import mlflow
import numpy as np
from mlflow.entities import Experiment, LoggedModel, Run
from mlflow.tracking import MlflowClient

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.served import WEIGHTS_HASH_TAG, ServedModel, weights_hash

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


MACHINE_METRICS = frozenset({"train_seconds", "cpu_seconds", "seconds_per_image", "seconds_intercept"})
"""Child-run metrics that measure the machine, not the training (the cost study times epochs)."""


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


def logged_models(client: MlflowClient, children: list[Run]) -> dict[str, LoggedModel]:
    """The MLflow model each of ``children`` logged, by run name; a run that logged none is left out."""
    found = {}
    for run in children:
        models = client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
        )
        assert len(models) <= 1, f"{run.info.run_name} logged {len(models)} models"
        if models:
            found[run.info.run_name] = models[0]
    return found


def assert_holds_the_catalogs_weights(
    logged: LoggedModel, saved: TrainedModule, tracking_uri: str, kind: str
) -> None:
    """``logged`` holds ``saved``'s weights, is of ``kind``, answers its input example as ``saved`` does."""
    assert logged.tags[WEIGHTS_HASH_TAG] == weights_hash(saved.module)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        loaded = mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
    finally:
        mlflow.set_tracking_uri(previous)
    network = loaded.unwrap_python_model()
    assert (network.kind, weights_hash(network.trained.module)) == (kind, weights_hash(saved.module))
    example = loaded.input_example
    in_process = ServedModel(saved, example, network.kind, network.method).predict(example)
    np.testing.assert_allclose(loaded.predict(example), in_process, rtol=1e-6, atol=1e-7)
