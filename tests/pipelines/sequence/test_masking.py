"""Padding and masking on vs off: the padded names read as they are, beside the task's masked models."""

import pytest
import torch
from pydantic import ValidationError
from tests.pipelines.sequence.test_names import DATA, FINNISH, tiny_split

from dlpipeline.data.surnames import name_features
from dlpipeline.data.text import CharTokenizer
from dlpipeline.models.sequence import build_model
from dlpipeline.pipelines.sequence import masking, names, training
from dlpipeline.pipelines.sequence.params import MaskingParams, ModelParams
from dlpipeline.training import TrainConfig

CELLS = ["rnn", "lstm"]
MODEL = ModelParams(cells=["rnn", "lstm", "gru"], hidden_size=4, n_seeds=2)
TRAIN = TrainConfig(epochs=1, batch_size=8, learning_rate=0.01, threads=1)


@pytest.fixture(scope="module")
def trained() -> tuple[list[training.TaskTensors], training.TrainedModels, training.TrainedModels]:
    """Two tiny splits, the task's own (masked) models of three cells, the study's unmasked rnn and lstm."""
    tasks = names.names_tasks(*tiny_split(), DATA)
    models = training.train_models(tasks, MODEL, TRAIN)
    study = masking.masking_model(MODEL, MaskingParams(cells=CELLS))
    unmasked = training.train_models(masking.unmasked_tasks(tasks), study, TRAIN)
    return tasks, models, unmasked


def test_unmasked_tasks_are_the_same_padded_tensors_without_the_validity_channel():
    tasks = names.names_tasks(*tiny_split(), DATA)
    unmasked = masking.unmasked_tasks(tasks)
    assert [task.task for task in unmasked] == ["names-unmasked"] * 2
    for task, bare in zip(tasks, unmasked, strict=True):
        assert not bare.masked and bare.draw == task.draw and bare.seq_len == task.seq_len
        assert torch.equal(bare.train_features, task.train_features[..., :-1])
        assert torch.equal(bare.test_targets, task.test_targets)
        assert bare.shape.input_size == task.shape.input_size  # the same network: the mask is no input
        assert (task.test_features[..., -1] == 0).any()  # there is padding to read


def test_a_task_without_padding_has_no_mask_to_remove():
    tasks = names.names_tasks(*tiny_split(), DATA)
    with pytest.raises(ValueError, match="not a padded many-to-one task"):
        masking.unmasked_tasks(masking.unmasked_tasks(tasks))


@pytest.mark.parametrize("cell", CELLS)
def test_without_the_mask_the_padding_gets_gradient_and_changes_the_answer(cell):
    tokenizer = CharTokenizer.from_texts(FINNISH)
    short, padded = (name_features(["laine", "virtanen"], tokenizer, length)[..., :-1] for length in (8, 14))
    labels = torch.zeros(2, dtype=torch.long)
    task = training.TaskTensors("names-unmasked", padded, labels, padded, labels, "classification", 3)
    torch.manual_seed(0)
    model = build_model(cell, task.shape, 8).module
    inputs = padded.clone().requires_grad_(True)
    output = model(inputs)
    output.sum().backward()
    gradient = inputs.grad.abs().sum(dim=-1)
    assert (gradient[0, 5:] > 0).all() and (gradient[1, 8:] > 0).all()  # the padded steps are read
    assert not torch.allclose(output, model(short), atol=1e-4)  # more padding, another answer


def test_each_unmasked_model_sits_beside_the_masked_model_of_its_cell_and_seed(trained):
    _, models, unmasked = trained
    table = masking.masking_units(models, unmasked)
    assert sorted(zip(table.cell, table.seed, strict=True)) == sorted((c, s) for c in CELLS for s in (0, 1))
    assert (table.study == masking.MASKING_STUDY).all() and (table.task == "names").all()
    assert (table.draw == table.seed % DATA.n_draws).all()
    for row in table.itertuples():
        on = models[training.run_label("names", row.cell, row.seq_len, row.seed)]
        off = unmasked[training.run_label("names-unmasked", row.cell, row.seq_len, row.seed)]
        assert row.masked == pytest.approx(on.about.test_metrics["test_accuracy"])
        assert row.unmasked == pytest.approx(off.about.test_metrics["test_accuracy"])


def test_a_study_model_without_its_masked_twin_is_refused(trained):
    _, models, unmasked = trained
    lstm_missing = {label: model for label, model in models.items() if model.about.cell != "lstm"}
    with pytest.raises(ValueError, match="0 masked models of cell lstm"):
        masking.masking_units(lstm_missing, unmasked)


def test_accuracy_by_length_counts_every_test_name_of_every_seed_on_and_off(trained):
    tasks, models, unmasked = trained
    table = masking.accuracy_by_length(tasks, models, unmasked)
    test_names = sum(len(task.test_targets) for task in tasks)  # seed i on split i: each split once
    assert (table.groupby(["cell", "masking"])["names"].sum() == test_names).all()
    assert set(table.cell) == set(CELLS) and set(table.masking) == {"on", "off"}
    assert (table.padding == tasks[0].seq_len - table.length).all()
    units = masking.masking_units(models, unmasked)
    for (cell, state), rows in table.groupby(["cell", "masking"]):
        pooled = (rows.accuracy * rows.names).sum() / rows.names.sum()
        column = "masked" if state == "on" else "unmasked"
        per_split = units[units.cell == cell][column]  # the splits hold as many test names each
        assert pooled == pytest.approx(per_split.mean())
    assert masking.plot_accuracy_by_length(table).axes


def test_each_unmasked_model_is_a_child_run_saying_masking_off_with_its_network(trained):
    _, _, unmasked = trained
    runs = masking.masking_child_runs(unmasked)
    assert [run.name for run in runs] == list(unmasked)
    for run in runs:
        assert run.params["task"] == "names-unmasked" and run.params["cell"] in CELLS
        assert run.params["study"] == "masking" and run.params["masking"] == "off"
        assert run.model is not None and "test_accuracy" in run.metrics


def test_the_study_trains_recurrent_cells_only():
    with pytest.raises(ValidationError):
        MaskingParams(cells=["transformer"])
    with pytest.raises(ValidationError):
        MaskingParams(cells=[])
    assert masking.masking_model(MODEL, MaskingParams(cells=["rnn"])).cells == ["rnn"]
