"""kedro-viz draws the generative experiment with one collapsible namespace per part."""


def test_kedro_viz_groups_each_part_of_the_generative_experiment(viz_graph: dict):
    parts = {f"generative.{part}" for part in ["digits", "ring", "moons", "autoencoders"]}
    assert parts | {"generative"} <= set(viz_graph["modular_pipelines"])
    tasks = {
        (node["modular_pipelines"][0], node["name"]): node
        for node in viz_graph["nodes"]
        if node["type"] == "task" and node["modular_pipelines"]
    }
    for part in ["digits", "ring", "moons"]:
        assert {
            ("generative." + part, name) for name in ["train_generators", "draw_samples", "plot_samples"]
        } <= set(tasks)
        assert tasks["generative." + part, "train_generators"]["tags"] == ["train"]
    assert tasks["generative.digits", "split_digits"]["tags"] == ["data"]
    assert ("generative.autoencoders", "plot_denoising") in tasks
