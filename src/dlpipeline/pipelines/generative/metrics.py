"""Sample-quality metrics for generative models, and the two baseline generators they are compared with.

- Distances between a sample set and the data: :func:`frechet_distance` (on fitted Gaussians,
  :func:`gaussian_frechet_distance` on given moments), :func:`energy_distance` and :func:`sliced_w2`.
- Mode collapse: :func:`mode_coverage` on the ring of Gaussians (:func:`ring_centres`), and
  :func:`classes_covered` on a classifier's predictions for generated digits.
- Memorisation: :func:`mean_nearest_distance` from each sample to the training set.
- Baselines a model has to beat: :func:`gaussian_baseline_samples` (2-D sets) and
  :func:`independent_pixel_samples` (digits).

Every array has one sample per row.
"""

import warnings

import numpy as np
from scipy.linalg import LinAlgWarning, sqrtm
from scipy.spatial.distance import cdist

_MAX_BLOCK_ENTRIES = 1 << 22
"""Largest pairwise-distance block held in memory at once (32 MiB of float64)."""

_SQRTM_OFFSET = 1e-6
"""Added to both covariance diagonals when the square root of their product is not finite."""


def _as_rows(points: np.ndarray) -> np.ndarray:
    """``points`` as a 2-D float array, a 1-D input read as one feature per sample."""
    array = np.asarray(points, dtype=float)
    if array.ndim == 1:
        return array[:, None]
    if array.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got shape {array.shape}")
    return array


def _check_same_width(a: np.ndarray, b: np.ndarray) -> None:
    """Raise unless both sets are non-empty and have the same number of features."""
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both sets need at least one sample")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature counts differ: {a.shape[1]} and {b.shape[1]}")


