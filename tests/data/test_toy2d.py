"""The toy 2-D generators: shapes, labels, balance, determinism and the stratified split."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_circles

from dlpipeline.data.toy2d import GENERATORS, features_and_labels, make_toy_points, stratified_split


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_every_toy_set_is_a_table_of_two_float_features_and_a_binary_label(name):
    points = make_toy_points(name, n_samples=200, noise=0.1, factor=0.5, random_state=3)
    assert list(points.columns) == ["x1", "x2", "label"]
    assert points.dtypes.tolist() == [np.float64, np.float64, np.int64]
    assert len(points) == 200
    assert set(points.label) == {0, 1}
    assert 60 <= points.label.sum() <= 140


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_same_arguments_give_the_same_points_bit_for_bit(name):
    first = make_toy_points(name, 150, 0.2, 0.5, random_state=7)
    again = make_toy_points(name, 150, 0.2, 0.5, random_state=7)
    other_seed = make_toy_points(name, 150, 0.2, 0.5, random_state=8)
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not first.equals(other_seed)


def test_circles_are_the_notes_make_circles_call():
    features, labels = make_circles(n_samples=300, noise=0.1, factor=0.5, random_state=42)
    points = make_toy_points("circles", 300, 0.1, 0.5, random_state=42)
    np.testing.assert_array_equal(points[["x1", "x2"]].to_numpy(), features)
    np.testing.assert_array_equal(points.label.to_numpy(), labels)


def test_the_inner_circle_is_label_one():
    points = make_toy_points("circles", 300, 0.0, 0.5, random_state=0)
    radius = np.hypot(points.x1, points.x2)
    assert np.allclose(radius[points.label == 1], 0.5)
    assert np.allclose(radius[points.label == 0], 1.0)


def test_noise_scatters_the_points():
    tight = make_toy_points("circles", 300, 0.0, 0.5, random_state=0)
    noisy = make_toy_points("circles", 300, 0.3, 0.5, random_state=0)
    spread = lambda table: np.hypot(table.x1, table.x2)[table.label == 0].std()  # noqa: E731
    assert spread(noisy) > spread(tight) + 0.1


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="unknown toy dataset 'swirls'"):
        make_toy_points("swirls", 10, 0.1, 0.5, 0)


def test_the_split_keeps_the_class_ratio_and_every_point_once():
    points = make_toy_points("moons", 300, 0.1, 0.5, random_state=1)
    train, test = stratified_split(points, test_size=0.3, random_state=1)
    assert (len(train), len(test)) == (210, 90)
    assert train.label.mean() == pytest.approx(test.label.mean(), abs=0.02)
    merged = pd.concat([train, test]).sort_values(["x1", "x2"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, points.sort_values(["x1", "x2"]).reset_index(drop=True))


def test_features_and_labels_are_numpy_arrays():
    features, labels = features_and_labels(make_toy_points("xor", 40, 0.1, 0.5, 0))
    assert features.shape == (40, 2)
    assert labels.shape == (40,)
