"""The sequence experiment end to end on the smoke environment: files on disk and MLflow runs."""

import json
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from mlflow.tracking import MlflowClient
from tests.helpers import PROJECT_ROOT
from tests.tracking import assert_holds_the_catalogs_weights, logged_models

from dlpipeline.config import load_parameters
from dlpipeline.data.sequences import padded_windows
from dlpipeline.datasets import BigramDataset, ModelDataset
from dlpipeline.figures.curves import curves_figure
from dlpipeline.models.losses import masked_mse
from dlpipeline.pipelines.sequence.gradients import EXPLOSION_STUDY
from dlpipeline.pipelines.sequence.text import bigram_test_nll
from dlpipeline.served import WEIGHTS_HASH_TAG, weights_hash
from dlpipeline.tracking import CHILD_RUN_FIGURE_DPI

TASKS = ["adding", "digits_rows", "forecast", "generate", "text"]
FIGURES = {
    "adding": {"mse_vs_length", "gradient_norms", "lstm_gates", "loss", "test_curves"},
    "digits_rows": {"loss", "test_curves"},
    "forecast": {"forecast", "loss", "test_curves"},
    "generate": {"generated", "loss", "test_curves"},
    "text": {"loss", "test_curves"},
}
METRICS = {"digits_rows": "test_accuracy", "text": "test_nll"}
"""Each task's test metric (the others: ``test_mse``)."""


SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}


def parameters(project: Path) -> dict:
    """The smoke parameters of each task, as ``kedro run --env smoke`` sees them."""
    return load_parameters("smoke", project)["sequence"]


def expected_runs(project: Path) -> set[tuple[str, str, str, str]]:
    """(task, cell, seq_len, seed) of every model the smoke run must train."""
    params = parameters(project)
    lengths = {
        "adding": params["adding"]["data"]["seq_lens"],
        "digits_rows": [8],
        "forecast": [params["forecast"]["data"]["max_len"]],
        "generate": [params["generate"]["data"]["seq_len"]],
        "text": [params["text"]["data"]["max_len"]],
    }
    return {
        (task, cell, str(length), str(seed))
        for task in TASKS
        for cell in params[task]["model"]["cells"]
        for length in params[task]["model"].get("cell_seq_lens", {}).get(cell, lengths[task])
        for seed in range(params[task]["model"]["n_seeds"])
    }


def expected_draw(project: Path, task: str, seed: int) -> int:
    """The data draw a seed trains on: seed i on draw i, cycling (one draw where the data is not drawn)."""
    return seed % parameters(project)[task]["data"].get("n_draws", 1)


def shared_table_children(runs: dict) -> list:
    """The child runs of the tasks whose rows meet in results.csv (the surname task: test_names_run.py).

    Studies of a task (param ``study``: the gradient studies, test_gradients.py) are not its models.
    """
    return [
        child
        for child in runs["children"]
        if child.data.params["task"] in TASKS and "study" not in child.data.params
    ]


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def test_the_run_writes_every_dataset_and_report(project: Path):
    raw = ["adding", "digits", "mackey_glass", "sine_waves", "names"]
    paths = [f"data/01_raw/sequence/{name}.parquet" for name in raw]
    paths += [
        f"data/05_model_input/sequence/{task}/{split}.parquet"
        for task in TASKS
        for split in ("train", "test")
    ]
    paths += [f"data/08_reporting/sequence/{task}/{name}.png" for task in TASKS for name in FIGURES[task]]
    paths += [f"data/06_models/sequence/{task}.pt" for task in TASKS]
    paths += ["data/06_models/sequence/text_bigram.json"]
    paths += ["data/08_reporting/sequence/results.csv", "data/08_reporting/sequence/metrics.json"]
    paths += [f"data/08_reporting/sequence/{name}" for name in ("units.csv", "sequential_steps.csv")]
    paths += ["data/08_reporting/sequence/sequential_steps.png"]
    paths += ["data/08_reporting/sequence/text/samples.csv"]
    for relative in paths:
        assert (project / relative).stat().st_size > 0, relative


def test_the_results_table_has_one_row_per_task_cell_and_length(project: Path):
    table = pd.read_csv(project / "data/08_reporting/sequence/results.csv")
    expected = {(task, cell, length) for task, cell, length, _ in expected_runs(project)}
    assert set(zip(table.task, table.cell, table.seq_len.astype(str), strict=True)) == expected
    assert len(table) == len(expected)
    classification = table.metric == "test_accuracy"
    assert set(table.task[classification]) == {"digits_rows"}
    assert table["median"][classification].between(0, 1).all()
    assert (table["median"][~classification] >= 0).all()
    assert (table["min"] <= table["median"]).all() and (table["median"] <= table["max"]).all()
    adding = table[table.task == "adding"]
    assert adding.baseline.round(3).eq(0.167).all()


