"""What the claims compare besides accuracy: operations counted by hand, and features made by hand."""

import numpy as np
import pytest

from dlpipeline.models.cnn import ConvNetSpec
from dlpipeline.pipelines.cnn import handmade, operations

DIGIT = (1, 8, 8)


def test_a_convolution_costs_one_kernel_per_output_position_and_channel():
    # 8x8 positions x 4 filters x (1 channel x 3 x 3 weights) each, worked out by hand
    assert operations.conv_macs(c_in=1, c_out=4, kernel_size=3, rows=8, cols=8) == 2304
    assert operations.dense_macs(n_in=256, n_out=128) == 32768


def test_the_baseline_cnn_is_counted_layer_by_layer_at_the_resolution_each_layer_sees():
    spec = ConvNetSpec(DIGIT, 10, filters=(32, 64), kernel_size=3, pooling="max", dense_units=128)
    assert operations.layer_macs(spec) == {
        "conv 1": 8 * 8 * 32 * 1 * 9,  # on the 8x8 image
        "conv 2": 4 * 4 * 64 * 32 * 9,  # on the pooled 4x4 maps
        "dense": (64 * 2 * 2) * 128,
        "output": 128 * 10,
    }
    assert operations.macs_per_image(spec) == 18432 + 294912 + 32768 + 1280


def test_without_pooling_the_second_convolution_sees_four_times_the_positions():
    pooled = ConvNetSpec(DIGIT, 10, filters=(32, 64), pooling="max")
    unpooled = ConvNetSpec(DIGIT, 10, filters=(32, 64), pooling="none")
    assert operations.layer_macs(unpooled)["conv 2"] == 4 * operations.layer_macs(pooled)["conv 2"]
    assert operations.layer_macs(unpooled)["conv 1"] == operations.layer_macs(pooled)["conv 1"]


def test_an_mlp_multiplies_only_in_its_dense_layers():
    mlp = ConvNetSpec(DIGIT, 10, filters=(), dense_units=707)
    assert operations.layer_macs(mlp) == {"dense": 64 * 707, "output": 707 * 10}


class Trained:
    """A trained configuration as the operation table reads it."""

    def __init__(self, name: str, spec: ConvNetSpec) -> None:
        self.name, self.spec = name, spec


def test_the_operation_table_has_one_row_per_configuration_on_the_same_image_shape():
    cnn = ConvNetSpec(DIGIT, 10, filters=(4, 8), dense_units=16)
    mlp = ConvNetSpec(DIGIT, 10, filters=(), dense_units=16)
    table = operations.operation_table([Trained("cnn", cnn), Trained("mlp", mlp)]).set_index("configuration")
    assert table.image_shape.tolist() == ["1x8x8", "1x8x8"]
    assert table.loc["mlp", "conv_macs"] == 0
    assert table.loc["cnn", "n_params"] == cnn.n_params
    assert (table.conv_macs + table.dense_macs == table.macs_per_image).all()
    assert table.loc["cnn", "macs_per_image"] == operations.macs_per_image(cnn)


def test_the_projections_are_the_ink_of_every_row_then_every_column():
    image = np.zeros((1, 3, 4))
    image[0, 1, :] = 1.0  # one horizontal stroke on the middle row
    assert handmade.projections(image).tolist() == [[0, 4, 0, 1, 1, 1, 1]]


def test_a_vertical_stroke_votes_for_the_horizontal_gradient_direction_only():
    image = np.zeros((1, 8, 8))
    image[0, :, 4:] = 1.0  # dark left half, bright right half: the gradient points along the columns
    histograms = handmade.orientation_histograms(image, orientations=4, cell_size=4, cell_stride=4)
    cells = histograms.reshape(2, 2, 4)  # 2x2 cells of 4 direction bins
    assert (cells[..., 1:] == 0).all()  # nothing but direction 0 (along the columns)
    assert (cells[:, 0, 0] > 0).all()  # the left cells hold the edge's left side ...
    assert (cells[:, 1, 0] > 0).all()  # ... and the right cells its right side


def test_the_handmade_features_have_one_histogram_per_cell_and_the_projections():
    images = np.random.default_rng(0).random((3, 8, 8))
    features = handmade.handmade_features(images, orientations=9, cell_size=4, cell_stride=2)
    assert features.shape == (3, 3 * 3 * 9 + 8 + 8)  # 3x3 overlapping cells, 8 rows, 8 columns


def test_a_cell_larger_than_the_image_is_refused():
    with pytest.raises(ValueError, match="cell_size 9 is larger than the 8x8 images"):
        handmade.orientation_histograms(np.zeros((1, 8, 8)), orientations=9, cell_size=9, cell_stride=1)
