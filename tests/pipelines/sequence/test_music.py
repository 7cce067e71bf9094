"""The music task: chorale melodies as tokens, the count n-gram, MIDI and WAV, and the task's tables."""

import io
import math
import os
import subprocess
import sys
import wave
from fractions import Fraction

import pandas as pd
import pytest
import torch
from kedro.io import DatasetError
from pydantic import ValidationError

from dlpipeline.data import music as notes
from dlpipeline.data.text import END_ID, PAD_ID, UNKNOWN_ID
from dlpipeline.datasets import FilesDataset
from dlpipeline.pipelines.sequence import data, music
from dlpipeline.pipelines.sequence.params import (
    ModelParams,
    MusicBaselineParams,
    MusicDataParams,
    MusicSamplingParams,
)
from dlpipeline.pipelines.sequence.training import train_models
from dlpipeline.training import TrainConfig

MELODY = ["C5:1", "D5:1/2", "E5:1/2", "R:1", "F#4:3/2", "B-4:2", "G4:1/4"]


def chorale_table(melodies: dict[str, list[str]]) -> pd.DataFrame:
    """The chorales table of ``melodies`` (``{chorale: tokens}``), as the data node writes it."""
    rows = [
        {"chorale": chorale, "position": position, "token": token}
        for chorale, tokens in melodies.items()
        for position, token in enumerate(tokens)
    ]
    return pd.DataFrame(rows)


def test_a_token_holds_the_pitch_with_its_octave_and_the_duration_as_a_fraction_and_reads_back():
    assert notes.note_token("F#4", 1.5) == "F#4:3/2"
    assert notes.note_token(notes.REST, Fraction(1, 3)) == "R:1/3"
    for token in MELODY:
        assert notes.note_token(*notes.parse_token(token)) == token


def test_the_vocabulary_numbers_tokens_after_the_specials_and_decodes_what_it_encodes():
    vocabulary = notes.NoteVocabulary.from_melodies([MELODY[:4], MELODY[3:]])
    ids = vocabulary.encode(MELODY)
    assert min(ids) == 3 and len(set(ids)) == len(MELODY)
    assert vocabulary.decode([*ids, END_ID, ids[0]]).split() == MELODY  # stops at END
    assert vocabulary.encode(["A6:8"]) == [UNKNOWN_ID]
    assert vocabulary.decode([PAD_ID, UNKNOWN_ID, ids[0]]) == f"{notes.UNKNOWN_TOKEN} C5:1"


def test_melody_tensors_shift_targets_by_one_and_end_each_melody():
    vocabulary = notes.NoteVocabulary.from_melodies([MELODY])
    inputs, targets = notes.melody_tensors([MELODY, MELODY[:2]], vocabulary, 10)
    ids = vocabulary.encode(MELODY)
    assert inputs[0, : len(ids) + 1].tolist() == [END_ID, *ids]
    assert targets[0, : len(ids) + 1].tolist() == [*ids, END_ID]
    assert targets[1, 3:].eq(PAD_ID).all() and inputs[1, 3:].eq(PAD_ID).all()
    with pytest.raises(ValueError, match="max_len >= 8"):
        notes.melody_tensors([MELODY], vocabulary, 7)


def test_the_unsmoothed_ngram_scores_its_own_corpus_at_the_counted_conditional_entropy():
    corpus = [[3, 4], [3, 3]]  # predicted, with END (2) after each: 3 4 2 3 3 2
    unigram = notes.ngram_counts(corpus, order=1)
    entropy = -(3 / 6 * math.log(3 / 6) + 1 / 6 * math.log(1 / 6) + 2 / 6 * math.log(2 / 6))
    assert notes.ngram_nll(unigram, corpus, vocab_size=5, smoothing=0) == pytest.approx(entropy)
    bigram = notes.ngram_counts(corpus, order=2)
    # contexts: END -> 3 (twice, certain); 3 -> 4, 3 -> 3, 3 -> END (one third each); 4 -> END (certain)
    expected = 3 * math.log(3) / 6
    assert notes.ngram_nll(bigram, corpus, vocab_size=5, smoothing=0) == pytest.approx(expected)
    assert notes.ngram_nll(bigram, [[4, 4]], vocab_size=5, smoothing=0) == math.inf
    smoothed = notes.ngram_nll(bigram, [[4, 4]], vocab_size=5, smoothing=1)
    assert math.isfinite(smoothed) and smoothed > expected


