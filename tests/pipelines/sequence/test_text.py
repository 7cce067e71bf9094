"""The text task: a character language model per cell through the shared loop, and what it writes."""

import dataclasses
import math
import threading

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from tests.helpers import PROJECT_ROOT

from dlpipeline.executor import ExecutorParams, TaskFailedError
from dlpipeline.pipelines.sequence import report, text, training
from dlpipeline.pipelines.sequence.params import ModelParams, TextDataParams, TextSamplingParams
from dlpipeline.training import TrainConfig

NAMES = ["anna", "bob", "carla", "dan", "emma", "finn", "gina", "hal", "ivy", "jon", "kim", "lea"]
BIGRAM = "sequence.text.bigram"
TINY_TRAIN = TrainConfig(epochs=3, learning_rate=0.01, batch_size=4, threads=1)


def tiny_text(
    cells: list[str], workers: int = 1
) -> tuple[training.TrainedModels, pd.DataFrame, pd.DataFrame]:
    """Language models trained for three epochs on a dozen names, with the splits."""
    train, test = pd.DataFrame({"name": NAMES[:9]}), pd.DataFrame({"name": [*NAMES[9:], "zoe"]})
    model_params = ModelParams(cells=cells, hidden_size=8, n_heads=2, n_layers=1, embedding_dim=4, n_seeds=2)
    executor = ExecutorParams(kind="threads", workers=workers)
    task = text.text_task(train, test, TextDataParams(max_len=8))
    models = training.train_models(task, model_params, TINY_TRAIN, executor)
    return models, train, test


def test_every_cell_trains_as_a_language_model_scored_in_nats_per_character():
    models, _, _ = tiny_text(["rnn", "lstm", "gru", "transformer"])
    assert len(models) == 8
    for trained in models.values():
        run = trained.about
        assert run.task == "text"
        assert 0 < run.test_metrics["test_nll"] < math.log(len(run.characters) + 3) + 1
        assert trained.trained_history.loss.shape == (3,)


def test_the_results_sit_beside_the_count_bigram():
    models, train, test = tiny_text(["gru"])
    rows = text.text_rows(models, text.fit_bigram(train), test)
    assert rows.loc[0, "metric"] == "test_nll"
    assert rows.loc[0, "baseline_name"] == "count bigram"
    assert rows.loc[0, "baseline"] == pytest.approx(text.bigram_test_nll(text.fit_bigram(train), test))
    assert rows.loc[0, "seeds"] == 2


def test_each_model_writes_names_and_says_which_are_training_names():
    models, train, _ = tiny_text(["lstm"])
    bigram, sampling = text.fit_bigram(train), TextSamplingParams(n_samples=5, seed=3)
    samples = text.text_samples(models, bigram, train, sampling)
    assert set(samples["cell"]) == {"lstm", "bigram"}
    assert samples.groupby(["cell", "seed"]).size().eq(5).all()
    assert samples["in_training"].eq(samples["text"].isin(set(train["name"])).astype(int)).all()
    assert samples.equals(text.text_samples(models, bigram, train, sampling))


def test_text_child_runs_carry_the_names_written_and_bits_per_character():
    models, train, _ = tiny_text(["gru"])
    samples = text.text_samples(models, text.fit_bigram(train), train, TextSamplingParams(n_samples=4))
    runs = report.build_text_child_runs(models, samples)
    assert len(runs) == 2
    for run in runs:
        assert run.params["task"] == "text" and run.params["pattern"] == "many-to-many"
        assert run.metrics["test_bits_per_char"] == pytest.approx(run.metrics["test_nll"] / math.log(2))
        assert 0 <= run.metrics["samples_in_training"] <= 1
        assert len(run.texts["samples.txt"].splitlines()) == 4


def test_training_on_two_threads_gives_the_same_models_as_one_by_one():
    one_by_one, _, _ = tiny_text(["gru", "transformer"], workers=1)
    concurrently, _, _ = tiny_text(["gru", "transformer"], workers=2)
    assert list(one_by_one) == list(concurrently)
    for label, trained in one_by_one.items():
        assert trained.about.test_metrics == concurrently[label].about.test_metrics
        assert trained.trained_history.loss.equal(concurrently[label].trained_history.loss)


def test_a_failing_model_stops_the_others_at_their_next_epoch(monkeypatch: pytest.MonkeyPatch):
    original = training.train_model
    started = threading.Event()

    def failing_or_endless(
        tasks: list[training.TaskTensors], job: training.ModelJob
    ) -> training.SequenceModel:
        if job.seed == 1:
            started.wait(timeout=30)
            raise RuntimeError("out of memory")
        started.set()
        endless = dataclasses.replace(job, train=job.train.model_copy(update={"epochs": 10**9}))
        return original(tasks, endless)

    monkeypatch.setattr(training, "train_model", failing_or_endless)
    with pytest.raises(TaskFailedError, match=r"text-gru-T8-s1.*out of memory"):
        tiny_text(["gru"], workers=2)


def test_the_count_bigram_is_fitted_once_with_the_models_vocabulary_and_read_by_rows_units_and_samples():
    models, train, _ = tiny_text(["gru"])
    bigram = text.fit_bigram(train)
    assert bigram.tokenizer == text.tokenizer_of(models)
    assert bigram.counts.sum() == sum(len(name) + 1 for name in train["name"])
    bootstrap_project(PROJECT_ROOT)
    nodes = pipelines["sequence"].nodes
    assert [node.name for node in nodes if BIGRAM in node.outputs] == ["sequence.text.fit_bigram"]
    assert {node.name for node in nodes if BIGRAM in node.inputs} == {
        "sequence.text.rows",
        "sequence.text.units",
        "sequence.text.samples",
    }
