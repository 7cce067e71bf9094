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
from dlpipeline.pipelines.cnn.detection import scene_images
from dlpipeline.pipelines.cnn.overlap import mask_iou
from dlpipeline.pipelines.cnn.params import ExperimentParams, SegmentationParams
from dlpipeline.pipelines.common import RunContent, child_run, median_seed_index
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, train_configuration, with_fixed_threads

NETWORK = "fcn"
THRESHOLD = "threshold"
"""The model labels of the table: the trained network and the control."""
SCORES = ("mean_iou", "pixel_accuracy")


def train_segmenter(
    train_scenes: pd.DataFrame, experiments: ExperimentParams, segmentation: SegmentationParams
) -> dict[str, TrainedModule]:
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


def segmentation_table(
    segmenter: dict[str, TrainedModule], train_scenes: pd.DataFrame, test_scenes: pd.DataFrame
) -> pd.DataFrame:
    """One row per model (``fcn``, ``threshold``) and seed: ``mean_iou``, ``pixel_accuracy``, ``threshold``.

    The threshold is chosen once on the training scenes and does not depend on a seed: its one
    result is paired with every seed (``threshold`` is that level; empty for the network).
    """
    trained = segmenter[NETWORK]
    test = table_to_scenes(test_scenes)
    level = best_threshold(table_to_scenes(train_scenes))
    masks = predicted_masks(trained.module, test)
    by_threshold = np.broadcast_to(test.images > level, masks.shape)
    rows = []
    for model, model_masks, threshold in ((NETWORK, masks, None), (THRESHOLD, by_threshold, level)):
        overlap = mask_iou(model_masks, test.masks)
        right = (model_masks == test.masks).mean(axis=(-2, -1))
        for member, seed in enumerate(trained.trained_record.seeds):
            rows.append(
                {
                    "model": model,
                    "seed": seed,
                    "mean_iou": round(float(overlap[member].mean()), 6),
                    "pixel_accuracy": round(float(right[member].mean()), 6),
                    "threshold": threshold,
                }
            )
    return pd.DataFrame(rows)


def plot_masks(
    segmenter: dict[str, TrainedModule],
    test_scenes: pd.DataFrame,
    table: pd.DataFrame,
    segmentation: SegmentationParams,
) -> Figure:
    """The first test scenes, their true masks, the network's (median seed) and the threshold's."""
    trained = segmenter[NETWORK]
    test = table_to_scenes(test_scenes.head(segmentation.shown_images))
    member = median_seed_index(table[table["model"] == NETWORK]["mean_iou"].to_numpy())
    level = float(table[table["model"] == THRESHOLD]["threshold"].iloc[0])
    rows = [
        ("scene", test.images),
        ("true mask", test.masks),
        (f"fcn, seed {trained.trained_record.seeds[member]}", predicted_masks(trained.module, test)[member]),
        (f"threshold > {level:.3g}", test.images > level),
    ]
    shown = len(test.images)
    figure = Figure(figsize=(1.2 * shown + 1.4, 1.25 * len(rows) + 0.5), layout="constrained")
    axes = figure.subplots(len(rows), shown, squeeze=False)
    for row_axes, (label, pictures) in zip(axes, rows, strict=True):
        for column, ax in enumerate(row_axes):
            ax.imshow(pictures[column], cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle("Segmentation: the digit's pixels, true and predicted (dark: digit)", fontsize=9)
    return figure


def segmentation_child_runs(
    segmenter: dict[str, TrainedModule],
    test_scenes: pd.DataFrame,
    table: pd.DataFrame,
    segmentation: SegmentationParams,
) -> list[ChildRun]:
    """One MLflow child run for the network (``study``: ``segmentation``).

    Median scores over seeds, the control's beside, and the figure of :func:`plot_masks`.
    """
    trained = segmenter[NETWORK]
    figure = plot_masks(segmenter, test_scenes, table, segmentation)
    rows = table.groupby("model")
    metrics = {name: float(rows.get_group(NETWORK)[name].median()) for name in SCORES}
    metrics |= {f"threshold_{name}": float(rows.get_group(THRESHOLD)[name].median()) for name in SCORES}
    return [
        child_run(
            "segmentation-fcn",
            trained.trained_record,
            trained.timing,
            RunContent(
                params={"study": "segmentation", "model": NETWORK},
                metrics=metrics,
                figures={"masks.png": figure},
            ),
        )
    ]
