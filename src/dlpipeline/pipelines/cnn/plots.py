"""The featured CNN taken apart, from the trained models in the catalog.

Its median seed's confusion matrix, first-layer filters, one test image's feature maps
after each block, and its mistakes.

Each node reads ``cnn.models`` and the test split from disk, so a figure can be redrawn
(``kedro run --nodes plot_feature_maps``) without training again.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from dlpipeline.data.digits import table_to_images
from dlpipeline.figures.confusion import confusion_matrix_figure
from dlpipeline.figures.images import image_grid_figure, image_rows_figure
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble
from dlpipeline.pipelines.cnn.params import ExperimentParams, ReportParams
from dlpipeline.pipelines.cnn.train import as_tensors, member_predictions
from dlpipeline.pipelines.common import median_seed_index


@dataclass(frozen=True)
class FeaturedSeed:
    """The featured configuration's median seed on the test split: the member the figures show."""

    name: str
    model: ConvNetEnsemble
    member: int
    """Index of the median seed among the ensemble's members."""
    seed: int
    images: np.ndarray
    """Test images ``(n, rows, cols)``."""
    labels: np.ndarray
    predictions: np.ndarray
    """The member's predicted class of every test image."""


def featured_seed(
    models: dict[str, TrainedModule], test_images: pd.DataFrame, experiments: ExperimentParams
) -> FeaturedSeed:
    """The featured configuration's member with the (lower) median test accuracy."""
    trained = models[experiments.featured]
    images, labels = table_to_images(test_images)
    predictions = member_predictions(trained.module, test_images)
    member = median_seed_index((predictions == labels).mean(axis=1))
    seed = trained.trained_record.seeds[member]
    return FeaturedSeed(
        experiments.featured, trained.module, member, seed, images, labels, predictions[member]
    )


def confusion_figure(
    name: str, seed: int, labels: np.ndarray, predictions: np.ndarray, n_classes: int
) -> Figure:
    """The confusion matrix of one seed's test predictions, its accuracy in the title."""
    classes = np.arange(n_classes)
    matrix = confusion_matrix(labels, predictions, labels=classes)
    accuracy = (predictions == labels).mean()
    return confusion_matrix_figure(
        matrix, [str(label) for label in classes], title=f"{name}, seed {seed}: test accuracy {accuracy:.3f}"
    )


def plot_confusion_matrix(
    models: dict[str, TrainedModule], test_images: pd.DataFrame, experiments: ExperimentParams
) -> Figure:
    """The featured CNN's confusion matrix on the test split (median seed)."""
    shown = featured_seed(models, test_images, experiments)
    return confusion_figure(
        shown.name, shown.seed, shown.labels, shown.predictions, shown.model.spec.n_classes
    )


def plot_first_layer_filters(
    models: dict[str, TrainedModule], test_images: pd.DataFrame, experiments: ExperimentParams
) -> Figure:
    """The featured CNN's learned first-layer kernels (median seed): the notes' feature finders."""
    shown = featured_seed(models, test_images, experiments)
    kernels = shown.model.first_layer_filters()[shown.member].cpu().numpy()
    return image_grid_figure(
        [kernel[0] for kernel in kernels],
        [f"filter {index}" for index in range(len(kernels))],
        suptitle=f"{shown.name}, seed {shown.seed}: learned first-layer "
        f"{kernels.shape[-2]}x{kernels.shape[-1]} filters (red +, blue -)",
        diverging=True,
    )


def plot_feature_maps(
    models: dict[str, TrainedModule],
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    report: ReportParams,
) -> Figure:
    """One test image through the featured CNN: conv finds, ReLU highlights, pooling summarises."""
    shown = featured_seed(models, test_images, experiments)
    images, labels = shown.images, shown.labels
    index = min(report.example_index, len(images) - 1)
    features, _ = as_tensors(images[index : index + 1], labels[index : index + 1])
    model = shown.model.cpu().eval()
    with torch.no_grad():
        stages = model.trace(features)
    rows = {"input": [images[index]]}
    for name, maps in stages:
        member_maps = maps[shown.member, 0].numpy()
        rows[f"{name}\n{'x'.join(map(str, member_maps.shape))}"] = list(member_maps[: report.max_channels])
    return image_rows_figure(
        rows,
        suptitle=f"Test image {index} (label {labels[index]}) through {shown.name}: conv = feature "
        f"finder, ReLU = highlighter, pool = summarizer (first {report.max_channels} channels)",
    )


def plot_misclassified(
    models: dict[str, TrainedModule],
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    report: ReportParams,
) -> Figure:
    """The test digits the featured CNN (median seed) gets wrong, with true and predicted class."""
    shown = featured_seed(models, test_images, experiments)
    images, labels, predicted = shown.images, shown.labels, shown.predictions
    wrong = np.flatnonzero(predicted != labels)[: report.max_misclassified]
    return image_grid_figure(
        [images[index] for index in wrong],
        [f"#{index}: {labels[index]} → {predicted[index]}" for index in wrong],
        suptitle=f"{shown.name}, seed {shown.seed}: "
        f"{int((predicted != labels).sum())} of {len(labels)} test images misclassified\n(true → predicted)",
    )
