"""The sequence nodes: losses, training records, generation, results and byte-stable datasets."""

import hashlib
from pathlib import Path

import pandas as pd
import pytest
import torch

from dlpipeline.datasets import TableDataset
from dlpipeline.pipelines.sequence import nodes
from dlpipeline.pipelines.sequence.params import (
    AddingDataParams,
    ForecastDataParams,
    GenerateDataParams,
    ModelParams,
)
from dlpipeline.training import TrainConfig

TINY_TRAIN = TrainConfig(epochs=3, learning_rate=0.01, batch_size=16, threads=1)


def test_the_masked_mse_ignores_padded_steps():
    outputs = torch.tensor([[[1.0], [2.0], [100.0]]])
    targets = torch.tensor([[[0.0, 1.0], [2.0, 1.0], [0.0, 0.0]]])
    assert nodes.masked_mse(outputs, targets).item() == pytest.approx(0.5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "transformer"])
def test_every_model_trains_on_padded_forecast_windows_and_records_each_epoch(cell):
    data = ForecastDataParams(n_steps=300, n_train=24, n_test=8, min_len=4, max_len=10)
    train, test = nodes.make_windows(nodes.generate_series(data), data)
    model_params = ModelParams(cells=[cell], hidden_size=8, n_seeds=2)
    trained = nodes.train_forecast(train, test, model_params, TINY_TRAIN, data)
    assert [(m.cell, m.seed, m.seq_len) for m in trained] == [(cell, 0, 10), (cell, 1, 10)]
    for record in trained:
        assert record.loss.shape == record.test_history.shape == (3,)
        assert record.metrics["test_mse"] >= 0


def test_training_starts_from_the_seed_so_a_rerun_gives_the_same_model():
    data = AddingDataParams(seq_lens=[6], n_train=32, n_test=16)
    train, test = nodes.split_adding(nodes.generate_adding(data), data)
    model_params = ModelParams(cells=["gru"], hidden_size=4)
    first, second = (nodes.train_adding(train, test, model_params, TINY_TRAIN) for _ in range(2))
    assert first[0].metrics["test_mse"] == pytest.approx(second[0].metrics["test_mse"], rel=1e-5)


def test_generation_runs_free_from_omega_alone_and_is_scored_that_way():
    data = GenerateDataParams(seq_len=6, n_train=16, n_test=4)
    train, test = nodes.split_waves(nodes.generate_waves(data), data)
    (record,) = nodes.train_generate(train, test, ModelParams(cells=["lstm"], hidden_size=4), TINY_TRAIN)
    assert set(record.metrics) == {"test_mse", "test_mse_teacher_forced"}
    generated = nodes.generate_free_running(record.model, torch.tensor([0.2, 0.4]), steps=6)
    assert generated.shape == (2, 6)


def test_gradient_norms_cover_each_recurrent_cell_at_the_longest_length():
    data = AddingDataParams(seq_lens=[4, 9], n_train=16, n_test=8, n_probe=4)
    train, test = nodes.split_adding(nodes.generate_adding(data), data)
    trained = nodes.train_adding(train, test, ModelParams(cells=["rnn", "lstm"], hidden_size=4), TINY_TRAIN)
    profiles = nodes.adding_gradient_norms(trained, test, data, nodes.AddingAnalysisParams())
    assert set(profiles["trained"]) == set(profiles["initial"]) == {"rnn", "lstm"}
    assert all(norms.shape == (9,) for norms in profiles["trained"].values())


def test_the_worst_seed_is_the_highest_mse_but_the_lowest_accuracy():
    def record(metric: str, value: float, seed: int) -> nodes.TrainedModel:
        return nodes.TrainedModel(
            task="adding",
            cell="gru",
            seq_len=10,
            seed=seed,
            hidden_size=4,
            model=torch.nn.Identity(),
            initial_state={},
            loss=None,
            test_history=None,
            metrics={metric: value},
            settings={},
            train_seconds=1.0,
            cpu_seconds=1.0,
        )

    mse = nodes.result_rows([record("test_mse", 0.1, 0), record("test_mse", 0.3, 1)], 0.167, "mean")
    accuracy = nodes.result_rows([record("test_accuracy", 0.9, 0), record("test_accuracy", 0.7, 1)], 0.1, "")
    assert mse.loc[0, "worst"] == pytest.approx(0.3)
    assert accuracy.loc[0, "worst"] == pytest.approx(0.7)
    assert mse.loc[0, "mean"] == pytest.approx(0.2)


def parquet_digest(table: pd.DataFrame, path: Path) -> str:
    """Save ``table`` as the catalog does and hash the file, as DVC does."""
    TableDataset(filepath=str(path)).save(table)
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_regenerated_datasets_are_byte_identical(tmp_path: Path):
    adding = AddingDataParams(seq_lens=[5, 8], n_train=10, n_test=5)
    forecast = ForecastDataParams(n_steps=200, n_train=5, n_test=5, min_len=3, max_len=6)
    generate = GenerateDataParams(seq_len=5, n_train=5, n_test=5)
    for name, make in {
        "adding": lambda: nodes.split_adding(nodes.generate_adding(adding), adding)[0],
        "forecast": lambda: nodes.make_windows(nodes.generate_series(forecast), forecast)[1],
        "generate": lambda: nodes.generate_waves(generate),
        "digits": nodes.load_digits,
    }.items():
        assert parquet_digest(make(), tmp_path / f"{name}1.parquet") == parquet_digest(
            make(), tmp_path / f"{name}2.parquet"
        ), name
