"""The surname task: padded, masked many-to-one classification per cell, its n-gram baseline and control."""

import functools

import pandas as pd
import pytest
import torch

from dlpipeline.data.surnames import decode_features, name_features
from dlpipeline.data.text import UNKNOWN_GLYPH, CharTokenizer
from dlpipeline.executor import ExecutorParams
from dlpipeline.models.sequence import build_model
from dlpipeline.pipelines.sequence import names, training
from dlpipeline.pipelines.sequence.params import (
    ModelParams,
    NamesControlParams,
    NamesDataParams,
    NamesShownParams,
    NgramParams,
)
from dlpipeline.training import TrainConfig

CELLS = ["rnn", "lstm", "gru", "transformer"]
FINNISH = ["virtanen", "korhonen", "nieminen", "makinen", "hamalainen", "laine", "heikkinen", "koskinen"]
CROATIAN = ["horvatic", "kovacic", "babic", "maric", "juric", "novakovic", "knezevic", "vukovic"]
DATA = NamesDataParams(locales={"finnish": "fi_FI", "croatian": "hr_HR"}, max_len=10, n_draws=2)


def tiny_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two splits of 16 names: six of each language to train on, two to test, a different two per split."""
    table = pd.DataFrame(
        {
            "name": FINNISH + CROATIAN,
            "language": ["finnish"] * 8 + ["croatian"] * 8,
            "index": list(range(8)) * 2,
        }
    )
    parts = []
    for draw in (0, 1):
        held_out = table["index"].isin([draw * 2, draw * 2 + 1])
        parts.append(
            (
                table[~held_out].assign(draw=draw),
                table[held_out].assign(draw=draw).replace({"name": {"kovacic": "kovacić"}}),
            )
        )
    train, test = (pd.concat([part[i] for part in parts])[["draw", "name", "language"]] for i in (0, 1))
    return train.reset_index(drop=True), test.reset_index(drop=True)


@pytest.mark.parametrize("cell", CELLS)
def test_masking_gives_padded_steps_zero_gradient_and_the_answer_of_the_unpadded_name(cell):
    tokenizer = CharTokenizer.from_texts(FINNISH)
    short = name_features(["laine", "virtanen"], tokenizer, 8)
    padded = name_features(["laine", "virtanen"], tokenizer, 14)
    padded[..., 9:, :-1] = torch.randn(2, 5, padded.shape[-1] - 1)  # junk under the mask, after the names
    labels = torch.zeros(2, dtype=torch.long)
    shape = training.TaskTensors(
        "names", padded, labels, padded, labels, "classification", 3, padded=True
    ).shape
    torch.manual_seed(0)
    model = build_model(cell, shape, 8, n_heads=2, n_layers=1).module
    inputs = padded.clone().requires_grad_(True)
    output = model(inputs)
    output.sum().backward()
    gradient = inputs.grad[..., :-1].abs().sum(dim=-1)
    assert (gradient[0, 5:] == 0).all() and (gradient[1, 8:] == 0).all()
    assert (gradient[0, :5] > 0).any() and (gradient[1, :8] > 0).any()
    torch.testing.assert_close(output, model(short), rtol=1e-5, atol=1e-6)


def test_each_split_is_one_padded_classification_task_with_its_training_names_vocabulary():
    train, test = tiny_split()
    tasks = names.names_tasks(train, test, DATA)
    assert [task.draw for task in tasks] == [0, 1]
    for task in tasks:
        assert task.masked and task.readout == "last" and task.kind == "classification"
        assert task.shape.input_size == CharTokenizer(task.characters).vocab_size - 1
        assert task.output_size == 2 and set(task.test_targets.tolist()) == {0, 1}
    # a character no training name of the split has ("ć"; "t" on split 0) keeps its place as unknown
    seen = set("".join(train[train["draw"] == 0]["name"]))
    expected = [
        "".join(c if c in seen else UNKNOWN_GLYPH for c in name) for name in test[test["draw"] == 0]["name"]
    ]
    assert decode_features(tasks[0].test_features, CharTokenizer(tasks[0].characters)) == expected
    assert f"kovaci{UNKNOWN_GLYPH}" in expected and any("t" in name for name in test["name"])


def test_the_control_shuffles_each_names_characters_and_keeps_its_language_and_split():
    train, test = tiny_split()
    shuffled_train, shuffled_test = names.shuffle_names(train, test, DATA)
    for original, shuffled in ((train, shuffled_train), (test, shuffled_test)):
        assert (shuffled[["draw", "language"]] == original[["draw", "language"]]).all().all()
        assert [sorted(a) for a in shuffled["name"]] == [sorted(a) for a in original["name"]]
    assert (shuffled_train["name"] != train["name"]).sum() > len(train) / 2
    assert [task.task for task in names.shuffled_tasks(shuffled_train, shuffled_test, DATA)] == [
        names.SHUFFLED
    ] * 2
    model = ModelParams(cells=CELLS, n_seeds=5, cell_hidden_sizes={"rnn": 80})
    control = names.control_model(model, NamesControlParams(cell="rnn"))
    assert control.cells == ["rnn"] and control.hidden_size_of("rnn") == 80 and control.seeds == model.seeds


def test_the_ngram_baseline_reads_endings_and_answers_for_every_test_name_of_each_split():
    train, test = tiny_split()
    predicted = names.ngram_predictions(train, test, NgramParams())
    assert len(predicted) == len(test) and set(predicted["cell"]) == {names.NGRAM}
    assert set(predicted["run"]) == {"names-ngram-d0", "names-ngram-d1"}
    assert (predicted["seed"] == names.NO_SEED).all()
    assert (predicted["language"] == predicted["predicted"]).all()  # -nen against -ić is easy


@functools.cache  # trained once for every test that reads it
def trained_tiny() -> tuple[training.TrainedModels, training.TrainedModels, pd.DataFrame, pd.DataFrame]:
    """Two cells and the control trained for two epochs on the tiny splits, two seeds (one per split)."""
    train, test = tiny_split()
    model = ModelParams(cells=["rnn", "gru"], hidden_size=8, n_seeds=2)
    config = TrainConfig(epochs=2, learning_rate=0.01, batch_size=4, threads=1)
    executor = ExecutorParams(kind="local")
    models = training.train_models(names.names_tasks(train, test, DATA), model, config, executor)
    shuffled_train, shuffled_test = names.shuffle_names(train, test, DATA)
    control = training.train_models(
        names.shuffled_tasks(shuffled_train, shuffled_test, DATA),
        names.control_model(model, NamesControlParams()),
        config,
        executor,
    )
    return models, control, train, test


@functools.cache
def scored_tiny() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The tiny models', the control's and the n-gram's test predictions, and their scores."""
    models, control, train, test = trained_tiny()
    _, shuffled_test = names.shuffle_names(train, test, DATA)
    predictions = names.model_predictions(models, test, DATA)
    control_predictions = names.model_predictions(control, shuffled_test, DATA)
    ngram = names.ngram_predictions(train, test, NgramParams())
    scores = names.names_scores(predictions, control_predictions, ngram)
    return predictions, control_predictions, ngram, scores


