"""The sequence experiment end to end on the smoke environment: files on disk and MLflow runs."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from mlflow.tracking import MlflowClient
from tests.helpers import PROJECT_ROOT

TASKS = ["adding", "digits_rows", "forecast", "generate"]
FIGURES = {
    "adding": {"mse_vs_length", "gradient_norms", "lstm_gates", "loss", "test_curves"},
    "digits_rows": {"loss", "test_curves"},
    "forecast": {"forecast", "loss", "test_curves"},
    "generate": {"generated", "loss", "test_curves"},
}


def parameters(project: Path) -> dict:
    """The smoke parameters of each task: base deep-merged with the smoke overrides."""
    base = yaml.safe_load((project / "conf/base/parameters_sequence.yml").read_text())["sequence"]
    smoke = yaml.safe_load((project / "conf/smoke/parameters_sequence.yml").read_text())["sequence"]

    def merge(into: dict, changes: dict) -> dict:
        for key, value in changes.items():
            into[key] = merge(into[key], value) if isinstance(value, dict) else value
        return into

    return merge(base, smoke)


def expected_runs(project: Path) -> set[tuple[str, str, str, str]]:
    """(task, cell, seq_len, seed) of every model the smoke run must train."""
    params = parameters(project)
    lengths = {
        "adding": params["adding"]["data"]["seq_lens"],
        "digits_rows": [8],
        "forecast": [params["forecast"]["data"]["max_len"]],
        "generate": [params["generate"]["data"]["seq_len"]],
    }
    return {
        (task, cell, str(length), str(seed))
        for task in TASKS
        for cell in params[task]["model"]["cells"]
        for length in lengths[task]
        for seed in range(params[task]["model"].get("n_seeds", 1))
    }


@pytest.fixture(scope="module")
def mlflow_client(smoke_sequence_run: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=f"sqlite:///{smoke_sequence_run / 'mlflow.db'}")


@pytest.fixture(scope="module")
def runs(mlflow_client: MlflowClient) -> dict:
    experiment = mlflow_client.get_experiment_by_name("dlpipeline")
    all_runs = mlflow_client.search_runs([experiment.experiment_id])
    return {
        "parents": [run for run in all_runs if "mlflow.parentRunId" not in run.data.tags],
        "children": [run for run in all_runs if "mlflow.parentRunId" in run.data.tags],
    }


def test_the_run_writes_every_dataset_and_report(smoke_sequence_run: Path):
    raw = ["adding", "digits", "mackey_glass", "sine_waves"]
    paths = [f"data/01_raw/sequence/{name}.parquet" for name in raw]
    paths += [
        f"data/05_model_input/sequence/{task}/{split}.parquet"
        for task in TASKS
        for split in ("train", "test")
    ]
    paths += [f"data/08_reporting/sequence/{task}/{name}.png" for task in TASKS for name in FIGURES[task]]
    paths += ["data/08_reporting/sequence/results.csv", "data/08_reporting/sequence/metrics.json"]
    for relative in paths:
        assert (smoke_sequence_run / relative).stat().st_size > 0, relative


def test_the_results_table_has_one_row_per_task_cell_and_length(smoke_sequence_run: Path):
    table = pd.read_csv(smoke_sequence_run / "data/08_reporting/sequence/results.csv")
    expected = {(task, cell, length) for task, cell, length, _ in expected_runs(smoke_sequence_run)}
    assert set(zip(table.task, table.cell, table.seq_len.astype(str), strict=True)) == expected
    assert len(table) == len(expected)
    classification = table.metric == "test_accuracy"
    assert set(table.task[classification]) == {"digits_rows"}
    assert table["mean"][classification].between(0, 1).all()
    assert (table["mean"][~classification] >= 0).all()
    adding = table[table.task == "adding"]
    assert adding.baseline.round(3).eq(0.167).all()


def test_the_metrics_json_nests_task_then_cell_and_length(smoke_sequence_run: Path):
    metrics = json.loads((smoke_sequence_run / "data/08_reporting/sequence/metrics.json").read_text())
    assert list(metrics) == TASKS
    assert set(metrics["adding"]) == {
        f"{cell}-T{length}" for task, cell, length, _ in expected_runs(smoke_sequence_run) if task == "adding"
    }
    assert set(metrics["digits_rows"]["gru-T8"]) == {"test_accuracy", "baseline"}


def test_one_finished_parent_run_holds_every_tasks_summary_figures(runs: dict, mlflow_client: MlflowClient):
    (parent,) = runs["parents"]
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "sequence"
    for task in TASKS:
        artifacts = {a.path for a in mlflow_client.list_artifacts(parent.info.run_id, f"sequence/{task}")}
        assert {f"sequence/{task}/{name}.png" for name in FIGURES[task]} <= artifacts
    top = {a.path for a in mlflow_client.list_artifacts(parent.info.run_id, "sequence")}
    assert {"sequence/results.csv", "sequence/metrics.json"} <= top


def test_each_task_cell_length_and_seed_is_a_child_run(
    smoke_sequence_run: Path, runs: dict, mlflow_client: MlflowClient
):
    (parent,) = runs["parents"]
    children = runs["children"]
    expected = expected_runs(smoke_sequence_run)
    assert len(children) == len(expected)
    keys = ("task", "cell", "seq_len", "seed")
    assert {tuple(child.data.params[key] for key in keys) for child in children} == expected
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert "hidden_size" in child.data.params
        metric = "test_accuracy" if child.data.params["task"] == "digits_rows" else "test_mse"
        assert metric in child.data.metrics
        assert [a.path for a in mlflow_client.list_artifacts(child.info.run_id)] == ["loss.png"]


def test_children_log_the_loss_of_every_epoch(
    smoke_sequence_run: Path, runs: dict, mlflow_client: MlflowClient
):
    params = parameters(smoke_sequence_run)
    for child in runs["children"]:
        epochs = params[child.data.params["task"]]["train"]["epochs"]
        history = mlflow_client.get_metric_history(child.info.run_id, "loss")
        assert [point.step for point in history] == list(range(epochs))


def test_each_task_is_its_own_namespace_with_data_and_train_tags():
    bootstrap_project(PROJECT_ROOT)
    pipeline = pipelines["sequence"]
    for task in TASKS:
        task_nodes = [n for n in pipeline.nodes if n.namespace == f"sequence.{task}"]
        assert {tag for n in task_nodes for tag in n.tags} == {"data", "train"}
        data_outputs = {out for n in task_nodes if "data" in n.tags for out in n.outputs}
        assert {f"sequence.{task}.train", f"sequence.{task}.test"} <= data_outputs
