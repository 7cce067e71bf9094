"""Object detection, measured: a small CNN predicts each scene's digit box and class.

"Object detection (bounding boxes)." Every scene (:mod:`dlpipeline.data.scenes`) holds one
digit at a random place among clutter. The network
(:class:`~dlpipeline.models.scenes.DetectorEnsemble`) has 14 outputs: 10 class logits and
the box's 4 coordinates (as shares of the canvas side), trained on cross-entropy plus
``box_weight`` × the L1 distance of the box, every seed in one batched module. A test scene
counts as found when the predicted box overlaps the true one by IoU ≥ ``iou_threshold`` *and*
the predicted class is right (the detection task's usual score).

The control is the **centre box**: the mean training box placed at the canvas centre, with the
class the same network predicts. It answers everything but *where*, so the detector beats it
only by finding the digit; if the network's boxes were no better than a box that ignores the
image, the claim would fail.
"""

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from dlpipeline.data.scenes import Scenes, table_to_scenes
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.scenes import DetectorEnsemble
from dlpipeline.pipelines.cnn.overlap import box_iou
from dlpipeline.pipelines.cnn.params import DetectionParams, ExperimentParams
from dlpipeline.pipelines.cnn.scene_study import Models, scene_images, study_child_run
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, train_configuration, with_fixed_threads

N_CLASSES = 10
DETECTOR = "cnn"
CENTRE_BOX = "centre-box"
"""The model labels of the table: the trained detector and the control."""
SCORES = ("hit_rate", "mean_iou", "class_accuracy")


def detection_targets(scenes: Scenes) -> torch.Tensor:
    """``(n, 5)``: the box as shares of the canvas side (``x0, y0, x1, y1``), then the class."""
    side = scenes.images.shape[-1]
    return torch.tensor(np.column_stack([scenes.boxes / side, scenes.labels]), dtype=torch.float32)


def detection_loss(outputs: torch.Tensor, targets: torch.Tensor, box_weight: float) -> torch.Tensor:
    """Each member's cross-entropy of the class plus ``box_weight`` × the mean L1 error of the box."""
    classes = ensemble_cross_entropy(outputs[..., :N_CLASSES], targets[:, -1].long())
    boxes = (outputs[..., N_CLASSES:] - targets[:, :-1]).abs().mean(dim=(1, 2))
    return classes + box_weight * boxes


def train_detector(
    train_scenes: pd.DataFrame, experiments: ExperimentParams, detection: DetectionParams
) -> Models:
    """The detector, every seed of ``cnn.experiments`` as one batched network: ``{"cnn": model}``."""
    scenes = table_to_scenes(train_scenes)
    images = scene_images(scenes)
    seeds = experiments.seeds
    build = functools.partial(
        TrainedModule.build,
        DetectorEnsemble,
        in_shape=tuple(images.shape[1:]),
        n_classes=N_CLASSES,
        filters=list(detection.filters),
        seeds=seeds,
    )
    model = train_configuration(
        build,
        images,
        detection_targets(scenes),
        functools.partial(detection_loss, box_weight=detection.box_weight),
        with_fixed_threads(detection.train),
        seeds,
        "detection: cnn",
        members=len(seeds),
    )
    return {DETECTOR: model}


