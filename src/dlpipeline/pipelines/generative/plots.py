"""Figures of the generative experiment: codes, reconstructions, samples beside the real data.

Digits are drawn as 8×8 ink on white on one fixed scale, so a blurry or noisy sample looks it;
2-D sets as scatter plots on the real data's axes.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlpipeline.figures.curves import draw_curves
from dlpipeline.figures.images import image_rows_figure
from dlpipeline.figures.over_seeds import Reference, SeedSpread, draw_seed_strip, draw_spread_over_seeds
from dlpipeline.pipelines.generative.autoencoders import (
    AUTOENCODERS,
    PcaBaselines,
    autoencoder_codes,
    denoising_examples,
    model_key,
)
from dlpipeline.pipelines.generative.evaluation import REFERENCE
from dlpipeline.pipelines.generative.params import AutoencoderParams
from dlpipeline.pipelines.generative.training import (
    GENERATOR_NAMES,
    Samples,
    TrainedModels,
    data_matrix,
    rows_of_draw,
)

DIGIT_SIDE = 8
SCATTER_POINTS = 1000  # points drawn per panel: enough to see the shape, few enough to see density


def digit_rows_figure(rows: Mapping[str, np.ndarray], title: str) -> Figure:
    """One labelled row of 8×8 digits per entry (``(n, 64)`` pixels in [0, 1]), ink on one scale."""
    digits = {label: list(np.reshape(images, (-1, DIGIT_SIDE, DIGIT_SIDE))) for label, images in rows.items()}
    return image_rows_figure(digits, title, ink_range=(0.0, 1.0))


def _scatter(ax: Axes, points: np.ndarray, title: str, limits: np.ndarray, colour: str = "C0") -> None:
    """Up to :data:`SCATTER_POINTS` points on fixed axes."""
    shown = points[:SCATTER_POINTS]
    ax.scatter(shown[:, 0], shown[:, 1], s=3, alpha=0.5, color=colour)
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def _limits(points: np.ndarray) -> np.ndarray:
    """Axis limits around ``points`` with a margin: ``[[x_min, x_max], [y_min, y_max]]``."""
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.15 * (high - low)
    return np.stack([low - margin, high + margin], axis=1)


def plot_samples(samples: Samples, test: pd.DataFrame) -> Figure:
    """Every seed's samples of every generator beside the real test data (of the seed's draw)."""
    real = data_matrix(test)
    if samples.dataset == "digits":
        rows = {"real (test)": real[:12]}
        for model, drawn in samples.by_model.items():
            for seed, seed_samples in zip(samples.seeds, drawn, strict=True):
                rows[f"{model} seed {seed}"] = seed_samples[:12]
        return digit_rows_figure(rows, "digits: samples of every generator and seed beside real test images")
    limits = _limits(real)
    models = list(samples.by_model)
    figure = Figure(figsize=(2.4 * (len(models) + 1), 2.4 * len(samples.seeds) + 0.6), layout="constrained")
    axes = figure.subplots(len(samples.seeds), len(models) + 1, squeeze=False)
    for row, seed in enumerate(samples.seeds):
        draw = samples.draws[row] if samples.draws else None
        label = "real (test)" if draw is None else f"real (test, draw {draw})"
        _scatter(axes[row, 0], data_matrix(rows_of_draw(test, draw)), label, limits, "grey")
        for column, model in enumerate(models, start=1):
            _scatter(axes[row, column], samples.by_model[model][row], f"{model}, seed {seed}", limits)
    figure.suptitle(f"{samples.dataset}: samples of every generator and seed beside the real data")
    return figure


def plot_gan_losses(models: TrainedModels) -> Figure:
    """The GAN's discriminator and generator losses per epoch, every seed."""
    gan = models["gan"]
    loss = gan.trained_history.loss.numpy()  # (epochs, seeds, 2)
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, (player, index) in zip(axes, [("discriminator", 0), ("generator", 1)], strict=True):
        per_seed = {
            f"seed {seed}": loss[:, member, index] for member, seed in enumerate(gan.trained_record.seeds)
        }
        draw_curves(ax, per_seed, ylabel=f"{player} loss", log=False)
    axes[0].axhline(2 * np.log(2), color="grey", linestyle="--", linewidth=1)  # D cannot tell: 2 ln 2
    figure.suptitle(f"{gan.about.dataset}: GAN losses (dashed: a discriminator that cannot tell, 2 ln 2)")
    return figure


