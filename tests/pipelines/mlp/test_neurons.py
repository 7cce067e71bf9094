"""The neurons study's pieces: the Bayes limit, networks without bias or activation, the study's tables."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_circles

from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.mlp.bayes import bayes_accuracy, bayes_rule_labels
from dlpipeline.pipelines.mlp.boundary_shape import bayes_radius
from dlpipeline.pipelines.mlp.data import noise_factor_draws
from dlpipeline.pipelines.mlp.neurons import fit_linear_baselines, fit_variants, neuron_units, spread_table
from dlpipeline.pipelines.mlp.noise_factor import fit_noise_factor, noise_factor_units
from dlpipeline.pipelines.mlp.params import NeuronsParams, NoiseFactorParams
from dlpipeline.pipelines.mlp.report import BAYES_ACCURACY_CIRCLES
from dlpipeline.training import TrainConfig, fit

MONTE_CARLO_POINTS = 200_000


def test_without_noise_the_rings_are_separated_perfectly():
    assert bayes_accuracy(0.0, 0.5) == 1.0


def test_the_notes_circles_limit_is_the_reference_the_sweep_figure_draws():
    assert round(bayes_accuracy(0.1, 0.5), 3) == BAYES_ACCURACY_CIRCLES


@pytest.mark.parametrize(("noise", "factor"), [(0.1, 0.7), (0.3, 0.5), (0.5, 0.7), (1.0, 0.3)])
def test_the_limit_is_what_the_bayes_rule_scores_on_many_points_of_make_circles(noise, factor):
    features, labels = make_circles(MONTE_CARLO_POINTS, noise=noise, factor=factor, random_state=3)
    empirical = (bayes_rule_labels(features, noise, factor) == labels).mean()
    limit = bayes_accuracy(noise, factor)
    standard_error = math.sqrt(limit * (1 - limit) / MONTE_CARLO_POINTS)
    assert abs(empirical - limit) < 4 * standard_error


@pytest.mark.parametrize("shift", [-0.1, -0.03, 0.03, 0.1])
def test_no_other_circle_classifies_make_circles_better_than_the_bayes_circle(shift):
    noise, factor = 0.2, 0.5
    features, labels = make_circles(MONTE_CARLO_POINTS, noise=noise, factor=factor, random_state=4)
    radius = np.hypot(features[:, 0], features[:, 1])
    at_bayes = ((radius < bayes_radius(noise, factor)) == labels).mean()
    elsewhere = ((radius < bayes_radius(noise, factor) + shift) == labels).mean()
    assert elsewhere < at_bayes


def test_with_much_noise_the_bayes_circle_lies_beyond_the_outer_ring():
    radius = bayes_radius(0.5, 0.7)
    assert radius > 1
    assert bayes_accuracy(0.5, 0.7) > 0.5


def _ensemble(bias: bool, activation: str = "relu") -> MLPEnsemble:
    return MLPEnsemble(
        2,
        [
            [8],
            [3],
            [
                5,
            ],
        ],
        2,
        activation,
        seeds=[0, 1, 2],
        bias=bias,
    )


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(
    points=st.lists(
        st.tuples(st.floats(-3, 3), st.floats(-3, 3)).filter(lambda p: math.hypot(*p) > 1e-3),
        min_size=1,
        max_size=20,
    ),
    scale=st.floats(0.01, 100),
)
def test_a_relu_network_without_bias_gives_one_label_along_every_ray(points, scale):
    network = _ensemble(bias=False)
    features = torch.tensor(points, dtype=torch.float32)
    with torch.no_grad():
        near, far = network(features), network(scale * features)
    margin = near[..., 1] - near[..., 0]
    confident = margin.abs() > 1e-4  # the label of a point on the boundary itself is a tie
    same = torch.sign(margin) == torch.sign(far[..., 1] - far[..., 0])
    assert bool(same[confident].all())


def test_with_bias_a_network_changes_label_along_a_ray():
    # one neuron relu(x1 - 1) against a constant logit 0.5: class 1 only beyond x1 = 1.5
    network = MLPEnsemble(2, [[1]], 2, "relu", seeds=[0])
    network.load_layers(
        [torch.tensor([[[1.0], [0.0]]]), torch.tensor([[[0.0, 1.0]]])],
        [torch.tensor([[-1.0]]), torch.tensor([[0.5, 0.0]])],
    )
    with torch.no_grad():
        labels = network(torch.tensor([[0.5, 0.2], [3.0, 1.2]])).argmax(-1)
    assert labels.tolist() == [[0, 1]]


def test_without_bias_the_biases_stay_zero_through_training():
    network = _ensemble(bias=False)
    features = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    labels = (features.norm(dim=1) < 1).long()
    untrained = _ensemble(bias=False)
    config = TrainConfig(epochs=20, learning_rate=0.1, device="cpu")
    fit(network, features, labels, ensemble_cross_entropy, config, seed=0)
    assert all(bool((bias == 0).all()) for bias in network.biases)
    assert all(
        not torch.equal(trained, initial)
        for trained, initial in zip(network.weights, untrained.weights, strict=True)
    )


def test_a_network_with_the_identity_activation_is_an_affine_map():
    network = _ensemble(bias=True, activation="identity")
    generator = torch.Generator().manual_seed(1)
    x, y = torch.randn(10, 2, generator=generator), torch.randn(10, 2, generator=generator)
    with torch.no_grad():
        midpoint, ends = network((x + y) / 2), (network(x) + network(y)) / 2
    torch.testing.assert_close(midpoint, ends)


STUDY = NeuronsParams(
    n_seeds=2,
    hidden_neurons=[1, 6],
    noise_factor=NoiseFactorParams(noise=[0.1, 0.3], factor=[0.5], hidden_neurons=6),
)


@pytest.fixture(scope="module")
def variants(draws, sweep, torch_params):
    return fit_variants(draws, sweep, torch_params, STUDY)


@pytest.fixture(scope="module")
def study_units(torch_draws, variants, draws, sweep) -> pd.DataFrame:
    return neuron_units(torch_draws, variants, fit_linear_baselines(draws, sweep, STUDY), draws, sweep, STUDY)


def test_the_study_table_has_one_row_per_model_width_draw_and_seed(study_units, draws, sweep):
    n_draws, seeds = draws["draw"].nunique(), sweep.seeds[: STUDY.n_seeds]
    counts = study_units.groupby(["study", "model", "hidden_neurons"]).size()
    # the sweep trains widths 1 and 6x6: only its one-layer width 1 is the study's
    assert counts.to_dict() == {
        ("activation", "mlp", 1): n_draws * len(seeds),
        ("activation", "mlp", 6): n_draws * len(seeds),
        ("bias", "mlp", 1): n_draws * len(seeds),
        ("bias", "mlp", 6): n_draws * len(seeds),
        ("perceptron", "logistic", 0): n_draws * len(seeds),
        ("perceptron", "perceptron", 0): n_draws * len(seeds),
        ("sweep", "mlp", 1): n_draws * len(seeds),
    }
    assert not study_units.duplicated(["study", "model", "hidden_neurons", "draw", "seed"]).any()
    assert set(study_units["seed"]) == set(seeds)


def test_each_variant_changes_one_ingredient_of_the_sweeps_network(variants):
    for models in variants["activation"].values():
        assert {model.kwargs["activation"] for model in models.values()} == {"identity"}
    for models in variants["bias"].values():
        assert {(model.kwargs["activation"], model.kwargs["bias"]) for model in models.values()} == {
            ("relu", False)
        }
        assert all(not bool(bias.any()) for model in models.values() for bias in model.module.biases)


def test_a_linear_network_scores_what_the_logistic_regression_scores(study_units):
    linear = study_units[(study_units["study"] == "activation") & (study_units["hidden_neurons"] == 6)]
    logistic = study_units[study_units["model"] == "logistic"]
    paired = linear.merge(logistic, on=["draw", "seed"], suffixes=("", "_logistic"))
    assert (paired["test_accuracy"] - paired["test_accuracy_logistic"]).abs().max() <= 2 / 90


def test_the_spread_table_summarises_each_group():
    table = pd.DataFrame({"group": ["a", "a", "a", "b"], "test_accuracy": [0.2, 0.4, 0.9, 0.5]})
    spread = spread_table(table, ["group"]).set_index("group")
    assert spread.loc["a", ["units", "median", "min", "max"]].tolist() == [3, 0.4, 0.2, 0.9]
    assert spread.loc["b", "q25"] == spread.loc["b", "q75"] == 0.5


def test_the_noise_factor_table_puts_each_setting_beside_its_bayes_limit(drawn_data, sweep, torch_params):
    table = noise_factor_draws(drawn_data, STUDY)
    assert sorted(map(tuple, table[["noise", "factor"]].drop_duplicates().to_numpy())) == [
        (0.1, 0.5),
        (0.3, 0.5),
    ]
    units = noise_factor_units(fit_noise_factor(table, sweep, torch_params, STUDY), table)
    assert len(units) == 2 * drawn_data.n_draws * STUDY.n_seeds
    for (noise, factor), rows in units.groupby(["noise", "factor"]):
        assert rows["bayes_accuracy"].nunique() == 1
        assert rows["bayes_accuracy"].iloc[0] == pytest.approx(bayes_accuracy(noise, factor), abs=1e-6)
    assert (
        units.loc[units["noise"] == 0.1, "bayes_rule_test_accuracy"].mean()
        > units.loc[units["noise"] == 0.3, "bayes_rule_test_accuracy"].mean()
    )
