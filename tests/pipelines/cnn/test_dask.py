"""The cnn sweep fanned out to a two-worker Dask cluster: the local run's metrics and child runs; a
configuration that fails on a worker is named, its MLflow run is FAILED and nothing stays RUNNING."""

import json
import sqlite3
from pathlib import Path

import pytest
import torch
from tests.helpers import run_session

from dlpipeline.executor import SCHEDULER_VARIABLE, TaskFailedError
from dlpipeline.training import TrainConfig, with_fixed_threads

MACHINE_METRICS = {"train_seconds"}
"""Child-run metrics that measure the machine, not the training."""


def median_test_accuracies(project: Path) -> dict[str, float]:
    """The median test accuracy of each configuration, from the run's ``metrics.json``."""
    return json.loads((project / "data/08_reporting/cnn/metrics.json").read_text())["test_accuracy"]


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


def on_dask(**executor: str) -> dict:
    return {"cnn": {"executor": {"kind": "dask", **executor}}}


def test_every_configuration_trains_on_the_drivers_torch_threads_unless_threads_are_set():
    assert with_fixed_threads(TrainConfig(threads=None)).threads == torch.get_num_threads()
    assert with_fixed_threads(TrainConfig(threads=3)).threads == 3


def test_the_sweep_on_two_workers_gives_the_local_metrics_and_child_runs(
    smoke_run, project_copy: Path, dask_scheduler: str, monkeypatch: pytest.MonkeyPatch
):
    local = smoke_run("cnn")
    monkeypatch.setenv(SCHEDULER_VARIABLE, dask_scheduler)  # the address comes from the environment

    run_session(project_copy, pipeline_names=["cnn"], runtime_params=on_dask())

    assert median_test_accuracies(project_copy) == pytest.approx(median_test_accuracies(local), abs=1e-6)
    local_children, dask_children = child_metrics(local), child_metrics(project_copy)
    assert dask_children.keys() == local_children.keys()
    for name, metrics in local_children.items():
        assert dask_children[name] == pytest.approx(metrics, abs=1e-6), name
    (parent, status, _), *children = runs(project_copy)
    assert status == "FINISHED"
    assert {(status, parent_id) for _, status, parent_id in children} == {("FINISHED", parent)}


def test_a_configuration_that_fails_on_a_worker_is_named_and_its_run_is_failed(
    project_copy: Path, dask_scheduler: str
):
    too_deep = {"experiments": {"configurations": {"cnn-too-deep": {"filters": [4, 8, 8, 8]}}}}
    parameters = on_dask(address=dask_scheduler)
    parameters["cnn"].update(too_deep)  # four pooled blocks shrink the 8x8 digits to nothing

    with pytest.raises(TaskFailedError) as failure:
        run_session(project_copy, pipeline_names=["cnn"], runtime_params=parameters)

    assert str(failure.value) == (
        "configuration 'cnn-too-deep' failed on a Dask worker: "
        "ValueError: 4 pooled blocks shrink 8x8 images to nothing"
    )
    assert [status for _, status, _ in runs(project_copy)] == ["FAILED"]
