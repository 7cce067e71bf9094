"""The MLP experiment end to end on the smoke environment: files on disk and MLflow runs."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_in_process
from tests.tracking import logged_models

from dlpipeline.config import load_parameters
from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.datasets import ModelDataset
from dlpipeline.pipelines.mlp.evaluate import predicted_labels
from dlpipeline.pipelines.mlp.params import SweepParams, widths_text

FLAVOURS = {"torch", "sklearn"}
MODEL_FILES = {"torch": "data/06_models/mlp/torch.pt", "sklearn": "data/06_models/mlp/sklearn.pt"}
SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}


def smoke_parameters(project: Path) -> dict:
    """The ``mlp`` parameters of the smoke env, merged over base as ``kedro run --env smoke`` sees them."""
    return load_parameters("smoke", project)["mlp"]


def smoke_architectures(project: Path) -> list[str]:
    """The smoke sweep's configurations as the runs name them (``7x7`` for [7, 7])."""
    return [
        widths_text(widths)
        for widths in SweepParams.model_validate(smoke_parameters(project)["sweep"]).architectures
    ]


def sweep_children(runs: dict) -> list:
    """The sweep's child runs: the neurons study's carry a ``study`` param."""
    return [child for child in runs["children"] if "study" not in child.data.params]


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the mlp pipeline ran on the smoke environment."""
    return smoke_run("mlp")


def test_the_run_writes_datasets_reports_and_figures(project: Path):
    for relative in [
        "data/01_raw/mlp/points.csv",
        "data/05_model_input/mlp/train.csv",
        "data/05_model_input/mlp/test.csv",
        "data/08_reporting/mlp/metrics.json",
        "data/08_reporting/mlp/accuracy_table.csv",
        "data/08_reporting/mlp/accuracy_vs_neurons.png",
        "data/08_reporting/mlp/boundary_grid.png",
        "data/08_reporting/mlp/torch_loss.png",
        "data/05_model_input/mlp/draws.csv",
        "data/08_reporting/mlp/units.csv",
        "data/08_reporting/mlp/groups.csv",
        "data/08_reporting/mlp/losses.csv",
        "data/09_timings/mlp/batch_throughput.csv",
        *MODEL_FILES.values(),
    ]:
        assert (project / relative).stat().st_size > 0, relative


def test_the_units_table_has_one_row_per_flavour_width_draw_and_seed(project: Path):
    units = pd.read_csv(project / "data/08_reporting/mlp/units.csv", dtype={"hidden_neurons": str})
    parameters = smoke_parameters(project)
    seeds = SweepParams.model_validate(parameters["sweep"]).seeds
    sklearn_seeds = seeds[: parameters.get("units", {}).get("sklearn_seeds", len(seeds))]
    expected = {
        (flavour, width, draw, seed)
        for flavour, flavour_seeds in (("torch", seeds), ("sklearn", sklearn_seeds))
        for width in smoke_architectures(project)
        for draw in range(parameters["data"]["n_draws"])
        for seed in flavour_seeds
    }
    keys = list(zip(units.flavour, units.hidden_neurons, units.draw, units.seed, strict=True))
    assert len(keys) == len(set(keys)) and set(keys) == expected


def test_the_throughput_timing_stays_outside_dvc(project: Path):
    stages = (project / "dvc.yaml").read_text()
    assert "data/09_timings" not in stages
    table = pd.read_csv(project / "data/09_timings/mlp/batch_throughput.csv")
    assert table.full_batch.sum() == table.repeat.nunique()


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_each_flavour_saves_a_model_per_configuration_that_loads_in_one_line(
    project: Path, flavour: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(project)  # the catalog's paths are relative to the project root
    models = ModelDataset(MODEL_FILES[flavour]).load()
    assert list(models) == [f"{flavour}-{arch}" for arch in smoke_architectures(project)]
    n_seeds = smoke_parameters(project)["sweep"]["n_seeds"]
    test_features, test_labels = features_and_labels(pd.read_csv("data/05_model_input/mlp/test.csv"))
    table = pd.read_csv("data/08_reporting/mlp/accuracy_table.csv", dtype={"hidden_neurons": str})
    for name, trained in models.items():
        labels = predicted_labels(trained, test_features)
        assert labels.shape == (n_seeds, len(test_labels))
        row = table[(table.flavour == flavour) & (table.hidden_neurons == name.split("-", 1)[1])]
        assert float(row.test_accuracy.iloc[0]) == pytest.approx((labels == test_labels).mean(), abs=1e-6)
        assert trained.trained_record.seeds == tuple(range(n_seeds))
        assert np.isnan(trained.timing.train_seconds)  # the model file holds no clock readings
    timed = ModelDataset(MODEL_FILES[flavour], timings_filepath=f"data/09_timings/mlp/{flavour}.json").load()
    assert all(np.isfinite(trained.timing.train_seconds) for trained in timed.values())


def test_the_accuracy_table_has_one_row_per_configuration_and_flavour(project: Path):
    table = pd.read_csv(project / "data/08_reporting/mlp/accuracy_table.csv", dtype={"hidden_neurons": str})
    architectures = smoke_architectures(project)
    assert set(zip(table.flavour, table.hidden_neurons, strict=True)) == {
        (flavour, arch) for flavour in FLAVOURS for arch in architectures
    }
    assert table.test_accuracy.between(0, 1).all()
    assert (table.test_accuracy_min <= table.test_accuracy).all()


def test_the_metrics_json_holds_a_few_headline_figures_per_flavour(project: Path):
    metrics = json.loads((project / "data/08_reporting/mlp/metrics.json").read_text())
    assert set(metrics) == FLAVOURS
    first, last = smoke_architectures(project)[0], smoke_architectures(project)[-1]
    for figures in metrics.values():
        assert {f"test_accuracy_{first}_neurons", f"test_accuracy_{last}_neurons"} <= set(figures)
        assert figures["best_worst_seed"] <= figures["best_test_accuracy"]
        assert len(figures) <= 6


def test_one_finished_parent_run_holds_the_summary_figures(runs: dict, mlflow_client: MlflowClient):
    (parent,) = runs["parents"]
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "mlp"
    artifacts = {artifact.path for artifact in mlflow_client.list_artifacts(parent.info.run_id, "mlp")}
    assert {
        "mlp/accuracy_vs_neurons.png",
        "mlp/boundary_grid.png",
        "mlp/torch_loss.png",
        "mlp/metrics.json",
        "mlp/accuracy_table.csv",
    } <= artifacts


def test_each_configuration_and_flavour_is_a_child_run_with_params_metrics_and_boundary(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    (parent,) = runs["parents"]
    children = sweep_children(runs)
    architectures = smoke_architectures(project)
    assert len(children) == len(architectures) * len(FLAVOURS)
    assert {(c.data.params["flavour"], c.data.params["hidden_layers"]) for c in children} == {
        (flavour, arch) for flavour in FLAVOURS for arch in architectures
    }
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.status == "FINISHED"
        assert {
            "hidden_neurons",
            "activation",
            "flavour",
            "seeds",
            "data_name",
            "data_noise",
            "data_factor",
            "data_n_samples",
        } <= set(child.data.params)
        assert {"train_accuracy", "test_accuracy", "test_accuracy_std", "test_accuracy_min"} <= set(
            child.data.metrics
        )
        assert set(child.data.params) >= SHARED_PARAMS
        assert set(child.data.metrics) >= SHARED_METRICS
        artifacts = [artifact.path for artifact in mlflow_client.list_artifacts(child.info.run_id)]
        assert artifacts == ["decision_boundary.png"]


def test_torch_children_log_the_loss_of_every_epoch(project: Path, runs: dict, mlflow_client: MlflowClient):
    epochs = smoke_parameters(project)["torch"]["train"]["epochs"]
    torch_children = [c for c in sweep_children(runs) if c.data.params["flavour"] == "torch"]
    for child in torch_children:
        history = mlflow_client.get_metric_history(child.info.run_id, "loss")
        assert [point.step for point in history] == list(range(epochs))


def test_neurons_can_be_compared_against_accuracy_across_children(runs: dict):
    """What the MLflow UI's compare view plots: hidden_neurons (param) against test_accuracy (metric)."""
    pairs = [
        (int(c.data.params["hidden_neurons"]), c.data.metrics["test_accuracy"])
        for c in runs["children"]
        if c.data.params.get("flavour") == "torch"
    ]
    assert len({neurons for neurons, _ in pairs}) == len(pairs)


