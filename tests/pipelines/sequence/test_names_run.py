"""The surname task end to end on the smoke environment: its tables, figures, models and MLflow runs."""

from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_in_process
from tests.tracking import logged_models

from dlpipeline.config import load_parameters
from dlpipeline.datasets import ModelDataset
from dlpipeline.pipelines.report.claims import NOT_MEASURED, NOT_RUN, VERDICTS, evaluate_claim
from dlpipeline.pipelines.report.params import PipelineClaims, RuleParams
from dlpipeline.pipelines.sequence.masking import MASKING_STUDY

REPORTING = Path("data/08_reporting/sequence/names")


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def names_parameters(project: Path) -> dict:
    """``sequence.names`` as ``kedro run --env smoke`` sees it."""
    return load_parameters("smoke", project)["sequence"]["names"]


def read(project: Path, table: str) -> pd.DataFrame:
    """One of the task's CSV tables (a surname may read like "nan": kept as text)."""
    return pd.read_csv(project / REPORTING / f"{table}.csv", keep_default_na=False)


def test_the_run_writes_the_corpus_the_splits_the_models_tables_and_figures(project: Path):
    paths = [
        "data/01_raw/sequence/surnames.parquet",
        "data/05_model_input/sequence/names/train.parquet",
        "data/05_model_input/sequence/names/test.parquet",
        "data/06_models/sequence/names.pt",
    ]
    paths += [str(REPORTING / f"{name}.csv") for name in ("scores", "results", "units", "wrong", "outputs")]
    paths += [str(REPORTING / f"{name}.png") for name in ("confusion", "loss", "test_curves")]
    for relative in paths:
        assert (project / relative).stat().st_size > 0, relative


def test_every_language_is_split_alike_on_every_draw(project: Path):
    params = names_parameters(project)["data"]
    train = pd.read_parquet(project / "data/05_model_input/sequence/names/train.parquet")
    test = pd.read_parquet(project / "data/05_model_input/sequence/names/test.parquet")
    assert set(train["draw"]) == set(test["draw"]) == set(range(params["n_draws"]))
    for draw in range(params["n_draws"]):
        per_language = test[test["draw"] == draw]["language"].value_counts()
        assert set(per_language.index) == set(params["locales"])
        assert per_language.max() - per_language.min() <= 1  # stratified over balanced classes
        names = pd.concat([train[train["draw"] == draw], test[test["draw"] == draw]])
        assert names["name"].is_unique
    assert test.groupby("draw")["name"].apply(frozenset).nunique() == params["n_draws"]  # each its own split


def test_each_cell_seed_and_the_control_is_a_model_on_its_own_split_beside_the_ngram(project: Path):
    params = names_parameters(project)
    seeds = range(params["model"]["n_seeds"])
    scores = read(project, "scores")
    expected = {(cell, seed) for cell in params["model"]["cells"] for seed in seeds}
    expected |= {(f"{params['control']['cell']} shuffled", seed) for seed in seeds}
    models = scores[scores["cell"] != "ngram"]
    assert set(zip(models["cell"], models["seed"], strict=True)) == expected and len(models) == len(expected)
    assert (models["draw"] == models["seed"] % params["data"]["n_draws"]).all()
    ngram = scores[scores["cell"] == "ngram"]
    assert sorted(ngram["draw"]) == list(range(params["data"]["n_draws"]))
    units = read(project, "units")
    assert len(units) == 2 * len(models)  # test_accuracy and macro_f1
    results = read(project, "results")
    assert set(results["cell"]) == {cell for cell, _ in expected} | {"ngram"}
    assert (results["min"] <= results["median"]).all() and (results["median"] <= results["max"]).all()
    saved = ModelDataset(str(project / "data/06_models/sequence/names.pt")).load()
    assert {trained.about.cell for trained in saved.values()} == set(params["model"]["cells"])


def test_the_names_shown_are_wrong_ones_and_five_per_cell(project: Path):
    params = names_parameters(project)
    wrong = read(project, "wrong")
    assert (wrong["language"] != wrong["predicted"]).all()
    assert wrong.groupby("run").size().max() <= params["shown"]["n_wrong"]
    outputs = read(project, "outputs")
    assert set(outputs["cell"]) == set(params["model"]["cells"]) | {"ngram"}
    assert outputs.groupby("cell").size().eq(5).all()


