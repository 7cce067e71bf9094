"""The adding problem's hyperparameter search node: one cell at one length, validated on held-out sequences.

``kedro run --pipelines sequence --tags search --params sequence.adding.search.trials=20``
(see :mod:`dlpipeline.search`); with ``trials: 0`` nothing trains. Trials train on the
sequence executor's threads, ``workers`` at a time. Every trial's child run logs its network as
a ``sequence`` model (held-out sequences as its input example).
"""

import functools
from dataclasses import dataclass

import optuna
import pandas as pd
import torch
from torch import nn

from dlpipeline import search
from dlpipeline.data.sequences import adding_tensors
from dlpipeline.executor import IN_THIS_PROCESS, ExecutorParams
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.sequence.params import AddingSearchParams, ModelParams
from dlpipeline.served import EXAMPLE_ROWS, served_model
from dlpipeline.training import TrainConfig, train_configuration, with_fixed_threads


@dataclass(frozen=True)
class AddingSearchData:
    """What every trial trains and validates on, and the settings its drawn values change."""

    features: torch.Tensor
    targets: torch.Tensor
    val_features: torch.Tensor
    val_targets: torch.Tensor
    model: ModelParams
    train: TrainConfig
    cell: str

    @property
    def shape(self) -> SequenceShape:
        """Many-to-one regression: the sequence's two channels in, one number out."""
        return SequenceShape(
            input_size=self.features.shape[-1], output_size=1, max_len=self.features.shape[1]
        )


def adding_search_data(
    train: pd.DataFrame, model: ModelParams, train_config: TrainConfig, search_params: AddingSearchParams
) -> AddingSearchData:
    """The first draw's training sequences at the searched length, the last ``val_share`` held out."""
    lengths = sorted(train["seq_len"].unique())
    seq_len = search_params.seq_len or lengths[-1]
    if seq_len not in lengths:
        raise ValueError(f"sequence.adding.search.seq_len {seq_len} is not a length of the data: {lengths}")
    rows = train[(train["draw"] == train["draw"].min()) & (train["seq_len"] == seq_len)]
    features, targets = adding_tensors(rows)
    n_val = max(1, round(len(features) * search_params.val_share))
    return AddingSearchData(
        features[:-n_val],
        targets[:-n_val],
        features[-n_val:],
        targets[-n_val:],
        model,
        with_fixed_threads(train_config),
        search_params.cell,
    )


def train_adding_trial(shared: AddingSearchData, task: search.TrialTask) -> search.TrialOutcome:
    """Train one trial of the cell with the shared loop, its validation MSE watched after every epoch."""
    monitor = search.TrialMonitor(task)
    hidden_size = int(task.values.get("hidden_size", shared.model.hidden_size_of(shared.cell)))
    changes = {name: value for name, value in task.values.items() if name in TrainConfig.model_fields}
    train = TrainConfig.model_validate({**shared.train.model_dump(), **changes})

    def validation(model: nn.Module) -> dict[str, float]:
        return {"val_loss": float(nn.functional.mse_loss(model(shared.val_features), shared.val_targets))}

    def fit() -> object:
        return train_configuration(
            monitor.keep(
                functools.partial(
                    build_model,
                    shared.cell,
                    shared.shape,
                    hidden_size,
                    shared.model.n_heads,
                    shared.model.n_layers,
                )
            ),
            shared.features,
            shared.targets,
            nn.functional.mse_loss,
            train,
            [shared.model.first_seed],
            f"adding search trial {task.number}",
            evaluate_epoch=monitor.watch(validation),
        )

    example = shared.val_features[:EXAMPLE_ROWS].numpy()
    return monitor.run(fit, lambda trained: served_model(trained, example, "sequence"))


def search_adding(
    train: pd.DataFrame,
    model: ModelParams,
    train_config: TrainConfig,
    search_params: AddingSearchParams,
    executor: ExecutorParams = IN_THIS_PROCESS,
) -> search.SearchOutputs:
    """Run the search to ``trials`` finished trials; return its trials, the best values and child runs."""

    def run_trials() -> tuple[optuna.Study, list[search.TrialOutcome]]:
        shared = adding_search_data(train, model, train_config, search_params)
        return search.run_study(train_adding_trial, shared, search_params, executor)

    fixed = {
        "cell": search_params.cell,
        "epochs": train_config.epochs,
        "seq_len": search_params.seq_len or "longest",
    }
    return search.searched(search_params, run_trials, fixed)
