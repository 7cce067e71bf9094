"""kedro-viz: the pipelines build headless, each architecture grouped under its namespace."""


def test_kedro_viz_builds_the_pipelines_grouped_by_namespace(viz_graph: dict):
    assert "mlp" in viz_graph["modular_pipelines"]
    tasks = [node for node in viz_graph["nodes"] if node["type"] == "task"]
    assert {"generate_points", "fit_torch_sweep", "fit_sklearn_sweep", "plot_boundary_grid"} <= {
        node["name"] for node in tasks
    }
    mlp_tasks = [
        node for node in tasks if node["name"] in {"generate_points", "fit_torch_sweep", "evaluate_sweep"}
    ]
    assert [node["modular_pipelines"] for node in mlp_tasks] == [["mlp"]] * 3
    assert {"mlp", "__default__"} <= {pipeline["id"] for pipeline in viz_graph["pipelines"]}
