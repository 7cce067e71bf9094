"""kedro-viz draws the CNN experiment as one collapsible namespace, its nodes tagged for DVC."""

import json
from pathlib import Path

from tests.helpers import kedro_cli


def test_kedro_viz_groups_the_cnn_experiment_under_its_namespace(project_copy: Path):
    result = kedro_cli("viz", "build", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    graph = json.loads((project_copy / "build/api/main").read_text())
    assert "cnn" in graph["modular_pipelines"]
    assert "cnn" in {pipeline["id"] for pipeline in graph["pipelines"]}
    tasks = {node["name"]: node for node in graph["nodes"] if node["modular_pipelines"] == ["cnn"]}
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
