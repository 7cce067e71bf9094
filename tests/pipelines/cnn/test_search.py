"""The CNN's hyperparameter search: a space that cannot be sampled is refused at load; a study is
seeded, prunes hopeless trials, resumes where it stopped, fans trials out to Dask, and its best values
go back to `kedro run --params`."""

import sys
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
import yaml
from pydantic import ValidationError
from tests.helpers import PROJECT_ROOT, command_output, copy_project, kedro_cli, kedro_in_process
from tests.tracking import PARENT_TAG, experiment_runs, logged_models, tracking_client

from dlpipeline import search, search_space
from dlpipeline.datasets import TableDataset
from dlpipeline.executor import ExecutorParams, IsolatedExecutorParams
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.cnn import data as data_nodes
from dlpipeline.pipelines.cnn import search as cnn_search
from dlpipeline.pipelines.cnn import train
from dlpipeline.pipelines.cnn.params import (
    Architecture,
    ExperimentParams,
    ImageDataParams,
    SearchParams,
    TrainingParams,
)
from dlpipeline.served import served_model, weights_hash
from dlpipeline.training import TrainConfig

EPOCHS = 4
SPACE = {
    "learning_rate": {"type": "log-float", "low": 0.001, "high": 0.03},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "pooling": {"type": "categorical", "choices": ["max", "avg"]},
}


def search_params(tmp_path: Path, trials: int, **changes) -> SearchParams:
    return SearchParams.model_validate(
        {"trials": trials, "storage": str(tmp_path / "search.db"), "space": SPACE, **changes}
    )


@pytest.fixture(scope="module")
def split():
    data = ImageDataParams(max_samples=300, random_state=0)
    return data_nodes.split_images(data_nodes.load_images(data), data)


@pytest.fixture(scope="module")
def experiments() -> ExperimentParams:
    return ExperimentParams(
        baseline=Architecture(filters=[4, 8], dense_units=16), configurations={"cnn": {}}, n_seeds=1
    )


@pytest.fixture(scope="module")
def training() -> TrainingParams:
    return TrainingParams(augment="none", train=TrainConfig(epochs=EPOCHS, batch_size=64, threads=1))


def run_search(split, experiments, training, params: SearchParams, executor=None):
    train_images, val_images, _ = split
    return cnn_search.search_hyperparameters(
        train_images, val_images, experiments, training, params, executor or IsolatedExecutorParams()
    )


# --- refused before any training --------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"space": {"dropout": {"type": "float", "low": 0.5, "high": 0.1}}}, ["low 0.5 is above high 0.1"]),
        (
            {"space": {"learning_rate": {"type": "log-float", "low": 0, "high": 0.1}}},
            ["log-float needs low > 0"],
        ),
        ({"space": {"pooling": {"type": "categorical", "choices": []}}}, ["choices", "at least 1 item"]),
        (
            {"space": {"momentum": {"type": "float", "low": 0.1, "high": 0.9}}},
            ["unknown hyperparameter 'momentum'"],
        ),
        ({"space": {"dropout": {"type": "float", "low": 0.0, "high": 1.5}}}, ["space.dropout may draw 1.5"]),
        ({"space": {"dropout": {"type": "uniform", "low": 0, "high": 1}}}, ["'float', 'log-float', 'int'"]),
        ({"metric": "test_accuracy"}, ["unknown metric 'test_accuracy'", "val_accuracy"]),
        ({"space": {}}, ["space", "at least 1 item"]),
    ],
)
def test_a_space_that_cannot_be_sampled_or_an_unknown_metric_is_refused_by_name(tmp_path, changes, words):
    with pytest.raises(ValidationError) as refused:
        search_params(tmp_path, trials=3, **changes)
    for word in words:
        assert word in str(refused.value)


def test_kedro_run_refuses_a_bad_space_in_one_message_before_any_training(tmp_path):
    project = copy_project(tmp_path / "project")
    bad = "cnn.search.trials=2,cnn.search.space.learning_rate.low=-1"
    result = kedro_in_process("run", "--env", "smoke", "--pipelines", "cnn", "--params", bad, cwd=project)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "nothing was run" in output
    assert "cnn.search" in output and "log-float needs low > 0, got -1" in output
    assert not (project / "data/07_model_output/cnn/search.db").exists()
    assert not (project / "data/01_raw/cnn").exists()


# --- the study ----------------------------------------------------------------------------


def test_no_trials_asked_trains_nothing_and_writes_no_study(tmp_path, split, experiments, training):
    trials, best, child_runs = run_search(split, experiments, training, search_params(tmp_path, trials=0))
    assert trials.empty and best == {} and child_runs == []
    assert not (tmp_path / "search.db").exists()
    entry = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_cnn.yml").read_text())["cnn.search_trials"]
    TableDataset(filepath=str(tmp_path / "trials.csv"), schema=entry["schema"]).save(
        trials
    )  # its schema holds


