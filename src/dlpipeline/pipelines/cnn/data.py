"""The CNN experiment's data nodes (tag ``data``): the labelled images and their three splits.

This module imports no model or training code, so DVC's ``cnn_data`` stage depends only on
the data readers and the parameters.
"""

import pandas as pd

from dlpipeline.data.digits import (
    load_image_table,
    scale_pixels,
    stratified_subsample,
    stratified_three_way_split,
)
from dlpipeline.pipelines.cnn.params import ImageDataParams


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