def test_the_old_singular_pipeline_flag_runs_the_same_pipeline(project_copy: Path):
    result = kedro_in_process(
        "run", "--pipeline", "mlp", "--env", "smoke", "--tags", "data", cwd=project_copy
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project_copy / "data/05_model_input/mlp/train.csv").exists()


STUDIES = {"activation", "bias", "perceptron", "noise_factor"}


def test_the_neurons_study_writes_its_tables_and_figures(project: Path):
    for name in ["units.csv", "summary.csv", "noise_factor.csv", "noise_factor_summary.csv"]:
        assert len(pd.read_csv(project / "data/08_reporting/mlp/neurons" / name)) > 0, name
    for name in ["accuracy_vs_width.png", "accuracy_vs_noise.png"]:
        assert (project / "data/08_reporting/mlp/neurons" / name).read_bytes().startswith(b"\x89PNG"), name
    assert len(pd.read_csv(project / "data/05_model_input/mlp/noise_factor_draws.csv")) > 0


def test_the_neurons_study_pairs_every_variant_with_the_sweeps_network_by_draw_and_seed(project: Path):
    study = smoke_parameters(project)["neurons"]["study"]
    units = pd.read_csv(project / "data/08_reporting/mlp/neurons/units.csv")
    n_seeds = min(study["n_seeds"], smoke_parameters(project)["sweep"]["n_seeds"])
    n_units = smoke_parameters(project)["data"]["n_draws"] * n_seeds
    for variant in ["activation", "bias"]:
        rows = units[units["study"] == variant]
        assert sorted(rows["hidden_neurons"].unique()) == sorted(study["hidden_neurons"])
        assert (rows.groupby("hidden_neurons").size() == n_units).all()
    linear = units[units["study"] == "activation"]
    assert set(linear["activation"]) == {"identity"}
    assert set(units.loc[units["study"] == "bias", "bias"]) == {0}
    assert units.groupby("model").size().to_dict()["perceptron"] == n_units
    noise_factor = pd.read_csv(project / "data/08_reporting/mlp/neurons/noise_factor.csv")
    grid = len(study["noise_factor"]["noise"]) * len(study["noise_factor"]["factor"])
    assert len(noise_factor) == grid * n_units
    assert noise_factor.groupby(["noise", "factor"])["bayes_accuracy"].nunique().eq(1).all()


