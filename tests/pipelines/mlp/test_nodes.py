"""The MLP experiment's nodes, one by one, on tiny data."""

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from matplotlib.figure import Figure

from dlpipeline.pipelines.mlp import nodes
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, TorchParams, ToyDataParams
from dlpipeline.training import TrainConfig

BASE_PARAMETERS = Path(__file__).resolve().parents[3] / "conf/base/parameters_mlp.yml"


@pytest.fixture(scope="module")
def data() -> ToyDataParams:
    return ToyDataParams(random_state=42)


@pytest.fixture(scope="module")
def split(data):
    return nodes.split_points(nodes.generate_points(data), data)


@pytest.fixture(scope="module")
def sweep() -> SweepParams:
    return SweepParams(hidden_neurons=[1, [6, 6]], n_seeds=3, grid_resolution=15)


@pytest.fixture(scope="module")
def results(split, sweep):
    train, test = split
    torch_fits = nodes.fit_torch_sweep(
        train, sweep, TorchParams(restarts=2, train=TrainConfig(epochs=300, learning_rate=0.05))
    )
    sklearn_fits = nodes.fit_sklearn_sweep(train, sweep, SklearnParams(max_iter=200))
    return nodes.evaluate_sweep(torch_fits, sklearn_fits, train, test, sweep)


def test_the_split_follows_the_test_size(split, data):
    train, test = split
    assert len(test) == round(data.n_samples * data.test_size)
    assert len(train) + len(test) == data.n_samples


def test_every_configuration_is_evaluated_for_every_seed_in_both_flavours(results, sweep):
    assert [(r.fitted.flavour, r.fitted.hidden_layers) for r in results] == [
        ("torch", (1,)),
        ("torch", (6, 6)),
        ("sklearn", (1,)),
        ("sklearn", (6, 6)),
    ]
    for result in results:
        assert result.train_accuracy.shape == result.test_accuracy.shape == (sweep.n_seeds,)
        assert result.boundary.labels.shape == (sweep.grid_resolution, sweep.grid_resolution)
        assert set(np.unique(result.boundary.labels)) <= {0, 1}
        assert result.shown_seed in sweep.seeds


def test_one_neuron_cannot_enclose_the_inner_circle_but_a_wider_deeper_net_can(results):
    torch_one, torch_deep = results[0], results[1]
    assert torch_one.test_accuracy.mean() < 0.8
    assert torch_deep.test_accuracy.mean() > 0.95


def test_torch_keeps_one_loss_history_per_seed(results, sweep):
    history = results[0].fitted.loss_history
    assert history.shape == (300, sweep.n_seeds)
    assert results[2].fitted.loss_history is None


def test_the_best_restart_is_the_lowest_final_training_loss_of_each_seed():
    final_losses = torch.tensor([0.5, 0.1, 0.3, 0.2, 0.9, 0.4])  # 2 seeds x 3 restarts
    assert nodes._best_restarts(final_losses, n_seeds=2, restarts=3).tolist() == [1, 3]


def test_the_shown_seed_is_a_typical_one_not_the_best():
    assert nodes._median_index(np.array([0.9, 0.5, 1.0, 0.7])) == 3
    assert nodes._median_index(np.array([0.8, 0.8, 0.8])) == 1


def test_the_accuracy_table_and_metrics_agree(results):
    table = nodes.accuracy_table(results)
    metrics = nodes.sweep_metrics(table)
    assert list(table.hidden_neurons) == ["1", "6x6", "1", "6x6"]
    assert metrics["torch"]["6x6"]["test_accuracy"] == pytest.approx(
        results[1].test_accuracy.mean(), abs=1e-6
    )
    assert metrics["sklearn"]["1"]["test_accuracy_min"] == pytest.approx(
        results[2].test_accuracy.min(), abs=1e-6
    )


def test_the_figures_have_the_panels_the_notes_describe(results, split, data):
    train, _ = split
    grid = nodes.plot_boundary_grid(results, train)
    visible = [ax for ax in grid.axes if ax.get_visible()]
    assert len(visible) == len(results)
    assert all(ax.collections for ax in visible)  # contourf regions and scattered points
    assert "test" in visible[0].texts[0].get_text()
    curve = nodes.plot_accuracy_vs_neurons(results, data)
    assert curve.axes[0].get_xlabel() == "hidden neurons (total)"
    assert isinstance(nodes.plot_torch_loss(results), Figure)


def test_child_runs_carry_the_parameters_metrics_and_boundary_of_each_configuration(
    results, split, data, sweep
):
    train, _ = split
    runs = nodes.build_child_runs(results, train, data, sweep)
    assert [run.name for run in runs] == ["torch-1", "torch-6x6", "sklearn-1", "sklearn-6x6"]
    deep = runs[1]
    assert deep.params["hidden_neurons"] == 12
    assert deep.params["hidden_layers"] == "6x6"
    assert deep.params["data_noise"] == data.noise
    assert len(deep.metric_histories["loss"]) == 300
    assert set(deep.figures) == {"decision_boundary.png"}
    assert runs[2].metric_histories == {}


def test_the_base_configuration_separates_the_circles_with_five_or_more_neurons():
    """The bar on the real base parameters (torch flavour): mean test accuracy >= 0.97 from 5 neurons on."""
    base = yaml.safe_load(BASE_PARAMETERS.read_text())["mlp"]
    data = ToyDataParams.model_validate(base["data"])
    sweep = SweepParams.model_validate({**base["sweep"], "hidden_neurons": [1, 3, 5, 8]})
    train, test = nodes.split_points(nodes.generate_points(data), data)
    fits = nodes.fit_torch_sweep(train, sweep, TorchParams.model_validate(base["torch"]))
    accuracy = {
        r.fitted.hidden_layers[0]: r.test_accuracy.mean()
        for r in nodes.evaluate_sweep(fits, [], train, test, sweep.model_copy(update={"grid_resolution": 10}))
    }
    assert accuracy[5] >= 0.97
    assert accuracy[8] >= 0.97
    assert accuracy[1] + 0.15 < accuracy[3] < accuracy[5]
