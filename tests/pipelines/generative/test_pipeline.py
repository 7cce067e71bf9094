"""The generative experiment end to end on the smoke environment: files, models and MLflow runs."""

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from tests.helpers import PROJECT_ROOT
from tests.tracking import assert_holds_the_catalogs_weights, logged_models

from dlpipeline.config import load_parameters
from dlpipeline.datasets import ModelDataset
from dlpipeline.pipelines.generative.autoencoders import model_key
from dlpipeline.served import WEIGHTS_HASH_TAG, weights_hash

DATASETS = ["digits", "ring", "moons"]
GENERATORS = ["vae", "gan", "diffusion"]
SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}
DATASET_METRICS = {
    "digits": {"fd", "classes_covered", "nearest_train_distance"},
    "ring": {"modes_covered", "high_quality", "energy_distance"},
    "moons": {"energy_distance", "sliced_w2"},
}


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the generative pipeline ran on the smoke environment."""
    return smoke_run("generative")


@pytest.fixture(scope="module")
def params(project: Path) -> dict:
    return load_parameters("smoke", project)["generative"]


@pytest.fixture(scope="module")
def children(runs: dict) -> list:
    """The child runs: one per trained configuration."""
    return runs["children"]


def test_each_part_is_its_own_namespace_with_data_and_train_tags():
    bootstrap_project(PROJECT_ROOT)
    generative = pipelines["generative"]
    namespaces = {node.namespace for node in generative.nodes}
    assert {f"generative.{part}" for part in [*DATASETS, "autoencoders"]} <= namespaces
    assert {tag for node in generative.nodes for tag in node.tags} == {"data", "train"}
    assert all(
        node.namespace.startswith("generative") for node in generative.only_nodes_with_tags("data").nodes
    )


def test_every_generator_and_seed_is_scored_beside_a_floor_and_a_baseline(project: Path, params: dict):
    scores = pd.read_csv(project / "data/08_reporting/generative/generator_scores.csv")
    for dataset in DATASETS:
        rows = scores[scores["dataset"] == dataset]
        n_seeds = params[dataset]["generators"]["n_seeds"]
        for model in GENERATORS:
            measured = rows[rows["model"] == model]
            expected = DATASET_METRICS[dataset] | ({"negative_elbo"} if model == "vae" else set())
            assert set(measured["metric"]) == expected, (dataset, model)
            assert measured.groupby("metric")["seed"].nunique().eq(n_seeds).all()
        references = set(rows[rows["model"] == "reference"]["metric"])
        assert references == {
            f"{m}_{kind}" for m in DATASET_METRICS[dataset] for kind in ("floor", "baseline")
        }


def test_the_real_data_scores_at_its_floor_on_every_unit(project: Path):
    scores = pd.read_csv(project / "data/08_reporting/generative/generator_scores.csv")
    reference = scores[scores["model"] == "reference"]
    by_unit = reference.pivot_table(index=["dataset", "draw", "seed"], columns="metric", values="value")
    digits, ring, moons = (by_unit.loc[dataset] for dataset in DATASETS)
    assert (ring["modes_covered_floor"] == 8).all()
    # 2-D Gaussian: 1 - exp(-9/2) = 98.9 % of a mode's points lie within 3 sigma of its centre
    assert ring["high_quality_floor"].to_numpy() == pytest.approx(0.989, abs=0.03)
    assert (digits["fd_floor"] < digits["fd_baseline"]).all()
    assert (moons["energy_distance_floor"] < moons["energy_distance_baseline"]).all()


def test_each_seed_of_a_drawn_set_trains_on_its_own_draw_and_meets_its_own_baseline(
    project: Path, params: dict
):
    units = pd.read_csv(project / "data/08_reporting/generative/units.csv")
    for dataset in ["ring", "moons"]:
        n_draws = params[dataset]["data"]["n_draws"]
        seeds = params[dataset]["generators"]
        rows = units[units["dataset"] == dataset]
        pairs = set(rows[["draw", "seed"]].itertuples(index=False, name=None))
        expected = {(index % n_draws, seeds["first_seed"] + index) for index in range(seeds["n_seeds"])}
        assert pairs == expected, dataset
        # one baseline per unit, shared by the generators of that unit, different across units
        baselines = rows.groupby(["draw", "seed", "metric"])["baseline"].nunique()
        assert (baselines == 1).all()
        distance = rows[rows["metric"] == "energy_distance"]
        assert distance.groupby(["draw", "seed"])["baseline"].first().nunique() == len(expected)


def test_the_claims_units_hold_one_row_per_generator_unit_and_metric_with_its_baseline(
    project: Path, params: dict
):
    units = pd.read_csv(project / "data/08_reporting/generative/units.csv")
    assert not units.duplicated(["dataset", "model", "draw", "seed", "metric"]).any()
    assert units[["value", "baseline", "floor"]].notna().all().all()
    for dataset in DATASETS:
        rows = units[units["dataset"] == dataset]
        assert set(rows["model"]) == set(GENERATORS)
        assert set(rows["metric"]) == DATASET_METRICS[dataset]
        assert rows["seed"].nunique() == params[dataset]["generators"]["n_seeds"]
    autoencoders = pd.read_csv(project / "data/08_reporting/generative/autoencoders/units.csv")
    model_params = params["autoencoders"]["model"]
    assert len(autoencoders) == 2 * len(model_params["code_sizes"]) * model_params["n_seeds"]
    assert not autoencoders.duplicated(["model", "latent_dim", "seed"]).any()


def test_autoencoders_and_pca_are_scored_at_every_code_size_and_seed(project: Path, params: dict):
    scores = pd.read_csv(project / "data/08_reporting/generative/autoencoders/scores.csv")
    model_params = params["autoencoders"]["model"]
    for model, seeds in [
        ("pca", 1),
        ("linear_ae", model_params["n_seeds"]),
        ("autoencoder", model_params["n_seeds"]),
    ]:
        rows = scores[scores["model"] == model]
        assert sorted(set(rows["latent_dim"])) == sorted(model_params["code_sizes"])
        assert (rows.groupby("latent_dim")["seed"].nunique() == seeds).all()
    assert set(scores[scores["model"] == "pixels"]["latent_dim"]) == {64}


def test_the_headline_metrics_fit_a_terminal(project: Path):
    metrics = json.loads((project / "data/08_reporting/generative/metrics.json").read_text())
    leaves = [value for block in metrics.values() for value in block.values()]
    assert 0 < len(leaves) <= 12
    assert set(metrics["digits_fd"]) == {*GENERATORS, "floor", "baseline"}


def test_every_figure_is_written(project: Path):
    reports = project / "data/08_reporting/generative"
    expected = {"comparison.png"}
    expected |= {
        f"autoencoders/{name}.png" for name in ["comparison", "codes", "reconstructions", "denoising"]
    }
    expected |= {
        f"{dataset}/{name}.png" for dataset in DATASETS for name in ["samples", "gan_losses", "trajectory"]
    }
    expected |= {"digits/latent_walk.png"}
    written = {str(path.relative_to(reports)) for path in reports.rglob("*.png")}
    assert expected <= written
    assert all((reports / name).stat().st_size > 1000 for name in expected)


def test_the_trained_models_load_and_generate_without_retraining(project: Path, params: dict):
    models = ModelDataset(str(project / "data/06_models/generative/ring.pt")).load()
    assert set(models) == set(GENERATORS)
    n_seeds = params["ring"]["generators"]["n_seeds"]
    import torch

    samples = models["gan"].module.sample(5, torch.Generator().manual_seed(0))
    assert samples.shape == (n_seeds, 5, 2)
    classifier = ModelDataset(str(project / "data/06_models/generative/digits_classifier.pt")).load()
    assert 0 <= classifier["feature_classifier"].trained_history.of("val_accuracy")[-1] <= 1


def test_a_child_run_per_generator_and_dataset_with_the_shared_names(children: list, params: dict):
    generator_runs = {
        (run.data.params["model"], run.data.params["dataset"]): run
        for run in children
        if run.data.params.get("model") in GENERATORS
    }
    assert set(generator_runs) == {(model, dataset) for model in GENERATORS for dataset in DATASETS}
    for (model, dataset), run in generator_runs.items():
        assert set(run.data.params) >= SHARED_PARAMS
        assert set(run.data.metrics) >= SHARED_METRICS
        for metric in DATASET_METRICS[dataset]:
            assert {metric, f"{metric}_min", f"{metric}_max", f"{metric}_floor", f"{metric}_baseline"} <= set(
                run.data.metrics
            ), (model, dataset, metric)
        assert ("latent_dim" in run.data.params) == (model != "diffusion")
        assert int(run.data.params["epochs"]) == params[dataset]["generators"][model]["train"]["epochs"]


def test_a_child_run_per_autoencoder_method_and_code_size(children: list, params: dict):
    methods = {"pca", "linear_ae", "autoencoder"}
    runs = [run for run in children if run.data.params.get("model") in methods]
    code_sizes = params["autoencoders"]["model"]["code_sizes"]
    assert {(run.data.params["model"], int(run.data.params["latent_dim"])) for run in runs} == {
        (method, size) for method in methods for size in code_sizes
    }
    assert all({"reconstruction_mse", "downstream_accuracy"} <= set(run.data.metrics) for run in runs)
    trained = [run for run in runs if run.data.params["model"] != "pca"]
    epochs = params["autoencoders"]["model"]["train"]["epochs"]
    assert {int(run.data.params["epochs"]) for run in trained} == {epochs}
    assert {run.data.params["optimizer"] for run in runs if run.data.params["model"] == "pca"} == {"svd"}
    assert all(set(run.data.params) >= SHARED_PARAMS for run in runs)


def test_the_denoiser_trains_only_the_seed_its_figure_draws(project: Path, params: dict):
    models = ModelDataset(str(project / "data/06_models/generative/autoencoders.pt")).load()
    model_params = params["autoencoders"]["model"]
    denoiser = models[f"denoising-{model_params['denoising_code_size']}"]
    assert denoiser.trained_record.seeds == (model_params["first_seed"],)
    others = [trained for name, trained in models.items() if not name.startswith("denoising")]
    assert {len(trained.trained_record.seeds) for trained in others} == {model_params["n_seeds"]}


def test_every_network_logs_its_model_holding_the_weights_of_the_pt_file(
    project: Path, children: list, mlflow_client
):
    logged = logged_models(mlflow_client, children)
    trained = {run.info.run_name for run in children if run.data.params["model"] != "pca"}  # PCA: no network
    assert set(logged) == trained
    prompted = ModelDataset(str(project / "data/06_models/generative/text_to_image.pt")).load()
    for model, saved in prompted.items():  # the prompted generator and its unprompted control
        assert_holds_the_catalogs_weights(
            logged[f"text_to_image-{model}"], saved, mlflow_client.tracking_uri, "prompted_generator"
        )
    for dataset in DATASETS:
        saved = ModelDataset(str(project / f"data/06_models/generative/{dataset}.pt")).load()
        for model in GENERATORS:
            assert logged[f"{model}-{dataset}"].tags[WEIGHTS_HASH_TAG] == weights_hash(saved[model].module)
        if dataset == "ring":  # every generator loaded as MLflow loads it, on one dataset
            for model in GENERATORS:
                assert_holds_the_catalogs_weights(
                    logged[f"{model}-{dataset}"], saved[model], mlflow_client.tracking_uri, "generator"
                )
    autoencoders = ModelDataset(str(project / "data/06_models/generative/autoencoders.pt")).load()
    for run in children:
        model = run.data.params["model"]
        if model in {"linear_ae", "autoencoder"}:
            saved = autoencoders[model_key(model, int(run.data.params["latent_dim"]))]
            assert logged[run.info.run_name].tags[WEIGHTS_HASH_TAG] == weights_hash(saved.module)
    first = next(run for run in children if run.data.params["model"] == "autoencoder")
    saved = autoencoders[model_key("autoencoder", int(first.data.params["latent_dim"]))]
    assert_holds_the_catalogs_weights(
        logged[first.info.run_name], saved, mlflow_client.tracking_uri, "autoencoder"
    )