def plot_trajectory(samples: Samples, test: pd.DataFrame) -> Figure:
    """The diffusion model's reverse process (first seed): from pure noise to data."""
    steps = sorted(samples.trajectory, reverse=True)
    if samples.dataset == "digits":
        rows = {f"t = {step}": samples.trajectory[step][0][:10] for step in steps}
        return digit_rows_figure(
            rows, "digits: the diffusion model's reverse process, noise (top) to samples"
        )
    first_draw = samples.draws[0] if samples.draws else None
    real = data_matrix(rows_of_draw(test, first_draw))
    limits = _limits(np.concatenate([real, samples.trajectory[steps[0]][0]]))
    figure = Figure(figsize=(2.4 * len(steps), 2.8), layout="constrained")
    axes = figure.subplots(1, len(steps), squeeze=False)[0]
    for ax, step in zip(axes, steps, strict=True):
        _scatter(ax, samples.trajectory[step][0], f"t = {step}", limits)
    figure.suptitle(f"{samples.dataset}: the diffusion model's reverse process, noise (left) to samples")
    return figure


def plot_latent_walk(models: TrainedModels, test: pd.DataFrame) -> Figure:
    """The VAE's decoder along straight lines between the codes of test images (first seed)."""
    vae = models["vae"]
    shift, scale = vae.about.shift, vae.about.scale
    images, labels = data_matrix(test), test["label"].to_numpy()
    firsts = [int(np.flatnonzero(labels == digit)[0]) for digit in range(10)]
    pairs = [(firsts[0], firsts[1]), (firsts[3], firsts[8]), (firsts[4], firsts[9]), (firsts[2], firsts[7])]
    weights = torch.linspace(0, 1, 10).unsqueeze(-1)
    rows = {}
    with torch.no_grad():
        means, _ = vae.module.eval().encode(torch.tensor((images - shift) / scale, dtype=torch.float32))
        for start, end in pairs:
            line = (1 - weights) * means[0, start] + weights * means[0, end]
            decoded = vae.module.decode(line)[0].numpy() * scale + shift
            rows[f"{labels[start]} → {labels[end]}"] = np.clip(decoded, 0, 1)
    return digit_rows_figure(rows, "digits: VAE latent walk between the codes of two test images")