def test_the_units_table_has_one_row_per_trained_model_on_its_own_draw_beside_its_baseline(project: Path):
    table = pd.read_csv(project / "data/08_reporting/sequence/units.csv")
    derived = {row["name"] for row in parameters(project)["units"]["derived"]}
    models = table[~table.cell.isin(derived)]
    keys = zip(models.task, models.cell, models.seq_len.astype(str), models.seed.astype(str), strict=True)
    assert sorted(keys) == sorted(expected_runs(project))
    for _, row in models.iterrows():
        assert row["draw"] == expected_draw(project, row["task"], row["seed"])
    assert models.groupby("task")["draw"].nunique()[["adding", "generate"]].gt(1).all()
    adding = models[models.task == "adding"]
    # predicting the training mean on each draw's test set scores about the variance of the sum, 1/6
    assert adding.baseline.between(0.12, 0.22).all()
    assert adding.groupby(["draw", "seq_len"]).baseline.nunique().eq(1).all()


def test_every_derived_row_stands_for_one_unit_where_all_its_cells_were_trained(project: Path):
    table = pd.read_csv(project / "data/08_reporting/sequence/units.csv")
    unit = ["seq_len", "draw", "seed"]
    for row in parameters(project)["units"]["derived"]:
        derived = table[table.cell == row["name"]]
        rows = table[(table.task == row["task"]) & table.cell.isin(row["cells"])]
        complete = rows.groupby(unit).cell.nunique().eq(len(row["cells"]))
        assert sorted(derived[unit].itertuples(index=False, name=None)) == sorted(complete.index[complete])
        assert len(derived) > 0, row["name"]


def test_the_sequential_steps_grow_with_the_length_for_the_rnn_and_not_for_the_transformer(project: Path):
    steps = pd.read_csv(project / "data/08_reporting/sequence/sequential_steps.csv")
    lengths = parameters(project)["parallelism"]["seq_lens"]
    rnn, transformer = (steps[steps.cell == cell].set_index("seq_len") for cell in ("rnn", "transformer"))
    assert list(rnn.index) == list(transformer.index) == lengths
    assert rnn.sequential_steps.is_monotonic_increasing and rnn.sequential_steps.nunique() == len(lengths)
    assert transformer.sequential_steps.nunique() == 1
    assert (steps.groupby("cell").growth.first() == 1).all()


def test_the_metrics_json_holds_each_tasks_headline_beside_its_baseline(project: Path):
    metrics = json.loads((project / "data/08_reporting/sequence/metrics.json").read_text())
    assert list(metrics) == TASKS
    adding = [(cell, length) for task, cell, length, _ in expected_runs(project) if task == "adding"]
    longest = max(int(length) for _, length in adding)
    assert set(metrics["adding"]) == {f"{cell}_T{longest}_test_mse" for cell, _ in adding} | {"baseline"}
    assert set(metrics["digits_rows"]) == {"best_test_accuracy", "baseline"}


def test_one_finished_parent_run_holds_every_tasks_summary_figures(runs: dict, mlflow_client: MlflowClient):
    (parent,) = runs["parents"]
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "sequence"
    for task in TASKS:
        artifacts = {a.path for a in mlflow_client.list_artifacts(parent.info.run_id, f"sequence/{task}")}
        assert {f"sequence/{task}/{name}.png" for name in FIGURES[task]} <= artifacts
    top = {a.path for a in mlflow_client.list_artifacts(parent.info.run_id, "sequence")}
    tables = ["results.csv", "metrics.json", "units.csv", "sequential_steps.csv"]
    assert {f"sequence/{name}" for name in tables} <= top