def test_a_melody_written_as_midi_reads_back_through_music21_with_its_pitches_and_durations():
    back = notes.midi_notes(notes.midi_bytes(MELODY))
    assert back == [(notes.token_midi(token), notes.parse_token(token)[1]) for token in MELODY]
    assert back[0] == (72, Fraction(1)) and back[3] == (None, Fraction(1))


def test_the_wav_lasts_the_melody_at_its_tempo_and_stops_at_the_limit():
    quarters = sum(float(notes.parse_token(token)[1]) for token in MELODY)
    for max_seconds, seconds in ((60.0, quarters * 0.5), (1.0, 1.0)):
        with wave.open(io.BytesIO(notes.wav_bytes(MELODY, 8000, 0.5, max_seconds))) as file:
            assert (file.getframerate(), file.getnchannels(), file.getsampwidth()) == (8000, 1, 2)
            assert file.getnframes() == round(seconds * 8000)


def test_melody_files_are_saved_as_one_folder_that_replaces_the_last_one(tmp_path):
    samples = pd.DataFrame({"cell": ["rnn", "rnn", "gru"], "melody": [0, 1, 0], "tokens": ["C5:1 D5:1"] * 3})
    files = music.music_files(samples, MusicSamplingParams())
    names = ("gru/00", "rnn/00", "rnn/01")
    assert sorted(files) == [f"{name}.{kind}" for name in names for kind in ("mid", "wav")]
    dataset = FilesDataset(str(tmp_path / "melodies"))
    dataset.save({"old/00.mid": b"stale"})
    dataset.save(files)
    assert dataset.load() == files
    assert notes.midi_notes(dataset.load()["rnn/01.mid"]) == [(72, Fraction(1)), (74, Fraction(1))]
    with pytest.raises(DatasetError, match="leaves the folder"):
        dataset.save({"../outside.mid": b""})
    assert dataset.load() == files and not (tmp_path / "outside.mid").exists()


def test_a_corpus_missing_from_the_installed_music21_is_answered_in_one_line_naming_it():
    with pytest.raises(notes.MissingCorpusError) as refused:
        data.load_chorales(MusicDataParams(corpus="no_such_composer"))
    assert "'no_such_composer'" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(notes.MissingCorpusError, match=r"'\*\.midi'"):
        notes.corpus_files("bach", "*.midi")


def test_chorales_are_read_from_the_wheel_as_soprano_melodies_in_the_common_key():
    table = data.load_chorales(MusicDataParams(max_chorales=4, max_notes=12))
    assert 1 <= table["chorale"].nunique() <= 4
    assert table.groupby("chorale")["position"].max().max() <= 11
    pitches = {notes.parse_token(token)[0] for token in table["token"]}
    # C major / A minor: nearly every pitch without an accidental (a few leading tones and passing notes)
    plain = sum(1 for token in table["token"] if len(notes.parse_token(token)[0]) == 2)
    assert plain / len(table) > 0.8 and pitches


def test_splits_are_by_whole_chorale_and_differ_between_draws():
    chorales = chorale_table({f"c{index}": MELODY[: 2 + index % 4] for index in range(10)})
    train, test = data.split_chorales(chorales, MusicDataParams(test_size=0.2, n_draws=3))
    for draw in range(3):
        train_names = set(train[train["draw"] == draw]["chorale"])
        test_names = set(test[test["draw"] == draw]["chorale"])
        assert not train_names & test_names and len(test_names) == 2
        assert len(train[train["draw"] == draw]) + len(test[test["draw"] == draw]) == len(chorales)
    assert test.groupby("draw")["chorale"].apply(frozenset).nunique() == 3


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (MusicDataParams, {"test_size": 1.5}),
        (MusicDataParams, {"corpus": "../etc"}),
        (MusicDataParams, {"max_chorales": 0}),
        (MusicBaselineParams, {"smoothing": 0}),
        (MusicBaselineParams, {"order": 0}),
        (MusicSamplingParams, {"temperature": 0}),
    ],
)
def test_bad_parameters_are_refused(model, values):
    with pytest.raises(ValidationError):
        model.model_validate(values)


