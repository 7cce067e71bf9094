"""Image tables: the bundled digits, IDX files, the stratified three-way split, scaling, augmentation."""

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.data.test_idx import idx_bytes

from dlpipeline.data.digits import (
    images_to_table,
    load_digits_table,
    load_image_table,
    scale_pixels,
    stratified_subsample,
    stratified_three_way_split,
    table_to_images,
    with_shifted_copies,
)


@pytest.fixture(scope="module")
def digits() -> pd.DataFrame:
    return load_digits_table()


def test_the_digits_are_1797_labelled_8x8_images_with_pixels_0_to_16(digits):
    assert digits.shape == (1797, 1 + 64)
    assert list(digits.columns[:3]) == ["label", "px_0_0", "px_0_1"]
    assert digits.columns[-1] == "px_7_7"
    assert set(digits.label) == set(range(10))
    pixels = digits.drop(columns="label").to_numpy()
    assert pixels.dtype == np.int64
    assert (pixels.min(), pixels.max()) == (0, 16)


def test_a_table_round_trips_to_images_and_labels(digits):
    images, labels = table_to_images(digits)
    assert images.shape == (1797, 8, 8)
    assert images.dtype == np.float32
    pd.testing.assert_frame_equal(images_to_table(images.astype(np.int64), labels), digits)


def test_non_square_images_keep_their_shape():
    images = np.arange(2 * 3 * 5).reshape(2, 3, 5)
    table = images_to_table(images, np.array([0, 1]))
    assert table.columns[-1] == "px_2_4"
    np.testing.assert_array_equal(table_to_images(table)[0], images)


def test_the_csv_is_the_same_bytes_every_time(digits):
    """What DVC hashes: regenerating the dataset must give an identical file."""

    def csv_bytes(table: pd.DataFrame) -> bytes:
        buffer = io.StringIO()
        table.to_csv(buffer, index=False)
        return buffer.getvalue().encode()

    first = stratified_three_way_split(load_digits_table(), 0.15, 0.25, random_state=42)
    again = stratified_three_way_split(load_digits_table(), 0.15, 0.25, random_state=42)
    for table, same in zip(scale_pixels(first, first[0]), scale_pixels(again, again[0]), strict=True):
        assert csv_bytes(table) == csv_bytes(same)
    assert csv_bytes(digits) == csv_bytes(load_digits_table())


def test_the_split_is_stratified_disjoint_and_complete(digits):
    train, val, test = stratified_three_way_split(digits, val_size=0.15, test_size=0.25, random_state=42)
    assert (len(train), len(val), len(test)) == (1077, 270, 450)
    for part in (train, val, test):
        shares = part.label.value_counts(normalize=True).sort_index()
        np.testing.assert_allclose(shares, digits.label.value_counts(normalize=True).sort_index(), atol=0.01)
    rows = lambda table: {tuple(row) for row in table.to_numpy()}  # noqa: E731
    assert not rows(train) & rows(test)
    together = pd.concat([train, val, test]).sort_values(list(digits.columns)).reset_index(drop=True)
    pd.testing.assert_frame_equal(together, digits.sort_values(list(digits.columns)).reset_index(drop=True))


def test_another_random_state_gives_another_split(digits):
    first = stratified_three_way_split(digits, 0.15, 0.25, random_state=1)[2]
    second = stratified_three_way_split(digits, 0.15, 0.25, random_state=2)[2]
    assert not first.equals(second)


def test_pixels_are_scaled_by_the_training_maximum(digits):
    train, val, test = stratified_three_way_split(digits, 0.15, 0.25, random_state=0)
    scaled_train, scaled_val, scaled_test = scale_pixels([train, val, test], reference=train)
    pixels = scaled_train.drop(columns="label").to_numpy()
    assert (pixels.min(), pixels.max()) == (0.0, 1.0)
    np.testing.assert_array_equal(scaled_test.drop(columns="label"), test.drop(columns="label") / 16)
    pd.testing.assert_series_equal(scaled_val.label, val.label)


def test_scaling_by_an_all_black_reference_is_refused():
    black = images_to_table(np.zeros((2, 2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="every pixel of the reference images is zero"):
        scale_pixels([black], black)


def test_a_subsample_keeps_the_class_ratio(digits):
    subsample = stratified_subsample(digits, max_samples=300, random_state=0)
    assert len(subsample) == 300
    assert subsample.label.value_counts().between(29, 31).all()
    assert stratified_subsample(digits, None, 0) is digits
    assert stratified_subsample(digits, 5000, 0) is digits


def test_shifted_copies_move_each_image_one_pixel_each_way():
    image = np.zeros((1, 3, 3))
    image[0, 1, 1] = 1.0  # a single lit pixel in the centre
    images, labels = with_shifted_copies(image, np.array([7]))
    assert images.shape == (5, 3, 3)
    assert labels.tolist() == [7] * 5
    lit = [tuple(np.argwhere(copy)[0]) for copy in images]
    assert lit == [(1, 1), (2, 1), (0, 1), (1, 2), (1, 0)]
    corner = np.zeros((1, 2, 2))
    corner[0, 0, 0] = 1.0
    moved, _ = with_shifted_copies(corner, np.array([0]))
    assert moved.sum(axis=(1, 2)).tolist() == [1, 1, 0, 1, 0]  # pixels leave at the edge, zeros move in


def test_idx_pairs_are_concatenated_into_one_table(tmp_path: Path):
    train_images = np.full((3, 2, 2), 200, dtype=np.uint8)
    test_images = np.full((2, 2, 2), 100, dtype=np.uint8)
    files = []
    for name, images, labels in [("train", train_images, [0, 1, 2]), ("t10k", test_images, [2, 0])]:
        (tmp_path / f"{name}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (tmp_path / f"{name}-labels-idx1-ubyte").write_bytes(idx_bytes(np.array(labels, dtype=np.uint8)))
        files.append((tmp_path / f"{name}-images-idx3-ubyte", tmp_path / f"{name}-labels-idx1-ubyte"))
    table = load_image_table("idx", files)
    assert table.label.tolist() == [0, 1, 2, 2, 0]
    assert table.px_1_1.tolist() == [200, 200, 200, 100, 100]


def test_the_idx_source_needs_files():
    with pytest.raises(ValueError, match="needs at least one"):
        load_image_table("idx", [])
