"""The tagging task end to end on the smoke environment: its tables, figure, models and MLflow runs."""

from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_in_process

from dlpipeline.config import load_parameters
from dlpipeline.datasets import ModelDataset

REPORTING = Path("data/08_reporting/sequence/tagging")
BASELINES = {"lookup", "unigram"}


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def tagging_parameters(project: Path) -> dict:
    """``sequence.tagging`` as ``kedro run --env smoke`` sees it."""
    return load_parameters("smoke", project)["sequence"]["tagging"]


def read(project: Path, table: str) -> pd.DataFrame:
    """One of the task's CSV tables."""
    return pd.read_csv(project / REPORTING / f"{table}.csv", keep_default_na=False)


def test_the_run_writes_the_sentences_the_models_tables_and_figures(project: Path):
    paths = [
        "data/05_model_input/sequence/tagging/train.parquet",
        "data/05_model_input/sequence/tagging/test.parquet",
        "data/06_models/sequence/tagging.pt",
    ]
    paths += [str(REPORTING / f"{name}.csv") for name in ("scores", "results", "units", "outputs")]
    paths += [str(REPORTING / f"{name}.png") for name in ("type_f1", "loss", "test_curves")]
    for relative in paths:
        assert (project / relative).stat().st_size > 0, relative


def test_each_cell_and_seed_is_a_model_on_its_own_draw_beside_both_baselines(project: Path):
    params = tagging_parameters(project)
    n_draws, seeds = params["data"]["n_draws"], range(params["model"]["n_seeds"])
    scores = read(project, "scores")
    models = scores[~scores["cell"].isin(BASELINES)]
    expected = {(cell, seed) for cell in params["model"]["cells"] for seed in seeds}
    assert set(zip(models["cell"], models["seed"], strict=True)) == expected and len(models) == len(expected)
    assert (models["draw"] == models["seed"] % n_draws).all()
    for baseline in BASELINES:
        assert sorted(scores[scores["cell"] == baseline]["draw"]) == list(range(n_draws))
    assert ((scores["entity_f1"] >= 0) & (scores["entity_f1"] <= 1)).all()
    units = read(project, "units")
    assert set(units["cell"]) == {*params["model"]["cells"], "unigram"}
    results = read(project, "results")
    assert set(results["cell"]) == {*params["model"]["cells"], *BASELINES}
    saved = ModelDataset(str(project / "data/06_models/sequence/tagging.pt")).load()
    assert {trained.about.cell for trained in saved.values()} == set(params["model"]["cells"])


def test_five_tagged_sentences_per_cell_the_same_for_every_cell(project: Path):
    outputs = read(project, "outputs")
    assert outputs.groupby("cell").size().eq(5).all()
    assert outputs.groupby("cell")["sentence"].apply(tuple).nunique() == 1
    assert outputs["truth"].str.contains(r"\]\((?:person|place|organisation|date)\)").all()


def test_each_model_and_baseline_is_a_finished_child_run_with_task_cell_and_entity_f1(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    params = tagging_parameters(project)
    children = [child for child in runs["children"] if child.data.params["task"] == "tagging"]
    scores = read(project, "scores")
    assert sorted(child.info.run_name for child in children) == sorted(scores["run"])
    for child in children:
        assert child.info.status == "FINISHED"
        row = scores[scores["run"] == child.info.run_name].iloc[0]
        assert child.data.metrics["entity_f1"] == pytest.approx(row["entity_f1"])
        assert "tagged.txt" in [a.path for a in mlflow_client.list_artifacts(child.info.run_id)]
    assert {child.data.params["cell"] for child in children} == {*params["model"]["cells"], *BASELINES}


def test_a_bad_tagging_parameter_is_refused_in_one_line_before_anything_runs(project_copy: Path):
    result = kedro_in_process(
        *("run", "--env", "smoke", "--pipelines", "sequence", "--namespaces", "sequence.tagging"),
        *("--params", "sequence.tagging.data.test_share=1.5"),
        cwd=project_copy,
    )
    assert result.returncode != 0
    told = [line for line in result.stderr.splitlines() if "test_share" in line]
    assert len(told) == 1 and "sequence.tagging.data" in told[0] and "1.5" in told[0]
    assert "Traceback" not in result.stderr
    assert not (project_copy / "data/05_model_input/sequence/tagging").exists()
