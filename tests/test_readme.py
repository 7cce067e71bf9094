"""The README and the pages under docs/: what they show a user to type works, every link leads somewhere."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml
from kedro.framework.project import pipelines as registered
from kedro.framework.startup import bootstrap_project
from kedro.pipeline import Pipeline
from tests.documentation import (
    README,
    broken_link,
    documentation_pages,
    kedro_run_commands,
    options,
    relative_links,
    section,
)
from tests.helpers import PIPELINES, PROJECT_ROOT

README_MAX_LINES = 300


def python_block_in(title: str) -> str:
    """The first ```python block of the documentation's section headed ``title``."""
    return re.search(r"```python\n(.*?)```", section(title), flags=re.DOTALL).group(1)


def base_parameters() -> dict:
    """Every parameter of ``conf/base``, as ``kedro run --params`` addresses them."""
    merged: dict = {}
    for path in sorted((PROJECT_ROOT / "conf/base").glob("parameters*.yml")):
        merged |= yaml.safe_load(path.read_text()) or {}
    return merged


def has_key(parameters: dict, dotted_key: str) -> bool:
    """Whether ``dotted_key`` (``mlp.sweep.n_seeds``) names a parameter of ``parameters``."""
    node = parameters
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def project_pipelines() -> dict[str, Pipeline]:
    """This project's pipelines and ``__default__`` (a smoke run may have pointed the registry away)."""
    bootstrap_project(PROJECT_ROOT)
    return {name: registered[name] for name in [*PIPELINES, "__default__"]}


def listed(given: dict[str, list[str]], *names: str) -> list[str]:
    """The comma-separated values given to the options ``names``, one by one."""
    return [item for name in names for value in given.get(name, []) for item in value.split(",")]


def mistakes_in(command: str, pipelines_by_name: dict[str, Pipeline]) -> list[str]:
    """The pipelines, environments, parameters, nodes and tags ``command`` names that the project lacks."""
    given = options(command)
    pipelines = listed(given, "--pipelines", "--pipeline")
    environments = {path.name for path in (PROJECT_ROOT / "conf").iterdir() if path.is_dir()}
    parameters = base_parameters()
    selected = [pipelines_by_name[name] for name in pipelines or ["__default__"] if name in pipelines_by_name]
    node_names = {node.name for pipeline in selected for node in pipeline.nodes}
    node_tags = {tag for pipeline in selected for node in pipeline.nodes for tag in node.tags}
    return (
        [f"pipeline {name!r}" for name in pipelines if name not in PIPELINES]
        + [f"environment {env!r}" for env in listed(given, "--env") if env not in environments]
        + [
            f"parameter {key!r}"
            for key in (pair.split("=", 1)[0] for pair in listed(given, "--params"))
            if not has_key(parameters, key)
        ]
        + [f"node {name!r}" for name in listed(given, "--nodes") if name not in node_names]
        + [f"tag {tag!r}" for tag in listed(given, "--tags") if tag not in node_tags]
    )


def test_loading_the_best_model_of_a_run_takes_the_three_lines_shown(
    smoke_run: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(smoke_run("cnn"))
    namespace: dict = {}
    exec(python_block_in("Trained models"), namespace)
    logits = namespace["net"](torch.rand(4, 1, 8, 8))
    assert logits.shape[-2:] == (4, 10)
    assert namespace["best"] in set(namespace["table"]["configuration"])


def test_the_readme_is_a_front_door_of_at_most_300_lines():
    assert len(README.read_text().splitlines()) <= README_MAX_LINES


def test_the_readme_keeps_the_two_set_up_commands_and_links_every_page_under_docs():
    quick_start = section("Quick start")
    assert "bash scripts/run.sh" in quick_start and "bash scripts/test.sh" in quick_start
    linked = {(README.parent / target.partition("#")[0]).resolve() for target in relative_links(README)}
    assert set(documentation_pages()[1:]) <= linked


def test_every_relative_link_and_image_leads_to_a_file_and_heading_that_exist():
    links = [(page, target) for page in documentation_pages() for target in relative_links(page)]
    assert len(links) > len(documentation_pages())
    assert [problem for page, target in links if (problem := broken_link(page, target))] == []


def test_the_link_check_catches_a_missing_file_and_a_missing_heading():
    assert broken_link(README, "docs/no-such-page.md") is not None
    assert broken_link(README, "docs/mlp.md#no-such-heading") is not None
    assert broken_link(README, "docs/mlp.md#mlflow-kedro-mlflow-ui") is None


def test_every_documented_kedro_run_names_pipelines_environments_parameters_nodes_and_tags_that_exist():
    commands = kedro_run_commands()
    pipelines_by_name = project_pipelines()
    assert any("--params" in command for command in commands)
    mistakes = {command: found for command in commands if (found := mistakes_in(command, pipelines_by_name))}
    assert mistakes == {}


def test_the_command_check_catches_a_misspelt_pipeline_and_parameter():
    command = "kedro run --pipelines mlpp --params mlp.sweeep.n_seeds=3"
    assert mistakes_in(command, project_pipelines()) == [
        "pipeline 'mlpp'",
        "parameter 'mlp.sweeep.n_seeds'",
    ]
