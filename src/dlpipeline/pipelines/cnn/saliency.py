"""The CNN's "Difficult to interpret (“black box”)", measured: do its explanations agree across seeds.

A saliency map says which pixels a model's answer rests on: the size of the gradient of the
log-probability of the true digit with respect to each pixel. A model whose reasons can be
read gives the same map whichever seed trained it, as long as the seeds give the same answers;
a black box gives each seed's own. So, per seed, the **agreement** is the correlation between
that seed's map of a test digit and every other seed's map of it, averaged over the test
digits and the other seeds. The control is a softmax regression on the raw pixels, the model
whose weights are its explanation, trained through the same loop, seeds and batches.

Whether the maps are worth reading at all is checked by **deletion**: each digit's most
salient pixels (by the model's own map) are blanked in steps, against blanking them in a
random order; a faithful map loses accuracy faster.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.digits import table_to_images
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import LinearEnsemble
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.pipelines.cnn.params import ExperimentParams, SaliencyParams, TrainingParams
from dlpipeline.pipelines.cnn.train import as_tensors, training_tensors
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun
from dlpipeline.training import train_configuration, with_fixed_threads

LINEAR = "linear"
"""The model label of the softmax regression on raw pixels (the control)."""
ORDERS = ("salient", "random")


@dataclass(frozen=True)
class Explained:
    """One model's saliency maps of the test digits, every seed: what the tables and figures read."""

    model: str
    seeds: tuple[int, ...]
    maps: np.ndarray
    """``(seeds, n, rows, cols)``: |d log p(true digit) / d pixel|."""
    deletion: pd.DataFrame
    """Rows ``seed, order, fraction, accuracy``."""


def train_linear(
    train_images: pd.DataFrame, experiments: ExperimentParams, training: TrainingParams
) -> dict[str, TrainedModule]:
    """The control: softmax regressions on the raw pixels, every seed, trained as the networks are.

    Returned as ``{"linear": model}``: the catalog writes every model file as a mapping.
    """
    features, targets = training_tensors(train_images, training)
    in_shape = tuple(features.shape[1:])
    model = train_configuration(
        functools.partial(
            TrainedModule.build, LinearEnsemble, in_shape=in_shape, n_classes=10, seeds=experiments.seeds
        ),
        features,
        targets,
        ensemble_cross_entropy,
        with_fixed_threads(training.train),
        experiments.seeds,
        "saliency: linear control",
        members=len(experiments.seeds),
    )
    return {LINEAR: model}


