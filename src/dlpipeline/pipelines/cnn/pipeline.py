"""Wiring of the CNN experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline, node

from dlpipeline.pipelines.cnn import data, plots, report, train


def create_pipeline() -> Pipeline:
    """Images → every configuration × seed → evaluation → report, under the ``cnn`` namespace."""
    data_nodes = Pipeline(
        [
            node(data.load_images, "params:data", "images", name="load_images"),
            node(
                data.split_images,
                ["images", "params:data"],
                ["train_images", "val_images", "test_images"],
                name="split_images",
            ),
        ],
        tags="data",
    )
    train_nodes = Pipeline(
        [
            node(
                train.train_configurations,
                ["train_images", "val_images", "params:experiments", "params:training", "params:executor"],
                "models",
                name="train_configurations",
            ),
            node(
                train.evaluate_configurations,
                ["models", "train_images", "val_images", "test_images", "params:training"],
                "results",
                name="evaluate_configurations",
            ),
        ],
        tags="train",
    )
    report_nodes = Pipeline(
        [
            node(report.experiment_table, "results", "experiment_table", name="experiment_table"),
            node(
                report.experiment_metrics, "experiment_table", "experiment_metrics", name="experiment_metrics"
            ),
            node(report.plot_experiments, "results", "experiments_plot", name="plot_experiments"),
            node(report.plot_learning_curves, "results", "learning_curves_plot", name="plot_learning_curves"),
            node(
                report.build_child_runs,
                ["results", "test_images", "params:data"],
                "child_runs",
                name="build_child_runs",
            ),
            node(
                plots.plot_confusion_matrix,
                ["models", "test_images", "params:experiments"],
                "confusion_matrix_plot",
                name="plot_confusion_matrix",
            ),
            node(
                plots.plot_first_layer_filters,
                ["models", "test_images", "params:experiments"],
                "first_layer_filters_plot",
                name="plot_first_layer_filters",
            ),
            node(
                plots.plot_feature_maps,
                ["models", "test_images", "params:experiments", "params:report"],
                "feature_maps_plot",
                name="plot_feature_maps",
            ),
            node(
                plots.plot_misclassified,
                ["models", "test_images", "params:experiments", "params:report"],
                "misclassified_plot",
                name="plot_misclassified",
            ),
        ],
        tags="train",
    )
    return Pipeline([data_nodes, train_nodes, report_nodes], namespace="cnn")
