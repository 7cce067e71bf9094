"""The music task end to end on the smoke environment: its tables, figure, models and MLflow runs."""

import io
import wave
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import kedro_in_process

from dlpipeline.config import load_parameters
from dlpipeline.data.music import midi_notes, parse_token, token_midi

REPORTING = Path("data/08_reporting/sequence/music")


@pytest.fixture(scope="module")
def project(smoke_run) -> Path:
    """The project copy where the sequence pipeline ran on the smoke environment."""
    return smoke_run("sequence")


def music_parameters(project: Path) -> dict:
    """``sequence.music`` as ``kedro run --env smoke`` sees it."""
    return load_parameters("smoke", project)["sequence"]["music"]


def read(project: Path, table: str) -> pd.DataFrame:
    """One of the task's CSV tables."""
    return pd.read_csv(project / REPORTING / f"{table}.csv", keep_default_na=False)


def test_the_run_writes_the_melodies_the_splits_the_models_tables_and_piano_rolls(project: Path):
    paths = [
        "data/01_raw/sequence/chorales.parquet",
        "data/05_model_input/sequence/music/train.parquet",
        "data/05_model_input/sequence/music/test.parquet",
        "data/06_models/sequence/music.pt",
    ]
    paths += [str(REPORTING / f"{name}.csv") for name in ("scores", "results", "units", "samples", "outputs")]
    paths += [str(REPORTING / f"{name}.png") for name in ("piano_rolls", "loss", "test_curves")]
    for relative in paths:
        assert (project / relative).stat().st_size > 0, relative


def test_train_and_test_chorales_are_disjoint_on_every_split(project: Path):
    params = music_parameters(project)["data"]
    train = pd.read_parquet(project / "data/05_model_input/sequence/music/train.parquet")
    test = pd.read_parquet(project / "data/05_model_input/sequence/music/test.parquet")
    assert set(train["draw"]) == set(test["draw"]) == set(range(params["n_draws"]))
    for draw in range(params["n_draws"]):
        assert not set(train[train["draw"] == draw]["chorale"]) & set(test[test["draw"] == draw]["chorale"])
    assert train.groupby(["draw", "chorale"]).size().max() <= params["max_notes"]


def test_every_cell_and_seed_is_scored_beside_the_count_baselines_of_its_split(project: Path):
    params = music_parameters(project)
    scores = read(project, "scores")
    models = scores[~scores["cell"].isin(["ngram", "unigram"])]
    seeds = range(params["model"]["n_seeds"])
    expected = {(cell, seed) for cell in params["model"]["cells"] for seed in seeds}
    assert set(zip(models["cell"], models["seed"], strict=True)) == expected and len(models) == len(expected)
    assert (models["draw"] == models["seed"] % params["data"]["n_draws"]).all()
    units = read(project, "units")
    assert set(units["cell"]) == {*params["model"]["cells"], "worst of rnn/lstm/gru/transformer"}
    assert (units["metric"] == "test_nll").all()
    results = read(project, "results")
    assert list(results["cell"]) == [*params["model"]["cells"], "ngram", "unigram"]


def test_each_cell_writes_its_melodies_and_shows_the_first_as_note_names(project: Path):
    sampling = music_parameters(project)["sampling"]
    samples = read(project, "samples")
    assert samples.groupby("cell").size().eq(sampling["n_melodies"]).all()
    outputs = read(project, "outputs")
    assert outputs.groupby("cell").size().eq(sampling["n_shown"]).all()
    for row in outputs.itertuples():
        assert row.notes.split() == [parse_token(token)[0] for token in row.tokens.split()]
    folder = project / "data/07_model_output/sequence/music/melodies"
    expected = {
        f"{cell}/{index:02d}.{kind}"
        for cell in samples["cell"].unique()
        for index in range(sampling["n_melodies"])
        for kind in ("mid", "wav")
    }
    assert {path.relative_to(folder).as_posix() for path in folder.rglob("*.*")} == expected


def test_each_model_and_baseline_is_a_child_run_and_each_cells_first_seed_logs_midi_and_wav(
    project: Path, runs: dict, mlflow_client: MlflowClient
):
    params = music_parameters(project)
    children = [child for child in runs["children"] if child.data.params["task"] == "music"]
    scores = read(project, "scores")
    assert sorted(child.info.run_name for child in children) == sorted(scores["run"])
    cells = {child.data.params["cell"] for child in children}
    assert cells == {*params["model"]["cells"], "ngram", "unigram"}
    samples = read(project, "samples")
    for child in children:
        assert child.info.status == "FINISHED" and "test_nll" in child.data.metrics
        if child.data.params["cell"] in ("ngram", "unigram") or child.data.params["seed"] != "0":
            continue
        listed = [a.path for a in mlflow_client.list_artifacts(child.info.run_id, "melodies")]
        assert len(listed) == 2 * params["sampling"]["n_melodies"]
        first = mlflow_client.download_artifacts(child.info.run_id, "melodies/00.mid")
        written = samples[(samples["cell"] == child.data.params["cell"]) & (samples["melody"] == 0)]
        tokens = written["tokens"].iloc[0].split()
        while tokens and token_midi(tokens[-1]) is None:  # a MIDI file ends at its last note
            tokens.pop()
        assert midi_notes(Path(first).read_bytes()) == [(token_midi(t), parse_token(t)[1]) for t in tokens]
        sound = mlflow_client.download_artifacts(child.info.run_id, "melodies/00.wav")
        with wave.open(io.BytesIO(Path(sound).read_bytes())) as file:
            assert file.getframerate() == params["sampling"]["sample_rate"]


def test_a_corpus_missing_from_the_installed_music21_stops_the_run_in_one_line_naming_it(project_copy: Path):
    result = kedro_in_process(
        *("run", "--env", "smoke", "--pipelines", "sequence", "--namespaces", "sequence.music"),
        *("--tags", "data", "--params", "sequence.music.data.corpus=nobody"),
        cwd=project_copy,
    )
    assert result.returncode == 1
    told = [line for line in result.stderr.splitlines() if "'nobody'" in line]
    assert len(told) == 1 and "MissingCorpusError" in told[0]
    assert "Traceback" not in result.stderr
    assert not (project_copy / "data/01_raw/sequence/chorales.parquet").exists()
