"""The scenes of the detection and segmentation studies, the overlap scores, the controls, the
networks' shapes, and both studies end to end on smoke (a row per model and seed, a child run each)."""

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from tests.helpers import PROJECT_ROOT, assert_refused_before_any_node
from tests.tracking import assert_holds_the_catalogs_weights, logged_models, tracking_at, tracking_client

from dlpipeline.config import load_parameters
from dlpipeline.data.scenes import (
    Scenes,
    SceneSettings,
    draw_scenes,
    scenes_to_table,
    table_to_scenes,
    tight_box,
)
from dlpipeline.datasets import ModelDataset
from dlpipeline.models.scenes import DetectorEnsemble, FullyConvEnsemble
from dlpipeline.pipelines.cnn import detection, segmentation
from dlpipeline.pipelines.cnn.overlap import box_iou, mask_iou
from dlpipeline.pipelines.cnn.params import (
    DetectionParams,
    ExperimentParams,
    ScenesParams,
    SegmentationParams,
)

SETTINGS = SceneSettings(canvas=20, fragments=3, fragment_size=4, strokes=1)


def digits(n: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 8x8 "digits" with pixels in [0, 1] (a blank border, as real digits have) and labels."""
    rng = np.random.default_rng(5)
    images = np.zeros((n, 8, 8), dtype=np.float32)
    images[:, 1:7, 2:6] = rng.integers(0, 17, size=(n, 6, 4)) / 16
    return images, np.arange(n) % 10


def test_identical_boxes_overlap_fully_disjoint_ones_not_at_all():
    box = np.array([2.0, 3.0, 7.0, 9.0])
    assert box_iou(box, box) == pytest.approx(1.0)
    assert box_iou(box, np.array([7.0, 3.0, 9.0, 9.0])) == 0.0  # touching at an edge: no area shared
    assert box_iou(box, np.array([20.0, 20.0, 25.0, 25.0])) == 0.0


def test_a_known_overlap_of_boxes():
    # 2x2 squares shifted by one column: 2 pixels shared of 6 covered
    assert box_iou(np.array([0.0, 0.0, 2.0, 2.0]), np.array([1.0, 0.0, 3.0, 2.0])) == pytest.approx(1 / 3)
    # a box inside another: the small one's area over the large one's
    assert box_iou(np.array([0.0, 0.0, 4.0, 4.0]), np.array([1.0, 1.0, 3.0, 3.0])) == pytest.approx(4 / 16)


def test_box_iou_pairs_boxes_along_the_leading_axes():
    first = np.array([[[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 1.0]]])
    second = np.array([[0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    np.testing.assert_allclose(box_iou(first, second), [[1.0, 0.0]])


def test_mean_iou_of_known_masks():
    true = np.zeros((3, 4, 4), dtype=bool)
    true[:, :2, :2] = True  # 4 pixels
    predicted = np.zeros_like(true)
    predicted[0, :2, :2] = True  # the same 4: 1
    predicted[1, :2, :4] = True  # 8 pixels, 4 of them right: 4 / 8
    predicted[2, 3, 3] = True  # elsewhere: 0
    np.testing.assert_allclose(mask_iou(predicted, true), [1.0, 0.5, 0.0])
    nothing = np.zeros((1, 4, 4), dtype=bool)
    assert mask_iou(nothing, nothing) == pytest.approx([1.0])  # nothing to find, nothing found


def test_the_scenes_are_drawn_from_the_seed_alone():
    images, labels = digits()
    first = draw_scenes(images, labels, 2, SETTINGS, seed=3)
    again = draw_scenes(images, labels, 2, SETTINGS, seed=3)
    other = draw_scenes(images, labels, 2, SETTINGS, seed=4)
    for name in ("images", "masks", "boxes", "labels"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.images, other.images)
    assert first.images.shape == (24, 20, 20) and first.labels.tolist() == labels.tolist() * 2


def test_each_scene_holds_its_digit_where_its_mask_and_box_say():
    images, labels = digits()
    scenes = draw_scenes(images, labels, 1, SETTINGS, seed=0)
    for index, digit in enumerate(images):
        ink = digit > 0
        own_box = tight_box(ink)  # where the ink sits inside the 8x8 digit
        np.testing.assert_array_equal(scenes.boxes[index], tight_box(scenes.masks[index]))
        left, top = (scenes.boxes[index][:2] - own_box[:2]).astype(int)
        placed = np.zeros_like(scenes.masks[index])
        placed[top : top + 8, left : left + 8] = ink
        np.testing.assert_array_equal(scenes.masks[index], placed)
        window = scenes.images[index, top : top + 8, left : left + 8]
        assert (window >= digit).all()  # the digit is drawn over the clutter, never under it
    assert (scenes.images[~scenes.masks] > 0).any()  # there is clutter outside the digits


def test_a_scene_table_reads_back_as_the_same_scenes():
    images, labels = digits()
    scenes = draw_scenes(images, labels, 1, SETTINGS, seed=1)
    back = table_to_scenes(scenes_to_table(scenes))
    for name in ("images", "masks", "boxes", "labels"):
        np.testing.assert_array_equal(getattr(back, name), getattr(scenes, name))


def test_a_canvas_smaller_than_a_digit_is_refused():
    images, labels = digits()
    with pytest.raises(ValueError, match="cannot hold 8x8 digits"):
        draw_scenes(images, labels, 1, SceneSettings(6, 0, 4, 0), seed=0)


def test_the_centre_box_has_the_mean_training_size_at_the_canvas_centre():
    boxes = np.array([[0.0, 0.0, 4.0, 6.0], [10.0, 2.0, 16.0, 10.0]])  # widths 4, 6; heights 6, 8
    np.testing.assert_allclose(detection.centre_box(boxes, 20), [7.5, 6.5, 12.5, 13.5])


def test_predicted_boxes_come_in_pixels_with_their_corners_in_order():
    outputs = torch.zeros(1, 1, 14)
    outputs[0, 0, 3] = 5.0  # class 3
    outputs[0, 0, 10:] = torch.tensor([0.5, 0.25, 0.25, 0.5])  # x0 > x1: swapped
    boxes, classes = detection.predicted_boxes(outputs, side=20)
    np.testing.assert_allclose(boxes[0, 0], [5.0, 5.0, 10.0, 10.0])
    assert classes.tolist() == [[3]]


def test_the_threshold_control_picks_the_level_that_separates_digit_from_clutter():
    images = np.zeros((2, 6, 6), dtype=np.float32)
    images[:, 1:3, 1:3] = 0.8  # the digit
    images[:, 4, 4] = 0.3  # clutter, dimmer here
    masks = images > 0.5
    scenes = Scenes(images, masks, np.zeros((2, 4)), np.zeros(2, dtype=np.int64))
    level = segmentation.best_threshold(scenes)
    assert 0.3 <= level < 0.8
    np.testing.assert_allclose(mask_iou(images > level, masks), [1.0, 1.0])


def test_the_networks_answer_for_every_member_and_every_pixel():
    images = torch.rand(5, 1, 16, 16)
    assert DetectorEnsemble((1, 16, 16), 10, [4, 8], seeds=[0, 1, 2])(images).shape == (3, 5, 14)
    assert FullyConvEnsemble(4, [1, 2], seeds=[0, 1])(images).shape == (2, 5, 16, 16)


def test_a_member_is_the_same_network_alone_or_among_others():
    images = torch.rand(3, 1, 16, 16)
    together = FullyConvEnsemble(4, [1, 2], seeds=[7, 8])(images)
    alone = FullyConvEnsemble(4, [1, 2], seeds=[8])(images)
    torch.testing.assert_close(together[1], alone[0])
    together = DetectorEnsemble((1, 16, 16), 10, [4, 8], seeds=[7, 8])(images)
    torch.testing.assert_close(together[1], DetectorEnsemble((1, 16, 16), 10, [4, 8], seeds=[8])(images)[0])


def test_too_many_pooled_blocks_for_the_canvas_are_refused():
    with pytest.raises(ValueError, match="do not fit"):
        DetectorEnsemble((1, 8, 8), 10, [4, 4, 4, 4], seeds=[0])


@pytest.mark.parametrize(
    ("model", "values", "rule"),
    [
        (ScenesParams, {"canvas": 4}, "greater than or equal to 8"),
        (DetectionParams, {"iou_threshold": 1.5, "train": {}}, "less than or equal to 1"),
        (DetectionParams, {"filters": [], "train": {}}, "at least 1 item"),
        (SegmentationParams, {"dilations": [0], "train": {}}, "greater than or equal to 1"),
    ],
)
def test_bad_study_parameters_are_refused_when_they_load(model, values, rule):
    with pytest.raises(ValidationError, match=rule):
        model.model_validate(values)


@pytest.mark.parametrize("env", ["base", "smoke"])
def test_the_shipped_study_parameters_are_valid(env):
    parameters = load_parameters(env, PROJECT_ROOT)["cnn"]
    scenes = ScenesParams.model_validate(parameters["scenes"])
    DetectionParams.model_validate(parameters["detection"])
    SegmentationParams.model_validate(parameters["segmentation"])
    if env == "base":  # the claims need 5 seeds; the scenes must be larger than a digit
        assert ExperimentParams.model_validate(parameters["experiments"]).n_seeds >= 5
        assert scenes.canvas >= 3 * 8


def test_a_bad_detection_parameter_stops_the_run_before_any_node(project_copy: Path):
    assert_refused_before_any_node(
        project_copy, "cnn", {"detection": {"iou_threshold": 0}}, "cnn.detection", "greater than 0"
    )


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    return smoke_run("cnn")


def test_the_smoke_scenes_are_written_by_the_data_stage(project: Path):
    train = pd.read_parquet(project / "data/05_model_input/cnn/scenes/train.parquet")
    test = pd.read_parquet(project / "data/05_model_input/cnn/scenes/test.parquet")
    scenes = table_to_scenes(test)
    assert len(train) > len(test) > 0
    assert scenes.images.shape[1:] == (16, 16)  # smoke's canvas
    np.testing.assert_array_equal(scenes.boxes, [tight_box(mask) for mask in scenes.masks])


@pytest.mark.parametrize(
    ("study", "models", "scores"),
    [
        ("detection", ["cnn", "centre-box"], ["hit_rate", "mean_iou", "class_accuracy"]),
        ("segmentation", ["fcn", "threshold"], ["mean_iou", "pixel_accuracy"]),
    ],
)
def test_each_study_scores_its_network_and_control_for_every_seed(project: Path, study, models, scores):
    table = pd.read_csv(project / f"data/08_reporting/cnn/{study}/scores.csv")
    assert list(dict.fromkeys(table.model)) == models
    assert table.groupby("model").seed.apply(sorted).map(tuple).unique().tolist() == [(0, 1)]
    assert table[scores].apply(lambda column: column.between(0, 1).all()).all()


def test_the_detector_and_the_centre_box_share_each_seeds_classes(project: Path):
    table = pd.read_csv(project / "data/08_reporting/cnn/detection/scores.csv")
    by_model = table.pivot(index="seed", columns="model", values="class_accuracy")
    pd.testing.assert_series_equal(by_model["cnn"], by_model["centre-box"], check_names=False)


@pytest.mark.parametrize(("study", "plot"), [("detection", "boxes.png"), ("segmentation", "masks.png")])
def test_each_study_is_a_child_run_with_its_figure(project: Path, study, plot):
    client = tracking_client(project)
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string=f"params.study = '{study}'",
    )
    assert len(runs) == 1
    assert "train_seconds" in runs[0].data.metrics
    assert [artifact.path for artifact in client.list_artifacts(runs[0].info.run_id)] == [f"{study}.png"]
    assert (project / f"data/08_reporting/cnn/{study}/{plot}").stat().st_size > 0


@pytest.mark.parametrize(
    ("study", "network", "kind", "outputs"),
    [("detection", "cnn", "detector", (14,)), ("segmentation", "fcn", "segmenter", (16, 16))],
)
def test_each_studys_run_logs_its_network_holding_the_weights_of_its_model_file(
    project: Path, study, network, kind, outputs
):
    client = tracking_client(project)
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string=f"params.study = '{study}'",
    )
    (logged,) = logged_models(client, runs).values()
    saved = ModelDataset(str(project / f"data/06_models/cnn/{study}.pt")).load()[network]
    assert_holds_the_catalogs_weights(logged, saved, client.tracking_uri, kind)
    with tracking_at(client.tracking_uri):
        loaded = mlflow.pyfunc.load_model(f"models:/{logged.model_id}")
    example = loaded.input_example  # the first test scenes
    assert example.shape == (3, 1, 16, 16)
    assert loaded.predict(example).shape == (3, len(saved.trained_record.seeds), *outputs)
