"""Wiring of the claims report; it reads the experiments' own datasets, so it runs after them."""

from kedro.pipeline import Pipeline, node

from dlpipeline.pipelines.report.claims import evaluate_claims, verdict_table
from dlpipeline.pipelines.report.render import render_report
from dlpipeline.report_io import REPORT_TAG

TABLES = {
    "mlp_accuracy": "mlp.accuracy_table",
    "mlp_torch_models": "mlp.torch_models",
    "mlp_sklearn_models": "mlp.sklearn_models",
    "cnn_experiments": "cnn.experiment_table",
    "cnn_models": "cnn.models",
    "sequence_results": "sequence.results_table",
    "digits_rows_models": "sequence.digits_rows.models",
    "forecast_models": "sequence.forecast.models",
    "generate_models": "sequence.generate.models",
    "text_models": "sequence.text.models",
    "autoencoders": "generative.autoencoders.summary",
    "generators": "generative.generator_summary",
}
"""What the claims' checks read (``source`` in parameters_report.yml) → the experiment's dataset.

Trained models count as tables of their training facts: one row per model, ``name`` and
``train_seconds``.
"""

FIGURES = {
    "mlp_accuracy_vs_neurons": "mlp.accuracy_vs_neurons_plot",
    "mlp_boundary_grid": "mlp.boundary_grid_plot",
    "mlp_torch_loss": "mlp.torch_loss_plot",
    "cnn_experiments": "cnn.experiments_plot",
    "cnn_learning_curves": "cnn.learning_curves_plot",
    "cnn_first_layer_filters": "cnn.first_layer_filters_plot",
    "cnn_feature_maps": "cnn.feature_maps_plot",
    "adding_mse_vs_length": "sequence.adding.mse_vs_length_plot",
    "adding_gradient_norms": "sequence.adding.gradient_norms_plot",
    "adding_lstm_gates": "sequence.adding.lstm_gates_plot",
    "digits_rows_test_curves": "sequence.digits_rows.test_curves_plot",
    "forecast": "sequence.forecast.forecast_plot",
    "generated": "sequence.generate.generated_plot",
    "text_test_curves": "sequence.text.test_curves_plot",
    "autoencoders_comparison": "generative.autoencoders.comparison_plot",
    "generative_comparison": "generative.comparison_plot",
    "ring_samples": "generative.ring.samples_plot",
    "digits_samples": "generative.digits.samples_plot",
}
"""The figures a claim may show (``figure`` in parameters_report.yml) → the experiment's dataset."""


def create_pipeline() -> Pipeline:
    """Tables → verdicts → the HTML page and the verdict table, under the ``report`` namespace."""
    nodes = Pipeline(
        [
            node(evaluate_claims, {"notes": "params:notes", **TABLES}, "results", name="evaluate_claims"),
            node(verdict_table, "results", "verdicts", name="verdict_table"),
            node(
                render_report,
                {"results": "results", "notes": "params:notes", **FIGURES},
                "index",
                name="render_report",
            ),
        ],
        tags=REPORT_TAG,
    )
    return Pipeline(nodes, namespace="report", inputs=set(TABLES.values()) | set(FIGURES.values()))