def test_each_model_control_and_ngram_fit_is_a_finished_child_run_with_task_and_cell(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    params = names_parameters(project)
    children = [
        child
        for child in runs["children"]
        if child.data.params["task"].startswith("names") and child.data.params.get("study") != MASKING_STUDY
    ]
    scores = read(project, "scores")
    assert sorted(child.info.run_name for child in children) == sorted(scores["run"])
    for child in children:
        assert child.info.status == "FINISHED"
        assert child.data.params.get("masking") == ("on" if child.data.params["cell"] != "ngram" else None)
        assert {"test_accuracy", "macro_f1"} <= set(child.data.metrics)
        row = scores[scores["run"] == child.info.run_name].iloc[0]
        assert child.data.metrics["macro_f1"] == pytest.approx(row["macro_f1"])
        assert "wrong.txt" in [a.path for a in mlflow_client.list_artifacts(child.info.run_id)]
    cells = {(child.data.params["task"], child.data.params["cell"]) for child in children}
    assert cells == {("names", cell) for cell in [*params["model"]["cells"], "ngram"]} | {
        ("names-shuffled", params["control"]["cell"])
    }


def test_a_locale_missing_from_the_installed_faker_stops_the_run_in_one_line_naming_it(project_copy: Path):
    result = kedro_in_process(
        *(
            "run",
            "--env",
            "smoke",
            "--pipelines",
            "sequence",
            "--namespaces",
            "sequence.names",
            "--tags",
            "data",
        ),
        *("--params", "sequence.names.data.locales.nowhere=xx_NOWHERE"),
        cwd=project_copy,
    )
    assert result.returncode == 1
    told = [line for line in result.stderr.splitlines() if "xx_NOWHERE" in line]
    assert len(told) == 1 and "MissingCorpusError" in told[0]
    assert "Traceback" not in result.stderr
    assert not (project_copy / "data/01_raw/sequence/surnames.parquet").exists()


def test_the_masking_study_pairs_each_unmasked_model_with_the_tasks_own_model_of_its_cell_and_seed(
    project: Path,
):
    params = names_parameters(project)
    table = read(project, "masking")
    seeds = range(params["model"]["n_seeds"])
    expected = {(cell, seed) for cell in params["masking"]["cells"] for seed in seeds}
    assert set(zip(table["cell"], table["seed"], strict=True)) == expected and len(table) == len(expected)
    assert (table["draw"] == table["seed"] % params["data"]["n_draws"]).all()
    scores = read(project, "scores").set_index(["cell", "seed"])
    for row in table.itertuples():  # the control is the task's own model, not one trained again
        assert row.masked == pytest.approx(scores.loc[(row.cell, row.seed), "test_accuracy"])
    by_length = read(project, "masking_by_length")
    assert set(zip(by_length["cell"], by_length["masking"], strict=True)) == {
        (cell, state) for cell in params["masking"]["cells"] for state in ("on", "off")
    }
    assert (project / REPORTING / "masking_by_length.png").stat().st_size > 0


def test_each_unmasked_model_is_a_child_run_saying_masking_off_with_its_network(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    params = names_parameters(project)
    children = [child for child in runs["children"] if child.data.params.get("study") == MASKING_STUDY]
    found = {(child.data.params["cell"], child.data.params["seq_len"]) for child in children}
    assert {cell for cell, _ in found} == set(params["masking"]["cells"])
    assert len(children) == len(params["masking"]["cells"]) * params["model"]["n_seeds"]
    for child in children:
        assert child.info.status == "FINISHED" and "test_accuracy" in child.data.metrics
        assert child.data.params["task"] == "names-unmasked" and child.data.params["masking"] == "off"
    assert set(logged_models(mlflow_client, children)) == {child.info.run_name for child in children}


def test_the_masking_claim_is_judged_by_the_report_on_the_smoke_table(project: Path):
    parameters = load_parameters("smoke", project)
    claims = PipelineClaims.model_validate(parameters["sequence"]["claims"]).root
    (claim,) = [claim for claim in claims if claim.id == "masking"]
    rule = RuleParams.model_validate(parameters["report"]["rule"])
    result = evaluate_claim(claim, {"names_masking": read(project, "masking")}, rule)
    assert result.verdict in set(VERDICTS) - {NOT_MEASURED, NOT_RUN}, result
