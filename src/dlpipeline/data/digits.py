"""Labelled images as tables: scikit-learn's 8×8 digits, or MNIST-format IDX files.

Every table has the same shape: an integer ``label`` column, then one column per pixel
named ``px_<row>_<col>`` (row-major). Tables round-trip through CSV byte for byte, and the
image size is read back from the column names. Nothing is downloaded: the digits ship
inside scikit-learn, and IDX files are the user's own (``dvc add`` them).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dlpipeline.data.idx import read_idx_pair

ImageSourceName = Literal["digits", "idx"]
LABEL_COLUMN = "label"
PIXEL_PREFIX = "px_"
N_IMAGE_CLASSES = 10  # digits, MNIST and Fashion-MNIST alike


def images_to_table(images: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Turn images ``(n, rows, cols)`` and labels ``(n,)`` into a ``label, px_0_0, ...`` table."""
    n_images, n_rows, n_cols = images.shape
    columns = [f"{PIXEL_PREFIX}{row}_{col}" for row in range(n_rows) for col in range(n_cols)]
    table = pd.DataFrame(images.reshape(n_images, n_rows * n_cols), columns=columns)
    table.insert(0, LABEL_COLUMN, np.asarray(labels, dtype=np.int64))
    return table


def pixel_columns(table: pd.DataFrame) -> list[str]:
    """The table's pixel columns, in row-major order."""
    return [column for column in table.columns if column.startswith(PIXEL_PREFIX)]


def table_to_images(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, rows, cols)`` as float32 and labels ``(n,)`` as int64, from a table."""
    columns = pixel_columns(table)
    n_rows, n_cols = (int(size) + 1 for size in columns[-1].removeprefix(PIXEL_PREFIX).split("_"))
    images = table[columns].to_numpy(dtype=np.float32).reshape(len(table), n_rows, n_cols)
    return images, table[LABEL_COLUMN].to_numpy(dtype=np.int64)


def load_digits_table() -> pd.DataFrame:
    """scikit-learn's 1797 handwritten digits: 8×8 images, integer pixels 0–16, labels 0–9."""
    digits = load_digits()
    return images_to_table(digits.images.astype(np.int64), digits.target)


def load_idx_table(files: Sequence[tuple[str | Path, str | Path]]) -> pd.DataFrame:
    """Images and labels of one or more IDX ``(images, labels)`` file pairs, concatenated.

    E.g. MNIST's ``train-*`` and ``t10k-*`` pairs as one table; the experiment makes its
    own stratified split.
    """
    tables = [images_to_table(*read_idx_pair(images, labels)) for images, labels in files]
    return pd.concat(tables, ignore_index=True)


def load_image_table(
    source: ImageSourceName, idx_files: Sequence[tuple[str | Path, str | Path]] = ()
) -> pd.DataFrame:
    """The labelled images of ``source``: the bundled digits, or the given IDX file pairs."""
    if source == "digits":
        return load_digits_table()
    if not idx_files:
        raise ValueError("source 'idx' needs at least one (images, labels) pair of IDX files")
    return load_idx_table(idx_files)


def stratified_subsample(table: pd.DataFrame, max_samples: int | None, random_state: int) -> pd.DataFrame:
    """At most ``max_samples`` rows with the class ratio of ``table`` (all rows when ``None``)."""
    if max_samples is None or max_samples >= len(table):
        return table
    if len(table) - max_samples < table[LABEL_COLUMN].nunique():  # too few left out to stratify them
        return table.sample(n=max_samples, random_state=random_state).sort_index().reset_index(drop=True)
    kept, _ = train_test_split(
        table, train_size=max_samples, random_state=random_state, stratify=table[LABEL_COLUMN]
    )
    return kept.sort_index().reset_index(drop=True)


def stratified_three_way_split(
    table: pd.DataFrame, val_size: float, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Split into train / validation / test tables (shares of the whole), each with the class ratio."""
    rest, test = train_test_split(
        table, test_size=test_size, random_state=random_state, stratify=table[LABEL_COLUMN]
    )
    train, val = train_test_split(
        rest,
        test_size=val_size / (1 - test_size),
        random_state=random_state,
        stratify=rest[LABEL_COLUMN],
    )
    return tuple(part.reset_index(drop=True) for part in (train, val, test))


def scale_pixels(tables: Sequence[pd.DataFrame], reference: pd.DataFrame) -> list[pd.DataFrame]:
    """Divide every pixel by the largest pixel of ``reference`` (the training split): [0, 1] floats."""
    columns = pixel_columns(reference)
    peak = float(reference[columns].to_numpy().max())
    if peak <= 0:
        raise ValueError("every pixel of the reference images is zero: nothing to scale by")
    scaled = []
    for table in tables:
        copy = table.copy()
        copy[columns] = table[columns].to_numpy(dtype=np.float64) / peak
        scaled.append(copy)
    return scaled


ONE_PIXEL_SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
"""Offsets read by :func:`with_shifted_copies`: the image, then moved down, up, right and left."""


def with_shifted_copies(images: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Augment images ``(n, rows, cols)``: each one, then copies moved one pixel up, down, left, right.

    Zeros (background) move in at the edge. Returns ``5 n`` images and their labels.
    """
    n_rows, n_cols = images.shape[1:]
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    copies = [
        padded[:, 1 + d_row : 1 + d_row + n_rows, 1 + d_col : 1 + d_col + n_cols]
        for d_row, d_col in ONE_PIXEL_SHIFTS
    ]
    return np.concatenate(copies), np.tile(labels, len(ONE_PIXEL_SHIFTS))