def saliency_maps(module: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """|gradient of each member's log-probability of ``labels``| per pixel: ``(members, n, rows, cols)``."""
    members = module(images[:1]).shape[0]
    own = images.unsqueeze(0).expand(members, *images.shape).clone().requires_grad_(True)
    log_probabilities = torch.log_softmax(module(own), dim=-1)
    chosen = log_probabilities.gather(-1, labels.expand(members, -1).unsqueeze(-1)).sum()
    (gradient,) = torch.autograd.grad(chosen, own)
    return gradient.abs()[:, :, 0]


def map_agreement(maps: np.ndarray) -> np.ndarray:
    """Per seed: the mean correlation of its map of a digit with every other seed's map of that digit.

    ``maps`` is ``(seeds, n, rows, cols)``; averaged over digits and the other seeds.
    """
    flat = maps.reshape(maps.shape[0], maps.shape[1], -1)
    centred = flat - flat.mean(axis=-1, keepdims=True)
    unit = centred / np.maximum(np.linalg.norm(centred, axis=-1, keepdims=True), 1e-12)
    correlation = np.einsum("ind,jnd->ijn", unit, unit).mean(axis=-1)
    n_seeds = len(maps)
    return (correlation.sum(axis=1) - np.diagonal(correlation)) / (n_seeds - 1)


@torch.no_grad()
def deletion_curve(
    module: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    maps: torch.Tensor,
    fractions: list[float],
    seeds: tuple[int, ...],
) -> pd.DataFrame:
    """Accuracy as each digit's pixels are blanked, most salient first or in a random order (per seed)."""
    members, n = maps.shape[:2]
    flat_maps = maps.reshape(members, n, -1)
    n_pixels = flat_maps.shape[-1]
    salient_rank = flat_maps.argsort(dim=-1, descending=True)
    random_rank = torch.stack(
        [
            torch.rand(n, n_pixels, generator=torch.Generator().manual_seed(seed)).argsort(dim=-1)
            for seed in seeds
        ]
    )
    rows = []
    for order, rank in zip(ORDERS, (salient_rank, random_rank), strict=True):
        for fraction in fractions:
            blanked = images.flatten(1).expand(members, n, n_pixels).clone()
            blanked.scatter_(-1, rank[..., : round(fraction * n_pixels)], 0.0)
            predictions = module(blanked.reshape(members, *images.shape)).argmax(-1)
            accuracy = (predictions == labels).float().mean(dim=1)
            rows += [
                {"seed": seed, "order": order, "fraction": fraction, "accuracy": round(float(accuracy[m]), 6)}
                for m, seed in enumerate(seeds)
            ]
    return pd.DataFrame(rows)


def explain(
    label: str, trained: TrainedModule, test_images: pd.DataFrame, fractions: list[float]
) -> Explained:
    """One model's maps of every test digit and its deletion curves, every seed."""
    module = trained.module.cpu().eval()
    images, labels = as_tensors(*table_to_images(test_images))
    seeds = trained.trained_record.seeds
    maps = saliency_maps(module, images, labels)
    return Explained(
        label, seeds, maps.numpy(), deletion_curve(module, images, labels, maps, fractions, seeds)
    )


def explain_models(
    models: dict[str, TrainedModule],
    linear: dict[str, TrainedModule],
    test_images: pd.DataFrame,
    saliency: SaliencyParams,
) -> list[Explained]:
    """The maps and deletion curves of the configurations ``saliency.configurations`` and of the control."""
    missing = [name for name in saliency.configurations if name not in models]
    if missing:
        raise ValueError(
            f"cnn.saliency.configurations names {missing}, which the sweep did not train: "
            f"choose from {sorted(models)}"
        )
    chosen = {name: models[name] for name in saliency.configurations} | linear
    return [
        explain(name, trained, test_images, saliency.deletion_fractions) for name, trained in chosen.items()
    ]


def agreement_table(explained: list[Explained]) -> pd.DataFrame:
    """One row per model and seed: map agreement across seeds, and the deletion curves' mean accuracy.

    ``deletion_salient`` and ``deletion_random`` are the mean accuracy over the blanked fractions
    (the area under each deletion curve, per unit of fraction): lower means the pixels mattered.
    """
    rows = []
    for one in explained:
        agreement = map_agreement(one.maps)
        areas = one.deletion.groupby(["seed", "order"]).accuracy.mean().unstack()
        for member, seed in enumerate(one.seeds):
            rows.append(
                {
                    "model": one.model,
                    "seed": seed,
                    "agreement": round(float(agreement[member]), 6),
                    "deletion_salient": round(float(areas.loc[seed, "salient"]), 6),
                    "deletion_random": round(float(areas.loc[seed, "random"]), 6),
                }
            )
    return pd.DataFrame(rows)


def deletion_table(explained: list[Explained]) -> pd.DataFrame:
    """Every model's deletion curves: rows ``model, seed, order, fraction, accuracy``."""
    return pd.concat([one.deletion.assign(model=one.model) for one in explained], ignore_index=True)[
        ["model", "seed", "order", "fraction", "accuracy"]
    ]


def saliency_child_runs(
    table: pd.DataFrame, linear: dict[str, TrainedModule], test_images: pd.DataFrame
) -> list[ChildRun]:
    """One MLflow child run per model (param ``study``: ``saliency``): mean agreement and deletion areas.

    The linear control, the one network this study trains, is logged as its run's MLflow model
    (test digits as the input example); the sweep's configurations are logged by their own runs.
    """
    images, _ = table_to_images(test_images)
    return [
        ChildRun(
            name=f"saliency-{model}",
            params={"study": "saliency", "model": str(model), "n_seeds": len(rows)},
            metrics={
                column: float(rows[column].mean())
                for column in ("agreement", "deletion_salient", "deletion_random")
            },
            model=served_model(linear[LINEAR], images[:, None]) if model == LINEAR else None,
        )
        for model, rows in table.groupby("model", sort=False)
    ]


def plot_saliency_maps(
    explained: list[Explained], test_images: pd.DataFrame, saliency: SaliencyParams
) -> Figure:
    """The first test digits, then each model's maps of them from two seeds (do the seeds agree)."""
    images, labels = table_to_images(test_images)
    shown = saliency.shown_images
    rows = [("digit", images[:shown], "gray_r")]
    for one in explained:
        typical = median_seed_index(map_agreement(one.maps))
        other = (typical + 1) % len(one.seeds)
        for member in (typical, other):
            rows.append((f"{one.model}\nseed {one.seeds[member]}", one.maps[member, :shown], "magma"))
    figure = Figure(figsize=(1.1 * shown + 1.6, 1.1 * len(rows) + 0.6), layout="constrained")
    axes = figure.subplots(len(rows), shown, squeeze=False)
    for row_axes, (label, pictures, colours) in zip(axes, rows, strict=True):
        for column, ax in enumerate(row_axes):
            ax.imshow(pictures[column], cmap=colours)
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    for column, ax in enumerate(axes[0]):
        ax.set_title(str(int(labels[column])), fontsize=9)
    figure.suptitle(
        "Saliency |d log p(digit) / d pixel|: two seeds of each model (bright: the answer rests there)"
    )
    return figure


def plot_deletion(table: pd.DataFrame) -> Figure:
    """Accuracy against the share of pixels blanked, most salient first and at random, per model."""
    models = list(dict.fromkeys(table["model"]))
    figure = Figure(figsize=(4.2 * len(models), 3.8), layout="constrained")
    for ax, model in zip(figure.subplots(1, len(models), squeeze=False)[0], models, strict=True):
        for order, style in zip(ORDERS, ("-", "--"), strict=True):
            rows = table[(table["model"] == model) & (table["order"] == order)]
            for seed, curve in rows.groupby("seed"):
                ax.plot(
                    curve["fraction"],
                    curve["accuracy"],
                    style,
                    color="C0" if order == "salient" else "C1",
                    alpha=0.6,
                    label=order if seed == rows["seed"].min() else None,
                )
        ax.set_xlabel("share of pixels blanked")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(model)
        ax.legend(fontsize=8)
    figure.suptitle("Deletion: blanking the most salient pixels first against a random order (every seed)")
    return figure