def predicted_boxes(outputs: torch.Tensor, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Each member's boxes in pixels (corners in order) and classes, from outputs ``(members, n, 14)``."""
    coordinates = outputs[..., N_CLASSES:].numpy() * side
    boxes = np.concatenate(
        [
            np.minimum(coordinates[..., :2], coordinates[..., 2:]),
            np.maximum(coordinates[..., :2], coordinates[..., 2:]),
        ],
        axis=-1,
    )
    return boxes, outputs[..., :N_CLASSES].argmax(dim=-1).numpy()


def centre_box(train_boxes: np.ndarray, side: int) -> np.ndarray:
    """The control's box: the mean training box's width and height, centred on the canvas."""
    width, height = (train_boxes[:, 2:] - train_boxes[:, :2]).mean(axis=0)
    return np.array(
        [side / 2 - width / 2, side / 2 - height / 2, side / 2 + width / 2, side / 2 + height / 2]
    )


@dataclass(frozen=True)
class Detections:
    """The detector's answers on the test scenes, every seed, and the centre box beside them."""

    seeds: tuple[int, ...]
    test: Scenes
    boxes: np.ndarray
    """``(members, n, 4)``: each seed's box of each test scene, in pixels."""
    classes: np.ndarray
    """``(members, n)``: each seed's class of each test scene."""
    centre: np.ndarray
    """``(4,)``: the control's box."""


def detect(trained: TrainedModule, train: Scenes, test: Scenes) -> Detections:
    """Every seed's boxes and classes of the ``test`` scenes; the centre box from the ``train`` boxes."""
    side = test.images.shape[-1]
    boxes, classes = predicted_boxes(predict(trained.module, scene_images(test), "cpu"), side)
    return Detections(trained.trained_record.seeds, test, boxes, classes, centre_box(train.boxes, side))


def detection_table(found: Detections, iou_threshold: float) -> pd.DataFrame:
    """One row per model (``cnn``, ``centre-box``) and seed: ``hit_rate``, ``mean_iou``, ``class_accuracy``.

    ``hit_rate`` is the share of test scenes with IoU ≥ ``iou_threshold`` and the right class.
    Both models use the detector's class of that seed; they differ only in the box.
    """
    right_class = found.classes == found.test.labels
    rows = []
    for model, boxes in (
        (DETECTOR, found.boxes),
        (CENTRE_BOX, np.broadcast_to(found.centre, found.boxes.shape)),
    ):
        overlap = box_iou(boxes, found.test.boxes)
        hits = (overlap >= iou_threshold) & right_class
        rows += [
            {
                "model": model,
                "seed": seed,
                "hit_rate": round(float(hits[member].mean()), 6),
                "mean_iou": round(float(overlap[member].mean()), 6),
                "class_accuracy": round(float(right_class[member].mean()), 6),
            }
            for member, seed in enumerate(found.seeds)
        ]
    return pd.DataFrame(rows)


def plot_detections(found: Detections, member: int, shown: int) -> Figure:
    """The first ``shown`` test scenes: the true box, seed ``member``'s and the centre box."""
    shown = min(shown, len(found.test.images))
    figure = Figure(figsize=(1.6 * shown + 0.4, 2.3), layout="constrained")
    for index, ax in enumerate(figure.subplots(1, shown, squeeze=False)[0]):
        ax.imshow(found.test.images[index], cmap="gray_r", vmin=0, vmax=1)
        for box, colour, style in (
            (found.test.boxes[index], "tab:green", "-"),
            (found.boxes[member, index], "tab:red", "-"),
            (found.centre, "tab:blue", ":"),
        ):
            corner, width, height = (box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1]
            ax.add_patch(Rectangle(corner, width, height, fill=False, edgecolor=colour, linestyle=style))
        ax.set_title(f"{found.test.labels[index]} → {found.classes[member, index]}", fontsize=9)
        ax.set_axis_off()
    figure.suptitle(
        f"Detection, seed {found.seeds[member]}: true box (green), predicted (red), "
        "centre box (blue, dotted); true → predicted class",
        fontsize=9,
    )
    return figure


def detection_report(
    detector: Models, train_scenes: pd.DataFrame, test_scenes: pd.DataFrame, detection: DetectionParams
) -> tuple[pd.DataFrame, Figure, list[ChildRun]]:
    """The study's table, figure (the median seed's boxes) and MLflow child run (``study=detection``)."""
    trained = detector[DETECTOR]
    found = detect(trained, table_to_scenes(train_scenes), table_to_scenes(test_scenes))
    table = detection_table(found, detection.iou_threshold)
    member = median_seed_index(table[table["model"] == DETECTOR]["hit_rate"].to_numpy())
    figure = plot_detections(found, member, detection.shown_images)
    return (
        table,
        figure,
        study_child_run("detection", trained, table, SCORES, figure, (found.test, "detector")),
    )
