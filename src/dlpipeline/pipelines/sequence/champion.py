"""The registry's champion of the sequence experiment: the best adding model on fresh validation sequences.

Tasks do not compete, so one task is registered (``sequence.registry.task``): the adding
problem, whose generator can draw sequences no model trained or was tested on, without
changing what any model trains on. Every adding model is scored on such a draw (``val_mse``,
logged on its child run); the champion is the one network, cell and seed, with the least
``val_mse`` at the task's longest length (a model answers sequences of the length it was
trained at, and the short length's errors are smaller by nature, not by merit).
"""

import torch
from torch import nn

from dlpipeline.data.sequences import adding_problem, adding_tensors
from dlpipeline.pipelines.sequence.params import AddingDataParams, SequenceRegistryParams
from dlpipeline.pipelines.sequence.report import child_run_of
from dlpipeline.pipelines.sequence.training import TrainedModels
from dlpipeline.registry import Champion, champion_among
from dlpipeline.tracking import ChildRun, LoggedRun

VALIDATION_METRIC = "val_mse"
VALIDATION_BATCH = 100
"""Sequences scored at once: a Transformer's attention over 1,000 sequences of 100 steps at once
took five times as long as in batches of 100 (its attention weights alone are 80 MB)."""


def validation_random_state(data: AddingDataParams) -> int:
    """The random state of the validation draw: the one after the last training and test draw's."""
    return data.random_state + data.n_draws


@torch.no_grad()
def validation_mse(models: TrainedModels, data: AddingDataParams) -> dict[str, float]:
    """Each adding model's MSE on ``n_test`` fresh sequences of its length (one draw for all seeds).

    The draw comes from :func:`validation_random_state`, which no training or test draw uses;
    the models are only read (on the CPU, in evaluation mode, :data:`VALIDATION_BATCH`
    sequences at a time), so nothing they report changes.
    """
    draws = {
        seq_len: adding_tensors(adding_problem(data.n_test, seq_len, validation_random_state(data)))
        for seq_len in data.seq_lens
    }
    scores = {}
    for label, trained in models.items():
        features, targets = draws[trained.about.seq_len]
        module: nn.Module = trained.module.cpu().eval()
        outputs = torch.cat([module(batch) for batch in features.split(VALIDATION_BATCH)])
        scores[label] = float(nn.functional.mse_loss(outputs, targets))
    return scores


def adding_child_runs(models: TrainedModels, validation: dict[str, float]) -> list[ChildRun]:
    """The adding models' child runs, as every task logs them, each with its ``val_mse`` too."""
    return [
        child_run_of(label, trained, {VALIDATION_METRIC: validation[label]})
        for label, trained in models.items()
    ]


def sequence_champion(
    child_runs: list[LoggedRun], models: TrainedModels, registry: SequenceRegistryParams
) -> Champion:
    """The model to register as ``sequence.registry.name``: the least ``rank_by`` at the longest length."""
    longest = max(trained.about.seq_len for trained in models.values())
    names = {label for label, trained in models.items() if trained.about.seq_len == longest}
    return champion_among(child_runs, names, registry)
