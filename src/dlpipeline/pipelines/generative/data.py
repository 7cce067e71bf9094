"""The generative experiment's data nodes (tag ``data``): digits, a ring of Gaussians, two moons.

This module imports no model or training code, so DVC's ``generative_data`` stage depends only
on the data readers and the parameters. The 2-D sets keep their label (the mode, or the moon)
so the figures can colour them; the generators never see it.
"""

import numpy as np
import pandas as pd

from dlpipeline.data.digits import load_digits_table, scale_pixels, stratified_three_way_split
from dlpipeline.data.toy2d import make_toy_points, stratified_split
from dlpipeline.pipelines.generative.params import DigitsDataParams, MoonsDataParams, RingDataParams


def load_digits() -> pd.DataFrame:
    """scikit-learn's 1797 8×8 digits (pixels 0–16)."""
    return load_digits_table()


def split_digits(
    digits: pd.DataFrame, data: DigitsDataParams
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train / validation / test, stratified as the cnn experiment splits them; pixels in [0, 1]."""
    parts = stratified_three_way_split(digits, data.val_size, data.test_size, data.random_state)
    train, val, test = scale_pixels(parts, reference=parts[0])
    return train, val, test


def generate_ring(data: RingDataParams) -> pd.DataFrame:
    """``n_samples`` points from ``n_modes`` equal Gaussians evenly spaced on a circle (VEEGAN's ring)."""
    rng = np.random.default_rng(data.random_state)
    modes = rng.integers(0, data.n_modes, size=data.n_samples)
    angles = 2 * np.pi * modes / data.n_modes
    centres = data.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres + data.std * rng.standard_normal((data.n_samples, 2))
    return pd.DataFrame({"x1": points[:, 0], "x2": points[:, 1], "label": modes.astype(np.int64)})


def generate_moons(data: MoonsDataParams) -> pd.DataFrame:
    """Two interleaving noisy moons."""
    return make_toy_points("moons", data.n_samples, data.noise, 0.5, data.random_state)


def split_points(
    points: pd.DataFrame, data: RingDataParams | MoonsDataParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train / test split of a 2-D set."""
    return stratified_split(points, data.test_size, data.random_state)
