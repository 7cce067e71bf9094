"""The CNN experiment end to end on the smoke environment: files on disk and MLflow runs."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient
from tests.data.test_idx import idx_bytes
from tests.helpers import kedro_in_process, run_session

from dlpipeline.config import load_parameters
from dlpipeline.datasets import ModelDataset
from dlpipeline.models.cnn import ConvNetEnsemble
from dlpipeline.pipelines.cnn.train import member_predictions

REPORTS = [
    "experiments.csv",
    "units.csv",
    "features.csv",
    "operations.csv",
    "metrics.json",
    "experiments.png",
    "learning_curves.png",
    "confusion_matrix.png",
    "first_layer_filters.png",
    "feature_maps.png",
    "misclassified.png",
    "perturbation",  # the studies' folders
    "saliency",
    "permutation",
    "data_size",
    "hand_features",
    "cost",
    "edges",
    "detection",
    "segmentation",
]


SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}


def sweep_children(runs: dict) -> list:
    """The child runs of the sweep's configurations (a study's child runs name their ``study``)."""
    return [child for child in runs["children"] if "study" not in child.data.params]


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    return smoke_run("cnn")


def smoke_parameters(project: Path) -> dict:
    return load_parameters("smoke", project)["cnn"]


def configurations(project: Path) -> list[str]:
    return list(smoke_parameters(project)["experiments"]["configurations"])


def smoke_epochs(project: Path) -> int:
    return smoke_parameters(project)["training"]["train"]["epochs"]


def test_the_run_writes_the_datasets_and_every_report(project: Path):
    for relative in [
        "data/01_raw/cnn/images.csv",
        "data/05_model_input/cnn/train.csv",
        "data/05_model_input/cnn/val.csv",
        "data/05_model_input/cnn/test.csv",
        "data/06_models/cnn/models.pt",
        *(f"data/08_reporting/cnn/{name}" for name in REPORTS),
    ]:
        assert (project / relative).stat().st_size > 0, relative


def test_the_smoke_split_is_stratified_and_scaled(project: Path):
    splits = {
        name: pd.read_csv(project / f"data/05_model_input/cnn/{name}.csv")
        for name in ("train", "val", "test")
    }
    assert [len(table) for table in splits.values()] == [180, 45, 75]  # 300 images: 60 / 15 / 25 %
    for table in splits.values():
        assert set(table.label) == set(range(10))
        pixels = table.drop(columns="label").to_numpy()
        assert pixels.min() >= 0
        assert pixels.max() <= 1
    assert splits["train"].drop(columns="label").to_numpy().max() == 1


def test_the_table_has_one_row_per_configuration(project: Path):
    table = pd.read_csv(project / "data/08_reporting/cnn/experiments.csv")
    assert table.configuration.tolist() == configurations(project)
    assert set(table.model) == {"cnn", "mlp"}
    assert table.test_accuracy.between(0, 1).all()
    assert (table.test_accuracy_min <= table.test_accuracy).all()
    no_pool = table.set_index("configuration").loc["cnn-no-pool"]
    assert no_pool.feature_maps == "4x8x8 8x8x8"  # smoke baseline filters [4, 8], nothing pooled


def test_the_claims_tables_pair_every_configuration_and_seed(project: Path):
    reports = project / "data/08_reporting/cnn"
    n_seeds = smoke_parameters(project)["experiments"]["n_seeds"]
    units = pd.read_csv(reports / "units.csv", keep_default_na=False)
    assert len(units) == len(configurations(project)) * n_seeds
    seeds = units.groupby("configuration").seed.apply(sorted).to_dict()
    assert seeds == {name: list(range(n_seeds)) for name in configurations(project)}
    found = pd.read_csv(reports / "features.csv")
    assert found.groupby("features").seed.nunique().to_dict() == {
        "handmade": n_seeds,
        "learned": n_seeds,
        "raw_pixels": n_seeds,
    }
    counted = pd.read_csv(reports / "operations.csv").set_index("configuration")
    assert counted.index.tolist() == configurations(project)
    assert counted.image_shape.unique().tolist() == ["1x8x8"]  # every network counted on the same images


def test_the_metrics_json_holds_each_configurations_median_test_accuracy(project: Path):
    metrics = json.loads((project / "data/08_reporting/cnn/metrics.json").read_text())
    assert list(metrics) == ["test_accuracy"]
    assert list(metrics["test_accuracy"]) == configurations(project)
    assert all(0 <= value <= 1 for value in metrics["test_accuracy"].values())


def test_one_finished_parent_run_holds_the_tables_and_figures(runs: dict, mlflow_client: MlflowClient):
    (parent,) = runs["parents"]
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "cnn"
    artifacts = {artifact.path for artifact in mlflow_client.list_artifacts(parent.info.run_id, "cnn")}
    assert artifacts == {f"cnn/{name}" for name in REPORTS}


def test_each_configuration_is_a_child_run_with_its_params_metrics_and_figures(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    (parent,) = runs["parents"]
    children = {child.info.run_name: child for child in sweep_children(runs)}
    assert set(children) == set(configurations(project))
    for child in children.values():
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert {"model", "dropout", "pooling", "filters", "seeds", "data_source", *SHARED_PARAMS} <= set(
            child.data.params
        )
        assert {"test_accuracy", "val_accuracy", "train_accuracy", *SHARED_METRICS} <= set(child.data.metrics)
        artifacts = {artifact.path for artifact in mlflow_client.list_artifacts(child.info.run_id)}
        assert artifacts == {"learning_curves.png", "confusion_matrix.png"}
    assert children["cnn"].data.params["seeds"] == "0..1"
    assert children["cnn-no-dropout"].data.params["dropout"] == "0.0"
    assert children["cnn-avg-pool"].data.params["pooling"] == "avg"
    assert children["cnn-filters-16x32"].data.params["filters"] == "16x32"
    assert children["mlp"].data.params["model"] == "mlp"
    assert children["mlp"].data.params["pooling"] == "n/a"


def test_every_child_run_names_how_it_was_trained_in_the_shared_words(runs: dict):
    smoke_train = {"seed": "0", "n_seeds": "2", "epochs": "3", "learning_rate": "0.003", "batch_size": "128"}
    for child in sweep_children(runs):
        assert smoke_train.items() <= child.data.params.items()
        assert child.data.params["optimizer"] == "adam"
        assert child.data.metrics["train_seconds"] > 0
    n_params = {child.info.run_name: child.data.metrics["n_params"] for child in sweep_children(runs)}
    assert (n_params["cnn-filters-4x8"], n_params["mlp"]) == (1034, 53035)  # one network, not the ensemble


def test_a_report_rerun_after_a_training_parameter_changed_states_what_the_models_were_trained_with(
    project: Path, project_copy: Path
):
    shutil.copytree(project / "data", project_copy / "data", dirs_exist_ok=True)  # the trained models
    changed = {"cnn": {"training": {"train": {"learning_rate": 0.5, "epochs": 99}}}}
    run_session(
        project_copy,
        pipeline_names=["cnn"],
        from_nodes=["cnn.evaluate_configurations"],
        runtime_params=changed,
    )
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("dlpipeline")
    children = [
        run for run in client.search_runs([experiment.experiment_id]) if "mlflow.parentRunId" in run.data.tags
    ]
    assert {child.info.run_name for child in children} == set(configurations(project))
    for child in children:
        assert (child.data.params["learning_rate"], child.data.params["epochs"]) == (
            "0.003",
            str(smoke_epochs(project)),
        )


def test_the_model_file_holds_every_configuration_and_reproduces_its_test_accuracy(project: Path):
    models = ModelDataset(str(project / "data/06_models/cnn/models.pt")).load()
    assert list(models) == configurations(project)
    table = pd.read_csv(project / "data/08_reporting/cnn/experiments.csv").set_index("configuration")
    test = pd.read_csv(project / "data/05_model_input/cnn/test.csv")
    for name, trained in models.items():
        assert isinstance(trained.module, ConvNetEnsemble)
        assert trained.trained_record.seeds == (0, 1)
        accuracy = (member_predictions(trained.module, test) == test.label.to_numpy()).mean(axis=1)
        assert round(float(np.median(accuracy)), 6) == table.loc[name, "test_accuracy"]


def test_children_log_the_training_and_validation_loss_of_every_epoch(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    epochs = list(range(smoke_epochs(project)))
    for child in sweep_children(runs):
        for metric in ("epoch_train_loss", "epoch_val_loss", "epoch_val_accuracy"):
            history = mlflow_client.get_metric_history(child.info.run_id, metric)
            assert [point.step for point in history] == epochs


def use_idx_files(project: Path, images: Path, labels: Path) -> None:
    """Point the experiment at IDX files, as a user would: ``conf/local/parameters_cnn.yml``."""
    files = [{"images": str(images), "labels": str(labels)}]
    local = {"cnn": {"data": {"source": "idx", "idx_files": files}}}
    (project / "conf/local/parameters_cnn.yml").write_text(yaml.safe_dump(local))


def test_the_data_stage_reads_mnist_format_idx_files(project_copy: Path):
    """A user's own IDX files (here 60 random 6x5 'images' of 3 classes) replace the digits."""
    rng = np.random.default_rng(0)
    raw = project_copy / "data/01_raw/mine"
    raw.mkdir(parents=True)
    (raw / "images-idx3-ubyte").write_bytes(idx_bytes(rng.integers(0, 256, (60, 6, 5), dtype=np.uint8)))
    (raw / "labels-idx1-ubyte").write_bytes(idx_bytes(np.repeat(np.arange(3, dtype=np.uint8), 20)))
    use_idx_files(project_copy, raw / "images-idx3-ubyte", raw / "labels-idx1-ubyte")
    result = kedro_in_process("run", "--pipelines", "cnn", "--tags", "data", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    images = pd.read_csv(project_copy / "data/01_raw/cnn/images.csv")
    assert images.shape == (60, 1 + 6 * 5)
    test = pd.read_csv(project_copy / "data/05_model_input/cnn/test.csv")
    assert test.label.value_counts().tolist() == [5, 5, 5]  # 25 % of each class


def test_a_broken_idx_file_stops_the_run_naming_the_file(project_copy: Path):
    broken = project_copy / "data/01_raw/mine/images-idx3-ubyte.gz"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"\x1f\x8b not really gzip")
    use_idx_files(project_copy, broken, broken)
    result = kedro_in_process("run", "--pipelines", "cnn", "--tags", "data", cwd=project_copy)
    assert result.returncode != 0
    output = " ".join((result.stdout + result.stderr).split())  # undo the log's line wrapping
    assert "IDXFormatError" in output
    assert "images-idx3-ubyte.gz: damaged or truncated gzip" in output
    assert not (project_copy / "data/01_raw/cnn/images.csv").exists()
