"""Limited data, measured: the configurations retrained on nested subsets of the training images.

"Prone to overfitting with limited data." Each share of ``cnn.data_size.shares`` is a
stratified subset of the training split, drawn once, every smaller subset inside the larger
ones; the configurations (the CNN and the MLP of the same size) train on it with every seed
as one ensemble, by the sweep's loop and settings but without the shifted copies (they would
add images: the size is the size). A subset gets the sweep's epochs, or more when that would
be fewer than ``min_steps`` optimizer steps, so that a small subset is fitted, not left
half-trained. Per seed, the train–test gap (accuracy on the subset's own images minus accuracy
on the whole test split) and the test accuracy say how each configuration fares with less data.
"""

import dataclasses
import math

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.digits import table_to_images
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn.params import DataSizeParams, ExperimentParams, TrainingParams
from dlpipeline.pipelines.cnn.train import (
    ConfigurationTask,
    TrainingData,
    as_tensors,
    train_ensemble,
)
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun
from dlpipeline.training import TrainConfig, predict, with_fixed_threads

STUDY = "data_size"
SMALLEST, LARGEST, BETWEEN = "smallest", "largest", "between"
"""The ``subset`` column: which end of the sweep a row is at (claims select the ends by name)."""


def nested_subsets(labels: np.ndarray, shares: list[float], seed: int) -> dict[float, np.ndarray]:
    """Per share, the sorted indices of a stratified subset of ``labels``; each subset holds the smaller ones.

    Every class is shuffled once (``seed``) and each subset takes the first
    ``max(1, round(share × class size))`` images of every class.
    """
    generator = np.random.default_rng(seed)
    orders = {label: generator.permutation(np.flatnonzero(labels == label)) for label in np.unique(labels)}
    return {
        share: np.sort(
            np.concatenate([order[: max(1, round(share * len(order)))] for order in orders.values()])
        )
        for share in shares
    }


def epochs_for(n_images: int, batch_size: int | None, epochs: int, min_steps: int) -> int:
    """``epochs``, or more if that many epochs over ``n_images`` take fewer than ``min_steps`` steps."""
    batches = 1 if batch_size is None else math.ceil(n_images / batch_size)
    return max(epochs, math.ceil(min_steps / batches))


def subset_label(share: float, shares: list[float]) -> str:
    """``smallest`` or ``largest`` for the ends of the sweep, ``between`` for the rest."""
    return SMALLEST if share == shares[0] else LARGEST if share == shares[-1] else BETWEEN


def size_key(name: str, share: float) -> str:
    """The name of one trained ensemble: configuration and share (``cnn@0.05``)."""
    return f"{name}@{share:g}"


def subset_train_config(train: TrainConfig, n_images: int, size: DataSizeParams) -> TrainConfig:
    """The sweep's training settings for a subset of ``n_images``: enough epochs for ``min_steps``."""
    epochs = epochs_for(n_images, train.batch_size, train.epochs, size.min_steps)
    return with_fixed_threads(train).model_copy(update={"epochs": epochs})


def train_sizes(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    size: DataSizeParams,
) -> dict[str, TrainedModule]:
    """Every configuration of ``size.configurations`` trained on every subset, all seeds as one ensemble."""
    check_configurations(size.configurations, experiments, "cnn.data_size.configurations")
    images, labels = table_to_images(train_images)
    val = as_tensors(*table_to_images(val_images))
    trained = {}
    for share, indices in nested_subsets(labels, size.shares, size.seed).items():
        data = TrainingData(*as_tensors(images[indices], labels[indices]), *val)
        train = subset_train_config(training.train, len(indices), size)
        for name in size.configurations:
            key = size_key(name, share)
            task = ConfigurationTask(
                f"data_size: {key}",
                experiments.architectures[name],
                tuple(experiments.seeds),
                train,
                "none",
                validate=False,
            )
            trained[key] = train_ensemble(data, task)
    return trained


def train_test_rows(
    trained: TrainedModule, subset: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]
) -> list[dict[str, float | int]]:
    """Per member: its seed, accuracy on its training subset and on the test split, and the gap.

    ``subset`` and ``test`` are ``(inputs, labels)``, the inputs shaped as the ensemble takes them.
    """
    seeds = trained.trained_record.seeds
    train_accuracy, test_accuracy = (member_accuracy(trained, *split) for split in (subset, test))
    return [
        {
            "seed": seed,
            "train_accuracy": round(float(train), 6),
            "test_accuracy": round(float(tested), 6),
            "train_test_gap": round(float(train - tested), 6),
        }
        for seed, train, tested in zip(seeds, train_accuracy, test_accuracy, strict=True)
    ]


