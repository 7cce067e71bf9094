"""Models in MLflow and the registry's champion, read from the smoke runs of mlp and cnn.

Every child run that trains a network logs it as an MLflow model holding the weights of the
catalog's ``.pt`` file; after the run, the best configuration by a validation metric is the
registered model ``dlpipeline-<pipeline>`` with alias ``champion``. The parent run carries
MLflow's system metrics. A name another model holds is refused before any training.
"""

import re
import sqlite3
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
from mlflow.tracking import MlflowClient
from tests.documentation import section
from tests.helpers import kedro_in_process
from tests.tracking import configuration_runs, experiment_runs, tracking_at
from tests.trust.runs import run_statuses

from dlpipeline.datasets import ModelDataset
from dlpipeline.registry import (
    CHAMPION_ALIAS,
    PROJECT_TAG,
    Champion,
    RegistryNameError,
    check_owned,
    choose_champion,
    register_champion,
)
from dlpipeline.served import CONFIGURATION_TAG, WEIGHTS_HASH_TAG, check_inputs, weights_hash
from dlpipeline.tracking import LoggedRun

MODEL_FILES = {
    "cnn": ["data/06_models/cnn/models.pt"],
    "mlp": ["data/06_models/mlp/torch.pt", "data/06_models/mlp/sklearn.pt"],
}
INPUT_SHAPES = {"cnn": (1, 8, 8), "mlp": (2,)}
SYSTEM_METRICS = {"system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"}


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def pipeline(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def project(smoke_run, pipeline) -> Path:
    return smoke_run(pipeline)


@pytest.fixture(scope="module")
def saved_models(project: Path, pipeline: str) -> dict:
    """The catalog's trained models (the DVC-tracked truth) by configuration name."""
    models = {}
    for relative in MODEL_FILES[pipeline]:
        models.update(ModelDataset(str(project / relative)).load())
    return models


@pytest.fixture(scope="module")
def logged(registry_client: MlflowClient) -> dict[str, mlflow.pyfunc.PyFuncModel]:
    """Each child run's logged model, loaded as MLflow loads it, by run name."""
    children = configuration_runs(registry_client)
    models = {}
    with tracking_at(registry_client.tracking_uri):
        for run in children:
            (model,) = registry_client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
            )
            models[run.info.run_name] = (model, mlflow.pyfunc.load_model(f"models:/{model.model_id}"))
    return models


def test_every_child_run_logs_one_model_with_a_signature_and_an_input_example(logged, saved_models, pipeline):
    assert set(logged) == set(saved_models)
    for name, (model, loaded) in logged.items():
        assert model.tags[CONFIGURATION_TAG] == name
        example = loaded.input_example
        assert example.dtype == np.float32 and example.shape[1:] == INPUT_SHAPES[pipeline]
        (spec,) = loaded.metadata.signature.inputs.inputs
        assert spec.shape == (-1, *INPUT_SHAPES[pipeline])
        assert loaded.predict(example).shape[0] == len(example)


def test_the_logged_model_holds_the_weights_of_the_pt_file_and_predicts_alike(logged, saved_models):
    for name, (model, loaded) in logged.items():
        saved = saved_models[name].module
        wrapped = loaded.unwrap_python_model().trained.module
        assert wrapped.state_dict().keys() == saved.state_dict().keys()
        for key, value in saved.state_dict().items():
            assert torch.equal(wrapped.state_dict()[key], value), (name, key)
        assert model.tags[WEIGHTS_HASH_TAG] == weights_hash(saved)
        example = loaded.input_example
        with torch.no_grad():
            logits = saved.eval()(torch.as_tensor(example, dtype=next(saved.parameters()).dtype))
        expected = torch.softmax(logits.float(), dim=-1).mean(dim=0).numpy()
        np.testing.assert_allclose(loaded.predict(example), expected, rtol=1e-6, atol=1e-7)


def test_the_logged_model_is_linked_to_its_run_and_its_metrics(registry_client, logged):
    for model, _ in logged.values():
        run = registry_client.get_run(model.source_run_id)
        assert {metric.key for metric in model.metrics} >= {"val_accuracy", "n_params"}
        assert run.data.metrics["val_accuracy"] == next(
            m.value for m in model.metrics if m.key == "val_accuracy"
        )


def test_the_champion_is_the_best_configuration_by_validation_accuracy(registry_client, pipeline, logged):
    name = f"dlpipeline-{pipeline}"
    champion = registry_client.get_model_version_by_alias(name, CHAMPION_ALIAS)
    assert registry_client.get_registered_model(name).tags[PROJECT_TAG] == "dlpipeline"
    children = {run.info.run_name: run for run in configuration_runs(registry_client)}
    best = max(run.data.metrics["val_accuracy"] for run in children.values())
    chosen = children[champion.tags[CONFIGURATION_TAG]]
    assert chosen.data.metrics["val_accuracy"] == best
    model, _ = logged[chosen.info.run_name]
    assert champion.source == f"models:/{model.model_id}"
    assert champion.tags[WEIGHTS_HASH_TAG] == model.tags[WEIGHTS_HASH_TAG]
    _, in_run = logged[chosen.info.run_name]
    with tracking_at(registry_client.tracking_uri):
        served = mlflow.pyfunc.load_model(f"models:/{name}@champion")  # as the docs load it
    example = served.input_example
    np.testing.assert_array_equal(served.predict(example), in_run.predict(example))


