"""The champions of sequence and generative, read from their smoke runs.

Tasks do not compete, so sequence registers one task's best model: the adding problem's, each
network scored on fresh sequences its generator draws for validation (``val_mse``), at the
task's longest length. generative registers one family's: the autoencoders, each ensemble
scored on the digits' validation split (``val_reconstruction_mse``). Both are the registered
model ``dlpipeline-<pipeline>`` with alias ``champion``; a rerun with nothing changed adds no
version; an unknown metric to rank by, or a name a foreign model holds, is refused in one line
before any training.
"""

import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_cli, kedro_in_process
from tests.tracking import configuration_runs, experiment_runs, tracking_at, tracking_client
from tests.trust.runs import run_statuses

from dlpipeline.registry import CHAMPION_ALIAS, PROJECT_TAG, champion_among, lower_is_better
from dlpipeline.served import CONFIGURATION_TAG, WEIGHTS_HASH_TAG
from dlpipeline.tracking import LoggedRun


def longest_adding_runs(children: list[Run]) -> list[Run]:
    """The adding task's models at its longest length (the shuffled-steps study's are another task)."""
    adding = [run for run in children if run.data.params.get("task") == "adding"]
    longest = max(int(run.data.params["seq_len"]) for run in adding)
    return [run for run in adding if int(run.data.params["seq_len"]) == longest]


def autoencoder_runs(children: list[Run]) -> list[Run]:
    """The linear and ReLU autoencoders' runs (PCA's runs train no network)."""
    return [run for run in children if run.data.params.get("model") in {"linear_ae", "autoencoder"}]


@dataclass(frozen=True)
class Registered:
    """What one pipeline registers: its name, its metric, which runs compete, which namespace reruns it."""

    name: str
    metric: str
    test_metric: str
    candidates: Callable[[list[Run]], list[Run]]
    namespace: str


REGISTERED = {
    "sequence": Registered(
        "dlpipeline-sequence", "val_mse", "test_mse", longest_adding_runs, "sequence.adding"
    ),
    "generative": Registered(
        "dlpipeline-generative",
        "val_reconstruction_mse",
        "reconstruction_mse",
        autoencoder_runs,
        "generative.autoencoders",
    ),
}


