"""The MLP experiment's data nodes (tag ``data``): generate the toy points, split them, draw again.

This module imports no model or training code, so the DVC data stage depends on the
data code only.
"""

import pandas as pd

from dlpipeline.data.toy2d import make_toy_points, stratified_split
from dlpipeline.pipelines.mlp.params import NeuronsParams, ToyDataParams

DRAW_COLUMNS = ["draw", "random_state", "split"]
"""The columns the draws table adds to the points' own (``x1``, ``x2``, ``label``)."""
SETTING_COLUMNS = ["noise", "factor"]
"""The columns the noise_factor study's draws add to a draws table: make_circles' setting."""


def generate_points(data: ToyDataParams) -> pd.DataFrame:
    """Generate the labelled 2-D points of the configured toy set."""
    return make_toy_points(data.name, data.n_samples, data.noise, data.factor, data.random_state)


def split_points(points: pd.DataFrame, data: ToyDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of the points."""
    return stratified_split(points, data.test_size, data.random_state)


def draw_points(data: ToyDataParams) -> pd.DataFrame:
    """Every draw's train and test points in one table: ``draw``, ``random_state``, ``split`` and the points.

    Draw ``d`` generates and splits with its own random state (``data.draw_random_states``), so
    draw 0 is exactly the points and split of :func:`generate_points` and :func:`split_points`.
    """
    tables = []
    for draw, random_state in enumerate(data.draw_random_states):
        drawn = data.model_copy(update={"random_state": random_state})
        for split, points in zip(["train", "test"], split_points(generate_points(drawn), drawn), strict=True):
            tables.append(points.assign(draw=draw, random_state=random_state, split=split))
    table = pd.concat(tables, ignore_index=True)
    return table[[*DRAW_COLUMNS, *[column for column in table if column not in DRAW_COLUMNS]]]


def draw_split(draws: pd.DataFrame, draw: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and test points of one draw of :func:`draw_points`, as :func:`split_points` gives them."""
    rows = draws[draws["draw"] == draw]
    return tuple(  # type: ignore[return-value]
        rows[rows["split"] == split].drop(columns=DRAW_COLUMNS).reset_index(drop=True)
        for split in ("train", "test")
    )


def noise_factor_draws(data: ToyDataParams, neurons: NeuronsParams) -> pd.DataFrame:
    """Every (noise, factor) setting of the neurons study's grid, drawn as :func:`draw_points` draws.

    The notes' circles (``mlp.data``: same size, split, random states and draws), with only
    ``noise`` and ``factor`` changed; the setting leads each row.
    """
    tables = [
        draw_points(data.model_copy(update={"name": "circles", "noise": noise, "factor": factor})).assign(
            noise=noise, factor=factor
        )
        for noise, factor in neurons.noise_factor.settings
    ]
    table = pd.concat(tables, ignore_index=True)
    return table[[*SETTING_COLUMNS, *[column for column in table if column not in SETTING_COLUMNS]]]
