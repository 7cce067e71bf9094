"""The sequence nodes: training records, trained models as files, generation, results and child runs."""

import ast
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from dlpipeline.data.sequences import padded_windows
from dlpipeline.datasets import DataValidationError, ModelDataset, TableDataset
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.sequence import adding, data, forecast, generate, report
from dlpipeline.pipelines.sequence.params import (
    AddingAnalysisParams,
    AddingDataParams,
    ForecastDataParams,
    GenerateDataParams,
    ModelParams,
    NamesDataParams,
)
from dlpipeline.pipelines.sequence.training import SequenceRun, TrainedModels, train_models
from dlpipeline.records import Timing
from dlpipeline.training import TrainConfig

TINY_TRAIN = TrainConfig(epochs=3, learning_rate=0.01, batch_size=16, threads=1)
SHARED_PARAMS = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}
SHARED_METRICS = {"train_seconds", "n_params"}


def tiny_forecast(
    cells: list[str], n_seeds: int = 1
) -> tuple[TrainedModels, pd.DataFrame, ForecastDataParams]:
    """Models trained for three epochs on a short series, with the test windows and data parameters."""
    params = ForecastDataParams(n_steps=300, n_train=24, n_test=8, min_len=4, max_len=10)
    train, test = data.make_windows(data.generate_series(params), params)
    model_params = ModelParams(cells=cells, hidden_size=8, n_heads=2, n_seeds=n_seeds)
    return train_models(forecast.forecast_task(train, test, params), model_params, TINY_TRAIN), test, params


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru", "transformer"])
def test_every_model_trains_on_padded_forecast_windows_and_records_each_epoch(cell):
    models, _, _ = tiny_forecast([cell], n_seeds=2)
    assert list(models) == [f"forecast-{cell}-T10-s0", f"forecast-{cell}-T10-s1"]
    for label, trained in models.items():
        run = trained.about
        assert (run.task, run.cell, run.seq_len) == ("forecast", cell, 10)
        assert label.endswith(f"-s{run.seed}")
        assert trained.trained_record.seeds == (run.seed,)
        assert trained.trained_history.loss.shape == trained.trained_history.of("test_mse").shape == (3,)
        assert run.test_metrics["test_mse"] >= 0


def test_training_starts_from_the_seed_so_a_rerun_gives_the_same_model():
    params = AddingDataParams(seq_lens=[6], n_train=32, n_test=16)
    train, test = data.split_adding(data.generate_adding(params), params)
    model_params = ModelParams(cells=["gru"], hidden_size=4, n_seeds=1)
    first, second = (
        train_models(adding.adding_tasks(train, test), model_params, TINY_TRAIN) for _ in range(2)
    )
    assert first["adding-gru-T6-s0"].about.test_metrics == second["adding-gru-T6-s0"].about.test_metrics


def test_a_model_file_gives_back_modules_that_predict_exactly_what_the_trained_ones_did(tmp_path: Path):
    models, test, params = tiny_forecast(["lstm", "transformer"])
    features = padded_windows(test, params.max_len)[0]
    dataset = ModelDataset(str(tmp_path / "forecast.pt"))
    dataset.save(models)
    loaded = dataset.load()
    assert list(loaded) == list(models)
    for label, trained in models.items():
        torch.testing.assert_close(
            loaded[label].module(features), trained.module.eval()(features), rtol=0, atol=0
        )
        assert loaded[label].about == trained.about
        assert loaded[label].record == trained.record
        assert math.isnan(loaded[label].timing.train_seconds)  # no clock reading in the file


def test_a_truncated_model_file_is_refused_in_one_line_that_names_it(tmp_path: Path):
    models, _, _ = tiny_forecast(["gru"])
    path = tmp_path / "forecast.pt"
    ModelDataset(str(path)).save(models)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataValidationError) as error:
        ModelDataset(str(path)).load()
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_generation_runs_free_from_omega_alone_and_is_scored_that_way():
    params = GenerateDataParams(seq_len=6, n_train=16, n_test=4)
    train, test = data.split_waves(data.generate_waves(params), params)
    model_params = ModelParams(cells=["lstm"], hidden_size=4, n_seeds=1)
    (trained,) = generate.score_free_running(
        train_models(generate.generate_task(train, test), model_params, TINY_TRAIN), test
    ).values()
    assert set(trained.about.test_metrics) == {"test_mse", "test_mse_teacher_forced"}
    generated = generate.generate_free_running(trained.module, torch.tensor([0.2, 0.4]), steps=6)
    assert generated.shape == (2, 6)


def test_gradient_norms_cover_each_recurrent_cell_at_the_longest_length_trained_and_initial():
    params = AddingDataParams(seq_lens=[4, 9], n_train=16, n_test=8, n_probe=4)
    train, test = data.split_adding(data.generate_adding(params), params)
    model_params = ModelParams(cells=["rnn", "lstm"], hidden_size=4, n_seeds=1)
    models = train_models(adding.adding_tasks(train, test), model_params, TINY_TRAIN)
    profiles = adding.adding_gradient_norms(models, test, params, AddingAnalysisParams())
    assert set(profiles["trained"]) == set(profiles["initial"]) == {"rnn", "lstm"}
    assert all(norms.shape == (9,) for norms in profiles["trained"].values())
    assert not all((profiles["trained"][c] == profiles["initial"][c]).all() for c in ("rnn", "lstm"))


def recorded(metric: str, value: float, seed: int) -> TrainedModule:
    """A stand-in trained model that recorded ``metric`` = ``value`` for seed ``seed``."""
    run = SequenceRun("adding", "gru", 10, seed, 8, {}, {metric: value})
    return TrainedModule(torch.nn.Identity(), {}, about=run, timing=Timing(1.0, 1.0))