def plot_autoencoder_comparison(table: pd.DataFrame) -> Figure:
    """Test reconstruction error and downstream accuracy by code size: PCA and the autoencoders."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots(1, 2)
    pixels = table[table["model"] == "pixels"]["downstream_accuracy"]
    on_pixels = [Reference(float(pixels.iloc[0]), "all 64 pixels")] if len(pixels) else []
    panels = [("reconstruction_mse", [], False), ("downstream_accuracy", on_pixels, True)]
    for ax, (metric, references, higher_is_better) in zip(axes, panels, strict=True):
        series = []
        for model in ["pca", *AUTOENCODERS]:
            by_size = table[table["model"] == model].groupby("latent_dim")[metric]
            series.append(
                SeedSpread(model, list(by_size.groups), [values.to_numpy() for _, values in by_size])
            )
        draw_spread_over_seeds(ax, series, references, higher_is_better)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("code size")
        ax.set_ylabel(metric)
    axes[0].set_title("test reconstruction error (dots: seeds)")
    axes[1].set_title("logistic regression on the codes: test accuracy")
    return figure


def plot_codes(
    models: TrainedModels, pca_baselines: PcaBaselines, test: pd.DataFrame, autoencoders: AutoencoderParams
) -> Figure:
    """The smallest codes of PCA and of the ReLU autoencoder (first seed), test digits coloured by label."""
    code_size = min(autoencoders.code_sizes)
    images, labels = data_matrix(test), test["label"].to_numpy()
    pca_codes = pca_baselines[code_size].transform(images)
    ae_codes, _ = autoencoder_codes(models[model_key("autoencoder", code_size)], images)
    figure = Figure(figsize=(10, 4.6), layout="constrained")
    axes = figure.subplots(1, 2)
    for ax, codes, name in zip(axes, [pca_codes, ae_codes[0]], ["PCA", "ReLU autoencoder"], strict=True):
        points = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
        ax.set_title(f"{name}: first two of {code_size} code dimensions")
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(points, ax=axes, ticks=range(10), label="digit")
    return figure


def plot_reconstructions(
    models: TrainedModels, pca_baselines: PcaBaselines, test: pd.DataFrame, autoencoders: AutoencoderParams
) -> Figure:
    """Test digits and their reconstructions by PCA and by the ReLU autoencoder at every code size."""
    images = data_matrix(test)[: autoencoders.grid_images]
    rows = {"original": images}
    for code_size in autoencoders.code_sizes:
        pca = pca_baselines[code_size]
        rows[f"pca {code_size}"] = np.clip(pca.inverse_transform(pca.transform(images)), 0, 1)
        _, reconstructed = autoencoder_codes(models[model_key("autoencoder", code_size)], images)
        rows[f"autoencoder {code_size}"] = np.clip(reconstructed[0], 0, 1)
    return digit_rows_figure(rows, "digits: reconstructions by code size (autoencoder: first seed)")


def plot_denoising(models: TrainedModels, test: pd.DataFrame, autoencoders: AutoencoderParams) -> Figure:
    """Noisy test digits in, the denoising autoencoder's output out."""
    examples = denoising_examples(models, test, autoencoders)
    rows = {"clean": examples["clean"], "noisy input": np.clip(examples["noisy"], 0, 1)}
    rows["denoised"] = np.clip(examples["denoised"], 0, 1)
    return digit_rows_figure(
        rows, f"digits: denoising autoencoder (noise std {autoencoders.denoising_noise})"
    )


def plot_comparison(results: pd.DataFrame) -> Figure:
    """Each dataset's headline metric for every generator and seed, beside its floor and baseline."""
    headline = {"digits": "fd", "ring": "modes_covered", "moons": "energy_distance"}
    figure = Figure(figsize=(12, 4), layout="constrained")
    axes = figure.subplots(1, len(headline))
    for ax, (dataset, metric) in zip(axes, headline.items(), strict=True):
        rows = results[results["dataset"] == dataset]
        scored = rows[rows["metric"] == metric]
        per_generator = [scored[scored["model"] == model]["value"].to_numpy() for model in GENERATOR_NAMES]
        draw_seed_strip(ax, GENERATOR_NAMES, {metric: per_generator}, _floor_and_baseline(rows, metric))
        ax.set_title(f"{dataset}: {metric}")
    figure.suptitle(
        "Generators by dataset (dots: seeds, bar: median; grey: real-data floor and trivial baseline)"
    )
    return figure


def _floor_and_baseline(rows: pd.DataFrame, metric: str) -> list[Reference]:
    """The floor (dashed) and baseline (dotted) of ``metric``: medians of one dataset's ``reference`` rows."""
    values = rows[rows["model"] == REFERENCE].groupby("metric")["value"].median()
    styles = {"floor": "--", "baseline": ":"}
    return [
        Reference(float(values[f"{metric}_{suffix}"]), suffix, style)
        for suffix, style in styles.items()
        if f"{metric}_{suffix}" in values
    ]
