"""Wiring of the CNN experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline, node

from dlpipeline.pipelines.cnn import nodes


def create_pipeline() -> Pipeline:
    """Images → every configuration × seed → evaluation → report, under the ``cnn`` namespace."""
    data = Pipeline(
        [
            node(nodes.load_images, "params:data", "images", name="load_images"),
            node(
                nodes.split_images,
                ["images", "params:data"],
                ["train_images", "val_images", "test_images"],
                name="split_images",
            ),
        ],
        tags="data",
    )
    train = Pipeline(
        [
            node(
                nodes.train_configurations,
                ["train_images", "val_images", "params:experiments", "params:training"],
                "trained",
                name="train_configurations",
            ),
            node(
                nodes.evaluate_configurations,
                ["trained", "train_images", "val_images", "test_images", "params:training"],
                "results",
                name="evaluate_configurations",
            ),
        ],
        tags="train",
    )
    report = Pipeline(
        [
            node(nodes.experiment_table, "results", "experiment_table", name="experiment_table"),
            node(
                nodes.experiment_metrics, "experiment_table", "experiment_metrics", name="experiment_metrics"
            ),
            node(nodes.plot_experiments, "results", "experiments_plot", name="plot_experiments"),
            node(nodes.plot_learning_curves, "results", "learning_curves_plot", name="plot_learning_curves"),
            node(
                nodes.plot_confusion_matrix,
                ["results", "test_images", "params:experiments"],
                "confusion_matrix_plot",
                name="plot_confusion_matrix",
            ),
            node(
                nodes.plot_first_layer_filters,
                ["results", "params:experiments"],
                "first_layer_filters_plot",
                name="plot_first_layer_filters",
            ),
            node(
                nodes.plot_feature_maps,
                ["results", "test_images", "params:experiments", "params:report"],
                "feature_maps_plot",
                name="plot_feature_maps",
            ),
            node(
                nodes.plot_misclassified,
                ["results", "test_images", "params:experiments", "params:report"],
                "misclassified_plot",
                name="plot_misclassified",
            ),
            node(
                nodes.build_child_runs,
                ["results", "test_images", "params:data", "params:training"],
                "child_runs",
                name="build_child_runs",
            ),
        ],
        tags="train",
    )
    return Pipeline([data, train, report], namespace="cnn")