def test_every_trial_is_a_child_run_named_by_its_number_and_the_best_values_are_parameter_keys(
    tmp_path, split, experiments, training
):
    trials, best, child_runs = run_search(split, experiments, training, search_params(tmp_path, trials=4))
    assert list(trials["trial"]) == [0, 1, 2, 3]
    assert [run.params["trial"] for run in child_runs] == [0, 1, 2, 3]
    completed = trials[trials["state"] == "complete"]
    winner = completed.loc[completed["value"].idxmax()]
    assert best == {
        "cnn.training.train.learning_rate": winner["param_learning_rate"],
        "cnn.experiments.baseline.dropout": winner["param_dropout"],
        "cnn.experiments.baseline.pooling": winner["param_pooling"],
    }
    for run, (_, row) in zip(child_runs, trials.iterrows(), strict=True):
        assert len(run.metric_histories["epoch_val_accuracy"]) == row["epochs_run"]
        # every trial's run holds its ensemble as a classifier: one softmax row per example image
        assert run.model.kind == "classifier" and run.model.trained.kwargs["seeds"] == [0]
        answer = run.model.predict(run.model.input_example)
        np.testing.assert_allclose(answer.sum(axis=1), 1.0, rtol=1e-5)


def test_the_same_seed_draws_the_same_trials(tmp_path, split, experiments, training):
    first, _, _ = run_search(split, experiments, training, search_params(tmp_path / "a", trials=3))
    second, _, _ = run_search(split, experiments, training, search_params(tmp_path / "b", trials=3))
    assert first.drop(columns="seconds").equals(second.drop(columns="seconds"))


