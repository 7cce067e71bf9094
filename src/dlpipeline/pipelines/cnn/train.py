"""The CNN experiment's training and evaluation nodes: every configuration × seed, then its accuracy.

Every configuration (the baseline CNN, its dropout, pooling and filters variants, the MLP
baseline) is trained for every seed as one batched :class:`ConvNetEnsemble` by the shared
loop, which records the validation loss and accuracy after every epoch. The trained
ensembles are the catalog's ``cnn.models`` (``data/06_models/cnn/models.pt``), one per
configuration name; evaluation reads them back from there.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.digits import table_to_images, with_shifted_copies
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.pipelines.cnn.params import Architecture, ExperimentParams, TrainingParams
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.training import DeviceName, EpochEvaluator, fit, predict, resolve_device, seed_everything

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
HISTORIES = ("loss", "val_loss", "val_accuracy")
"""What every trained ensemble's ``info`` records per epoch, each ``(epochs, seeds)``."""


# --- training -------------------------------------------------------------------------


def train_configurations(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
) -> dict[str, TrainedModule]:
    """Train every configuration for every seed (one batched ensemble each) with the shared loop.

    Each configuration starts from the same global seed (dropout masks) and the same
    mini-batch order; its members differ by their initial weights, seeded per member.
    Returns the ensembles by configuration name, each with its ``seeds``, ``n_train``
    (training images after augmentation), ``train_seconds`` and per-epoch ``loss``,
    ``val_loss`` and ``val_accuracy`` in its ``info``.
    """
    features, targets = training_tensors(train_images, training)
    val_features, val_targets = as_tensors(*table_to_images(val_images))
    device = resolve_device(training.train.device)
    evaluate = _validation(val_features.to(device), val_targets.to(device))
    in_shape = tuple(features.shape[1:])
    n_classes = int(targets.max()) + 1
    trained = {}
    for index, (name, architecture) in enumerate(experiments.architectures.items(), start=1):
        spec = network_spec(architecture, in_shape, n_classes)
        seed_everything(experiments.first_seed)  # before the ensemble exists: dropout masks start alike
        ensemble = TrainedModule.build(ConvNetEnsemble, spec=spec, seeds=experiments.seeds)
        started = time.perf_counter()
        history = fit(
            ensemble.module,
            features,
            targets,
            ensemble_cross_entropy,
            training.train,
            seed=experiments.first_seed,
            description=name,
            evaluate_epoch=evaluate,
        )
        seconds = time.perf_counter() - started
        trained[name] = ensemble.with_info(
            seeds=list(experiments.seeds),
            n_train=len(features),
            train_seconds=seconds,
            loss=history.loss,
            **{key: history.evaluations[key] for key in HISTORIES[1:]},
        )
        logger.info(
            "[%d/%d] %s (%s params): %d seeds in %.1f s, median validation accuracy %.3f",
            index,
            len(experiments.configurations),
            name,
            f"{spec.n_params:,}",
            len(experiments.seeds),
            seconds,
            float(history.evaluations["val_accuracy"][-1].median()),
        )
    return trained


def training_tensors(
    train_images: pd.DataFrame, training: TrainingParams
) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images as tensors, with their shifted copies when ``augment`` is ``shifts``."""
    images, labels = table_to_images(train_images)
    if training.augment == "shifts":
        images, labels = with_shifted_copies(images, labels)
    return as_tensors(images, labels)


def as_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(n, rows, cols)`` as float32 ``(n, 1, rows, cols)``, labels as int64."""
    return torch.tensor(images, dtype=torch.float32).unsqueeze(1), torch.tensor(labels)


def network_spec(architecture: Architecture, in_shape: tuple[int, ...], n_classes: int) -> ConvNetSpec:
    """The network shape of a configuration; an MLP has no convolution blocks."""
    is_cnn = architecture.model == "cnn"
    return ConvNetSpec(
        in_shape=in_shape,
        n_classes=n_classes,
        filters=tuple(architecture.filters) if is_cnn else (),
        kernel_size=architecture.kernel_size,
        pooling=architecture.pooling,
        dense_units=architecture.dense_units,
        dropout=architecture.dropout,
    )


def _validation(features: torch.Tensor, labels: torch.Tensor) -> EpochEvaluator:
    """An epoch evaluator: every member's validation loss and accuracy."""

    def evaluate(model: torch.nn.Module) -> dict[str, torch.Tensor]:
        logits = model(features)
        return {
            "val_loss": ensemble_cross_entropy(logits, labels),
            "val_accuracy": (logits.argmax(dim=-1) == labels).float().mean(dim=1),
        }

    return evaluate


# --- evaluation -----------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigResult:
    """A trained configuration as the reports need it: how it was trained, its accuracy, its guesses."""

    name: str
    spec: ConvNetSpec
    seeds: tuple[int, ...]
    n_train: int
    """Training images the loop saw per epoch (after augmentation)."""
    train_seconds: float
    history: dict[str, torch.Tensor]
    """``loss``, ``val_loss`` and ``val_accuracy``, each ``(epochs, seeds)``."""
    accuracy: dict[str, np.ndarray]
    """Split (``train`` / ``val`` / ``test``) → accuracy of every seed."""
    test_predictions: np.ndarray
    """``(seeds, n_test)`` predicted classes."""

    @property
    def shown(self) -> int:
        """Index of the seed with the (lower) median test accuracy: a typical seed, not the best."""
        return median_seed_index(self.accuracy["test"])

    def median(self, split: str) -> float:
        """Median accuracy over seeds on ``split``."""
        return float(np.median(self.accuracy[split]))


def evaluate_configurations(
    models: dict[str, TrainedModule],
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    test_images: pd.DataFrame,
    training: TrainingParams,
) -> list[ConfigResult]:
    """Accuracy of every configuration and seed on the train, validation and test splits."""
    tables = dict(zip(SPLITS, (train_images, val_images, test_images), strict=True))
    labels = {split: table_to_images(table)[1] for split, table in tables.items()}
    results = []
    for name, trained in models.items():
        predictions = {
            split: member_predictions(trained.module, table, training.train.device)
            for split, table in tables.items()
        }
        results.append(
            ConfigResult(
                name=name,
                spec=trained.kwargs["spec"],
                seeds=tuple(trained.info["seeds"]),
                n_train=trained.info["n_train"],
                train_seconds=trained.info["train_seconds"],
                history={key: trained.info[key] for key in HISTORIES},
                accuracy={split: (predictions[split] == labels[split]).mean(axis=1) for split in SPLITS},
                test_predictions=predictions["test"],
            )
        )
    return results


def member_predictions(
    model: torch.nn.Module, images: pd.DataFrame, device: DeviceName = "cpu"
) -> np.ndarray:
    """Every member's predicted class for every image of the table: ``(members, n)``."""
    features, _ = as_tensors(*table_to_images(images))
    return predict(model, features, device).argmax(dim=-1).numpy()
