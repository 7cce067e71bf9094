"""Wiring of the sequence experiment: one namespace per task, and a shared results table.

Each task lives under ``sequence.<task>`` (so kedro-viz groups it, and its datasets and
parameters are ``sequence.<task>.<name>`` / ``params:sequence.<task>.<section>``). Each
task turns its tables into tensors (``tensors``); the one training node every task shares
(:func:`~dlpipeline.pipelines.sequence.training.train_models`) writes its trained models to
``sequence.<task>.models`` (one file, ``data/06_models/sequence/<task>.pt``), which every
analysis, plot and report node reads.
The results of every task meet in ``sequence.results_table`` and ``sequence.metrics``.
"""

from kedro.pipeline import Node, Pipeline, node

from dlpipeline.pipelines.sequence import (
    adding,
    data,
    digits_rows,
    forecast,
    generate,
    report,
    text,
    training,
)

TASK_ROWS = ["adding.rows", "digits_rows.rows", "forecast.rows", "generate.rows", "text.rows"]


def _task(data_nodes: list[Node], train_nodes: list[Node], namespace: str) -> Pipeline:
    """One task's nodes under ``namespace``: ``data_nodes`` tagged ``data``, ``train_nodes`` ``train``.

    Every task trains where ``sequence.executor`` says (``params:executor`` in its nodes).
    """
    return Pipeline(
        [Pipeline(data_nodes, tags="data"), Pipeline(train_nodes, tags="train")],
        namespace=namespace,
        parameters={"params:executor": "params:sequence.executor"},
    )


def _training(tensors: Node, models: str = "models") -> list[Node]:
    """The task's ``tensors`` node, then every model × seed trained on them into ``models``."""
    return [
        tensors,
        node(
            training.train_models,
            ["tensors", "params:model", "params:train", "params:executor"],
            models,
            name="train",
        ),
    ]


def _common_report(child_runs: Node | None = None) -> list[Node]:
    """The loss, test-curve and child-run nodes every task shares (``child_runs``: a task's own)."""
    return [
        node(report.plot_losses, "models", "loss_plot", name="plot_losses"),
        node(report.plot_test_curves, "models", "test_curves_plot", name="plot_test_curves"),
        child_runs or node(report.build_child_runs, "models", "child_runs", name="build_child_runs"),
    ]


def adding_pipeline() -> Pipeline:
    """Many-to-one regression over a sweep of lengths, and the vanishing-gradient evidence."""
    data_nodes = [
        node(data.generate_adding, "params:data", "sequences", name="generate_adding"),
        node(data.split_adding, ["sequences", "params:data"], ["train", "test"], name="split_adding"),
    ]
    train_nodes = [
        *_training(node(adding.adding_tasks, ["train", "test"], "tensors", name="tensors")),
        node(
            adding.adding_gradient_norms,
            ["models", "test", "params:data", "params:analysis"],
            "gradient_norms",
            name="gradient_norms",
        ),
        node(adding.plot_gradient_norms, "gradient_norms", "gradient_norms_plot", name="plot_gradient_norms"),
        node(adding.plot_lstm_gates, ["models", "test"], "lstm_gates_plot", name="plot_lstm_gates"),
        node(adding.plot_mse_vs_length, "models", "mse_vs_length_plot", name="plot_mse_vs_length"),
        node(adding.adding_rows, "models", "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data_nodes, train_nodes, "sequence.adding")


def digits_rows_pipeline() -> Pipeline:
    """Many-to-one classification: digits read row by row."""
    data_nodes = [
        node(data.load_digits, None, "digits", name="load_digits"),
        node(data.split_digits, ["digits", "params:data"], ["train", "test"], name="split_digits"),
    ]
    train_nodes = [
        *_training(node(digits_rows.digits_rows_task, ["train", "test"], "tensors", name="tensors")),
        node(digits_rows.digits_rows, ["models", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data_nodes, train_nodes, "sequence.digits_rows")


def forecast_pipeline() -> Pipeline:
    """Many-to-many: forecast at every step of variable-length (padded, masked) windows."""
    data_nodes = [
        node(data.generate_series, "params:data", "series", name="generate_series"),
        node(data.make_windows, ["series", "params:data"], ["train", "test"], name="make_windows"),
    ]
    train_nodes = [
        *_training(node(forecast.forecast_task, ["train", "test", "params:data"], "tensors", name="tensors")),
        node(
            forecast.plot_forecast, ["models", "test", "params:data"], "forecast_plot", name="plot_forecast"
        ),
        node(forecast.forecast_rows, ["models", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data_nodes, train_nodes, "sequence.forecast")


def generate_pipeline() -> Pipeline:
    """One-to-many: a sine wave generated from its frequency alone."""
    data_nodes = [
        node(data.generate_waves, "params:data", "waves", name="generate_waves"),
        node(data.split_waves, ["waves", "params:data"], ["train", "test"], name="split_waves"),
    ]
    train_nodes = [
        *_training(node(generate.generate_task, ["train", "test"], "tensors", name="tensors"), "trained"),
        node(generate.score_free_running, ["trained", "test"], "models", name="score_free_running"),
        node(generate.plot_generated, ["models", "test"], "generated_plot", name="plot_generated"),
        node(generate.generate_rows, ["models", "test"], "rows", name="rows"),
        *_common_report(),
    ]
    return _task(data_nodes, train_nodes, "sequence.generate")


def text_pipeline() -> Pipeline:
    """Tokens: a character language model of first names per cell, and the names it writes."""
    data_nodes = [
        node(data.load_names, None, "names", name="load_names"),
        node(data.split_names, ["names", "params:data"], ["train", "test"], name="split_names"),
    ]
    train_nodes = [
        *_training(node(text.text_task, ["train", "test", "params:data"], "tensors", name="tensors")),
        node(text.fit_bigram, "train", "bigram", name="fit_bigram"),
        node(text.text_rows, ["models", "bigram", "test"], "rows", name="rows"),
        node(
            text.text_samples,
            ["models", "bigram", "train", "params:sampling"],
            "samples",
            name="samples",
        ),
        *_common_report(
            node(report.build_text_child_runs, ["models", "samples"], "child_runs", name="build_child_runs")
        ),
    ]
    return _task(data_nodes, train_nodes, "sequence.text")


def create_pipeline() -> Pipeline:
    """The five tasks, then the results table and DVC metrics across them."""
    summary = Pipeline(
        [
            node(report.results_table, TASK_ROWS, "results_table", name="results_table"),
            node(report.results_metrics, "results_table", "metrics", name="results_metrics"),
        ],
        namespace="sequence",
        tags="train",
    )
    tasks = [
        adding_pipeline(),
        digits_rows_pipeline(),
        forecast_pipeline(),
        generate_pipeline(),
        text_pipeline(),
    ]
    return sum(tasks, Pipeline([])) + summary
