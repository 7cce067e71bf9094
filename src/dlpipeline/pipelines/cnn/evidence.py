"""The tables and figures of the cnn experiment that its claims (``cnn.claims``) may read."""

from dlpipeline.evidence import Evidence

EVIDENCE = Evidence(
    tables={
        "cnn_experiments": "cnn.experiment_table",
        "cnn_units": "cnn.claim_units",
        "cnn_features": "cnn.feature_table",
        "cnn_operations": "cnn.operation_table",
        "cnn_perturbation": "cnn.perturbation.table",
        "cnn_saliency": "cnn.saliency.agreement",
        "cnn_permutation": "cnn.permutation.table",
        "cnn_data_size": "cnn.data_size.table",
        "cnn_hand_features": "cnn.hand_features.table",
        "cnn_cost": "cnn.cost.operations",
        "cnn_edges": "cnn.edges.table",
        "cnn_detection": "cnn.detection.table",
        "cnn_segmentation": "cnn.segmentation.table",
    },
    timings={"cnn_cost_timings": "cnn.cost.timing_slopes"},
    figures={
        "cnn_experiments": "cnn.experiments_plot",
        "cnn_learning_curves": "cnn.learning_curves_plot",
        "cnn_first_layer_filters": "cnn.first_layer_filters_plot",
        "cnn_feature_maps": "cnn.feature_maps_plot",
        "cnn_perturbation": "cnn.perturbation.accuracy_plot",
        "cnn_adversarial_digits": "cnn.perturbation.adversarial_plot",
        "cnn_saliency_maps": "cnn.saliency.maps_plot",
        "cnn_deletion": "cnn.saliency.deletion_plot",
        "cnn_data_size": "cnn.data_size.plot",
        "cnn_hand_features": "cnn.hand_features.plot",
        "cnn_cost": "cnn.cost.plot",
        "cnn_edges_tuning": "cnn.edges.tuning_plot",
        "cnn_detection_boxes": "cnn.detection.boxes_plot",
        "cnn_segmentation_masks": "cnn.segmentation.masks_plot",
    },
)
