"""Reporting of the generative experiment: summary tables, DVC's headline metrics, MLflow child runs."""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.common import RunContent, child_run, over_seeds
from dlpipeline.pipelines.generative.autoencoders import (
    AUTOENCODERS,
    PcaBaselines,
    autoencoder_codes,
    model_key,
)
from dlpipeline.pipelines.generative.evaluation import BASELINE, FLOOR, REFERENCE
from dlpipeline.pipelines.generative.params import AutoencoderParams
from dlpipeline.pipelines.generative.plots import digit_rows_figure, plot_samples
from dlpipeline.pipelines.generative.training import Samples, TrainedModels, data_matrix
from dlpipeline.records import Timing, TrainingRecord
from dlpipeline.served import latent_example, served_model
from dlpipeline.tracking import ChildRun

VALIDATION_METRIC = "val_reconstruction_mse"
"""An autoencoder's mean squared error per pixel on the validation digits (the registry's ``rank_by``)."""
HEADLINE_CODE_SIZE = 8
"""The code size whose autoencoder figures DVC's metrics quote (the middle of the sweep)."""


def generator_scores(digits: pd.DataFrame, ring: pd.DataFrame, moons: pd.DataFrame) -> pd.DataFrame:
    """Every dataset's scores in one seed-by-seed table."""
    return pd.concat([digits, ring, moons], ignore_index=True)


def generator_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """``dataset, model, metric``: the median over seeds, its min and max, and how many seeds."""
    grouped = scores.groupby(["dataset", "model", "metric"], sort=False)["value"]
    summary = grouped.agg(median="median", min="min", max="max", n_seeds="count").reset_index()
    return summary.astype({"n_seeds": "int64"})


UNIT_COLUMNS = ["dataset", "model", "draw", "seed"]


def generator_units(scores: pd.DataFrame) -> pd.DataFrame:
    """``dataset, model, draw, seed, metric``: each generator's score beside its unit's baseline and floor.

    One row per generator, unit (a seed, on its draw of the data) and metric that has a
    baseline: the claims pair a generator with the trivial sampler of the same unit.
    """
    references = scores[scores["model"] == REFERENCE]
    generated = scores[scores["model"] != REFERENCE]
    keys = ["dataset", "draw", "seed", "metric"]
    sides = []
    for suffix, column in ((BASELINE, "baseline"), (FLOOR, "floor")):
        rows = references[references["metric"].str.endswith(suffix)]
        named = rows.assign(metric=rows["metric"].str.removesuffix(suffix))
        sides.append(named[[*keys, "value"]].rename(columns={"value": column}))
    units = generated.merge(sides[0], on=keys, how="inner", validate="many_to_one")
    units = units.merge(sides[1], on=keys, how="left", validate="many_to_one")
    return units[[*UNIT_COLUMNS, "metric", "value", "baseline", "floor"]].reset_index(drop=True)


def autoencoder_units(table: pd.DataFrame) -> pd.DataFrame:
    """One row per autoencoder, code size and seed, beside PCA at the same code size and the raw pixels.

    PCA has no seed (one exact fit), so every seed of a code size is paired with the same PCA
    codes; ``pixels_downstream_accuracy`` is the same logistic regression on all 64 pixels.
    """
    pca = table[table["model"] == "pca"].set_index("latent_dim")
    pixels_accuracy = float(table.loc[table["model"] == "pixels", "downstream_accuracy"].iloc[0])
    learned = table[table["model"].isin(list(AUTOENCODERS))].copy()
    for metric in ("reconstruction_mse", "downstream_accuracy"):
        learned[f"pca_{metric}"] = learned["latent_dim"].map(pca[metric]).astype(float)
    learned["pixels_downstream_accuracy"] = pixels_accuracy
    columns = ["model", "latent_dim", "seed", "reconstruction_mse", "pca_reconstruction_mse"]
    columns += ["downstream_accuracy", "pca_downstream_accuracy", "pixels_downstream_accuracy"]
    return learned[columns].reset_index(drop=True)


def autoencoder_summary(table: pd.DataFrame) -> pd.DataFrame:
    """``model, latent_dim``: median, min and max over seeds of the reconstruction error and accuracy."""
    summaries = []
    for (model, latent_dim), rows in table.groupby(["model", "latent_dim"], sort=False):
        summary = {"model": model, "latent_dim": int(latent_dim), "n_seeds": len(rows)}
        for metric in ("reconstruction_mse", "downstream_accuracy"):
            values = over_seeds(metric, rows[metric])
            summary |= {key: values[key] for key in (metric, f"{metric}_min", f"{metric}_max")}
        summaries.append(summary)
    return pd.DataFrame(summaries)


def headline_metrics(generators: pd.DataFrame, autoencoders: pd.DataFrame) -> dict[str, dict]:
    """A dozen figures for ``dvc metrics show``: autoencoders vs PCA at one code size, FD and modes."""
    median = generators.set_index(["dataset", "model", "metric"])["median"]
    size = (
        HEADLINE_CODE_SIZE
        if HEADLINE_CODE_SIZE in set(autoencoders["latent_dim"])
        else autoencoders["latent_dim"].max()
    )
    by_model = autoencoders[autoencoders["latent_dim"] == size].set_index("model")
    return {
        f"autoencoders_code_{size}": {
            f"{metric}.{model}": float(by_model.loc[model, metric])
            for metric in ("reconstruction_mse", "downstream_accuracy")
            for model in ("pca", "autoencoder")
        },
        "digits_fd": {
            **{model: float(median["digits", model, "fd"]) for model in ("vae", "gan", "diffusion")},
            "floor": float(median["digits", REFERENCE, "fd_floor"]),
            "baseline": float(median["digits", REFERENCE, "fd_baseline"]),
        },
        "ring_modes_covered": {
            model: float(median["ring", model, "modes_covered"]) for model in ("vae", "gan", "diffusion")
        },
    }


