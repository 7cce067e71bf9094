"""Wiring of the MLP experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline

from dlpipeline.pipelines.mlp import data, evaluate, report, sklearn_flavour, torch_flavour
from dlpipeline.pipelines.wiring import step


def create_pipeline() -> Pipeline:
    """Data → torch / sklearn sweeps (saved models) → evaluation → report, under the ``mlp`` namespace."""
    data_nodes = Pipeline(
        [
            step(data.generate_points, "params:data", "points"),
            step(data.split_points, ["points", "params:data"], ["train_points", "test_points"]),
        ],
        tags="data",
    )
    sweep = ["train_points", "params:sweep"]
    train_nodes = Pipeline(
        [
            step(torch_flavour.fit_torch_sweep, [*sweep, "params:torch"], "torch_models"),
            step(sklearn_flavour.fit_sklearn_sweep, [*sweep, "params:sklearn"], "sklearn_models"),
            step(
                evaluate.evaluate_sweep,
                ["torch_models", "sklearn_models", "train_points", "test_points", "params:sweep"],
                "results",
            ),
        ],
        tags="train",
    )
    report_nodes = Pipeline(
        [
            step(report.accuracy_table, "results", "accuracy_table"),
            step(report.sweep_metrics, "accuracy_table", "sweep_metrics"),
            step(report.plot_accuracy_vs_neurons, ["results", "params:data"], "accuracy_vs_neurons_plot"),
            step(report.plot_boundary_grid, ["results", "train_points"], "boundary_grid_plot"),
            step(report.plot_torch_loss, "results", "torch_loss_plot"),
            step(report.build_child_runs, ["results", "train_points", "params:data"], "child_runs"),
        ],
        tags="train",
    )
    return Pipeline([data_nodes, train_nodes, report_nodes], namespace="mlp")
