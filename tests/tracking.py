"""What the tests read from a project copy's MLflow store (``mlflow.db``): its experiment and runs."""

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import mlflow
import numpy as np
from mlflow.entities import Experiment, LoggedModel, Run
from mlflow.tracking import MlflowClient
from mlflow.tracking._tracking_service import utils as tracking_utils

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.served import WEIGHTS_HASH_TAG, ServedModel, weights_hash

EXPERIMENT = "dlpipeline"
"""The experiment every ``kedro run`` of the project records its runs in."""

PARENT_TAG = "mlflow.parentRunId"


class ExperimentRuns(TypedDict):
    """The experiment's runs: one parent per ``kedro run``, one child per trained configuration."""

    parents: list[Run]
    children: list[Run]


TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"


def tracking_state() -> tuple[str | None, str | None]:
    """The tracking URI this process set (None: none) and the one its environment exports."""
    return tracking_utils._tracking_uri, os.environ.get(TRACKING_URI_VARIABLE)


@contextlib.contextmanager
def tracking_at(uri: str) -> Iterator[None]:
    """MLflow's tracking URI set to ``uri`` for the block (the registry follows it), then exactly as before.

    Not ``previous = mlflow.get_tracking_uri()`` then ``set_tracking_uri(previous)``: with no
    URI set, ``get_tracking_uri`` answers the working directory's ``mlflow.db`` (the project
    root's, for a test), and ``set_tracking_uri`` exports what it sets to the environment, so
    every later test and every process it starts would write into the project's own store.
    The registry URI is never set: ``mlflow.set_registry_uri`` exports it the same way.
    """
    uri_before, variable_before = tracking_state()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(uri_before)  # None: no URI set, and the variable removed
        if variable_before is None:
            os.environ.pop(TRACKING_URI_VARIABLE, None)
        else:
            os.environ[TRACKING_URI_VARIABLE] = variable_before


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
    with tracking_at(tracking_uri):
        loaded = mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
    network = loaded.unwrap_python_model()
    assert (network.kind, weights_hash(network.trained.module)) == (kind, weights_hash(saved.module))
    example = loaded.input_example
    in_process = ServedModel(saved, example, network.kind, network.method).predict(example)
    np.testing.assert_allclose(loaded.predict(example), in_process, rtol=1e-6, atol=1e-7)
