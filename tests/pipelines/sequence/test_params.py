"""A wrong sequence parameter stops `kedro run` before any node runs, naming the key."""

from pathlib import Path

import pytest
from tests.helpers import assert_refused_before_any_node

from dlpipeline.pipelines.sequence.params import ModelParams

BAD_PARAMETERS = [
    (
        {"adding": {"model": {"cells": ["elman"]}}},
        "sequence.adding.model",
        "'rnn', 'lstm', 'gru' or 'transformer'",
    ),
    ({"adding": {"data": {"seq_lens": [1, 10]}}}, "sequence.adding.data", "at least 2"),
    ({"forecast": {"data": {"min_len": 30, "max_len": 10}}}, "sequence.forecast.data", "exceeds max_len"),
    ({"adding": {"data": {"seq_lens": [5, 5]}}}, "sequence.adding.data", "repeats a length"),
    (
        {"forecast": {"data": {"n_steps": 100, "train_share": 0.5, "max_len": 60}}},
        "sequence.forecast.data",
        "cannot hold a window of max_len + horizon = 66 steps",
    ),
    ({"generate": {"data": {"random_state": 2**32}}}, "sequence.generate.data", "less than or equal"),
    ({"digits_rows": {"train": {"learning_rate": 0}}}, "sequence.digits_rows.train", "greater than 0"),
    ({"forecast": {"model": {"hidden_size": 0}}}, "sequence.forecast.model", "greater than"),
    ({"music": {"baseline": {"smoothing": 0}}}, "sequence.music.baseline", "greater than 0"),
    ({"music": {"data": {"corpus": "../bach"}}}, "sequence.music.data", "should match pattern"),
    (
        {"adding": {"explosion": {"train": {"max_grad_norm": 1.0}}}},
        "sequence.adding.explosion",
        "max_grad_norm must be null",
    ),
]


@pytest.mark.parametrize(("override", "key", "rule"), BAD_PARAMETERS)
def test_a_bad_parameter_stops_the_run_before_any_node(project_copy: Path, override, key, rule):
    assert_refused_before_any_node(project_copy, "sequence", override, key, rule)


def test_each_model_is_trained_with_n_seeds_counted_from_the_first_seed():
    assert ModelParams(cells=["gru"], n_seeds=3, first_seed=5).seeds == [5, 6, 7]
