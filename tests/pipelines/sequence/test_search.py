"""The adding problem's hyperparameter search: validated on held-out training sequences (never the test
set), trials on the sequence executor's threads, a bad space refused at load."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from dlpipeline.executor import ExecutorParams
from dlpipeline.pipelines.sequence import data as data_nodes
from dlpipeline.pipelines.sequence import search as sequence_search
from dlpipeline.pipelines.sequence.params import AddingDataParams, AddingSearchParams, ModelParams
from dlpipeline.training import TrainConfig

SPACE = {
    "learning_rate": {"type": "log-float", "low": 0.001, "high": 0.03},
    "hidden_size": {"type": "int", "low": 4, "high": 16, "step": 4},
}
DATA = AddingDataParams(seq_lens=[6, 12], n_train=50, n_test=20, n_draws=2)


def search_params(tmp_path: Path, trials: int, **changes) -> AddingSearchParams:
    return AddingSearchParams.model_validate(
        {"trials": trials, "storage": str(tmp_path / "search.db"), "space": SPACE, **changes}
    )


@pytest.fixture(scope="module")
def split():
    return data_nodes.split_adding(data_nodes.generate_adding(DATA), DATA)


def test_trials_train_on_held_out_training_sequences_of_the_longest_length_never_the_test_set(
    tmp_path, split
):
    train, _ = split
    shared = sequence_search.adding_search_data(
        train, ModelParams(cells=["lstm"]), TrainConfig(), search_params(tmp_path, trials=1)
    )
    assert shared.features.shape[1] == max(DATA.seq_lens)
    assert (len(shared.features), len(shared.val_features)) == (40, 10)  # 20 % of the first draw's 50


def test_a_search_on_threads_draws_its_trials_in_batches_and_records_each(tmp_path, split):
    train, _ = split
    on_threads = ExecutorParams(kind="threads", workers=2)
    trials, best, child_runs = sequence_search.search_adding(
        train,
        ModelParams(cells=["lstm"]),
        TrainConfig(epochs=3, batch_size=16, threads=1),
        search_params(tmp_path, trials=4),
        on_threads,
    )
    assert list(trials["trial"]) == [0, 1, 2, 3]
    assert [run.params["trial"] for run in child_runs] == [0, 1, 2, 3]
    assert set(best) == {"sequence.adding.train.learning_rate", "sequence.adding.model.hidden_size"}
    for run, hidden_size in zip(child_runs, trials["param_hidden_size"], strict=True):
        # each trial's run holds its network, of its drawn size, answering held-out sequences
        assert run.model.kind == "sequence" and run.model.input_shape == (max(DATA.seq_lens), 2)
        assert run.model.trained.kwargs["hidden_size"] == hidden_size
        assert run.model.predict(run.model.input_example).shape == (3, 1)
    completed = trials[trials["state"] == "complete"]
    assert (
        best["sequence.adding.train.learning_rate"]
        == completed.loc[completed["value"].idxmin(), "param_learning_rate"]
    )


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"space": {"hidden_size": {"type": "int", "low": 0, "high": 8}}}, ["space.hidden_size may draw 0"]),
        (
            {"space": {"dropout": {"type": "float", "low": 0, "high": 0.5}}},
            ["unknown hyperparameter 'dropout'"],
        ),
        ({"metric": "test_mse"}, ["unknown metric 'test_mse'"]),
    ],
)
def test_a_bad_adding_search_is_refused_by_name(tmp_path, changes, words):
    with pytest.raises(ValidationError) as refused:
        search_params(tmp_path, trials=2, **changes)
    for word in words:
        assert word in str(refused.value)


def test_a_length_the_data_does_not_have_is_refused_before_training(tmp_path, split):
    train, _ = split
    with pytest.raises(ValueError, match="seq_len 7 is not a length of the data"):
        sequence_search.adding_search_data(
            train, ModelParams(cells=["lstm"]), TrainConfig(), search_params(tmp_path, trials=1, seq_len=7)
        )
