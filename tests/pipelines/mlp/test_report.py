"""The MLP sweep's evaluation and reports: accuracies, table, metrics, figures, MLflow child runs."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from tests.pipelines.mlp.conftest import SKLEARN_MAX_ITER, TORCH_EPOCHS

from dlpipeline.pipelines.mlp import evaluate, report

SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}


def test_every_configuration_is_evaluated_for_every_seed_in_both_flavours(results, sweep):
    assert [(r.flavour, r.name, r.hidden_layers) for r in results] == [
        ("torch", "torch-1", (1,)),
        ("torch", "torch-6x6", (6, 6)),
        ("sklearn", "sklearn-1", (1,)),
        ("sklearn", "sklearn-6x6", (6, 6)),
    ]
    for result in results:
        assert result.train_accuracy.shape == result.test_accuracy.shape == (sweep.n_seeds,)
        assert result.boundary.labels.shape == (sweep.grid_resolution, sweep.grid_resolution)
        assert set(np.unique(result.boundary.labels)) <= {0, 1}


def test_the_boundary_shown_is_the_seed_with_the_lower_median_test_accuracy(results):
    for result in results:
        shown = result.test_accuracy[result.seeds.index(result.shown_seed)]
        assert shown == np.sort(result.test_accuracy)[(len(result.seeds) - 1) // 2]


def test_one_neuron_cannot_enclose_the_inner_circle_but_a_wider_deeper_net_can(results):
    torch_one, torch_deep = results[0], results[1]
    assert torch_one.test_accuracy.mean() < 0.8
    assert torch_deep.test_accuracy.mean() > 0.95


def test_the_accuracy_table_and_metrics_agree(results):
    table = report.accuracy_table(results)
    metrics = report.sweep_metrics(table)
    assert list(table.hidden_neurons) == ["1", "6x6", "1", "6x6"]
    assert list(metrics) == ["torch", "sklearn"]
    deep_mean = results[1].test_accuracy.mean()
    assert metrics["torch"]["test_accuracy_6x6_neurons"] == pytest.approx(deep_mean, abs=1e-6)
    assert metrics["torch"]["best_test_accuracy"] == pytest.approx(deep_mean, abs=1e-6)
    assert metrics["torch"]["fewest_neurons_reaching_95pct"] == 12  # 6x6: 12 neurons in all
    assert metrics["sklearn"]["test_accuracy_1_neurons"] == pytest.approx(
        results[2].test_accuracy.mean(), abs=1e-6
    )
    assert "train_seconds" not in table  # a DVC plot: only what code, data and parameters decide


def test_the_figures_have_the_panels_the_notes_describe(results, split, data):
    train, _ = split
    grid = report.plot_boundary_grid(results, train)
    visible = [ax for ax in grid.axes if ax.get_visible()]
    assert len(visible) == len(results)
    assert all(ax.collections for ax in visible)  # contourf regions and scattered points
    assert "test" in visible[0].texts[0].get_text()
    curve = report.plot_accuracy_vs_neurons(results, data)
    assert curve.axes[0].get_xlabel() == "hidden neurons (total)"
    assert isinstance(report.plot_torch_loss(results), Figure)


def test_child_runs_carry_the_parameters_metrics_and_boundary_of_each_configuration(
    results, split, validation, data
):
    runs = report.build_child_runs(results, split[0], validation, data)
    assert [run.name for run in runs] == ["torch-1", "torch-6x6", "sklearn-1", "sklearn-6x6"]
    deep = runs[1]
    assert deep.params["hidden_neurons"] == 12
    assert deep.params["hidden_layers"] == "6x6"
    assert deep.params["activation"] == "relu"
    assert deep.params["restarts"] == 2
    assert deep.params["data_noise"] == data.noise
    assert len(deep.metric_histories["loss"]) == TORCH_EPOCHS
    assert set(deep.figures) == {"decision_boundary.png"}
    assert runs[2].metric_histories == {}
    assert {"solver", "max_iter", "unconverged_seeds"} <= set(runs[2].params)


def test_every_child_run_carries_the_shared_training_names(results, split, validation, data, sweep):
    for run in report.build_child_runs(results, split[0], validation, data):
        assert set(run.params) >= SHARED_PARAMS, run.name
        assert set(run.metrics) >= SHARED_METRICS, run.name
        assert (run.params["seed"], run.params["n_seeds"]) == (sweep.first_seed, sweep.n_seeds)
        assert run.metrics["train_seconds"] > 0


def test_the_torch_runs_record_full_batch_adam_and_the_size_of_one_network(results, split, validation, data):
    torch_deep = report.build_child_runs(results, split[0], validation, data)[1]
    assert torch_deep.params["epochs"] == TORCH_EPOCHS
    assert torch_deep.params["learning_rate"] == 0.05
    assert torch_deep.params["batch_size"] == len(split[0])  # full batch
    assert torch_deep.params["optimizer"] == "adam"
    assert torch_deep.metrics["n_params"] == (2 + 1) * 6 + (6 + 1) * 6 + (6 + 1) * 2


def test_the_sklearn_runs_record_mlpclassifiers_own_settings(results, split, validation, data):
    sklearn_one = report.build_child_runs(results, split[0], validation, data)[2]
    assert sklearn_one.params["epochs"] == SKLEARN_MAX_ITER
    assert sklearn_one.params["learning_rate"] == 0.001  # MLPClassifier's learning_rate_init
    assert sklearn_one.params["batch_size"] == min(200, len(split[0]))  # batch_size="auto"
    assert sklearn_one.params["optimizer"] == "adam"
    assert sklearn_one.metrics["n_params"] == (2 + 1) * 1 + (1 + 1) * 1  # one logistic output unit


def test_validation_points_are_fresh_points_of_the_same_set_no_draw_used(data, split):
    points = evaluate.validation_points(data)
    assert len(points) == data.n_samples
    assert data.validation_random_state not in data.draw_random_states
    assert not points.merge(split[0], on=list(points.columns)).shape[0]  # no training point again


def test_every_child_run_logs_its_ensemble_and_its_mean_validation_accuracy(results, split, validation, data):
    for run, result in zip(
        report.build_child_runs(results, split[0], validation, data), results, strict=True
    ):
        assert run.metrics["val_accuracy"] == pytest.approx(validation[result.name].mean())
        assert run.model is not None and run.model.trained is result.model
        assert run.model.input_example.shape == (3, 2)