def test_every_cell_seed_trains_on_its_split_and_is_scored_beside_the_count_baselines_of_that_split():
    melodies = {f"c{index}": MELODY[index % 3 :] + MELODY[: index % 4] for index in range(8)}
    params = MusicDataParams(max_notes=10, test_size=0.25, n_draws=2)
    train, test = data.split_chorales(chorale_table(melodies), params)
    tasks = music.music_tasks(train, test, params)
    cells = ["rnn", "transformer"]
    model = ModelParams(cells=cells, hidden_size=8, embedding_dim=4, n_heads=2, n_layers=1, n_seeds=2)
    models = train_models(tasks, model, TrainConfig(epochs=1, batch_size=4))
    ngram = music.ngram_scores(train, test, MusicBaselineParams())
    scores = music.music_scores(models, ngram)
    assert sorted(zip(ngram["cell"], ngram["draw"], strict=True)) == [
        ("ngram", 0),
        ("ngram", 1),
        ("unigram", 0),
        ("unigram", 1),
    ]
    units = music.music_units(scores, params)
    assert len(units) == (len(cells) + 1) * 2 and (units["draw"] == units["seed"] % 2).all()
    unigram = ngram[ngram["cell"] == "unigram"].set_index("draw")["test_nll"]
    for row in units.itertuples():
        assert row.baseline == unigram[row.draw]
    worst = units[units["cell"] == music.WORST].set_index("seed")["value"]
    per_seed = units[units["cell"].isin(cells)].groupby("seed")["value"].max()
    assert worst.to_dict() == per_seed.to_dict()
    results = music.music_results(scores)
    assert list(results["cell"]) == [*cells, "ngram", "unigram"]
    assert (results["min"] <= results["median"]).all() and (results["median"] <= results["max"]).all()
    sampling = MusicSamplingParams(n_melodies=3, n_shown=2)
    samples = music.music_samples(models, sampling)
    assert sorted(samples.groupby("cell").size().items()) == [("rnn", 3), ("transformer", 3)]
    assert (samples["seed"] == 0).all()
    outputs = music.music_outputs(samples, sampling)
    assert len(outputs) == 4 and all(
        len(row.notes.split()) == len(row.tokens.split()) for row in outputs.itertuples()
    )
    runs = music.music_child_runs(models, scores, samples, sampling)
    assert {(run.params["task"], run.params["cell"]) for run in runs} == {
        ("music", "rnn"),
        ("music", "transformer"),
        ("music", "ngram"),
        ("music", "unigram"),
    }
    assert all("test_nll" in run.metrics for run in runs)
    with_files = [run for run in runs if run.files]
    assert len(with_files) == len(cells)  # each cell's first seed
    for run in with_files:
        assert sorted(run.files) == sorted(
            f"melodies/{index:02d}.{kind}" for index in range(3) for kind in ("mid", "wav")
        )
        assert "piano_roll.png" in run.figures
    assert music.plot_piano_rolls(samples).axes
    torch.testing.assert_close(
        torch.tensor(units["value"].to_numpy()[: len(models)]),
        torch.tensor([trained.about.test_metrics["test_nll"] for trained in models.values()]),
        check_dtype=False,
    )


def test_reading_chorales_and_writing_midi_writes_nothing_under_home_and_no_file_anywhere(tmp_path):
    home, temporary = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temporary.mkdir()
    script = (
        "from dlpipeline.data import music\n"
        "melody = next(iter(music.chorale_melodies(music.corpus_files('bach', '*.mxl')[:2], 8).values()))\n"
        "music.midi_notes(music.midi_bytes(melody))\n"
    )
    environment = {**os.environ, "HOME": str(home), "TMPDIR": str(temporary)}
    subprocess.run([sys.executable, "-c", script], env=environment, check=True, timeout=300)
    assert list(home.rglob("*")) == []
    # music21 makes its (empty) scratch folder in the temporary folder on import; no cache lands there
    assert [path for path in temporary.rglob("*") if path.is_file()] == []