def generator_child_runs(
    models: TrainedModels, samples: Samples, scores: pd.DataFrame, test: pd.DataFrame
) -> list[ChildRun]:
    """One child run per generator of this dataset: medians over seeds, spread, floor and baseline."""
    references = (
        scores[scores["model"] == REFERENCE].groupby("metric", sort=False)["value"].median().to_dict()
    )
    runs = []
    for model, trained in models.items():
        rows = scores[scores["model"] == model]
        measured = {}
        for metric, values in rows.groupby("metric", sort=False)["value"]:
            measured |= over_seeds(metric, values.to_numpy())
        only_this = Samples(
            samples.dataset, samples.seeds, {model: samples.by_model[model]}, {}, samples.draws
        )
        params = {"model": model, "dataset": samples.dataset}
        if "latent_dim" in trained.kwargs:
            params["latent_dim"] = trained.kwargs["latent_dim"]
        if "n_steps" in trained.kwargs:
            params["n_steps"] = trained.kwargs["n_steps"]
        content = RunContent(
            params=params,
            metrics={**measured, **references},
            histories=_loss_histories(trained.trained_history.loss.numpy()),
            figures={"samples.png": plot_samples(only_this, test)},
            model=served_model(trained, generator_example(trained), "generator"),
        )
        runs.append(child_run(f"{model}-{samples.dataset}", trained.trained_record, trained.timing, content))
    return runs


def generator_example(trained: TrainedModule) -> np.ndarray:
    """A generator's input example: standard-normal codes (VAE, GAN) or starting noise (diffusion)."""
    kwargs = trained.kwargs
    return latent_example(int(kwargs["latent_dim"] if "latent_dim" in kwargs else kwargs["n_features"]))


def _loss_histories(loss: np.ndarray) -> dict[str, list[float]]:
    """The first seed's loss per epoch (the GAN's two players apart)."""
    loss = np.asarray(loss)
    if loss.ndim == 3:
        return {"discriminator_loss": loss[:, 0, 0].tolist(), "generator_loss": loss[:, 0, 1].tolist()}
    return {"loss": loss[:, 0].tolist()}


def autoencoder_child_runs(
    models: TrainedModels,
    table: pd.DataFrame,
    pca_baselines: PcaBaselines,
    pca_fit_seconds: dict[int, float],
    test: pd.DataFrame,
    autoencoders: AutoencoderParams,
    validation: Mapping[str, float] | None = None,
) -> list[ChildRun]:
    """One child run per method and code size: PCA, the linear and the ReLU autoencoder.

    ``validation`` holds each autoencoder run's score on the validation digits, by run name
    (:func:`~dlpipeline.pipelines.generative.champion.validation_reconstruction`): the registry ranks by it.
    """
    images = data_matrix(test)[: autoencoders.grid_images]
    runs = []
    for (model, latent_dim), rows in table[table["model"] != "pixels"].groupby(
        ["model", "latent_dim"], sort=False
    ):
        measured = over_seeds("reconstruction_mse", rows["reconstruction_mse"])
        measured |= over_seeds("downstream_accuracy", rows["downstream_accuracy"])
        name = f"{model}-{latent_dim}-digits"
        if validation is not None and name in validation:
            measured[VALIDATION_METRIC] = validation[name]
        if model in AUTOENCODERS:
            trained = models[model_key(model, int(latent_dim))]
            record, timing = trained.trained_record, trained.timing
            histories = {"loss": trained.trained_history.loss.numpy()[:, 0].tolist()}
            reconstructed = autoencoder_codes(trained, images)[1][0]
            served = served_model(trained, images, "autoencoder")
        else:  # PCA: one exact fit, no optimiser; its time is the fit's own
            pca = pca_baselines[int(latent_dim)]
            timing = Timing(train_seconds=pca_fit_seconds[int(latent_dim)])
            record = TrainingRecord(
                seeds=(autoencoders.seeds[0],),
                epochs=0,
                epochs_run=0,
                learning_rate=0.0,
                batch_size=int(pca.n_samples_),
                optimizer="svd",
                n_train=int(pca.n_samples_),
                n_params=int(latent_dim) * (images.shape[1] + 1),
            )
            histories = {}
            served = None  # PCA trains no network
            reconstructed = pca.inverse_transform(pca.transform(images))
        figure = digit_rows_figure(
            {"original": images, f"{model} {latent_dim}": np.clip(reconstructed, 0, 1)},
            f"{model}, code size {latent_dim}: test reconstructions",
        )
        content = RunContent(
            params={"model": model, "dataset": "digits", "latent_dim": int(latent_dim)},
            metrics=measured,
            histories=histories,
            figures={"reconstructions.png": figure},
            model=served,
        )
        runs.append(child_run(name, record, timing, content))
    return runs