@pytest.fixture(scope="module", params=sorted(REGISTERED))
def pipeline(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def project(smoke_run, pipeline) -> Path:
    return smoke_run(pipeline)


def test_every_candidate_logs_a_validation_metric_apart_from_its_test_metric(registry_client, pipeline):
    registered = REGISTERED[pipeline]
    candidates = registered.candidates(configuration_runs(registry_client))
    assert len(candidates) >= 2
    for run in candidates:
        metrics = run.data.metrics
        assert metrics[registered.metric] >= 0
        assert metrics[registered.metric] != metrics[registered.test_metric]  # other data than the test's


def test_the_champion_is_the_candidate_with_the_least_validation_error_and_serves_its_model(
    registry_client, pipeline
):
    registered = REGISTERED[pipeline]
    champion = registry_client.get_model_version_by_alias(registered.name, CHAMPION_ALIAS)
    assert registry_client.get_registered_model(registered.name).tags[PROJECT_TAG] == "dlpipeline"
    runs = registered.candidates(configuration_runs(registry_client))
    candidates = {run.info.run_name: run for run in runs}
    chosen = candidates[champion.tags[CONFIGURATION_TAG]]
    assert chosen.data.metrics[registered.metric] == min(
        run.data.metrics[registered.metric] for run in candidates.values()
    )
    (model,) = registry_client.search_logged_models(
        experiment_ids=[chosen.info.experiment_id], filter_string=f"source_run_id = '{chosen.info.run_id}'"
    )
    assert champion.source == f"models:/{model.model_id}"
    assert champion.tags[WEIGHTS_HASH_TAG] == model.tags[WEIGHTS_HASH_TAG]
    with tracking_at(registry_client.tracking_uri):
        served = mlflow.pyfunc.load_model(f"models:/{registered.name}@champion")
        in_run = mlflow.pyfunc.load_model(f"models:/{model.model_id}")
    example = served.input_example
    np.testing.assert_array_equal(served.predict(example), in_run.predict(example))


@pytest.fixture
def rerun_copy(project: Path, tmp_path: Path) -> Path:
    """A copy of the smoke run's project; its store writes new artifacts into the copy, not the shared run."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("mlflow.db*"))
    # SQLite's own copy: a store in WAL mode may hold committed writes in mlflow.db-wal too.
    with sqlite3.connect(project / "mlflow.db") as source, sqlite3.connect(copy / "mlflow.db") as target:
        source.backup(target)
    with sqlite3.connect(copy / "mlflow.db") as connection:
        connection.execute(
            "UPDATE experiments SET artifact_location = replace(artifact_location, ?, ?)",
            (str(project), str(copy)),
        )
    return copy


def test_rerunning_with_nothing_changed_adds_no_version(rerun_copy: Path, pipeline: str):
    registered = REGISTERED[pipeline]
    client = tracking_client(rerun_copy)
    before = client.get_model_version_by_alias(registered.name, CHAMPION_ALIAS)
    result = kedro_cli(
        "run", "--env", "smoke", "--pipelines", pipeline, "--namespaces", registered.namespace, cwd=rerun_copy
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(experiment_runs(client)["parents"]) == 2
    (version,) = client.search_model_versions(f"name = '{registered.name}'")
    assert client.get_model_version_by_alias(registered.name, CHAMPION_ALIAS).version == before.version
    assert version.version == before.version


@pytest.mark.parametrize("pipeline_name", sorted(REGISTERED))
def test_an_unknown_metric_to_rank_by_is_refused_in_one_line_before_any_training(
    project_copy: Path, pipeline_name: str
):
    override = f"{pipeline_name}.registry.rank_by=test_mse"
    result = kedro_in_process(
        "run", "--env", "smoke", "--pipelines", pipeline_name, "--params", override, cwd=project_copy
    )
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if f"{pipeline_name}.registry" in line]
    assert "rank_by" in line and "test_mse" in line and REGISTERED[pipeline_name].metric in line
    assert "Traceback" not in result.stderr + result.stdout
    assert not (project_copy / f"data/06_models/{pipeline_name}").exists()
    assert "RUNNING" not in run_statuses(project_copy)


@pytest.mark.parametrize("pipeline_name", sorted(REGISTERED))
def test_a_registry_name_held_by_a_foreign_model_is_refused_in_one_line_before_any_training(
    project_copy: Path, pipeline_name: str
):
    name = REGISTERED[pipeline_name].name
    uri = f"sqlite:///{project_copy / 'mlflow.db'}"
    MlflowClient(uri, registry_uri=uri).create_registered_model(name)
    result = kedro_in_process("run", "--env", "smoke", "--pipelines", pipeline_name, cwd=project_copy)
    assert result.returncode == 78
    (line,) = [line for line in result.stderr.splitlines() if name in line]
    assert "was not registered by dlpipeline" in line and "Nothing was run" in line
    assert "Traceback" not in result.stderr
    assert not (project_copy / f"data/06_models/{pipeline_name}").exists()
    assert "RUNNING" not in run_statuses(project_copy)


def test_an_error_metric_crowns_the_least_and_a_score_the_most():
    runs = [
        LoggedRun("a", "r1", {"val_mse": 0.3, "val_accuracy": 0.9}, "m1"),
        LoggedRun("b", "r2", {"val_mse": 0.1, "val_accuracy": 0.7}, "m2"),
        LoggedRun("c", "r3", {"val_mse": 0.01, "val_accuracy": 0.99}, None),  # logged no model
    ]

    class Registry:
        def __init__(self, rank_by: str) -> None:
            self.name, self.rank_by = "dlpipeline-x", rank_by

    assert lower_is_better("val_mse") and lower_is_better("val_reconstruction_mse")
    assert not lower_is_better("val_accuracy")
    assert champion_among(runs, {"a", "b", "c"}, Registry("val_mse")).configuration == "b"
    assert champion_among(runs, {"a", "b", "c"}, Registry("val_accuracy")).configuration == "a"
    assert champion_among(runs, {"a"}, Registry("val_mse")).configuration == "a"
