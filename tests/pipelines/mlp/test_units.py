"""The claims' units: data draws, the sweep on every draw, and what each unit measures."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from tests.pipelines.mlp.conftest import N_DRAWS, SKLEARN_UNIT_SEEDS

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.figures.boundaries import BoundaryGrid
from dlpipeline.pipelines.mlp import data as data_nodes
from dlpipeline.pipelines.mlp.boundary_shape import (
    bayes_radius,
    distance_to_circle,
    encloses_class_1,
)
from dlpipeline.pipelines.mlp.evaluate import predicted_labels
from dlpipeline.pipelines.mlp.params import ThroughputParams, UnitsParams
from dlpipeline.pipelines.mlp.throughput import batch_throughput, timed_batch_sizes
from dlpipeline.pipelines.mlp.torch_flavour import fit_torch_sweep
from dlpipeline.pipelines.mlp.units import MEASURES, claim_groups, claim_losses

# --- the draws -----------------------------------------------------------------------------------


def test_draw_0_is_the_set_and_split_the_figures_show(draws, split):
    train, test = data_nodes.draw_split(draws, 0)
    pd.testing.assert_frame_equal(train, split[0])
    pd.testing.assert_frame_equal(test, split[1])


def test_every_draw_has_its_own_random_state_points_and_split(draws, drawn_data):
    assert sorted(draws["draw"].unique()) == list(range(N_DRAWS))
    states = draws.groupby("draw")["random_state"].unique()
    assert [int(state[0]) for state in states] == drawn_data.draw_random_states
    first_points = [data_nodes.draw_split(draws, draw)[1][["x1", "x2"]].to_numpy() for draw in range(N_DRAWS)]
    for draw in range(1, N_DRAWS):
        assert not np.allclose(first_points[0], first_points[draw])
        train, test = data_nodes.draw_split(draws, draw)
        assert len(test) == round(drawn_data.n_samples * drawn_data.test_size)
        assert len(train) + len(test) == drawn_data.n_samples


# --- the sweep on every draw -------------------------------------------------------------------


def test_draw_0_of_each_flavour_is_the_saved_sweep(torch_draws, sklearn_draws, torch_models, sklearn_models):
    for per_draw, saved in ((torch_draws, torch_models), (sklearn_draws, sklearn_models)):
        assert list(per_draw[0]) == list(saved)
        assert all(per_draw[0][name] is saved[name] for name in saved)
    assert sorted(torch_draws) == sorted(sklearn_draws) == list(range(N_DRAWS))


def test_sklearn_fits_fewer_seeds_on_the_other_draws(sklearn_draws, sweep):
    for draw in range(1, N_DRAWS):
        for trained in sklearn_draws[draw].values():
            assert trained.trained_record.seeds == tuple(sweep.seeds[:SKLEARN_UNIT_SEEDS])


def test_a_draw_trained_in_the_batch_of_draws_learns_what_it_learns_alone(
    torch_draws, draws, sweep, torch_params
):
    train, test = data_nodes.draw_split(draws, 1)
    alone = fit_torch_sweep(train, sweep, torch_params)
    features = features_and_labels(test)[0]
    for name, trained in alone.items():
        batched = torch_draws[1][name]
        assert batched.about.kept_restarts == trained.about.kept_restarts
        for ours, theirs in zip(batched.module.weights, trained.module.weights, strict=True):
            torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)
        np.testing.assert_array_equal(
            predicted_labels(batched, features), predicted_labels(trained, features)
        )


# --- the units table -------------------------------------------------------------------------------


def test_the_units_table_has_one_row_per_flavour_width_draw_and_common_seed(units_table, sweep):
    expected = {
        (flavour, width, draw, seed)
        for flavour, seeds in (("torch", sweep.seeds), ("sklearn", sweep.seeds[:SKLEARN_UNIT_SEEDS]))
        for width in ("1", "6x6")
        for draw in range(N_DRAWS)
        for seed in seeds
    }
    keys = list(
        zip(units_table.flavour, units_table.hidden_neurons, units_table.draw, units_table.seed, strict=True)
    )
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected


def test_shares_and_rates_are_in_the_unit_interval(units_table):
    for column in [
        "test_accuracy",
        "share_predicted_0",
        "share_class_0",
        "min_class_error",
        "linear_test_accuracy",
    ]:
        assert units_table[column].between(0, 1).all(), column
    assert set(units_table["encloses_class_1"]) <= {0, 1}


def test_the_true_share_and_the_linear_baseline_are_one_per_draw(units_table, draws):
    per_draw = units_table.groupby("draw")[["share_class_0", "linear_test_accuracy", "linear_bayes_distance"]]
    assert (per_draw.nunique() == 1).all().all()
    for draw, share in units_table.groupby("draw")["share_class_0"].first().items():
        labels = data_nodes.draw_split(draws, draw)[1]["label"]
        assert share == pytest.approx((labels == 0).mean(), abs=1e-6)


def test_draw_0_units_score_what_the_accuracy_table_scores(units_table, results):
    for result in results:
        rows = units_table[
            (units_table.flavour == result.flavour)
            & (units_table.hidden_neurons == result.name.split("-", 1)[1])
            & (units_table.draw == 0)
        ]
        expected = dict(zip(result.seeds, result.test_accuracy, strict=True))
        for seed, accuracy in zip(rows.seed, rows.test_accuracy, strict=True):
            assert accuracy == pytest.approx(expected[seed], abs=1e-6)


def test_one_neuron_cannot_close_a_region_and_a_wider_deeper_net_draws_the_circle(units_table):
    torch_rows = units_table[units_table.flavour == "torch"]
    one, deep = torch_rows[torch_rows.hidden_neurons == "1"], torch_rows[torch_rows.hidden_neurons == "6x6"]
    assert (one.encloses_class_1 == 0).all()
    assert deep.bayes_distance.mean() < one.bayes_distance.mean()
    assert deep.test_accuracy.mean() > deep.linear_test_accuracy.mean() + 0.3


# --- the groups and the losses -----------------------------------------------------------------------


def test_a_group_averages_its_widths_per_draw_and_seed_and_a_missing_width_leaves_it_out():
    rows = [
        {"flavour": "torch", "hidden_neurons": width, "draw": 0, "seed": 0, **dict.fromkeys(MEASURES, value)}
        for width, value in (("3", 0.0), ("4", 1.0), ("5", 0.5))
    ]
    groups = claim_groups(pd.DataFrame(rows), UnitsParams(groups={"3-4": [3, 4], "5-6": [5, 6]}))
    assert list(groups.neurons) == ["3-4"]
    assert (groups[MEASURES] == 0.5).all().all()


def test_the_loss_table_reads_each_members_first_and_last_epoch(torch_draws, sweep):
    losses = claim_losses(torch_draws)
    assert len(losses) == len(torch_draws) * len(sweep.architectures) * sweep.n_seeds
    history = torch_draws[2]["torch-6x6"].trained_history.loss
    row = losses[
        (losses.draw == 2) & (losses.hidden_neurons == "6x6") & (losses.seed == sweep.seeds[1])
    ].iloc[0]
    assert row.loss_initial == pytest.approx(float(history[0, 1]), abs=1e-6)
    assert row.loss_final == pytest.approx(float(history[-1, 1]), abs=1e-6)
    assert (losses.loss_final < losses.loss_initial).mean() > 0.5


# --- the boundary's shape ---------------------------------------------------------------------------


def grid_of(label_at) -> BoundaryGrid:
    """A 201 x 201 grid over [-2, 2]² labelled by ``label_at(x, y)``."""
    xx, yy = np.meshgrid(np.linspace(-2, 2, 201), np.linspace(-2, 2, 201))
    return BoundaryGrid(xx, yy, label_at(xx, yy).astype(int))


def test_the_bayes_circle_lies_between_the_rings_where_both_are_equally_likely():
    radius = bayes_radius(0.1, 0.5)
    assert 0.5 < radius < 1.0
    assert bayes_radius(0.0, 0.5) == 0.75
    assert bayes_radius(0.01, 0.5) == pytest.approx(0.75, abs=1e-3)  # little noise: the middle circle


def test_a_boundary_on_the_circle_is_at_distance_zero_and_a_straight_cut_is_far():
    disc = grid_of(lambda x, y: np.hypot(x, y) < 0.75)
    half_plane = grid_of(lambda x, y: x > 0)
    assert distance_to_circle(disc, 0.75) < 0.02  # one grid step is 0.02
    assert distance_to_circle(half_plane, 0.75) > 0.3
    everywhere_0 = grid_of(lambda x, y: np.zeros_like(x))
    assert distance_to_circle(everywhere_0, 0.75) == pytest.approx(math.hypot(2, 2) - 0.75)


def test_only_a_bounded_class_1_region_is_enclosed():
    assert encloses_class_1(grid_of(lambda x, y: np.hypot(x, y) < 0.75))
    assert not encloses_class_1(grid_of(lambda x, y: x > 0))
    assert not encloses_class_1(grid_of(lambda x, y: np.abs(x) + 0 * y > 5))  # no class 1 at all
    assert not encloses_class_1(grid_of(lambda x, y: np.hypot(x, y) > 0.75))  # class 0 enclosed, not 1


# --- batch throughput ---------------------------------------------------------------------------------


def test_the_timed_sizes_run_from_the_smallest_to_the_full_batch():
    assert timed_batch_sizes([64, 1, 4, 500, 4], 210) == [1, 4, 64, 210]


def test_the_throughput_table_has_one_row_per_repeat_and_size(split, sweep, torch_params):
    throughput = ThroughputParams(batch_sizes=[1, 64], repeats=2, epochs=1)
    table = batch_throughput(split[0], sweep, torch_params, throughput)
    n = len(split[0])
    assert list(zip(table.repeat, table.batch_size, strict=True)) == [
        (r, s) for r in range(2) for s in (1, 64, n)
    ]
    assert list(table.full_batch) == [size == n for size in table.batch_size]
    np.testing.assert_allclose(table.examples_per_second, table.examples / table.seconds)
    assert (table.examples == n).all()
    assert table.threads.nunique() == 1