def test_the_parent_run_logs_the_machines_cpu_and_memory(registry_client):
    (parent,) = experiment_runs(registry_client)["parents"]
    assert parent.data.metrics.keys() >= SYSTEM_METRICS
    assert 0 <= parent.data.metrics["system/cpu_utilization_percentage"] <= 100
    assert all(
        not key.startswith("system/")
        for run in experiment_runs(registry_client)["children"]
        for key in run.data.metrics
    )


@pytest.fixture
def store_copy(project: Path, tmp_path: Path) -> MlflowClient:
    """A client of a copy of the smoke run's store (the shared run's own store is only read)."""
    # SQLite's own copy: a store in WAL mode may hold committed writes in mlflow.db-wal too.
    with sqlite3.connect(project / "mlflow.db") as source, sqlite3.connect(tmp_path / "mlflow.db") as copy:
        source.backup(copy)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking_at(uri):
        yield MlflowClient(uri, registry_uri=uri)


def test_a_new_version_only_when_the_weights_changed(store_copy, pipeline, logged):
    name = f"dlpipeline-{pipeline}"
    current = store_copy.get_model_version_by_alias(name, CHAMPION_ALIAS)
    other_name, (other, _) = next((n, m) for n, m in logged.items() if n != current.tags[CONFIGURATION_TAG])
    model_id = current.source.removeprefix("models:/")  # a version registered from a logged model
    again = Champion(name, current.tags[CONFIGURATION_TAG], current.run_id, model_id, "val_accuracy", 0.5)
    assert register_champion(store_copy, again).version == current.version
    changed = Champion(name, other_name, other.source_run_id, other.model_id, "val_accuracy", 0.5)
    new = register_champion(store_copy, changed)
    assert int(new.version) == int(current.version) + 1
    assert store_copy.get_model_version_by_alias(name, CHAMPION_ALIAS).version == new.version
    back = register_champion(store_copy, again)  # the old weights: their version, not a third one
    assert back.version == current.version
    assert len(store_copy.search_model_versions(f"name = '{name}'")) == 2


def test_a_registered_model_this_project_did_not_create_is_never_written(store_copy):
    store_copy.create_registered_model("someone-elses")
    with pytest.raises(
        RegistryNameError, match="'someone-elses' exists but was not registered by dlpipeline"
    ):
        check_owned(store_copy, "someone-elses")
    assert not check_owned(store_copy, "free-name")


def test_the_champion_is_chosen_among_the_pipelines_own_runs_with_a_model():
    class Result:
        def __init__(self, name: str) -> None:
            self.name = name

    runs = [
        LoggedRun("a", "r1", {"val_accuracy": 0.7, "test_accuracy": 0.99}, "m1"),
        LoggedRun("b", "r2", {"val_accuracy": 0.8, "test_accuracy": 0.1}, "m2"),
        LoggedRun("c", "r3", {"val_accuracy": 0.9}, None),  # logged no model
        LoggedRun("torch-5", "r4", {"val_accuracy": 1.0}, "m4"),  # another pipeline's run
    ]

    class Registry:
        name, rank_by = "dlpipeline-x", "val_accuracy"

    champion = choose_champion(runs, [Result("a"), Result("b"), Result("c")], Registry())
    assert (champion.configuration, champion.model_id, champion.value) == ("b", "m2", 0.8)


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ([[0.0, 1.0, 2.0]], "shape"),
        ([["a", "b"]], "numbers"),
        (np.zeros((0, 2)), "empty"),
        ([[np.nan, 1.0]], "finite"),
    ],
)
def test_a_served_model_refuses_malformed_inputs_with_mlflows_invalid_parameter_error(inputs, words):
    with pytest.raises(mlflow.exceptions.MlflowException, match=words) as refused:
        check_inputs(inputs, (2,))
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_registry_name_held_by_a_foreign_model_is_refused_in_one_line_before_any_training(project_copy):
    uri = f"sqlite:///{project_copy / 'mlflow.db'}"
    MlflowClient(uri, registry_uri=uri).create_registered_model("dlpipeline-mlp")
    result = kedro_in_process("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy)
    assert result.returncode == 78
    (line,) = [line for line in result.stderr.splitlines() if "dlpipeline-mlp" in line]
    assert "was not registered by dlpipeline" in line and "Nothing was run" in line
    assert "Traceback" not in result.stderr
    assert not (project_copy / "data/06_models/mlp").exists()
    assert "RUNNING" not in run_statuses(project_copy)


def test_the_champion_loads_with_the_three_lines_the_docs_show(smoke_run, monkeypatch):
    monkeypatch.chdir(smoke_run("cnn"))
    docs = section("Load the champion in Python")
    block = re.search(r"```python\n(.*?)```", docs, flags=re.DOTALL).group(1)
    assert len([line for line in block.splitlines() if line.strip()]) == 3
    namespace: dict = {}
    with tracking_at(mlflow.get_tracking_uri()):  # the block sets the tracking URI: put it back after
        exec(block, namespace)
    model = namespace["model"]
    assert model.predict(model.input_example).shape == (3, 10)
