"""kedro-viz draws the CNN experiment as one collapsible namespace, its nodes tagged for DVC."""


def test_kedro_viz_groups_the_cnn_experiment_under_its_namespace(viz_graph: dict):
    assert "cnn" in viz_graph["modular_pipelines"]
    assert "cnn" in {pipeline["id"] for pipeline in viz_graph["pipelines"]}
    tasks = {node["name"]: node for node in viz_graph["nodes"] if node["modular_pipelines"] == ["cnn"]}
    assert {
        "load_images",
        "split_images",
        "train_configurations",
        "evaluate_configurations",
        "plot_feature_maps",
        "plot_first_layer_filters",
        "build_child_runs",
    } <= set(tasks)
    assert tasks["split_images"]["tags"] == ["data"]
    assert tasks["train_configurations"]["tags"] == ["train"]
