"""Features defined by hand, as classical machine learning makes them: the control of the learned ones.

Two kinds a person would design for handwritten digits, computed with numpy and nothing
learned: histograms of gradient orientations in overlapping cells (the idea of HOG: which way
the strokes run, and where), and the row and column projections (how much ink each row and
each column holds).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def gradients(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences along columns and rows of ``(n, rows, cols)`` images.

    The border pixels are repeated outside the image, so its frame is no edge of its own.
    """
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    along_cols = padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]
    along_rows = padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]
    return along_cols, along_rows


def orientation_histograms(
    images: np.ndarray, orientations: int, cell_size: int, cell_stride: int
) -> np.ndarray:
    """Per cell, the gradient magnitude summed into ``orientations`` bins of unsigned direction.

    Cells are ``cell_size × cell_size`` windows every ``cell_stride`` pixels. Returns
    ``(n, cells_down * cells_across * orientations)``.
    """
    n, rows, cols = images.shape
    if cell_size > min(rows, cols):
        raise ValueError(f"cell_size {cell_size} is larger than the {rows}x{cols} images")
    along_cols, along_rows = gradients(images)
    magnitude = np.hypot(along_cols, along_rows)
    angle = np.mod(np.arctan2(along_rows, along_cols), np.pi)  # a stroke has no direction: 0 ≤ angle < π
    bins = np.minimum((angle / np.pi * orientations).astype(int), orientations - 1)
    votes = np.zeros((n, rows, cols, orientations))
    np.put_along_axis(votes, bins[..., None], magnitude[..., None], axis=-1)
    windows = sliding_window_view(votes, (cell_size, cell_size), axis=(1, 2))[:, ::cell_stride, ::cell_stride]
    return windows.sum(axis=(-2, -1)).reshape(n, -1)


def projections(images: np.ndarray) -> np.ndarray:
    """Ink per row, then ink per column: ``(n, rows + cols)``."""
    return np.concatenate([images.sum(axis=2), images.sum(axis=1)], axis=1)


def handmade_features(images: np.ndarray, orientations: int, cell_size: int, cell_stride: int) -> np.ndarray:
    """The hand-made features of ``(n, rows, cols)`` images: orientation histograms, then projections."""
    return np.concatenate(
        [orientation_histograms(images, orientations, cell_size, cell_stride), projections(images)], axis=1
    )
