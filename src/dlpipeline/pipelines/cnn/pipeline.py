"""Wiring of the CNN experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline

from dlpipeline.pipelines.cnn import data, features, operations, plots, report, search, train
from dlpipeline.pipelines.wiring import step


def create_pipeline() -> Pipeline:
    """Images → every configuration × seed → evaluation → report, under the ``cnn`` namespace.

    The search (tag ``search``) trains only when ``cnn.search.trials`` asks for trials.
    """
    data_nodes = Pipeline(
        [
            step(data.load_images, "params:data", "images"),
            step(data.split_images, ["images", "params:data"], ["train_images", "val_images", "test_images"]),
        ],
        tags="data",
    )
    split = ["train_images", "val_images"]
    featured = ["models", "test_images", "params:experiments"]
    train_nodes = Pipeline(
        [
            step(
                train.train_configurations,
                [*split, "params:experiments", "params:training", "params:executor"],
                "models",
            ),
            step(
                train.evaluate_configurations, ["models", *split, "test_images", "params:training"], "results"
            ),
        ],
        tags="train",
    )
    report_nodes = Pipeline(
        [
            step(report.experiment_table, "results", "experiment_table"),
            step(report.experiment_metrics, "experiment_table", "experiment_metrics"),
            step(report.unit_table, ["results", "params:experiments"], "claim_units"),
            step(operations.operation_table, "results", "operation_table"),
            step(
                features.feature_table,
                ["models", "train_images", "test_images", "params:experiments", "params:features"],
                "feature_table",
            ),
            step(report.plot_experiments, "results", "experiments_plot"),
            step(report.plot_learning_curves, "results", "learning_curves_plot"),
            step(report.featured_curve_table, ["results", "params:experiments"], "featured_curves"),
            step(report.build_child_runs, ["results", "test_images", "params:data"], "child_runs"),
            step(plots.plot_confusion_matrix, featured, "confusion_matrix_plot"),
            step(plots.plot_first_layer_filters, featured, "first_layer_filters_plot"),
            step(plots.plot_feature_maps, [*featured, "params:report"], "feature_maps_plot"),
            step(plots.plot_misclassified, [*featured, "params:report"], "misclassified_plot"),
        ],
        tags="train",
    )
    # Not a DVC stage's node (no `train` tag): a search is asked for, with cnn.search.trials
    search_nodes = Pipeline(
        [
            step(
                search.search_hyperparameters,
                [*split, "params:experiments", "params:training", "params:search", "params:executor"],
                ["search_trials", "search_best", "search_child_runs"],
            )
        ],
        tags="search",
    )
    return Pipeline([data_nodes, train_nodes, report_nodes, search_nodes], namespace="cnn")