def test_an_interrupted_search_resumes_without_training_its_finished_trials_again(
    tmp_path, split, experiments, training, monkeypatch
):
    trained: list[int] = []
    real = cnn_search.train_trial

    def interrupted_at_the_third(shared, task):
        if len(trained) == 2:
            raise KeyboardInterrupt
        trained.append(task.number)
        return real(shared, task)

    monkeypatch.setattr(cnn_search, "train_trial", interrupted_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        run_search(split, experiments, training, search_params(tmp_path, trials=4))
    before = search.finished_trials(search.open_study(search_params(tmp_path, trials=4)))
    assert [trial.number for trial in before] == [0, 1]

    monkeypatch.setattr(
        cnn_search, "train_trial", lambda shared, task: trained.append(task.number) or real(shared, task)
    )
    trials, _, child_runs = run_search(split, experiments, training, search_params(tmp_path, trials=4))
    assert trained == [0, 1, 3, 4]  # trial 2 was interrupted (failed) and drawn again as trial 4
    assert [run.params["trial"] for run in child_runs] == [3, 4]
    assert list(trials["trial"]) == [0, 1, 3, 4]
    assert [trial.params for trial in before] == [
        {name: row[f"param_{name}"] for name in SPACE} for _, row in trials.head(2).iterrows()
    ]


def test_trials_fan_out_to_dask_in_batches_of_its_workers(
    tmp_path, split, experiments, training, dask_scheduler
):
    on_dask = IsolatedExecutorParams(kind="dask", address=dask_scheduler, workers=2)
    trials, _, child_runs = run_search(
        split, experiments, training, search_params(tmp_path, trials=4), on_dask
    )
    assert list(trials["trial"]) == [0, 1, 2, 3]
    assert len(child_runs) == 4
    assert search.batch_size(on_dask) == 2 and search.batch_size(ExecutorParams(kind="local")) == 1


# --- pruning --------------------------------------------------------------------------------


def finished_trial(curve: list[float]) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(
        value=curve[-1],
        intermediate_values=dict(enumerate(curve)),
        state=optuna.trial.TrialState.COMPLETE,
    )


def watched_trial(curve: list[float], finished: list[list[float]]) -> search.TrialOutcome:
    """A trial whose validation accuracy follows ``curve``, compared with ``finished`` trials."""
    pruning = search_space.PruningParams(startup_trials=2, warmup_epochs=1)
    task = search.TrialTask(
        0, {}, "val_accuracy", "maximize", pruning, tuple(finished_trial(other) for other in finished)
    )
    monitor = search.TrialMonitor(task)
    evaluate = monitor.watch(lambda model: {"val_accuracy": next(values)})
    values = iter(curve)

    def train():
        for _ in curve:
            evaluate(torch.nn.Identity())

    return monitor.run(train)


def test_a_trial_below_the_finished_trials_median_is_stopped_after_the_warmup():
    finished = [[0.5, 0.7, 0.8, 0.9]] * 3
    hopeless = watched_trial([0.1, 0.1, 0.1, 0.1], finished)
    assert hopeless.pruned and hopeless.curve == pytest.approx((0.1, 0.1))
    promising = watched_trial([0.6, 0.8, 0.85, 0.95], finished)
    assert not promising.pruned and promising.value == pytest.approx(0.95)


def test_a_stopped_trial_keeps_its_network_as_it_was_when_stopped_for_its_child_run():
    pruning = search_space.PruningParams(startup_trials=2, warmup_epochs=1)
    finished = tuple(finished_trial([0.5, 0.7, 0.8, 0.9]) for _ in range(3))
    monitor = search.TrialMonitor(search.TrialTask(0, {}, "val_accuracy", "maximize", pruning, finished))
    evaluated: list[str] = []

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        evaluated.append(weights_hash(model))
        return {"val_accuracy": 0.1}

    watched = monitor.watch(evaluate)
    build = monitor.keep(
        lambda: TrainedModule.build(
            MLPEnsemble, in_features=2, member_widths=[[3]], out_features=2, activation="relu", seeds=[0]
        )
    )

    def train() -> None:
        trained = build()
        for _ in range(4):  # an "epoch": every weight moves, then the validation is watched
            with torch.no_grad():
                for weights in trained.module.parameters():
                    weights.add_(0.5)
            watched(trained.module)

    outcome = monitor.run(train, lambda trained: served_model(trained, np.zeros((2, 2))))
    assert outcome.pruned and len(evaluated) == 2
    assert weights_hash(outcome.model.trained.module) == evaluated[-1]


def test_before_enough_trials_finished_no_trial_is_pruned():
    assert not watched_trial([0.1, 0.1, 0.1], [[0.5, 0.7, 0.9]]).pruned


def test_watching_the_validation_changes_nothing_the_training_computes(split, experiments, training):
    train_images, val_images, _ = split
    data = train.training_data(train_images, val_images, training)
    task = train.ConfigurationTask("cnn", experiments.baseline, (0,), training.train, "none")
    plain = train.train_ensemble(data, task)
    monitor = search.TrialMonitor(
        search.TrialTask(0, {}, "val_accuracy", "maximize", search_space.PruningParams())
    )
    watched = train.train_ensemble(data, task, watch=monitor.watch)
    for name, weights in plain.module.state_dict().items():
        assert torch.equal(weights, watched.module.state_dict()[name]), name
    assert monitor.epochs == EPOCHS


# --- end to end -------------------------------------------------------------------------------


def test_a_search_run_logs_nested_trial_runs_and_its_best_values_go_back_to_kedro_run(tmp_path):
    project = copy_project(tmp_path / "project")
    # The data nodes and the search: a user's `--tags search` after a data run, in one command.
    searched = kedro_cli(
        "run",
        "--env",
        "smoke",
        "--pipelines",
        "cnn",
        "--tags",
        "data,search",
        "--params",
        "cnn.search.trials=3",
        cwd=project,
    )
    assert searched.returncode == 0, searched.stderr[-3000:]
    (parent,) = experiment_runs(tracking_client(project))["parents"]
    trials = [
        run for run in experiment_runs(tracking_client(project))["children"] if "trial" in run.data.params
    ]
    assert sorted(int(run.data.params["trial"]) for run in trials) == [0, 1, 2]
    assert {run.data.tags[PARENT_TAG] for run in trials} == {parent.info.run_id}
    client = tracking_client(project)
    assert set(logged_models(client, trials)) == {run.info.run_name for run in trials}

    best_file = project / "data/08_reporting/cnn/search_best.yml"
    best = yaml.safe_load(best_file.read_text())
    searched_space = yaml.safe_load((project / "conf/base/parameters_cnn.yml").read_text())["cnn"]["search"][
        "space"
    ]
    assert set(best) == {SearchParams.TUNABLE[name].key for name in searched_space}
    option = command_output(sys.executable, "-m", "dlpipeline.search", str(best_file), cwd=project).strip()
    # The nodes that train the configurations and write their table: what the best values change.
    rerun = kedro_cli(
        "run",
        "--env",
        "smoke",
        "--pipelines",
        "cnn",
        "--params",
        option,
        "--nodes",
        "cnn.train_configurations,cnn.evaluate_configurations,cnn.experiment_table",
        cwd=project,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    table = pd.read_csv(project / "data/08_reporting/cnn/experiments.csv")
    assert set(table["dense_units"][table["model"] == "cnn"]) == {
        best["cnn.experiments.baseline.dense_units"]
    }
