"""Two-dimensional toy classification sets: circles, moons, XOR, Gaussian blobs, spiral.

Every generator returns the same table shape: columns ``x1``, ``x2`` (float) and
``label`` (int, 0 or 1), with balanced classes (XOR: balanced in expectation).
The same arguments always give the same table, bit for bit.
"""

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.datasets import make_circles, make_moons
from sklearn.model_selection import train_test_split

ToyDatasetName = Literal["circles", "moons", "xor", "blobs", "spiral"]
FEATURE_COLUMNS = ("x1", "x2")
LABEL_COLUMN = "label"
N_TOY_CLASSES = 2  # every toy set is a binary problem

PointGenerator = Callable[[int, float, float, int], tuple[np.ndarray, np.ndarray]]


def _balanced_labels(n_samples: int) -> np.ndarray:
    """Return ``n_samples`` labels, the first half 0 and the rest 1."""
    return (np.arange(n_samples) >= n_samples // 2).astype(np.int64)


def _xor(n_samples: int, noise: float, factor: float, random_state: int):
    """Uniform points in [-1, 1]²; label 1 where x1·x2 > 0 (before the noise is added)."""
    del factor
    rng = np.random.default_rng(random_state)
    points = rng.uniform(-1.0, 1.0, size=(n_samples, 2))
    labels = (points[:, 0] * points[:, 1] > 0).astype(np.int64)
    return points + rng.normal(scale=noise, size=points.shape), labels


def _blobs(n_samples: int, noise: float, factor: float, random_state: int):
    """Two Gaussian blobs at (-1, -1) (label 0) and (1, 1) (label 1), std ``factor + noise``."""
    rng = np.random.default_rng(random_state)
    labels = _balanced_labels(n_samples)
    centres = np.where(labels[:, None] == 1, 1.0, -1.0)
    return centres + rng.normal(scale=factor + noise, size=(n_samples, 2)), labels


def _spiral(n_samples: int, noise: float, factor: float, random_state: int):
    """Two interleaved spiral arms of 1.75 turns; ``factor`` scales the inner radius."""
    rng = np.random.default_rng(random_state)
    labels = _balanced_labels(n_samples)
    progress = rng.uniform(0.0, 1.0, size=n_samples)
    radius = factor * 0.2 + progress
    angle = 3.5 * np.pi * progress + np.pi * labels
    points = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return points + rng.normal(scale=noise, size=points.shape), labels


def _circles(n_samples: int, noise: float, factor: float, random_state: int):
    """scikit-learn's ``make_circles``: outer circle label 0, inner circle label 1."""
    return make_circles(n_samples, noise=noise, factor=factor, random_state=random_state)


def _moons(n_samples: int, noise: float, factor: float, random_state: int):
    """scikit-learn's ``make_moons`` (``factor`` unused)."""
    del factor
    return make_moons(n_samples, noise=noise, random_state=random_state)


GENERATORS: dict[str, PointGenerator] = {
    "circles": _circles,
    "moons": _moons,
    "xor": _xor,
    "blobs": _blobs,
    "spiral": _spiral,
}


def make_toy_points(
    name: ToyDatasetName, n_samples: int, noise: float, factor: float, random_state: int
) -> pd.DataFrame:
    """Generate ``n_samples`` labelled 2-D points of the named toy set.

    ``make_toy_points("circles", 300, 0.1, 0.5, seed)`` is the notes'
    ``make_circles(n_samples=300, noise=0.1, factor=0.5, random_state=seed)``.
    """
    if name not in GENERATORS:
        raise ValueError(f"unknown toy dataset {name!r}; choose one of {sorted(GENERATORS)}")
    points, labels = GENERATORS[name](n_samples, noise, factor, random_state)
    table = pd.DataFrame(np.asarray(points, dtype=np.float64), columns=list(FEATURE_COLUMNS))
    table[LABEL_COLUMN] = np.asarray(labels, dtype=np.int64)
    return table


def stratified_split(
    points: pd.DataFrame, test_size: float, random_state: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``points`` into train and test tables with the same class ratio in each."""
    train, test = train_test_split(
        points,
        test_size=test_size,
        random_state=random_state,
        stratify=points[LABEL_COLUMN],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def features_and_labels(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``(n, 2)`` float feature matrix and ``(n,)`` int label vector of a table."""
    features = points[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float64)
    labels = points[LABEL_COLUMN].to_numpy(dtype=np.int64)
    return features, labels