def member_accuracy(trained: TrainedModule, inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Every member's share of ``inputs`` classified as ``labels``."""
    logits = predict(trained.module, torch.tensor(inputs, dtype=torch.float32), "cpu")
    return (logits.argmax(dim=-1).numpy() == labels).mean(axis=1)


def size_table(
    models: dict[str, TrainedModule],
    train_images: pd.DataFrame,
    test_images: pd.DataFrame,
    size: DataSizeParams,
) -> pd.DataFrame:
    """One row per configuration, share and seed: training images, accuracies and the train–test gap.

    Columns ``configuration``, ``share``, ``subset`` (``smallest`` / ``between`` / ``largest``),
    ``n_train``, ``epochs``, ``seed``, ``train_accuracy``, ``test_accuracy``, ``train_test_gap``.
    """
    images, labels = table_to_images(train_images)
    test_x, test_y = table_to_images(test_images)
    test = (test_x[:, None], test_y)
    rows = []
    for share, indices in nested_subsets(labels, size.shares, size.seed).items():
        for name in size.configurations:
            trained = models[size_key(name, share)]
            head = {
                "configuration": name,
                "share": share,
                "subset": subset_label(share, size.shares),
                "n_train": len(indices),
                "epochs": trained.trained_record.epochs,
            }
            subset = (images[indices, None], labels[indices])
            rows += [{**head, **row} for row in train_test_rows(trained, subset, test)]
    return pd.DataFrame(rows)


def size_child_runs(
    models: dict[str, TrainedModule], table: pd.DataFrame, test_images: pd.DataFrame
) -> list[ChildRun]:
    """One MLflow child run per configuration and share (``study``: ``data_size``), its ensemble as a model.

    Metrics are medians over seeds of the table's accuracies and gap.
    """
    images, _ = table_to_images(test_images)
    runs = []
    for (name, share), rows in table.groupby(["configuration", "share"], sort=False):
        trained = models[size_key(str(name), float(share))]
        content = RunContent(
            params={
                "study": STUDY,
                "configuration": str(name),
                "share": float(share),
                "n_train": int(rows["n_train"].iloc[0]),
            },
            metrics={column: float(np.median(rows[column])) for column in ACCURACIES},
        )
        run = child_run(
            f"{STUDY}-{size_key(str(name), float(share))}", trained.trained_record, trained.timing, content
        )
        runs.append(dataclasses.replace(run, model=served_model(trained, images[:, None])))
    return runs


ACCURACIES = ("train_accuracy", "test_accuracy", "train_test_gap")


def check_configurations(names: list[str], experiments: ExperimentParams, key: str) -> None:
    """Every configuration named under ``key`` is one the sweep defines."""
    missing = [name for name in names if name not in experiments.configurations]
    if missing:
        raise ValueError(
            f"{key} names {missing}, which the sweep does not define: "
            f"choose from {sorted(experiments.configurations)}"
        )


def plot_size_study(table: pd.DataFrame) -> Figure:
    """The limited-data study: train–test gap and test accuracy against the training images."""
    return plot_against_size(table, "configuration", ("train_test_gap", "test_accuracy"))


def plot_against_size(table: pd.DataFrame, by: str, columns: tuple[str, ...]) -> Figure:
    """Each of ``columns`` against the training images, a line per ``by``: seeds as dots, medians joined."""
    figure = Figure(figsize=(5.0 * len(columns), 3.8), layout="constrained")
    for axes, column in zip(figure.subplots(1, len(columns), squeeze=False)[0], columns, strict=True):
        for name, rows in table.groupby(by, sort=False):
            medians = rows.groupby("n_train")[column].median()
            (line,) = axes.plot(medians.index, medians.to_numpy(), marker="o", label=str(name))
            axes.scatter(rows["n_train"], rows[column], s=10, alpha=0.4, color=line.get_color())
        axes.set_xscale("log")
        axes.set_xlabel("training images (log scale)")
        axes.set_ylabel(column.replace("_", " "))
        axes.grid(alpha=0.3)
        axes.legend()
    return figure
