"""The sequence task generators: deterministic, shaped as each task needs, nothing downloaded."""

import numpy as np
import pytest
import torch

from dlpipeline.data.digits import load_digits_table
from dlpipeline.data.sequences import (
    ADDING_BASELINE_MSE,
    adding_problem,
    adding_tensors,
    digit_rows,
    forecast_windows,
    generation_tensors,
    mackey_glass,
    padded_windows,
    sine_waves,
)


def test_the_adding_problem_marks_one_step_in_each_half_and_sums_their_values():
    table = adding_problem(200, 20, seed=3)
    features, targets = adding_tensors(table)
    assert features.shape == (200, 20, 2)
    assert ((features[..., 0] >= 0) & (features[..., 0] <= 1)).all()
    markers = features[..., 1]
    assert (markers[:, :10].sum(dim=1) == 1).all()
    assert (markers[:, 10:].sum(dim=1) == 1).all()
    torch.testing.assert_close(targets[:, 0], (features[..., 0] * markers).sum(dim=1))


def test_predicting_the_mean_of_the_adding_targets_scores_about_one_sixth():
    _, targets = adding_tensors(adding_problem(20_000, 10, seed=0))
    assert ((targets - 1.0) ** 2).mean().item() == pytest.approx(ADDING_BASELINE_MSE, rel=0.03)


def test_the_same_seed_gives_the_same_sequences_and_each_length_its_own():
    assert adding_problem(5, 10, seed=1).equals(adding_problem(5, 10, seed=1))
    assert not adding_problem(5, 10, seed=1).equals(adding_problem(5, 10, seed=2))
    with pytest.raises(ValueError, match="at least 2"):
        adding_problem(5, 1, seed=0)


def test_digits_are_read_as_eight_steps_of_eight_pixels_in_0_1():
    features, labels = digit_rows(load_digits_table().head(50))
    assert features.shape == (50, 8, 8)
    assert features.min() >= 0 and features.max() <= 1
    assert labels.shape == (50,)


def test_the_mackey_glass_series_is_deterministic_bounded_and_not_constant():
    series = mackey_glass(1000)
    np.testing.assert_array_equal(series, mackey_glass(1000))
    assert len(series) == 1000
    assert 0.2 < series.min() < series.max() < 1.6
    assert series.std() > 0.1


def test_forecast_windows_have_the_asked_lengths_and_targets_horizon_steps_ahead():
    series = np.arange(100.0)
    table = forecast_windows(series, n_windows=30, min_len=4, max_len=9, horizon=3, seed=0)
    lengths = table.groupby("window").size()
    assert lengths.between(4, 9).all()
    np.testing.assert_array_equal(table["target"], table["value"] + 3)


def test_padded_windows_carry_the_mask_in_features_and_targets():
    table = forecast_windows(np.arange(50.0), n_windows=6, min_len=2, max_len=5, horizon=1, seed=0)
    features, targets = padded_windows(table, max_len=7)
    assert features.shape == targets.shape == (6, 7, 2)
    lengths = table.groupby("window").size().to_numpy()
    np.testing.assert_array_equal(features[..., 1].sum(dim=1).numpy(), lengths)
    torch.testing.assert_close(features[..., 1], targets[..., 1])
    assert (features[..., 0][features[..., 1] == 0] == 0).all()


def test_generation_feeds_omega_first_then_the_previous_true_value():
    table = sine_waves(4, 6, omega_min=0.2, omega_max=0.5, seed=0)
    features, targets = generation_tensors(table)
    assert features.shape == (4, 6, 2) and targets.shape == (4, 6, 1)
    omegas = features[:, 0, 0]
    assert ((omegas >= 0.2) & (omegas <= 0.5)).all()
    assert (features[:, 1:, 0] == 0).all()
    torch.testing.assert_close(features[:, 1:, 1], targets[:, :-1, 0])
    torch.testing.assert_close(targets[:, :, 0], torch.sin(omegas[:, None] * torch.arange(1, 7)))
