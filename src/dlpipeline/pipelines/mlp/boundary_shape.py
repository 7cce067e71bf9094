"""The shape of a learned decision boundary, read off its grid: how far from the ideal circle, closed or not.

The notes' circles (``make_circles``: an outer ring of radius 1, class 0, and an inner ring of
radius ``factor``, class 1, both blurred by Gaussian noise of std ``noise`` on each coordinate,
the classes equally likely) have a known best boundary: a circle about the origin, of the
radius where both classes are equally likely (the Bayes boundary). A learned boundary is
read off the class a model predicts at the nodes of a :class:`BoundaryGrid`.
"""

import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import i0e

from dlpipeline.figures.boundaries import BoundaryGrid

OUTER_RADIUS = 1.0  # make_circles' outer ring (class 0); the inner ring (class 1) has radius ``factor``


def bayes_radius(noise: float, factor: float) -> float:
    """The radius of the circles' Bayes boundary: where a point is as likely inner as outer.

    A ring of radius ``R`` blurred by isotropic noise ``σ`` has the density
    ``exp(-(r² + R²) / 2σ²) · I0(r R / σ²)`` (up to a constant) at distance ``r`` from the
    origin; with equal priors the boundary is the ``r`` where the two rings' densities are equal
    (the inner ring's is the larger inside it, everywhere: the ratio falls with ``r``), between
    the rings unless the noise is large. Without noise any circle between the rings is best: the
    middle one.
    """
    if noise == 0:
        return (factor + OUTER_RADIUS) / 2
    variance = noise**2

    def log_density(radius: float, ring: float) -> float:
        scaled = radius * ring / variance
        return -(radius**2 + ring**2) / (2 * variance) + math.log(i0e(scaled)) + scaled

    def inner_minus_outer(radius: float) -> float:
        return log_density(radius, factor) - log_density(radius, OUTER_RADIUS)

    # Between the rings as a rule; with much noise the rings' densities cross beyond the outer one.
    upper = OUTER_RADIUS
    while inner_minus_outer(upper) > 0:
        upper *= 2
    return float(brentq(inner_minus_outer, factor, upper))


def boundary_points(grid: BoundaryGrid) -> np.ndarray:
    """The learned boundary as points ``(k, 2)``: midpoints of neighbouring nodes of different class."""
    labels, xx, yy = grid.labels, grid.xx, grid.yy
    across = labels[:, 1:] != labels[:, :-1]
    down = labels[1:, :] != labels[:-1, :]
    x = np.concatenate([((xx[:, 1:] + xx[:, :-1]) / 2)[across], ((xx[1:, :] + xx[:-1, :]) / 2)[down]])
    y = np.concatenate([((yy[:, 1:] + yy[:, :-1]) / 2)[across], ((yy[1:, :] + yy[:-1, :]) / 2)[down]])
    return np.column_stack([x, y])


def distance_to_circle(grid: BoundaryGrid, radius: float) -> float:
    """Mean distance from the learned boundary to the circle of ``radius`` about the origin.

    0 for a boundary on the circle. A grid with no boundary at all (one class everywhere)
    is given the largest distance any node of the grid has from the circle: no boundary is
    as far from the circle as the grid can tell.
    """
    points = boundary_points(grid)
    if len(points) == 0:
        return float(np.abs(np.hypot(grid.xx, grid.yy) - radius).max())
    return float(np.abs(np.hypot(points[:, 0], points[:, 1]) - radius).mean())


def encloses_class_1(grid: BoundaryGrid) -> bool:
    """Whether the class-1 region is closed: predicted somewhere on the grid, nowhere on its edge.

    The grid covers the points with a margin, so a region that reaches its edge is open to
    the outside (one or two ReLU neurons can draw no other: their regions are unbounded).
    """
    labels = grid.labels
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    return bool((labels == 1).any() and not (edge == 1).any())