def test_every_configuration_the_study_trained_is_a_child_run_with_its_study(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    study = smoke_parameters(project)["neurons"]["study"]
    children = [child for child in runs["children"] if "study" in child.data.params]
    by_study: dict[str, list] = {}
    for child in children:
        by_study.setdefault(child.data.params["study"], []).append(child)
    assert set(by_study) == STUDIES
    assert len(by_study["activation"]) == len(by_study["bias"]) == len(study["hidden_neurons"])
    assert {child.data.params["activation"] for child in by_study["activation"]} == {"identity"}
    assert {child.data.params["bias"] for child in by_study["bias"]} == {"False"}
    assert {child.info.run_name for child in by_study["perceptron"]} == {
        "neurons-perceptron",
        "neurons-logistic",
    }
    grid = len(study["noise_factor"]["noise"]) * len(study["noise_factor"]["factor"])
    assert len(by_study["noise_factor"]) == grid
    for child in children:
        assert child.info.status == "FINISHED"
        assert "activation" in child.data.params
        assert {"test_accuracy", "test_accuracy_median", "train_accuracy"} <= set(child.data.metrics)
    networks = {child.info.run_name for child in children if child.data.params["study"] != "perceptron"}
    assert set(logged_models(mlflow_client, children)) == networks  # the linear baselines are no networks