def _rows_per_block(n_columns: int) -> int:
    """How many rows of a pairwise-distance matrix with ``n_columns`` columns fit in one block."""
    return max(1, _MAX_BLOCK_ENTRIES // max(1, n_columns))


def gaussian_frechet_distance(
    mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray
) -> float:
    """Squared Fréchet (2-Wasserstein) distance between two Gaussians given by their moments.

    ``||mean_a - mean_b||^2 + Tr(cov_a + cov_b - 2 sqrt(cov_a cov_b))``, clamped at 0.
    """
    mean_a, mean_b = np.atleast_1d(mean_a).astype(float), np.atleast_1d(mean_b).astype(float)
    cov_a, cov_b = np.atleast_2d(cov_a).astype(float), np.atleast_2d(cov_b).astype(float)
    if not mean_a.shape == mean_b.shape == cov_a.shape[:1] == cov_b.shape[:1]:
        raise ValueError("means and covariances must describe Gaussians of the same dimension")
    with warnings.catch_warnings():
        # Covariances of real features are often singular (digits have constant border pixels);
        # sqrtm warns then but stays accurate, and a non-finite result is caught just below.
        warnings.simplefilter("ignore", LinAlgWarning)
        root = sqrtm(cov_a @ cov_b)
        if not np.isfinite(root).all():
            offset = _SQRTM_OFFSET * np.eye(len(cov_a))
            root = sqrtm((cov_a + offset) @ (cov_b + offset))
    # The product of two PSD matrices has real non-negative eigenvalues, so any imaginary part is
    # round-off from the Schur decomposition.
    trace_root = float(np.real(np.trace(root)))
    mean_term = float(np.sum((mean_a - mean_b) ** 2))
    value = mean_term + float(np.trace(cov_a) + np.trace(cov_b)) - 2.0 * trace_root
    return max(value, 0.0)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Squared Fréchet distance between Gaussians fitted to two feature sets (FID without Inception).

    Each set needs at least two rows so that its covariance is defined.
    """
    a, b = _as_rows(features_a), _as_rows(features_b)
    _check_same_width(a, b)
    if len(a) < 2 or len(b) < 2:
        raise ValueError("each feature set needs at least 2 rows for a covariance")
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    return gaussian_frechet_distance(a.mean(axis=0), cov_a, b.mean(axis=0), cov_b)


def classes_covered(predicted_labels: np.ndarray, n_classes: int = 10, min_share: float = 0.02) -> int:
    """How many of the ``n_classes`` classes receive at least ``min_share`` of the predicted labels.

    A share threshold rather than "at least one" keeps a few stray misclassified samples from
    counting as a generated class.
    """
    labels = np.asarray(predicted_labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError("predicted_labels must be a non-empty 1-D array")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"predicted_labels must be integers, got {labels.dtype}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes})")
    # Dividing the integer counts keeps k/n bit-identical to the literal k/n a caller passes as
    # min_share, so a class exactly at the threshold counts.
    shares = np.bincount(labels, minlength=n_classes) / len(labels)
    return int(np.count_nonzero(shares >= min_share))


def mean_nearest_distance(samples: np.ndarray, reference: np.ndarray) -> float:
    """Mean Euclidean distance from each sample to its nearest reference row.

    Near 0 means the samples copy the reference (e.g. training) set: the memorisation check.
    Distances are computed in blocks of samples, so memory stays bounded for large sets.
    """
    x, ref = _as_rows(samples), _as_rows(reference)
    _check_same_width(x, ref)
    step = _rows_per_block(len(ref))
    nearest = [cdist(x[i : i + step], ref).min(axis=1) for i in range(0, len(x), step)]
    return float(np.concatenate(nearest).mean())


def ring_centres(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """``(n_modes, 2)`` centres evenly spaced on a circle of ``radius``, the first at angle 0."""
    if n_modes < 1 or radius <= 0:
        raise ValueError("n_modes must be >= 1 and radius > 0")
    angles = 2.0 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def mode_coverage(
    samples: np.ndarray, centres: np.ndarray, std: float, n_std: float = 3.0, min_samples: int = 1
) -> tuple[int, float]:
    """``(modes_covered, high_quality)`` of samples from a mixture of isotropic Gaussians.

    The mode-count rule of VEEGAN (Srivastava et al., 2017), also used by PacGAN (Lin et al.,
    2018) on the ring of 8 Gaussians: a sample is *high quality* when it lies within
    ``n_std`` standard deviations of its nearest centre, and a mode is *covered* when it is the
    nearest centre of at least one high-quality sample (``min_samples=1``). Raise
    ``min_samples`` to stop a few stray samples from counting as a captured mode.
    ``high_quality`` is the share of all samples that are high quality.
    """
    x, mu = _as_rows(samples), _as_rows(centres)
    _check_same_width(x, mu)
    if std <= 0 or n_std <= 0 or min_samples < 1:
        raise ValueError("std and n_std must be > 0 and min_samples >= 1")
    distances = cdist(x, mu)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(x)), nearest] <= n_std * std
    counts = np.bincount(nearest[good], minlength=len(mu))
    return int(np.count_nonzero(counts >= min_samples)), float(good.mean())


def _mean_pairwise_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean Euclidean distance over all ``len(a) * len(b)`` pairs, i = j included, in blocks."""
    step = _rows_per_block(len(b))
    total = sum(float(cdist(a[i : i + step], b).sum()) for i in range(0, len(a), step))
    return total / (len(a) * len(b))


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Squared energy distance ``2 E|X - Y| - E|X - X'| - E|Y - Y'|``, as a V-statistic.

    The V-statistic averages over all pairs, a point with itself included. It is biased upwards
    by O(1/n) but never negative, and identical sets give exactly 0, which the unbiased
    U-statistic does not guarantee. 1-D inputs are read as one feature per sample.
    """
    a, b = _as_rows(x), _as_rows(y)
    _check_same_width(a, b)
    value = (
        2.0 * _mean_pairwise_distance(a, b) - _mean_pairwise_distance(a, a) - _mean_pairwise_distance(b, b)
    )
    # Blocked sums can leave -1e-16 where the exact value is 0.
    return max(value, 0.0)


def _quantile_grid(n_a: int, n_b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where two empirical quantile functions (``n_a`` and ``n_b`` atoms) are both constant.

    Returns the width of each such interval of (0, 1) and the index of the sorted value each
    set takes on it, so that 1-D W2^2 is an exact weighted sum instead of an interpolation.
    """
    edges = np.union1d(np.arange(n_a + 1) / n_a, np.arange(n_b + 1) / n_b)
    middles = (edges[:-1] + edges[1:]) / 2.0
    index_a = np.minimum((middles * n_a).astype(int), n_a - 1)
    index_b = np.minimum((middles * n_b).astype(int), n_b - 1)
    return np.diff(edges), index_a, index_b


def sliced_w2(x: np.ndarray, y: np.ndarray, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance over ``n_projections`` random unit directions (fixed by ``seed``).

    ``sqrt(mean over directions u of W2(u·X, u·Y)^2)``. In 1-D, W2^2 is the integral of the
    squared gap between both quantile functions: with equal sizes, the mean squared gap between
    the sorted values; with unequal sizes, the same integral over the intervals where both
    quantile functions are constant. A shift by ``v`` in ``d`` dimensions gives ``|v| / sqrt(d)``
    as ``n_projections`` grows.
    """
    a, b = _as_rows(x), _as_rows(y)
    _check_same_width(a, b)
    if n_projections < 1:
        raise ValueError("n_projections must be >= 1")
    directions = np.random.default_rng(seed).standard_normal((a.shape[1], n_projections))
    directions /= np.linalg.norm(directions, axis=0, keepdims=True)
    sorted_a, sorted_b = np.sort(a @ directions, axis=0), np.sort(b @ directions, axis=0)
    if len(a) == len(b):
        squared_w2 = np.mean((sorted_a - sorted_b) ** 2, axis=0)
    else:
        widths, index_a, index_b = _quantile_grid(len(a), len(b))
        squared_w2 = widths @ (sorted_a[index_a] - sorted_b[index_b]) ** 2
    return float(np.sqrt(np.mean(squared_w2)))


def gaussian_baseline_samples(data: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """``n_samples`` draws from the Gaussian with ``data``'s mean and covariance.

    The baseline for the 2-D sets: a generator must beat a single Gaussian to have learnt the
    modes at all.
    """
    rows = _as_rows(data)
    if len(rows) < 2:
        raise ValueError("data needs at least 2 rows for a covariance")
    cov = np.atleast_2d(np.cov(rows, rowvar=False))
    return np.random.default_rng(seed).multivariate_normal(rows.mean(axis=0), cov, size=n_samples)


def independent_pixel_samples(images: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """``n_samples`` rows whose every pixel is drawn on its own from that pixel's values in ``images``.

    The baseline for digits: every marginal is right, every stroke (correlation between pixels) is
    lost. Rows of ``images`` are flattened images; the result keeps their dtype.
    """
    pixels = np.asarray(images)
    if pixels.ndim != 2 or len(pixels) == 0:
        raise ValueError("images must be a non-empty 2-D array, one flattened image per row")
    rows = np.random.default_rng(seed).integers(0, len(pixels), size=(n_samples, pixels.shape[1]))
    return pixels[rows, np.arange(pixels.shape[1])]
