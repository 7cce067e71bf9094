"""Locality, measured: the CNN and the MLP retrained on digits whose pixels one permutation shuffled.

"Convolution: Local feature extraction via sliding filters." A convolution reads each pixel
with its neighbours; move every pixel to a fixed random place (the same place in every image,
so the information stays whole) and the neighbours are gone. An MLP reads the pixels in no
order: permuted, it is the same model with its first layer's rows swapped, and can lose
nothing. So per seed, the accuracy each configuration loses when trained and tested on the
permuted digits is the effect; the MLP's loss is the control.

The training images get their shifted copies before the permutation, so both runs see the
same pictures; the configurations train exactly as in the sweep (same seeds, loop, settings).
"""

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.digits import table_to_images
from dlpipeline.executor import IN_THIS_PROCESS, IsolatedExecutorParams, run_tasks
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn.params import ExperimentParams, PermutationParams, TrainingParams
from dlpipeline.pipelines.cnn.train import (
    ConfigurationTask,
    TrainingData,
    as_tensors,
    train_ensemble,
    training_tensors,
)
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, with_fixed_threads


def pixel_permutation(n_pixels: int, seed: int) -> torch.Tensor:
    """One fixed random order of ``n_pixels`` pixel positions, drawn from ``seed``."""
    return torch.randperm(n_pixels, generator=torch.Generator().manual_seed(seed))


def permuted(images: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Images ``(n, c, rows, cols)`` with pixel ``order[i]`` moved to position ``i``, in every image."""
    return images.flatten(-2)[..., order].reshape(images.shape)


def train_permuted(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    permutation: PermutationParams,
    executor: IsolatedExecutorParams = IN_THIS_PROCESS,
) -> dict[str, TrainedModule]:
    """The configurations of ``permutation.configurations``, trained as in the sweep on permuted digits."""
    _check_configurations(permutation, experiments)
    features, targets = training_tensors(train_images, training)
    val_features, val_targets = as_tensors(*table_to_images(val_images))
    order = pixel_permutation(features[0].numel(), permutation.seed)
    data = TrainingData(permuted(features, order), targets, permuted(val_features, order), val_targets)
    train = with_fixed_threads(training.train)
    tasks = {
        name: ConfigurationTask(
            f"{name} (permuted)",
            experiments.architectures[name],
            tuple(experiments.seeds),
            train,
            training.augment,
        )
        for name in permutation.configurations
    }
    return run_tasks(train_ensemble, data, tasks, executor)


def permutation_table(
    models: dict[str, TrainedModule],
    permuted_models: dict[str, TrainedModule],
    test_images: pd.DataFrame,
    permutation: PermutationParams,
) -> pd.DataFrame:
    """One row per configuration and seed: test accuracy on the digits as they are and permuted.

    Columns ``configuration``, ``seed``, ``test_accuracy``, ``permuted_test_accuracy`` and
    ``accuracy_lost`` (the first minus the second).
    """
    features, labels = as_tensors(*table_to_images(test_images))
    shuffled = permuted(features, pixel_permutation(features[0].numel(), permutation.seed))
    rows = []
    for name, trained in permuted_models.items():
        original = _member_accuracy(models[name].module, features, labels)
        after = _member_accuracy(trained.module, shuffled, labels)
        for member, seed in enumerate(trained.trained_record.seeds):
            rows.append(
                {
                    "configuration": name,
                    "seed": seed,
                    "test_accuracy": round(float(original[member]), 6),
                    "permuted_test_accuracy": round(float(after[member]), 6),
                    "accuracy_lost": round(float(original[member] - after[member]), 6),
                }
            )
    return pd.DataFrame(rows)


def permutation_child_runs(
    permuted_models: dict[str, TrainedModule],
    table: pd.DataFrame,
    test_images: pd.DataFrame,
    permutation: PermutationParams,
) -> list[ChildRun]:
    """One MLflow child run per configuration retrained on permuted digits (``study``: ``permutation``).

    Each logs its ensemble as the run's MLflow model, with permuted test digits (what it reads)
    as the input example.
    """
    features, _ = as_tensors(*table_to_images(test_images))
    shuffled = permuted(features, pixel_permutation(features[0].numel(), permutation.seed)).numpy()
    return [
        child_run(
            f"permutation-{name}",
            permuted_models[name].trained_record,
            permuted_models[name].timing,
            RunContent(
                params={"study": "permutation", "configuration": str(name)},
                metrics={column: float(np.median(rows[column])) for column in ACCURACIES},
                model=served_model(permuted_models[name], shuffled),
            ),
        )
        for name, rows in table.groupby("configuration", sort=False)
    ]


ACCURACIES = ("test_accuracy", "permuted_test_accuracy", "accuracy_lost")


def _member_accuracy(module: torch.nn.Module, features: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Every member's share of ``features`` classified as ``labels``."""
    return (predict(module, features, "cpu").argmax(dim=-1) == labels).float().mean(dim=1).numpy()


def _check_configurations(permutation: PermutationParams, experiments: ExperimentParams) -> None:
    """Every configuration to permute is one the sweep trains."""
    missing = [name for name in permutation.configurations if name not in experiments.configurations]
    if missing:
        raise ValueError(
            f"cnn.permutation.configurations names {missing}, which the sweep does not train: "
            f"choose from {sorted(experiments.configurations)}"
        )
