"""The CNN experiment's training and evaluation nodes: every configuration × seed, then its accuracy.

Every configuration (the baseline CNN, its dropout, pooling and filters variants, the MLP
baseline) is trained for every seed as one batched :class:`ConvNetEnsemble` by the shared
loop, which records the validation loss and accuracy after every epoch. The trained
ensembles are the catalog's ``cnn.models`` (``data/06_models/cnn/models.pt``), one per
configuration name; evaluation reads them back from there. Each configuration is one
task of :mod:`dlpipeline.executor`: trained here, or on a Dask cluster (``cnn.executor``).
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.digits import table_to_images, with_shifted_copies
from dlpipeline.executor import IN_THIS_PROCESS, IsolatedExecutorParams, run_tasks
from dlpipeline.models.checkpoint import OfTrainedModel, TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.pipelines.cnn.params import Architecture, ExperimentParams, TrainingParams
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.training import (
    DeviceName,
    EpochEvaluator,
    TrainConfig,
    predict,
    resolve_device,
    train_configuration,
    with_fixed_threads,
)

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


# --- training -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """What every configuration trains and validates on (sent once to each worker of a cluster)."""

    features: torch.Tensor
    targets: torch.Tensor
    val_features: torch.Tensor
    val_targets: torch.Tensor


@dataclass(frozen=True)
class ConfigurationTask:
    """One configuration to train: its network and how, for every seed at once."""

    name: str
    architecture: Architecture
    seeds: tuple[int, ...]
    train: TrainConfig
    augment: str
    validate: bool = True
    """Evaluate on the validation split after every epoch (a study that reads no curve may skip it)."""


def train_configurations(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    executor: IsolatedExecutorParams = IN_THIS_PROCESS,
) -> dict[str, TrainedModule]:
    """Train every configuration for every seed (one batched ensemble each) where ``executor`` says.

    Each configuration is an independent task (:func:`train_ensemble`) on a fixed number of
    torch threads (:func:`~dlpipeline.training.with_fixed_threads`), so it trains to the same
    weights in this process, on a thread or on a Dask worker. Returns the ensembles by
    configuration name, each with its record (``n_train``: training images after
    augmentation; ``augment`` among its settings) and per-epoch ``loss``, ``val_loss`` and
    ``val_accuracy``, each ``(epochs, seeds)``.
    """
    data = training_data(train_images, val_images, training)
    train = with_fixed_threads(training.train)
    tasks = {
        name: ConfigurationTask(name, architecture, tuple(experiments.seeds), train, training.augment)
        for name, architecture in experiments.architectures.items()
    }
    trained = run_tasks(train_ensemble, data, tasks, executor)
    for index, (name, ensemble) in enumerate(trained.items(), start=1):
        logger.info(
            "[%d/%d] %s (%s params): %d seeds in %.1f s, median validation accuracy %.3f",
            index,
            len(trained),
            name,
            f"{ensemble.kwargs['spec'].n_params:,}",
            len(experiments.seeds),
            ensemble.timing.train_seconds,
            float(ensemble.trained_history.of("val_accuracy")[-1].median()),
        )
    return trained


def training_data(
    train_images: pd.DataFrame, val_images: pd.DataFrame, training: TrainingParams
) -> TrainingData:
    """The tensors every configuration trains and validates on (training images augmented as set)."""
    return TrainingData(*training_tensors(train_images, training), *as_tensors(*table_to_images(val_images)))


def train_ensemble(
    data: TrainingData,
    task: ConfigurationTask,
    watch: Callable[[EpochEvaluator], EpochEvaluator] | None = None,
    keep: Callable[[Callable[[], TrainedModule]], Callable[[], TrainedModule]] | None = None,
) -> TrainedModule:
    """Train one configuration for all its seeds as one batched ensemble with the shared loop.

    ``watch``, if given, wraps the validation evaluator (a search follows each epoch with it,
    and may stop the training from there); it changes nothing the training computes. ``keep``,
    if given, wraps the network's builder (a search keeps the network of a trial it stops).

    The global seed is set to the first seed before the ensemble exists (dropout masks start
    alike in every configuration), its members' initial weights are seeded per member and
    the mini-batch order comes from the first seed, so the result depends on nothing but
    ``data`` and ``task``: not on which configurations ran before, nor on the process.
    """
    in_shape = tuple(data.features.shape[1:])
    spec = network_spec(task.architecture, in_shape, int(data.targets.max()) + 1)
    device = resolve_device(task.train.device)
    evaluate = (
        _validation(data.val_features.to(device), data.val_targets.to(device)) if task.validate else None
    )
    build = functools.partial(TrainedModule.build, ConvNetEnsemble, spec=spec, seeds=list(task.seeds))
    return train_configuration(
        build if keep is None else keep(build),
        data.features,
        data.targets,
        ensemble_cross_entropy,
        task.train,
        task.seeds,
        task.name,
        evaluate_epoch=evaluate if watch is None or evaluate is None else watch(evaluate),
        members=len(task.seeds),
        settings={"augment": task.augment},
    )


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
class EnsembleAccuracy(OfTrainedModel):
    """A trained configuration as the reports need it: how it was trained, its accuracy, its guesses."""

    name: str
    spec: ConvNetSpec
    model: TrainedModule
    """The trained ensemble, whose record and history say how it was trained."""
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
) -> list[EnsembleAccuracy]:
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
            EnsembleAccuracy(
                name=name,
                spec=trained.kwargs["spec"],
                model=trained,
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
