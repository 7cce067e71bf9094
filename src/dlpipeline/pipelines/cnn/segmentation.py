"""Image segmentation, measured: a small fully-convolutional network labels every pixel of a scene.

"Image segmentation (pixel-level labeling)." Every scene (:mod:`dlpipeline.data.scenes`)
holds one digit among clutter made of other digits' strokes; the label of a pixel is whether
the digit has ink there. The network (:class:`~dlpipeline.models.scenes.FullyConvEnsemble`)
answers for every pixel, every seed in one batched module; a pixel is the digit's where its
probability is over one half. Score: the IoU of the predicted mask with the true one, per test
scene, averaged over the test scenes (**mean IoU**).

The control is the **threshold**: every pixel brighter than one level, the level that gives
the best mean IoU on the training scenes. It labels every pixel by its own brightness; the
clutter is as bright as the digit, so a network that only learned brightness would do no
better, and the claim would fail.
"""

import functools

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.scenes import Scenes, table_to_scenes
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.scenes import FullyConvEnsemble, ensemble_mask_loss
from dlpipeline.pipelines.cnn.overlap import mask_iou
from dlpipeline.pipelines.cnn.params import ExperimentParams, SegmentationParams
from dlpipeline.pipelines.cnn.scene_study import Models, scene_images, study_child_run
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, train_configuration, with_fixed_threads

NETWORK = "fcn"
THRESHOLD = "threshold"
"""The model labels of the table: the trained network and the control."""
SCORES = ("mean_iou", "pixel_accuracy")


def train_segmenter(
    train_scenes: pd.DataFrame, experiments: ExperimentParams, segmentation: SegmentationParams
) -> Models:
    """The pixel labeller, every seed of ``cnn.experiments`` as one batched network: ``{"fcn": model}``."""
    scenes = table_to_scenes(train_scenes)
    seeds = experiments.seeds
    build = functools.partial(
        TrainedModule.build,
        FullyConvEnsemble,
        channels=segmentation.channels,
        dilations=list(segmentation.dilations),
        seeds=seeds,
    )
    model = train_configuration(
        build,
        scene_images(scenes),
        torch.tensor(scenes.masks, dtype=torch.float32),
        ensemble_mask_loss,
        with_fixed_threads(segmentation.train),
        seeds,
        "segmentation: fcn",
        members=len(seeds),
    )
    return {NETWORK: model}


def best_threshold(scenes: Scenes) -> float:
    """The brightness level whose "brighter than it" masks have the best mean IoU on ``scenes``.

    Candidates are every distinct brightness of the scenes (and 0): the best level is one of them.
    """
    levels = np.unique(np.concatenate([[0.0], np.round(scenes.images.ravel(), 4)]))[:-1]
    scores = [float(mask_iou(scenes.images > level, scenes.masks).mean()) for level in levels]
    return float(levels[int(np.argmax(scores))])


def predicted_masks(module: torch.nn.Module, scenes: Scenes) -> np.ndarray:
    """Every member's masks of ``scenes``: ``(members, n, rows, cols)``, where the logit is over 0."""
    return predict(module, scene_images(scenes), "cpu").numpy() > 0


def segmentation_table(masks: np.ndarray, test: Scenes, level: float, seeds: tuple[int, ...]) -> pd.DataFrame:
    """One row per model (``fcn``, ``threshold``) and seed: ``mean_iou``, ``pixel_accuracy``, ``threshold``.

    ``masks`` are the network's, every seed; the threshold ``level`` is chosen once on the
    training scenes and does not depend on a seed: its one result is paired with every seed
    (``threshold`` is that level; empty for the network).
    """
    by_threshold = np.broadcast_to(test.images > level, masks.shape)
    rows = []
    for model, model_masks, threshold in ((NETWORK, masks, None), (THRESHOLD, by_threshold, level)):
        overlap = mask_iou(model_masks, test.masks)
        right = (model_masks == test.masks).mean(axis=(-2, -1))
        rows += [
            {
                "model": model,
                "seed": seed,
                "mean_iou": round(float(overlap[member].mean()), 6),
                "pixel_accuracy": round(float(right[member].mean()), 6),
                "threshold": threshold,
            }
            for member, seed in enumerate(seeds)
        ]
    return pd.DataFrame(rows)


def plot_masks(test: Scenes, masks: np.ndarray, level: float, network: str, shown: int) -> Figure:
    """The first ``shown`` test scenes, their true masks, the network's ``masks`` and the threshold's."""
    shown = min(shown, len(test.images))
    rows = [
        ("scene", test.images),
        ("true mask", test.masks),
        (network, masks),
        (f"threshold > {level:.3g}", test.images > level),
    ]
    figure = Figure(figsize=(1.2 * shown + 1.4, 1.25 * len(rows) + 0.5), layout="constrained")
    axes = figure.subplots(len(rows), shown, squeeze=False)
    for row_axes, (label, pictures) in zip(axes, rows, strict=True):
        for column, ax in enumerate(row_axes):
            ax.imshow(pictures[column], cmap="gray_r", vmin=0, vmax=1)
            ax.set_axis_off()
        row_axes[0].text(
            -0.1, 0.5, label, transform=row_axes[0].transAxes, ha="right", va="center", fontsize=8
        )
    figure.suptitle("Segmentation: the digit's pixels, true and predicted (dark: digit)", fontsize=9)
    return figure


def segmentation_report(
    segmenter: Models, train_scenes: pd.DataFrame, test_scenes: pd.DataFrame, segmentation: SegmentationParams
) -> tuple[pd.DataFrame, Figure, list[ChildRun]]:
    """The study's table, figure (the median seed's masks) and MLflow child run (``study=segmentation``)."""
    trained = segmenter[NETWORK]
    test = table_to_scenes(test_scenes)
    level = best_threshold(table_to_scenes(train_scenes))
    masks = predicted_masks(trained.module, test)
    table = segmentation_table(masks, test, level, trained.trained_record.seeds)
    member = median_seed_index(table[table["model"] == NETWORK]["mean_iou"].to_numpy())
    label = f"fcn, seed {trained.trained_record.seeds[member]}"
    figure = plot_masks(test, masks[member], level, label, segmentation.shown_images)
    return table, figure, study_child_run("segmentation", trained, table, SCORES, figure, (test, "segmenter"))
