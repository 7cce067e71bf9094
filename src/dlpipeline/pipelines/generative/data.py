"""The generative experiment's data nodes (tag ``data``): digits, a ring of Gaussians, two moons.

This module imports no model or training code, so DVC's ``generative_data`` stage depends only
on the data readers and the parameters. The 2-D sets keep their label (the mode, or the moon)
so the figures can colour them; the generators never see it. They are drawn ``n_draws`` times
(column ``draw``; draw ``d`` from ``random_state + d``, so draw 0 is the set a single draw
gives): a claim about generating them then holds over data draws, not for one sample of points.
"""

from collections.abc import Callable

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


DRAW_COLUMN = "draw"


def _draws(draw_one: Callable[[int], pd.DataFrame], n_draws: int) -> pd.DataFrame:
    """``n_draws`` tables ``draw_one(d)`` stacked, each with its ``draw`` number ``d``."""
    return pd.concat(
        [draw_one(draw).assign(**{DRAW_COLUMN: draw}) for draw in range(n_draws)], ignore_index=True
    )


def _ring_draw(data: RingDataParams, random_state: int) -> pd.DataFrame:
    """One draw of the ring from ``random_state``."""
    rng = np.random.default_rng(random_state)
    modes = rng.integers(0, data.n_modes, size=data.n_samples)
    angles = 2 * np.pi * modes / data.n_modes
    centres = data.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres + data.std * rng.standard_normal((data.n_samples, 2))
    return pd.DataFrame({"x1": points[:, 0], "x2": points[:, 1], "label": modes.astype(np.int64)})


def generate_ring(data: RingDataParams) -> pd.DataFrame:
    """``n_draws`` draws of ``n_samples`` points from ``n_modes`` equal Gaussians evenly spaced on a circle.

    VEEGAN's ring; the modes are picked at random per point, so each draw has its own counts.
    """
    return _draws(lambda draw: _ring_draw(data, data.random_state + draw), data.n_draws)


def generate_moons(data: MoonsDataParams) -> pd.DataFrame:
    """``n_draws`` draws of two interleaving noisy moons."""
    return _draws(
        lambda draw: make_toy_points("moons", data.n_samples, data.noise, 0.5, data.random_state + draw),
        data.n_draws,
    )


def split_points(
    points: pd.DataFrame, data: RingDataParams | MoonsDataParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train / test split of each draw of a 2-D set on its own (draw ``d``: ``random_state + d``).

    Every draw has ``n_samples`` points, so every draw's train split has the same size: the
    generators read one draw per ensemble member row by row.
    """
    trains, tests = [], []
    for draw, rows in points.groupby(DRAW_COLUMN, sort=True):
        seed = data.random_state + int(draw)
        train, test = stratified_split(rows.drop(columns=DRAW_COLUMN), data.test_size, seed)
        trains.append(train.assign(**{DRAW_COLUMN: int(draw)}))
        tests.append(test.assign(**{DRAW_COLUMN: int(draw)}))
    return pd.concat(trains, ignore_index=True), pd.concat(tests, ignore_index=True)
