"""What the sequence sweeps start first, and that a model's test metric is its last evaluation's."""

import torch

from dlpipeline.pipelines.sequence import adding, data
from dlpipeline.pipelines.sequence.params import AddingDataParams, ModelParams, Seq2SeqSpec
from dlpipeline.pipelines.sequence.training import score, train_models, training_cost
from dlpipeline.pipelines.sequence.translate import translator_cost
from dlpipeline.training import TrainConfig, predict

TINY_TRAIN = TrainConfig(epochs=3, learning_rate=0.01, batch_size=16, threads=1)
MODELS = ModelParams(cells=["rnn", "lstm", "transformer"], hidden_size=8, n_heads=2, n_layers=1, n_seeds=1)


def adding_tasks(seq_lens: list[int]) -> list:
    """The adding problem's tasks at ``seq_lens``, a few sequences each."""
    params = AddingDataParams(seq_lens=seq_lens, n_train=32, n_test=16)
    return adding.adding_tasks(*data.split_adding(data.generate_adding(params), params))


def test_longer_sequences_cost_more_and_a_transformer_more_than_a_cell_at_a_long_length():
    short, long = adding_tasks([10, 100])
    for cell in MODELS.cells:
        assert training_cost(long, cell, MODELS) > training_cost(short, cell, MODELS)
    assert training_cost(long, "transformer", MODELS) > training_cost(long, "lstm", MODELS)
    assert training_cost(long, "lstm", MODELS) == training_cost(long, "rnn", MODELS)


def test_the_test_metric_is_what_the_trained_model_scores_when_it_predicts_the_test_set_afresh():
    tasks = adding_tasks([6])
    models = train_models(tasks, MODELS, TINY_TRAIN)
    task = tasks[0]
    for trained in models.values():
        fresh = score(task.kind, predict(trained.module, task.test_features, "cpu"), task.test_targets)
        assert trained.about.test_metrics == {"test_mse": fresh}
        last_epoch = trained.trained_history.of("test_mse")[-1]
        assert torch.equal(last_epoch, torch.as_tensor(fresh))


def test_a_transformer_translator_starts_before_an_attending_gru_which_starts_before_a_plain_one():
    plain, attending, transformer = (
        translator_cost(Seq2SeqSpec(cell=cell, attention=attention))
        for cell, attention in (("gru", False), ("gru", True), ("transformer", True))
    )
    assert transformer > attending > plain
