"""The translation task end to end on the smoke environment: its tables, figures, models and MLflow runs."""

from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_in_process

from dlpipeline.config import load_parameters
from dlpipeline.datasets import ModelDataset

REPORTING = Path("data/08_reporting/sequence/translate")


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def translate_parameters(project: Path) -> dict:
    """``sequence.translate`` as ``kedro run --env smoke`` sees it."""
    return load_parameters("smoke", project)["sequence"]["translate"]


def read(project: Path, table: str) -> pd.DataFrame:
    """One of the task's CSV tables (digits and words kept as text)."""
    return pd.read_csv(
        project / REPORTING / f"{table}.csv",
        keep_default_na=False,
        dtype={"source": str, "target": str, "predicted": str},
    )


def configurations(params: dict) -> set[str]:
    """The names of the configured encoder–decoders (``gru``, ``gru+attention``, ``transformer``)."""
    return {
        spec["cell"] + ("+attention" if spec["attention"] and spec["cell"] != "transformer" else "")
        for spec in params["model"]["models"]
    }


def test_the_run_writes_the_pairs_the_splits_the_models_tables_and_figures(project: Path):
    paths = [
        "data/01_raw/sequence/number_words.parquet",
        "data/05_model_input/sequence/translate/train.parquet",
        "data/05_model_input/sequence/translate/test.parquet",
        "data/06_models/sequence/translate.pt",
    ]
    paths += [str(REPORTING / f"{name}.csv") for name in ("scores", "results", "units", "lengths", "outputs")]
    paths += [str(REPORTING / f"{name}.png") for name in ("length", "attention", "loss")]
    for relative in paths:
        assert (project / relative).stat().st_size > 0, relative


def test_every_configuration_and_seed_is_scored_on_its_own_draw_beside_the_copy(project: Path):
    params = translate_parameters(project)
    seeds = range(params["model"]["n_seeds"])
    scores = pd.read_csv(project / REPORTING / "scores.csv")
    models = scores[scores["cell"] != "copy"]
    expected = {(name, seed) for name in configurations(params) for seed in seeds}
    assert set(zip(models["cell"], models["seed"], strict=True)) == expected and len(models) == len(expected)
    assert (models["draw"] == models["seed"] % params["data"]["n_draws"]).all()
    copy = scores[scores["cell"] == "copy"]
    assert sorted(copy["draw"]) == list(range(params["data"]["n_draws"])) and (copy["exact_match"] == 0).all()
    units = pd.read_csv(project / REPORTING / "units.csv")
    assert len(units) == 4 * len(models)  # exact_match and cer, within and beyond the training lengths
    saved = ModelDataset(str(project / "data/06_models/sequence/translate.pt")).load()
    assert {trained.about.label for trained in saved.values()} == configurations(params)


def test_accuracy_against_length_reaches_beyond_the_training_lengths(project: Path):
    params = translate_parameters(project)
    lengths = pd.read_csv(project / REPORTING / "lengths.csv")
    assert set(lengths["cell"]) == configurations(params) | {"copy"}
    assert (lengths[lengths["beyond"] == 1]["length_from"] > params["data"]["train_max_len"]).all()
    assert lengths["beyond"].eq(1).any() and lengths["beyond"].eq(0).any()


def test_five_translations_per_configuration_and_the_copy(project: Path):
    params = translate_parameters(project)
    outputs = read(project, "outputs")
    assert set(outputs["cell"]) == configurations(params) | {"copy"}
    assert outputs.groupby("cell").size().eq(params["decode"]["n_outputs"]).all()
    assert (
        outputs.groupby("cell")["source"].apply(frozenset).nunique() == 1
    )  # the same sources for every cell
    copy = outputs[outputs["cell"] == "copy"]
    assert (copy["predicted"] == copy["source"]).all()


def test_each_model_and_copy_is_a_finished_child_run_with_task_cell_and_attention(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    children = [child for child in runs["children"] if child.data.params["task"] == "translate"]
    scores = pd.read_csv(project / REPORTING / "scores.csv")
    assert sorted(child.info.run_name for child in children) == sorted(scores["run"])
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"exact_match", "cer", "exact_match_longer", "cer_longer"} <= set(child.data.metrics)
        row = scores[scores["run"] == child.info.run_name].iloc[0]
        assert child.data.metrics["cer"] == pytest.approx(row["cer"])
        assert "translations.txt" in [a.path for a in mlflow_client.list_artifacts(child.info.run_id)]
    cells = {(child.data.params["cell"], child.data.params.get("attention")) for child in children}
    assert cells == {("gru", "False"), ("gru", "True"), ("transformer", "True"), ("copy", None)}


def test_a_bad_parameter_is_refused_in_one_line_before_anything_trains(project_copy: Path):
    result = kedro_in_process(
        *("run", "--env", "smoke", "--pipelines", "sequence", "--namespaces", "sequence.translate"),
        *("--params", "sequence.translate.data.train_max_len=2"),
        cwd=project_copy,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    told = [line for line in result.stderr.splitlines() if "train_max_len" in line]
    assert len(told) == 1 and "sequence.translate.data" in told[0]
    assert not (project_copy / "data/06_models/sequence/translate.pt").exists()
