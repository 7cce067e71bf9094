"""Wiring of the MLP experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline, node

from dlpipeline.pipelines.mlp import nodes


def create_pipeline() -> Pipeline:
    """Data → torch / sklearn sweeps → evaluation → report, under the ``mlp`` namespace."""
    data = Pipeline(
        [
            node(nodes.generate_points, "params:data", "points", name="generate_points"),
            node(
                nodes.split_points,
                ["points", "params:data"],
                ["train_points", "test_points"],
                name="split_points",
            ),
        ],
        tags="data",
    )
    train = Pipeline(
        [
            node(
                nodes.fit_torch_sweep,
                ["train_points", "params:sweep", "params:torch"],
                "torch_fits",
                name="fit_torch_sweep",
            ),
            node(
                nodes.fit_sklearn_sweep,
                ["train_points", "params:sweep", "params:sklearn"],
                "sklearn_fits",
                name="fit_sklearn_sweep",
            ),
            node(
                nodes.evaluate_sweep,
                ["torch_fits", "sklearn_fits", "train_points", "test_points", "params:sweep"],
                "results",
                name="evaluate_sweep",
            ),
        ],
        tags="train",
    )
    report = Pipeline(
        [
            node(nodes.accuracy_table, "results", "accuracy_table", name="accuracy_table"),
            node(nodes.sweep_metrics, "accuracy_table", "sweep_metrics", name="sweep_metrics"),
            node(
                nodes.plot_accuracy_vs_neurons,
                ["results", "params:data"],
                "accuracy_vs_neurons_plot",
                name="plot_accuracy_vs_neurons",
            ),
            node(
                nodes.plot_boundary_grid,
                ["results", "train_points"],
                "boundary_grid_plot",
                name="plot_boundary_grid",
            ),
            node(nodes.plot_torch_loss, "results", "torch_loss_plot", name="plot_torch_loss"),
            node(
                nodes.build_child_runs,
                ["results", "train_points", "params:data", "params:sweep"],
                "child_runs",
                name="build_child_runs",
            ),
        ],
        tags="train",
    )
    return Pipeline([data, train, report], namespace="mlp")
