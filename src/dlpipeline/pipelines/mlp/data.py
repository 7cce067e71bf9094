"""The MLP experiment's data nodes (tag ``data``): generate the toy points, split them.

This module imports no model or training code, so the DVC data stage depends on the
data code only.
"""

import pandas as pd

from dlpipeline.data.toy2d import make_toy_points, stratified_split
from dlpipeline.pipelines.mlp.params import ToyDataParams


def generate_points(data: ToyDataParams) -> pd.DataFrame:
    """Generate the labelled 2-D points of the configured toy set."""
    return make_toy_points(data.name, data.n_samples, data.noise, data.factor, data.random_state)


def split_points(points: pd.DataFrame, data: ToyDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of the points."""
    return stratified_split(points, data.test_size, data.random_state)
