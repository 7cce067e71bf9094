"""Wiring of the CNN experiment; every name below is a catalog entry or a parameter."""

from collections.abc import Callable
from typing import Any

from kedro.pipeline import Pipeline

from dlpipeline.pipelines.cnn import (
    cost,
    data,
    detection,
    edges,
    features,
    hand_features,
    operations,
    permutation,
    perturbation,
    plots,
    report,
    saliency,
    search,
    segmentation,
    size,
    train,
)
from dlpipeline.pipelines.wiring import step


def create_pipeline() -> Pipeline:
    """Images → every configuration × seed → evaluation → report, under the ``cnn`` namespace.

    The search (tag ``search``) trains only when ``cnn.search.trials`` asks for trials.
    """
    data_nodes = Pipeline(
        [
            step(data.load_images, "params:data", "images"),
            step(data.split_images, ["images", "params:data"], ["train_images", "val_images", "test_images"]),
            step(
                data.make_scenes,
                ["train_images", "test_images", "params:scenes"],
                ["train_scenes", "test_scenes"],
            ),
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
            step(report.champion, ["child_runs", "results", "params:registry"], "champion"),
            step(plots.plot_confusion_matrix, featured, "confusion_matrix_plot"),
            step(plots.plot_first_layer_filters, featured, "first_layer_filters_plot"),
            step(plots.plot_feature_maps, [*featured, "params:report"], "feature_maps_plot"),
            step(plots.plot_misclassified, [*featured, "params:report"], "misclassified_plot"),
        ],
        tags="train",
    )
    return Pipeline(
        [
            data_nodes,
            train_nodes,
            report_nodes,
            perturbation_study(),
            saliency_study(),
            permutation_study(),
            edges_study(),
            search_study(),
            data_size_study(),
            hand_features_study(),
            cost_study(),
            detection_study(),
            segmentation_study(),
        ],
        namespace="cnn",
    )


def perturbation_study() -> Pipeline:
    """The trained models' test accuracy under attacks and noise of each size ε (``cnn.perturbation``)."""
    parameters = ["params:experiments", "params:features", "params:perturbation"]
    return Pipeline(
        [
            step(
                perturbation.perturbation_table,
                ["models", "train_images", "test_images", *parameters],
                "table",
            ),
            step(perturbation.perturbation_child_runs, "table", "child_runs"),
            step(perturbation.plot_perturbation, "table", "accuracy_plot"),
            step(
                perturbation.plot_adversarial_digits,
                ["models", "test_images", "params:perturbation"],
                "adversarial_plot",
            ),
        ],
        namespace="perturbation",
        inputs={"models", "train_images", "test_images"},
        parameters=set(parameters),
        tags="train",
    )


def saliency_study() -> Pipeline:
    """Saliency maps of the trained models and a linear control: agreement across seeds, deletion curves."""
    return Pipeline(
        [
            step(saliency.train_linear, ["train_images", "params:experiments", "params:training"], "linear"),
            step(
                saliency.explain_models, ["models", "linear", "test_images", "params:saliency"], "explained"
            ),
            step(saliency.agreement_table, "explained", "agreement"),
            step(saliency.deletion_table, "explained", "deletion"),
            step(saliency.saliency_child_runs, ["agreement", "linear", "test_images"], "child_runs"),
            step(saliency.plot_saliency_maps, ["explained", "test_images", "params:saliency"], "maps_plot"),
            step(saliency.plot_deletion, "deletion", "deletion_plot"),
        ],
        namespace="saliency",
        inputs={"models", "train_images", "test_images"},
        parameters={"params:experiments", "params:training", "params:saliency"},
        tags="train",
    )


def permutation_study() -> Pipeline:
    """The configurations retrained on digits whose pixels one permutation shuffled (``cnn.permutation``)."""
    return Pipeline(
        [
            step(
                permutation.train_permuted,
                [
                    "train_images",
                    "val_images",
                    "params:experiments",
                    "params:training",
                    "params:permutation",
                    "params:executor",
                ],
                "permuted_models",
            ),
            step(
                permutation.permutation_table,
                ["models", "permuted_models", "test_images", "params:permutation"],
                "table",
            ),
            step(
                permutation.permutation_child_runs,
                ["permuted_models", "table", "test_images", "params:permutation"],
                "child_runs",
            ),
        ],
        namespace="permutation",
        inputs={"models", "train_images", "val_images", "test_images"},
        parameters={"params:experiments", "params:training", "params:permutation", "params:executor"},
        tags="train",
    )


