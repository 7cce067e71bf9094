"""The CNN's hyperparameter search node: an Optuna study over the baseline network and its training.

``kedro run --pipelines cnn --tags search --params cnn.search.trials=20`` trains 20 trials
(see :mod:`dlpipeline.search`); with ``trials: 0`` (the default) nothing trains and the node
only reports the study already in its file, if any. Every trial's child run logs its ensemble
as a ``classifier`` model (validation images as its input example).
"""

import logging
from dataclasses import dataclass

import optuna
import pandas as pd

from dlpipeline import search
from dlpipeline.executor import IN_THIS_PROCESS, IsolatedExecutorParams
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn.params import ExperimentParams, SearchParams, TrainingParams
from dlpipeline.pipelines.cnn.train import ConfigurationTask, TrainingData, train_ensemble, training_data
from dlpipeline.records import ParamValue
from dlpipeline.served import EXAMPLE_ROWS, served_model
from dlpipeline.training import with_fixed_threads

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchData:
    """What every trial trains on, and the baseline its drawn values change."""

    data: TrainingData
    experiments: ExperimentParams
    training: TrainingParams
    seeds: tuple[int, ...]


def trial_configuration(shared: SearchData, values: dict[str, ParamValue], number: int) -> ConfigurationTask:
    """The baseline architecture and training with a trial's drawn values applied."""
    tunable = SearchParams.TUNABLE
    architecture_changes = {
        name: value for name, value in values.items() if ".baseline." in tunable[name].key
    }
    training_changes = {name: value for name, value in values.items() if ".train." in tunable[name].key}
    baseline = shared.experiments.baseline
    architecture = type(baseline).model_validate({**baseline.model_dump(), **architecture_changes})
    train = shared.training.train.model_validate({**shared.training.train.model_dump(), **training_changes})
    return ConfigurationTask(f"trial-{number}", architecture, shared.seeds, train, shared.training.augment)


def train_trial(shared: SearchData, task: search.TrialTask) -> search.TrialOutcome:
    """Train one trial with the shared loop, its validation measured (and watched) after every epoch."""
    monitor = search.TrialMonitor(task)
    configuration = trial_configuration(shared, task.values, task.number)

    def train() -> TrainedModule:
        return train_ensemble(shared.data, configuration, watch=monitor.watch, keep=monitor.keep)

    example = shared.data.val_features[:EXAMPLE_ROWS].numpy()
    return monitor.run(train, lambda trained: served_model(trained, example))


def search_hyperparameters(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    search_params: SearchParams,
    executor: IsolatedExecutorParams = IN_THIS_PROCESS,
) -> search.SearchOutputs:
    """Run the search to ``trials`` finished trials; return its trials, the best values, and child runs.

    The best values are keyed by parameter (``cnn.training.train.learning_rate: 0.004``), the
    form ``kedro run --params`` takes; child runs are this run's trials only (a resumed search
    logged the earlier ones when it trained them).
    """

    def run_trials() -> tuple[optuna.Study, list[search.TrialOutcome]]:
        shared = SearchData(
            training_data(train_images, val_images, training),
            experiments,
            training.model_copy(update={"train": with_fixed_threads(training.train)}),
            tuple(range(experiments.first_seed, experiments.first_seed + search_params.n_seeds)),
        )
        return search.run_study(train_trial, shared, search_params, executor)

    fixed = {"epochs": training.train.epochs, "n_seeds": search_params.n_seeds, "augment": training.augment}
    return search.searched(search_params, run_trials, fixed)