def test_every_model_and_the_control_pair_with_the_ngram_of_their_own_split():
    models = trained_tiny()[0]
    scores = scored_tiny()[-1]
    for label, trained in models.items():
        assert scores.set_index("run").loc[label, "test_accuracy"] == pytest.approx(
            trained.about.test_metrics["test_accuracy"]
        )
    units = names.names_units(scores, DATA)
    assert set(units["cell"]) == {"rnn", "gru", "rnn shuffled"}
    assert set(units["metric"]) == set(names.METRICS)
    assert len(units) == 2 * 3 * 2  # metrics x cells x (draw, seed) units
    assert (units["draw"] == units["seed"]).all()  # seed i on split i
    ngram_scores = scores[scores["cell"] == names.NGRAM].set_index("draw")
    for _, row in units.iterrows():
        assert row["baseline"] == ngram_scores.loc[row["draw"], row["metric"]]
    results = names.names_results(scores)
    assert set(results["cell"]) == {"rnn", "gru", "rnn shuffled", names.NGRAM}
    assert (results["runs"] == 2).all()


def test_the_names_shown_are_misclassified_ones_and_the_same_few_for_every_cell():
    models, _, train, test = trained_tiny()
    predictions = names.model_predictions(models, test, DATA)
    ngram = names.ngram_predictions(train, test, NgramParams())
    wrong = names.wrong_names(predictions, ngram, NamesShownParams(n_wrong=1))
    assert (wrong["language"] != wrong["predicted"]).all()
    assert wrong["run"].is_unique
    outputs = names.names_outputs(predictions, ngram, DATA, NamesShownParams(n_outputs=2))
    assert outputs.groupby("cell")["name"].apply(frozenset).nunique() == 1
    assert set(outputs["cell"]) == {"rnn", "gru", names.NGRAM} and len(outputs) == 3 * 2
    assert set(outputs["language"]) == {"finnish", "croatian"}
    assert (outputs["correct"] == (outputs["language"] == outputs["predicted"])).all()


def test_each_model_control_and_ngram_fit_is_a_child_run_with_task_cell_and_both_metrics():
    models, control, _, _ = trained_tiny()
    predictions, control_predictions, ngram, scores = scored_tiny()
    runs = names.names_child_runs(models, control, predictions, control_predictions, ngram, scores)
    assert [run.name for run in runs] == [*models, *control, "names-ngram-d0", "names-ngram-d1"]
    for run in runs:
        assert run.params["task"] in {names.TASK, names.SHUFFLED}
        assert {"test_accuracy", "macro_f1"} <= set(run.metrics)
        assert "wrong.txt" in run.texts
    assert {run.params["cell"] for run in runs} == {"rnn", "gru", names.NGRAM}