def edges_study() -> Pipeline:
    """Orientation selectivity of the trained first-layer filters against the same seeds untrained."""
    return Pipeline(
        [
            step(edges.tune_models, ["models", "params:edges"], "tuned"),
            step(edges.selectivity_table, "tuned", "table"),
            step(edges.edges_child_runs, "table", "child_runs"),
            step(edges.plot_tuning, ["tuned", "params:edges"], "tuning_plot"),
        ],
        namespace="edges",
        inputs={"models"},
        parameters={"params:edges"},
        tags="train",
    )


def search_study() -> Pipeline:
    """The hyperparameter search (``cnn.search``): not a DVC stage's node (no ``train`` tag).

    It trains only when ``cnn.search.trials`` asks for trials.
    """
    return Pipeline(
        [
            step(
                search.search_hyperparameters,
                [
                    "train_images",
                    "val_images",
                    "params:experiments",
                    "params:training",
                    "params:search",
                    "params:executor",
                ],
                ["search_trials", "search_best", "search_child_runs"],
            )
        ],
        tags="search",
    )


def data_size_study() -> Pipeline:
    """The configurations retrained on nested subsets of the training images (``cnn.data_size``)."""
    parameters = ["params:experiments", "params:training", "params:data_size"]
    return Pipeline(
        [
            step(size.train_sizes, ["train_images", "val_images", *parameters], "models"),
            step(size.size_table, ["models", "train_images", "test_images", "params:data_size"], "table"),
            step(size.size_child_runs, ["models", "table", "test_images"], "child_runs"),
            step(size.plot_size_study, "table", "plot"),
        ],
        namespace="data_size",
        inputs={"train_images", "val_images", "test_images"},
        parameters=set(parameters),
        tags="train",
    )


def hand_features_study() -> Pipeline:
    """The CNN's head on hand-made features and raw pixels, at every size of ``cnn.data_size``."""
    settings = ["params:features", "params:data_size", "params:hand_features"]
    training = ["params:experiments", "params:training"]
    return Pipeline(
        [
            step(hand_features.train_heads, ["train_images", "val_images", *training, *settings], "heads"),
            step(
                hand_features.hand_feature_table,
                ["train_images", "test_images", "heads", "data_size.models", *settings],
                "table",
            ),
            step(
                hand_features.hand_feature_child_runs,
                ["heads", "table", "train_images", "test_images", "params:features", "params:data_size"],
                "child_runs",
            ),
            step(hand_features.plot_hand_features, "table", "plot"),
        ],
        namespace="hand_features",
        inputs={"train_images", "val_images", "test_images", "data_size.models"},
        parameters={*training, *settings},
        tags="train",
    )


def cost_study() -> Pipeline:
    """Cost per epoch against the training-set size, counted and timed (``cnn.cost``)."""
    settings = ["params:experiments", "params:data_size", "params:cost"]
    return Pipeline(
        [
            step(cost.operation_slopes, ["train_images", *settings], "operations"),
            step(
                cost.epoch_timings,
                ["train_images", "params:experiments", "params:training", "params:data_size", "params:cost"],
                ["timings", "networks"],
            ),
            step(cost.timing_slopes, "timings", "timing_slopes"),
            step(
                cost.cost_child_runs,
                ["operations", "timing_slopes", "networks", "train_images"],
                "child_runs",
            ),
            step(cost.plot_operations, "operations", "plot"),
            step(cost.plot_timings, "timings", "timings_plot"),
        ],
        namespace="cost",
        inputs={"train_images"},
        parameters={*settings, "params:training"},
        tags="train",
    )


def detection_study() -> Pipeline:
    """A CNN finding each scene's digit, box and class, against a centre box (``cnn.detection``)."""
    return scene_study("detection", detection.train_detector, detection.detection_report, "boxes_plot")


def segmentation_study() -> Pipeline:
    """A fully-convolutional network labelling pixels, against a brightness level (``cnn.segmentation``)."""
    return scene_study(
        "segmentation", segmentation.train_segmenter, segmentation.segmentation_report, "masks_plot"
    )


def scene_study(name: str, train: Callable[..., Any], report: Callable[..., Any], figure: str) -> Pipeline:
    """A study of the scenes under namespace ``name``: ``train`` its network, then ``report`` on it.

    ``report`` writes the table the claim reads, the ``figure`` and the study's child run.
    """
    parameters = ["params:experiments", f"params:{name}"]
    return Pipeline(
        [
            step(train, ["train_scenes", *parameters], "model"),
            step(
                report,
                ["model", "train_scenes", "test_scenes", parameters[1]],
                ["table", figure, "child_runs"],
            ),
        ],
        namespace=name,
        inputs={"train_scenes", "test_scenes"},
        parameters=set(parameters),
        tags="train",
    )