def test_the_worst_seed_is_the_highest_mse_but_the_lowest_accuracy():
    mse = report.result_rows(
        {"a": recorded("test_mse", 0.1, 0), "b": recorded("test_mse", 0.3, 1)}, 0.167, ""
    )
    accuracy = report.result_rows(
        {"a": recorded("test_accuracy", 0.9, 0), "b": recorded("test_accuracy", 0.7, 1)}, 0.1, ""
    )
    assert mse.loc[0, "worst"] == pytest.approx(0.3)
    assert accuracy.loc[0, "worst"] == pytest.approx(0.7)
    assert mse.loc[0, "mean"] == pytest.approx(0.2)
    assert (mse.loc[0, "median"], mse.loc[0, "min"], mse.loc[0, "max"]) == pytest.approx((0.2, 0.1, 0.3))


def test_the_metrics_json_holds_each_tasks_headline_beside_its_baseline():
    table = pd.DataFrame(
        {
            "task": ["adding", "adding", "adding", "digits_rows", "digits_rows", "forecast"],
            "cell": ["rnn", "rnn", "lstm", "gru", "lstm", "gru"],
            "seq_len": [10, 50, 50, 8, 8, 20],
            "metric": ["test_mse", "test_mse", "test_mse", "test_accuracy", "test_accuracy", "test_mse"],
            "median": [0.1, 0.2, 0.01, 0.9, 0.95, 0.3],
            "baseline": [0.167, 0.167, 0.167, 0.1, 0.1, 0.5],
        }
    )
    assert report.results_metrics(table) == {
        "adding": {"rnn_T50_test_mse": 0.2, "lstm_T50_test_mse": 0.01, "baseline": 0.167},
        "digits_rows": {"best_test_accuracy": 0.95, "baseline": 0.1},
        "forecast": {"best_test_mse": 0.3, "baseline": 0.5},
    }


def test_each_child_run_carries_the_shared_training_names_and_the_sequence_ones():
    models, _, _ = tiny_forecast(["gru", "transformer"])
    runs = report.build_child_runs(models)
    assert [run.name for run in runs] == list(models)
    for run in runs:
        assert SHARED_PARAMS | {"task", "pattern", "cell", "seq_len", "hidden_size"} <= set(run.params)
        assert SHARED_METRICS | {"test_mse", "final_loss", "cpu_seconds"} <= set(run.metrics)
        assert run.params["batch_size"] == 16  # an int, the rows of one step
        assert run.params["optimizer"] == "adam"
        assert run.metrics["n_params"] == sum(p.numel() for p in models[run.name].module.parameters())
        assert set(run.metric_histories) == {"loss", "test_mse_per_epoch"}
        assert run.model.kind == "sequence" and run.model.trained is models[run.name]
        example = run.model.input_example  # every step valid: the mask channel is all ones
        assert example.dtype == np.float32 and example[..., -1].min() == 1.0
        with torch.no_grad():
            expected = models[run.name].module.eval()(torch.as_tensor(example)).numpy()
        np.testing.assert_allclose(run.model.predict(example), expected, rtol=1e-6)
    transformer = next(run for run in runs if run.params["cell"] == "transformer")
    assert (transformer.params["n_heads"], transformer.params["n_layers"]) == (2, 2)


def test_a_full_batch_is_logged_as_the_number_of_training_rows():
    params = ForecastDataParams(n_steps=300, n_train=24, n_test=8, min_len=4, max_len=10)
    train, test = data.make_windows(data.generate_series(params), params)
    full_batch = TrainConfig(epochs=1, learning_rate=0.01, batch_size=None, threads=1)
    models = train_models(
        forecast.forecast_task(train, test, params), ModelParams(cells=["rnn"], n_seeds=1), full_batch
    )
    (run,) = report.build_child_runs(models)
    assert run.params["batch_size"] == 24


def parquet_digest(table: pd.DataFrame, path: Path) -> str:
    """Save ``table`` as the catalog does and hash the file, as DVC does."""
    TableDataset(filepath=str(path)).save(table)
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_regenerated_datasets_are_byte_identical(tmp_path: Path):
    adding_params = AddingDataParams(seq_lens=[5, 8], n_train=10, n_test=5)
    forecast_params = ForecastDataParams(n_steps=200, n_train=5, n_test=5, min_len=3, max_len=6)
    generate_params = GenerateDataParams(seq_len=5, n_train=5, n_test=5)
    names_params = NamesDataParams(locales={"fi": "fi_FI", "hr": "hr_HR"}, max_per_language=10, n_draws=2)
    for name, make in {
        "adding": lambda: data.split_adding(data.generate_adding(adding_params), adding_params)[0],
        "forecast": lambda: data.make_windows(data.generate_series(forecast_params), forecast_params)[1],
        "generate": lambda: data.generate_waves(generate_params),
        "digits": data.load_digits,
        "names": lambda: data.split_names_by_language(
            data.load_names_by_language(names_params), names_params
        )[1],
    }.items():
        assert parquet_digest(make(), tmp_path / f"{name}1.parquet") == parquet_digest(
            make(), tmp_path / f"{name}2.parquet"
        ), name


def test_the_data_nodes_import_only_data_code_and_their_parameters():
    tree = ast.parse(Path(data.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    own = {name for name in imported if name.startswith("dlpipeline.")}
    assert own == {
        "dlpipeline.data.digits",
        "dlpipeline.data.entities",
        "dlpipeline.data.music",
        "dlpipeline.data.sequences",
        "dlpipeline.data.surnames",
        "dlpipeline.data.text",
        "dlpipeline.pipelines.sequence.params",
    }
