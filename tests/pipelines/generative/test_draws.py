"""The 2-D sets drawn several times: each draw its own sample and split, each seed trained on its own draw."""

import numpy as np
import pandas as pd
import pytest

from dlpipeline.pipelines.generative.data import generate_moons, generate_ring, split_points
from dlpipeline.pipelines.generative.params import MoonsDataParams, RingDataParams
from dlpipeline.pipelines.generative.training import member_data, member_draws

RING = RingDataParams(n_samples=200, n_draws=3, random_state=4)
MOONS = MoonsDataParams(n_samples=200, n_draws=3, random_state=4)


@pytest.mark.parametrize("generate, params", [(generate_ring, RING), (generate_moons, MOONS)])
def test_draw_zero_is_the_set_one_draw_gives_and_the_other_draws_differ(generate, params):
    drawn = generate(params)
    once = generate(params.model_copy(update={"n_draws": 1}))
    assert drawn.groupby("draw").size().to_dict() == {0: 200, 1: 200, 2: 200}
    pd.testing.assert_frame_equal(drawn[drawn["draw"] == 0].reset_index(drop=True), once)
    first, second = (drawn[drawn["draw"] == d][["x1", "x2"]].to_numpy() for d in (0, 1))
    assert not np.allclose(first, second)


def test_each_draw_is_split_on_its_own_in_equal_stratified_parts():
    train, test = split_points(generate_ring(RING), RING)
    assert train.groupby("draw").size().nunique() == 1 and test.groupby("draw").size().nunique() == 1
    for draw in range(RING.n_draws):
        rows = pd.concat([train[train["draw"] == draw], test[test["draw"] == draw]])
        assert len(rows.drop_duplicates(["x1", "x2"])) == RING.n_samples
    # no point of a draw's test split is in its training split
    merged = train.merge(test, on=["x1", "x2", "draw"])
    assert merged.empty


def test_member_i_reads_draw_i_mod_n_draws_row_by_row():
    train, _ = split_points(generate_ring(RING), RING)
    draws = member_draws(train, n_members=5)
    assert draws == (0, 1, 2, 0, 1)
    data = member_data(train, draws)
    assert data.shape == (len(train) // 3, 5, 2)
    np.testing.assert_array_equal(data[:, 4], train[train["draw"] == 1][["x1", "x2"]].to_numpy())


def test_a_set_drawn_once_is_read_by_every_member_as_it_is():
    once = RING.model_copy(update={"n_draws": 1})
    train, _ = split_points(generate_ring(once), once)
    assert member_draws(train, n_members=5) == ()
    assert member_data(train, ()).shape == (len(train), 2)
