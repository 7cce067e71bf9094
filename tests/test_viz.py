"""kedro-viz: the pipelines build headless, each architecture grouped under its namespace."""

import json
from pathlib import Path

from tests.helpers import kedro_cli


def test_kedro_viz_builds_the_pipelines_grouped_by_namespace(project_copy: Path):
    result = kedro_cli("viz", "build", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    graph = json.loads((project_copy / "build/api/main").read_text())
    assert "mlp" in graph["modular_pipelines"]
    tasks = [node for node in graph["nodes"] if node["type"] == "task"]
    assert {"generate_points", "fit_torch_sweep", "fit_sklearn_sweep", "plot_boundary_grid"} <= {
        node["name"] for node in tasks
    }
    mlp_tasks = [
        node for node in tasks if node["name"] in {"generate_points", "fit_torch_sweep", "evaluate_sweep"}
    ]
    assert [node["modular_pipelines"] for node in mlp_tasks] == [["mlp"]] * 3
    assert {"mlp", "__default__"} <= {pipeline["id"] for pipeline in graph["pipelines"]}
