"""The CNN experiment's data nodes (tag ``data``): the labelled images, their three splits, the scenes.

This module imports no model or training code, so DVC's ``cnn_data`` stage depends only on
the data readers and the parameters.
"""

import pandas as pd

from dlpipeline.data.digits import (
    load_image_table,
    scale_pixels,
    stratified_subsample,
    stratified_three_way_split,
    table_to_images,
)
from dlpipeline.data.scenes import SceneSettings, draw_scenes, scenes_to_table
from dlpipeline.pipelines.cnn.params import ImageDataParams, ScenesParams


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


def make_scenes(
    train_images: pd.DataFrame, test_images: pd.DataFrame, scenes: ScenesParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test scenes (``cnn.scenes``): each split's digits pasted among clutter of that split.

    The test scenes are drawn from the test digits only, so no test digit was seen in training,
    with a seed of their own (``seed + 1``): the two sets share no draw.
    """
    settings = SceneSettings(scenes.canvas, scenes.fragments, scenes.fragment_size, scenes.strokes)
    tables = []
    for images, copies, seed in (
        (train_images, scenes.copies, scenes.seed),
        (test_images, 1, scenes.seed + 1),
    ):
        digits, labels = table_to_images(images)
        tables.append(scenes_to_table(draw_scenes(digits, labels, copies, settings, seed)))
    return tables[0], tables[1]