def test_each_task_cell_length_and_seed_is_a_child_run(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    (parent,) = runs["parents"]
    children = shared_table_children(runs)
    expected = expected_runs(project)
    assert len(children) == len(expected)
    keys = ("task", "cell", "seq_len", "seed")
    assert {tuple(child.data.params[key] for key in keys) for child in children} == expected
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert SHARED_PARAMS | {"task", "pattern", "hidden_size"} <= set(child.data.params)
        assert SHARED_METRICS | {"final_loss", "cpu_seconds"} <= set(child.data.metrics)
        assert int(child.data.params["batch_size"]) > 0
        assert METRICS.get(child.data.params["task"], "test_mse") in child.data.metrics
        artifacts = [a.path for a in mlflow_client.list_artifacts(child.info.run_id)]
        assert artifacts == (
            ["loss.png", "samples.txt"] if child.data.params["task"] == "text" else ["loss.png"]
        )


def test_a_childs_loss_figure_is_logged_at_the_child_run_resolution(
    runs: dict, mlflow_client: MlflowClient, tmp_path: Path
):
    child = shared_table_children(runs)[0]
    logged = Path(mlflow_client.download_artifacts(child.info.run_id, "loss.png", str(tmp_path)))
    width, height = struct.unpack(">II", logged.read_bytes()[16:24])  # the PNG header's IHDR chunk
    figure = curves_figure({"x": np.ones(2)}, "x")  # the size every loss figure has
    inches = figure.get_size_inches()
    assert (width, height) == tuple(round(side * CHILD_RUN_FIGURE_DPI) for side in inches)
    assert figure.dpi > CHILD_RUN_FIGURE_DPI  # fewer pixels than matplotlib's default would save


def test_children_log_the_loss_of_every_epoch(project: Path, runs: dict, mlflow_client: MlflowClient):
    params = parameters(project)
    for child in shared_table_children(runs):
        epochs = params[child.data.params["task"]]["train"]["epochs"]
        history = mlflow_client.get_metric_history(child.info.run_id, "loss")
        assert [point.step for point in history] == list(range(epochs))


def test_each_task_is_its_own_namespace_with_data_and_train_tags():
    bootstrap_project(PROJECT_ROOT)
    pipeline = pipelines["sequence"]
    for task in TASKS:
        task_nodes = [n for n in pipeline.nodes if n.namespace == f"sequence.{task}"]
        # a task may offer a hyperparameter search too (tag `search`, which no DVC stage runs)
        assert {"data", "train"} <= {tag for n in task_nodes for tag in n.tags} <= {"data", "train", "search"}
        data_outputs = {out for n in task_nodes if "data" in n.tags for out in n.outputs}
        assert {f"sequence.{task}.train", f"sequence.{task}.test"} <= data_outputs


def test_each_task_writes_its_trained_models_by_run_label_to_one_file(project: Path):
    expected = expected_runs(project)
    for task in TASKS:
        models = ModelDataset(str(project / f"data/06_models/sequence/{task}.pt")).load()
        labels = {f"{task}-{cell}-T{length}-s{seed}" for t, cell, length, seed in expected if t == task}
        assert set(models) == labels
        for trained in models.values():
            assert trained.about.task == task
            assert trained.trained_record.seeds == (trained.about.seed,)


def network_children(runs: dict) -> list:
    """The child runs of the tasks that trained a network: the shared table's, the explosion study's.

    The vanishing-gradients study trains none: it reads the task's own models (test_gradients.py).
    """
    explosion = [child for child in runs["children"] if child.data.params.get("study") == EXPLOSION_STUDY]
    return shared_table_children(runs) + explosion


def test_every_child_run_logs_its_network_holding_the_weights_of_the_pt_file(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    children = network_children(runs)
    logged = logged_models(mlflow_client, children)
    assert set(logged) == {child.info.run_name for child in children}
    # the explosion study's networks have no .pt file: test_gradients.py checks them on their test MSE
    for task in TASKS:
        saved = ModelDataset(str(project / f"data/06_models/sequence/{task}.pt")).load()
        for label, trained in saved.items():
            assert logged[label].tags[WEIGHTS_HASH_TAG] == weights_hash(trained.module)
        first = next(iter(saved))  # one per task loaded as MLflow loads it: text reads token ids
        assert_holds_the_catalogs_weights(logged[first], saved[first], mlflow_client.tracking_uri, "sequence")


def test_a_loaded_forecaster_reproduces_the_test_mse_its_training_recorded(project: Path):
    models = ModelDataset(str(project / "data/06_models/sequence/forecast.pt")).load()
    test = pd.read_parquet(project / "data/05_model_input/sequence/forecast/test.parquet")
    features, targets = padded_windows(test, parameters(project)["forecast"]["data"]["max_len"])
    for trained in models.values():
        with torch.no_grad():
            outputs = trained.module(features)
        assert float(masked_mse(outputs, targets)) == pytest.approx(
            trained.about.test_metrics["test_mse"], rel=1e-5
        )


def test_the_text_rows_baseline_is_the_test_nll_of_the_saved_count_bigram(project: Path):
    bigram = BigramDataset(filepath=str(project / "data/06_models/sequence/text_bigram.json")).load()
    test = pd.read_parquet(project / "data/05_model_input/sequence/text/test.parquet")
    table = pd.read_csv(project / "data/08_reporting/sequence/results.csv")
    baselines = table[table.task == "text"].baseline
    assert len(baselines) > 0
    assert baselines.eq(round(bigram_test_nll(bigram, test), 6)).all()  # the table rounds to 6 places
