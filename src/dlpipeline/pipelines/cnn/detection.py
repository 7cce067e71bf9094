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
from dlpipeline.pipelines.common import RunContent, child_run, median_seed_index
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, train_configuration, with_fixed_threads

N_CLASSES = 10
DETECTOR = "cnn"
CENTRE_BOX = "centre-box"
"""The model labels of the table: the trained detector and the control."""
SCORES = ("hit_rate", "mean_iou", "class_accuracy")


def scene_images(scenes: Scenes) -> torch.Tensor:
    """The scenes' canvases as float32 ``(n, 1, side, side)``."""
    return torch.tensor(scenes.images).unsqueeze(1)


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
) -> dict[str, TrainedModule]:
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


def detection_table(
    detector: dict[str, TrainedModule],
    train_scenes: pd.DataFrame,
    test_scenes: pd.DataFrame,
    detection: DetectionParams,
) -> pd.DataFrame:
    """One row per model (``cnn``, ``centre-box``) and seed: ``hit_rate``, ``mean_iou``, ``class_accuracy``.

    ``hit_rate`` is the share of test scenes with IoU ≥ ``iou_threshold`` and the right class.
    Both models use the detector's class of that seed; they differ only in the box.
    """
    trained = detector[DETECTOR]
    test = table_to_scenes(test_scenes)
    side = test.images.shape[-1]
    boxes, classes = predicted_boxes(predict(trained.module, scene_images(test), "cpu"), side)
    fixed = centre_box(table_to_scenes(train_scenes).boxes, side)
    right_class = classes == test.labels
    rows = []
    for model, model_boxes in ((DETECTOR, boxes), (CENTRE_BOX, np.broadcast_to(fixed, boxes.shape))):
        overlap = box_iou(model_boxes, test.boxes)
        hits = (overlap >= detection.iou_threshold) & right_class
        for member, seed in enumerate(trained.trained_record.seeds):
            rows.append(
                {
                    "model": model,
                    "seed": seed,
                    "hit_rate": round(float(hits[member].mean()), 6),
                    "mean_iou": round(float(overlap[member].mean()), 6),
                    "class_accuracy": round(float(right_class[member].mean()), 6),
                }
            )
    return pd.DataFrame(rows)


def plot_detections(
    detector: dict[str, TrainedModule],
    train_scenes: pd.DataFrame,
    test_scenes: pd.DataFrame,
    table: pd.DataFrame,
    detection: DetectionParams,
) -> Figure:
    """The first test scenes with the true box, the detector's (median seed) and the centre box."""
    trained = detector[DETECTOR]
    test = table_to_scenes(test_scenes.head(detection.shown_images))
    side = test.images.shape[-1]
    member = median_seed_index(table[table["model"] == DETECTOR]["hit_rate"].to_numpy())
    boxes, classes = predicted_boxes(predict(trained.module, scene_images(test), "cpu"), side)
    fixed = centre_box(table_to_scenes(train_scenes).boxes, side)
    shown = len(test.images)
    figure = Figure(figsize=(1.6 * shown + 0.4, 2.3), layout="constrained")
    for index, ax in enumerate(figure.subplots(1, shown, squeeze=False)[0]):
        ax.imshow(test.images[index], cmap="gray_r", vmin=0, vmax=1)
        for box, colour, style in (
            (test.boxes[index], "tab:green", "-"),
            (boxes[member, index], "tab:red", "-"),
            (fixed, "tab:blue", ":"),
        ):
            ax.add_patch(
                Rectangle(
                    (box[0] - 0.5, box[1] - 0.5),
                    box[2] - box[0],
                    box[3] - box[1],
                    fill=False,
                    edgecolor=colour,
                    linestyle=style,
                    linewidth=1.5,
                )
            )
        ax.set_title(f"{test.labels[index]} → {classes[member, index]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.suptitle(
        f"Detection, seed {trained.trained_record.seeds[member]}: true box (green), predicted (red), "
        "centre box (blue, dotted); true → predicted class",
        fontsize=9,
    )
    return figure


def detection_child_runs(
    detector: dict[str, TrainedModule],
    train_scenes: pd.DataFrame,
    test_scenes: pd.DataFrame,
    table: pd.DataFrame,
    detection: DetectionParams,
) -> list[ChildRun]:
    """One MLflow child run for the detector (``study``: ``detection``).

    Median scores over seeds, the control's beside, and the figure of :func:`plot_detections`.
    """
    trained = detector[DETECTOR]
    figure = plot_detections(detector, train_scenes, test_scenes, table, detection)
    rows = table.groupby("model")
    metrics = {name: float(rows.get_group(DETECTOR)[name].median()) for name in SCORES}
    metrics |= {f"centre_box_{name}": float(rows.get_group(CENTRE_BOX)[name].median()) for name in SCORES[:2]}
    return [
        child_run(
            "detection-cnn",
            trained.trained_record,
            trained.timing,
            RunContent(
                params={"study": "detection", "model": DETECTOR},
                metrics=metrics,
                figures={"boxes.png": figure},
            ),
        )
    ]
