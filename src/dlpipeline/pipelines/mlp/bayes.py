"""The Bayes limit of the notes' circles: the best accuracy any classifier can reach on them.

``make_circles`` draws class 0 on a ring of radius 1 and class 1 on a ring of radius ``factor``,
equally many of each, and blurs every point with Gaussian noise of std ``noise`` on each
coordinate. The noise is isotropic, so a point's distance from the origin follows a Rice
distribution (ν = the ring's radius, σ = ``noise``) whatever its angle, and the best classifier
labels 1 inside the Bayes circle (:func:`bayes_radius`) and 0 outside. Its accuracy is the
limit no network can beat on average, one per (noise, factor).
"""

import numpy as np
from scipy.stats import rice

from dlpipeline.pipelines.mlp.boundary_shape import OUTER_RADIUS, bayes_radius


def bayes_accuracy(noise: float, factor: float) -> float:
    """The Bayes-optimal accuracy on ``make_circles(noise=noise, factor=factor)``, from the Rice laws.

    Half the points are inner and right when inside the Bayes circle, half outer and right outside.
    """
    if noise == 0:
        return 1.0
    radius = bayes_radius(noise, factor)
    inner_right = rice.cdf(radius, factor / noise, scale=noise)
    outer_right = rice.sf(radius, OUTER_RADIUS / noise, scale=noise)
    return float((inner_right + outer_right) / 2)


def bayes_rule_labels(features: np.ndarray, noise: float, factor: float) -> np.ndarray:
    """The Bayes classifier's labels for points ``(n, 2)``: 1 inside the Bayes circle, 0 outside."""
    return (np.hypot(features[:, 0], features[:, 1]) < bayes_radius(noise, factor)).astype(np.int64)
