"""Nodes of the CNN experiment: images → CNN variants and an MLP baseline → results and figures.

Every configuration (the baseline CNN, its dropout, pooling and filters variants, the
MLP baseline) is trained for every seed as one batched :class:`ConvNetEnsemble` by the
shared loop, which records the validation loss and accuracy after every epoch. The
featured CNN's median seed is then taken apart: its confusion matrix, first-layer
filters, one test image's feature maps after each block, and its mistakes.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from dlpipeline.data.digits import (
    load_image_table,
    scale_pixels,
    stratified_subsample,
    stratified_three_way_split,
    table_to_images,
    with_shifted_copies,
)
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.pipelines.cnn.params import (
    Architecture,
    ExperimentParams,
    ImageDataParams,
    ReportParams,
    TrainingParams,
)
from dlpipeline.plotting import (
    LearningCurves,
    confusion_matrix_figure,
    image_grid_figure,
    image_rows_figure,
    learning_curves_figure,
    seed_strip_figure,
)
from dlpipeline.tracking import ChildRun
from dlpipeline.training import EpochEvaluator, FitHistory, fit, predict, resolve_device, seed_everything

logger = logging.getLogger(__name__)

NOT_APPLICABLE = "n/a"
"""Param value of the CNN-only settings (filters, pooling, kernel size) of an MLP."""
SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
SPLITS = tuple(SPLIT_NAMES)


@dataclass(frozen=True)
class TrainedConfig:
    """One configuration trained for every seed: its ensemble and what the loop recorded."""

    name: str
    spec: ConvNetSpec
    seeds: tuple[int, ...]
    model: ConvNetEnsemble
    history: FitHistory
    """``loss``, ``val_loss`` and ``val_accuracy``, each ``(epochs, seeds)``."""
    train_seconds: float


@dataclass(frozen=True)
class ConfigResult:
    """A trained configuration's accuracy per split and seed, and its test predictions."""

    trained: TrainedConfig
    accuracy: dict[str, np.ndarray]
    """Split (``train`` / ``val`` / ``test``) → accuracy of every seed."""
    test_predictions: np.ndarray
    """``(seeds, n_test)`` predicted classes."""

    @property
    def shown(self) -> int:
        """Index of the seed with the (lower) median test accuracy: a typical seed, not the best."""
        order = np.argsort(self.accuracy["test"], kind="stable")
        return int(order[(len(order) - 1) // 2])

    def median(self, split: str) -> float:
        """Median accuracy over seeds on ``split``."""
        return float(np.median(self.accuracy[split]))


# --- data -----------------------------------------------------------------------------


def load_images(data: ImageDataParams) -> pd.DataFrame:
    """The labelled images of the configured source (digits or IDX files), subsampled if asked."""
    table = load_image_table(data.source, data.idx_paths)
    return stratified_subsample(table, data.max_samples, data.random_state)


def split_images(
    images: pd.DataFrame, data: ImageDataParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified train / validation / test split; pixels scaled to [0, 1] by the training maximum."""
    train, val, test = stratified_three_way_split(images, data.val_size, data.test_size, data.random_state)
    scaled_train, scaled_val, scaled_test = scale_pixels([train, val, test], reference=train)
    return scaled_train, scaled_val, scaled_test


# --- training -------------------------------------------------------------------------


def train_configurations(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
) -> list[TrainedConfig]:
    """Train every configuration for every seed (one batched ensemble each) with the shared loop.

    Each configuration starts from the same global seed (dropout masks) and the same
    mini-batch order; its members differ by their initial weights, seeded per member.
    """
    images, labels = table_to_images(train_images)
    if training.augment == "shifts":
        images, labels = with_shifted_copies(images, labels)
    features, targets = _as_tensors(images, labels)
    val_features, val_targets = _as_tensors(*table_to_images(val_images))
    device = resolve_device(training.train.device)
    evaluate = _validation(val_features.to(device), val_targets.to(device))
    in_shape = tuple(features.shape[1:])
    n_classes = int(targets.max()) + 1
    trained = []
    for index, (name, architecture) in enumerate(experiments.architectures.items(), start=1):
        spec = network_spec(architecture, in_shape, n_classes)
        seed_everything(experiments.first_seed)
        model = ConvNetEnsemble(spec, experiments.seeds)
        started = time.perf_counter()
        history = fit(
            model,
            features,
            targets,
            ensemble_cross_entropy,
            training.train,
            seed=experiments.first_seed,
            description=name,
            evaluate_epoch=evaluate,
        )
        seconds = time.perf_counter() - started
        trained.append(TrainedConfig(name, spec, tuple(experiments.seeds), model, history, seconds))
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


def _as_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
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


def evaluate_configurations(
    trained: list[TrainedConfig],
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    test_images: pd.DataFrame,
    training: TrainingParams,
) -> list[ConfigResult]:
    """Accuracy of every configuration and seed on the train, validation and test splits."""
    splits = dict(zip(SPLITS, (train_images, val_images, test_images), strict=True))
    inputs = {split: _as_tensors(*table_to_images(table)) for split, table in splits.items()}
    results = []
    for config in trained:
        predictions = {
            split: predict(config.model, features, training.train.device).argmax(dim=-1).numpy()
            for split, (features, _) in inputs.items()
        }
        results.append(
            ConfigResult(
                trained=config,
                accuracy={
                    split: (predictions[split] == labels.numpy()).mean(axis=1)
                    for split, (_, labels) in inputs.items()
                },
                test_predictions=predictions["test"],
            )
        )
    return results


# --- reporting ------------------------------------------------------------------------


def experiment_table(results: list[ConfigResult]) -> pd.DataFrame:
    """One row per configuration: its settings, size, accuracies over seeds and training time."""
    rows = []
    for result in results:
        config = result.trained
        test = result.accuracy["test"]
        rows.append(
            {
                "configuration": config.name,
                **_settings(config),
                "n_params": config.spec.n_params,
                "seeds": len(config.seeds),
                "test_accuracy": round(result.median("test"), 6),
                "test_accuracy_mean": round(float(test.mean()), 6),
                "test_accuracy_min": round(float(test.min()), 6),
                "val_accuracy": round(result.median("val"), 6),
                "train_accuracy": round(result.median("train"), 6),
                "train_test_gap": round(result.median("train") - result.median("test"), 6),
                "train_seconds": round(config.train_seconds, 2),
            }
        )
    return pd.DataFrame(rows)


def _settings(config: TrainedConfig) -> dict[str, str | int | float]:
    """The architecture as it is reported: CNN-only settings are ``n/a`` for an MLP."""
    spec, is_cnn = config.spec, config.spec.model == "cnn"
    return {
        "model": spec.model,
        "filters": "x".join(map(str, spec.filters)) if is_cnn else NOT_APPLICABLE,
        "kernel_size": spec.kernel_size if is_cnn else NOT_APPLICABLE,
        "pooling": spec.pooling if is_cnn else NOT_APPLICABLE,
        "feature_maps": " ".join("x".join(map(str, shape)) for shape in spec.block_shapes) or NOT_APPLICABLE,
        "dense_units": spec.dense_units,
        "dropout": spec.dropout,
    }


METRIC_COLUMNS = ("test_accuracy", "test_accuracy_mean", "val_accuracy", "train_accuracy", "n_params")


def experiment_metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The table as nested JSON for ``dvc metrics``: configuration → metric → value."""
    return {
        str(row["configuration"]): {column: float(row[column]) for column in METRIC_COLUMNS}
        for _, row in table.iterrows()
    }


def plot_experiments(results: list[ConfigResult]) -> Figure:
    """Train, validation and test accuracy of every configuration and seed, side by side."""
    categories = [
        f"{config.name}\n{config.spec.n_params:,} params, {config.train_seconds:.1f} s"
        for config in (result.trained for result in results)
    ]
    return seed_strip_figure(
        categories,
        {SPLIT_NAMES[split]: [result.accuracy[split] for result in results] for split in SPLITS},
        ylabel="accuracy",
        title=f"Accuracy by configuration ({len(results[0].trained.seeds)} seeds each)",
    )


def plot_learning_curves(results: list[ConfigResult]) -> Figure:
    """Training against validation loss per epoch for every configuration (mean over seeds)."""
    return learning_curves_figure(
        {result.trained.name: _curves(result) for result in results},
        title="Training vs validation loss (mean over seeds)",
    )


def _curves(result: ConfigResult) -> LearningCurves:
    """A configuration's mean loss curves, with its median test accuracy in the corner."""
    history = result.trained.history
    return LearningCurves(
        train_loss=history.loss.mean(dim=1).numpy(),
        val_loss=history.evaluations["val_loss"].mean(dim=1).numpy(),
        corner_text=f"test {result.median('test'):.3f}",
    )


def _featured(results: list[ConfigResult], experiments: ExperimentParams) -> ConfigResult:
    """The featured configuration's result."""
    return next(result for result in results if result.trained.name == experiments.featured)


def _confusion(result: ConfigResult, test_images: pd.DataFrame) -> Figure:
    """The confusion matrix of a configuration's median seed on the test split."""
    _, labels = table_to_images(test_images)
    classes = np.arange(result.trained.spec.n_classes)
    matrix = confusion_matrix(labels, result.test_predictions[result.shown], labels=classes)
    seed, accuracy = result.trained.seeds[result.shown], result.accuracy["test"][result.shown]
    return confusion_matrix_figure(
        matrix,
        [str(label) for label in classes],
        title=f"{result.trained.name}, seed {seed}: test accuracy {accuracy:.3f}",
    )


def plot_confusion_matrix(
    results: list[ConfigResult], test_images: pd.DataFrame, experiments: ExperimentParams
) -> Figure:
    """The featured CNN's confusion matrix on the test split (median seed)."""
    return _confusion(_featured(results, experiments), test_images)


def plot_first_layer_filters(results: list[ConfigResult], experiments: ExperimentParams) -> Figure:
    """The featured CNN's learned first-layer kernels (median seed): the notes' feature finders."""
    result = _featured(results, experiments)
    kernels = result.trained.model.first_layer_filters()[result.shown].cpu().numpy()
    return image_grid_figure(
        [kernel[0] for kernel in kernels],
        [f"filter {index}" for index in range(len(kernels))],
        suptitle=f"{result.trained.name}, seed {result.trained.seeds[result.shown]}: learned first-layer "
        f"{kernels.shape[-2]}x{kernels.shape[-1]} filters (red +, blue -)",
        diverging=True,
    )


def plot_feature_maps(
    results: list[ConfigResult],
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    report: ReportParams,
) -> Figure:
    """One test image through the featured CNN: conv finds, ReLU highlights, pooling summarises."""
    result = _featured(results, experiments)
    images, labels = table_to_images(test_images)
    index = min(report.example_index, len(images) - 1)
    features, _ = _as_tensors(images[index : index + 1], labels[index : index + 1])
    model = result.trained.model.cpu().eval()
    with torch.no_grad():
        stages = model.trace(features)
    rows = {"input": [images[index]]}
    for name, maps in stages:
        member_maps = maps[result.shown, 0].numpy()
        rows[f"{name}\n{'x'.join(map(str, member_maps.shape))}"] = list(member_maps[: report.max_channels])
    return image_rows_figure(
        rows,
        suptitle=f"Test image {index} (label {labels[index]}) through {result.trained.name}: conv = feature "
        f"finder, ReLU = highlighter, pool = summarizer (first {report.max_channels} channels)",
    )


def plot_misclassified(
    results: list[ConfigResult],
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    report: ReportParams,
) -> Figure:
    """The test digits the featured CNN (median seed) gets wrong, with true and predicted class."""
    result = _featured(results, experiments)
    images, labels = table_to_images(test_images)
    predicted = result.test_predictions[result.shown]
    wrong = np.flatnonzero(predicted != labels)[: report.max_misclassified]
    return image_grid_figure(
        [images[index] for index in wrong],
        [f"#{index}: {labels[index]} → {predicted[index]}" for index in wrong],
        suptitle=f"{result.trained.name}, seed {result.trained.seeds[result.shown]}: "
        f"{int((predicted != labels).sum())} of {len(labels)} test images misclassified\n(true → predicted)",
    )


def _data_params(data: ImageDataParams) -> dict[str, str | int | float]:
    """The data settings as child-run params (``data_source``, ``data_test_size``, ...)."""
    params = {f"data_{key}": str(value) for key, value in data.model_dump(exclude={"idx_files"}).items()}
    if data.idx_files:
        params["data_idx_images"] = ", ".join(pair.images for pair in data.idx_files)
    return params


def build_child_runs(
    results: list[ConfigResult],
    test_images: pd.DataFrame,
    data: ImageDataParams,
    training: TrainingParams,
) -> list[ChildRun]:
    """One MLflow child run per configuration: settings, accuracies, loss curves and figures."""
    runs = []
    for result, row in zip(results, experiment_table(results).to_dict("records"), strict=True):
        config = result.trained
        history = config.history
        runs.append(
            ChildRun(
                name=config.name,
                params={
                    **_settings(config),
                    "seeds": f"{config.seeds[0]}..{config.seeds[-1]}",
                    "n_seeds": len(config.seeds),
                    **_data_params(data),
                    "augment": training.augment,
                    **training.train.model_dump(
                        include={"epochs", "learning_rate", "weight_decay", "batch_size"}
                    ),
                },
                metrics={
                    key: float(row[key])
                    for key in (
                        "test_accuracy",
                        "test_accuracy_mean",
                        "test_accuracy_min",
                        "val_accuracy",
                        "train_accuracy",
                        "train_test_gap",
                        "n_params",
                    )
                }
                | {"train_seconds": config.train_seconds},
                metric_histories={
                    "epoch_train_loss": history.loss.mean(dim=1).tolist(),
                    "epoch_val_loss": history.evaluations["val_loss"].mean(dim=1).tolist(),
                    "epoch_val_accuracy": history.evaluations["val_accuracy"].mean(dim=1).tolist(),
                },
                figures={
                    "learning_curves.png": learning_curves_figure(
                        {config.name: _curves(result)}, title=f"{config.name}: mean over seeds"
                    ),
                    "confusion_matrix.png": _confusion(result, test_images),
                },
            )
        )
    return runs
