"""Wiring of the sequence experiment: one namespace per task, and a shared results table.

Each task lives under ``sequence.<task>`` (so kedro-viz groups it, and its datasets and
parameters are ``sequence.<task>.<name>`` / ``params:sequence.<task>.<section>``). The
results of every task meet in ``sequence.results_table`` and ``sequence.metrics``.
"""

from kedro.pipeline import Node, Pipeline, node

from dlpipeline.pipelines.sequence import nodes

TASK_ROWS = ["adding.rows", "digits_rows.rows", "forecast.rows", "generate.rows"]


def _task(data: list[Node], train: list[Node], namespace: str) -> Pipeline:
    """One task's nodes under ``namespace``: ``data`` tagged ``data``, ``train`` tagged ``train``."""
    return Pipeline([Pipeline(data, tags="data"), Pipeline(train, tags="train")], namespace=namespace)


def _common_report() -> list[Node]:
    """The loss, test-curve and child-run nodes every task shares."""
    return [
        node(nodes.plot_losses, "trained", "loss_plot", name="plot_losses"),
        node(nodes.plot_test_curves, "trained", "test_curves_plot", name="plot_test_curves"),
        node(nodes.build_child_runs, "trained", "child_runs", name="build_child_runs"),
    ]


def adding_pipeline() -> Pipeline:
    """Many-to-one regression over a sweep of lengths, and the vanishing-gradient evidence."""
    data = [
        node(nodes.generate_adding, "params:data", "sequences", name="generate_adding"),
        node(nodes.split_adding, ["sequences", "params:data"], ["train", "test"], name="split_adding"),
    ]
    train = [
        node(nodes.train_adding, ["train", "test", "params:model", "params:train"], "trained", name="train"),
        node(
            nodes.adding_gradient_norms,
            ["trained", "test", "params:data", "params:analysis"],
            "gradient_norms",
            name="gradient_norms",
        ),
        node(nodes.plot_gradient_norms, "gradient_norms", "gradient_norms_plot", name="plot_gradient_norms"),
        node(nodes.plot_lstm_gates, ["trained", "test"], "lstm_gates_plot", name="plot_lstm_gates"),
        node(nodes.plot_mse_vs_length, "trained", "mse_vs_length_plot", name="plot_mse_vs_length"),
        node(nodes.adding_rows, "trained", "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data, train, "sequence.adding")


def digits_rows_pipeline() -> Pipeline:
    """Many-to-one classification: digits read row by row."""
    data = [
        node(nodes.load_digits, None, "digits", name="load_digits"),
        node(nodes.split_digits, ["digits", "params:data"], ["train", "test"], name="split_digits"),
    ]
    train = [
        node(
            nodes.train_digits_rows,
            ["train", "test", "params:model", "params:train"],
            "trained",
            name="train",
        ),
        node(nodes.digits_rows, ["trained", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data, train, "sequence.digits_rows")


def forecast_pipeline() -> Pipeline:
    """Many-to-many: forecast at every step of variable-length (padded, masked) windows."""
    data = [
        node(nodes.generate_series, "params:data", "series", name="generate_series"),
        node(nodes.make_windows, ["series", "params:data"], ["train", "test"], name="make_windows"),
    ]
    train = [
        node(
            nodes.train_forecast,
            ["train", "test", "params:model", "params:train", "params:data"],
            "trained",
            name="train",
        ),
        node(nodes.plot_forecast, ["trained", "test", "params:data"], "forecast_plot", name="plot_forecast"),
        node(nodes.forecast_rows, ["trained", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data, train, "sequence.forecast")


def generate_pipeline() -> Pipeline:
    """One-to-many: a sine wave generated from its frequency alone."""
    data = [
        node(nodes.generate_waves, "params:data", "waves", name="generate_waves"),
        node(nodes.split_waves, ["waves", "params:data"], ["train", "test"], name="split_waves"),
    ]
    train = [
        node(
            nodes.train_generate, ["train", "test", "params:model", "params:train"], "trained", name="train"
        ),
        node(nodes.plot_generated, ["trained", "test"], "generated_plot", name="plot_generated"),
        node(nodes.generate_rows, ["trained", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data, train, "sequence.generate")


def create_pipeline() -> Pipeline:
    """The four tasks, then the results table and DVC metrics across them."""
    report = Pipeline(
        [
            node(nodes.results_table, TASK_ROWS, "results_table", name="results_table"),
            node(nodes.results_metrics, "results_table", "metrics", name="results_metrics"),
        ],
        namespace="sequence",
        tags="train",
    )
    return adding_pipeline() + digits_rows_pipeline() + forecast_pipeline() + generate_pipeline() + report
