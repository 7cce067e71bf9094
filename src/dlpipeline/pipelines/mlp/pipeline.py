"""Wiring of the MLP experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline, node

from dlpipeline.pipelines.mlp import data, evaluate, report, sklearn_flavour, torch_flavour


def create_pipeline() -> Pipeline:
    """Data → torch / sklearn sweeps (saved models) → evaluation → report, under the ``mlp`` namespace."""
    data_nodes = Pipeline(
        [
            node(data.generate_points, "params:data", "points", name="generate_points"),
            node(
                data.split_points,
                ["points", "params:data"],
                ["train_points", "test_points"],
                name="split_points",
            ),
        ],
        tags="data",
    )
    train_nodes = Pipeline(
        [
            node(
                torch_flavour.fit_torch_sweep,
                ["train_points", "params:sweep", "params:torch"],
                "torch_models",
                name="fit_torch_sweep",
            ),
            node(
                sklearn_flavour.fit_sklearn_sweep,
                ["train_points", "params:sweep", "params:sklearn"],
                "sklearn_models",
                name="fit_sklearn_sweep",
            ),
            node(
                evaluate.evaluate_sweep,
                ["torch_models", "sklearn_models", "train_points", "test_points", "params:sweep"],
                "results",
                name="evaluate_sweep",
            ),
        ],
        tags="train",
    )
    report_nodes = Pipeline(
        [
            node(report.accuracy_table, "results", "accuracy_table", name="accuracy_table"),
            node(report.sweep_metrics, "accuracy_table", "sweep_metrics", name="sweep_metrics"),
            node(
                report.plot_accuracy_vs_neurons,
                ["results", "params:data"],
                "accuracy_vs_neurons_plot",
                name="plot_accuracy_vs_neurons",
            ),
            node(
                report.plot_boundary_grid,
                ["results", "train_points"],
                "boundary_grid_plot",
                name="plot_boundary_grid",
            ),
            node(report.plot_torch_loss, "results", "torch_loss_plot", name="plot_torch_loss"),
            node(
                report.build_child_runs,
                ["results", "train_points", "params:data"],
                "child_runs",
                name="build_child_runs",
            ),
        ],
        tags="train",
    )
    return Pipeline([data_nodes, train_nodes, report_nodes], namespace="mlp")
