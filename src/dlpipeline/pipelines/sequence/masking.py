"""Padding and masking on vs off: the same cell trained on the padded batch read as it is.

A padded task's own models are masked: a recurrent cell answers from the hidden state at each
sequence's own last valid step, so the padding after it changes nothing. The study's models read
the same padded tensors without their validity channel, so nothing tells them where a sequence
ends: every padding step is fed to the cell as an input (an all-zero step) and the answer is read
at the last padded step. Everything else is the task's own: sizes, seeds, data draws and training,
and the network is the same (the mask channel is not an input of the masked model either), so the
masked models already trained by the task are the control and are not trained again.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.models.recurrent import split_mask
from dlpipeline.pipelines.sequence.params import MaskingParams, ModelParams
from dlpipeline.pipelines.sequence.report import child_run_of
from dlpipeline.pipelines.sequence.training import SequenceModel, TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict

MASKING_STUDY = "masking"
UNMASKED = "-unmasked"
"""Suffix of the study's task: ``names-unmasked`` is the names task with its padding read as input."""


def unmasked_tasks(tasks: TaskTensors | Sequence[TaskTensors]) -> list[TaskTensors]:
    """Each padded many-to-one task as ``<task>-unmasked``: the same tensors without the validity channel."""
    tasks = [tasks] if isinstance(tasks, TaskTensors) else list(tasks)
    for task in tasks:
        if not (task.padded and task.kind == "classification" and task.readout == "last"):
            raise ValueError(f"task {task.task} is not a padded many-to-one task: there is no mask to remove")
    return [
        dataclasses.replace(
            task,
            task=task.task + UNMASKED,
            train_features=split_mask(task.train_features, masked=True)[0],
            test_features=split_mask(task.test_features, masked=True)[0],
            padded=False,
        )
        for task in tasks
    ]


def masking_model(model: ModelParams, masking: MaskingParams) -> ModelParams:
    """The study's models: the task's ``model`` (sizes, seeds) for the study's cells only."""
    return model.model_copy(update={"cells": list(masking.cells)})


def _masked_twin(models: TrainedModels, unmasked: SequenceModel) -> SequenceModel:
    """The task's own (masked) model of the same cell and seed as a study model."""
    run = unmasked.about
    twins = [
        trained
        for trained in models.values()
        if trained.about.cell == run.cell and trained.about.seed == run.seed
    ]
    if len(twins) != 1:
        raise ValueError(f"{len(twins)} masked models of cell {run.cell}, seed {run.seed}: one needed")
    return twins[0]


def masking_units(models: TrainedModels, unmasked: TrainedModels) -> pd.DataFrame:
    """Per study model: its test metric (masking off) beside the task's own model, same cell and seed (on)."""
    rows = []
    for trained in unmasked.values():
        run = trained.about
        twin = _masked_twin(models, trained)
        if twin.about.draw != run.draw:
            raise ValueError(f"seed {run.seed} trained on draw {twin.about.draw} masked, {run.draw} unmasked")
        rows.append(
            {
                "task": run.task.removesuffix(UNMASKED),
                "study": MASKING_STUDY,
                "cell": run.cell,
                "seq_len": run.seq_len,
                "draw": run.draw,
                "seed": run.seed,
                "metric": run.metric,
                "masked": float(twin.about.test_metrics[run.metric]),
                "unmasked": float(run.test_metrics[run.metric]),
            }
        )
    return pd.DataFrame(rows)


def _correct_by_length(trained: SequenceModel, features: torch.Tensor, task: TaskTensors) -> pd.DataFrame:
    """Whether ``trained`` labels each test sequence right, beside the sequence's length in valid steps."""
    predicted = predict(trained.module, features, "cpu").argmax(dim=-1)
    return pd.DataFrame(
        {
            "length": task.test_features[..., -1].sum(dim=1).long().numpy(),
            "correct": (predicted == task.test_targets).numpy(),
        }
    )


def accuracy_by_length(
    tensors: Sequence[TaskTensors], models: TrainedModels, unmasked: TrainedModels
) -> pd.DataFrame:
    """Test accuracy by sequence length (valid steps), masking on and off, per cell, over every seed.

    The fewer valid steps a sequence has, the more padding an unmasked cell reads after it.
    """
    by_draw = {task.draw: task for task in tensors}
    seq_len = tensors[0].seq_len
    tables = []
    for trained in unmasked.values():
        task = by_draw[trained.about.draw]
        twin = _masked_twin(models, trained)
        for masking, model, features in (
            ("on", twin, task.test_features),
            ("off", trained, split_mask(task.test_features, masked=True)[0]),
        ):
            table = _correct_by_length(model, features, task)
            tables.append(table.assign(cell=trained.about.cell, masking=masking, seed=trained.about.seed))
    correct = pd.concat(tables, ignore_index=True)
    return (
        correct.groupby(["cell", "masking", "length"], sort=True)["correct"]
        .agg(names="size", accuracy="mean")
        .reset_index()
        .assign(padding=lambda table: seq_len - table["length"])
    )


def masking_child_runs(unmasked: TrainedModels) -> list[ChildRun]:
    """One child run per study model, with ``study=masking`` and ``masking=off``, its network as the model."""
    runs = []
    for label, trained in unmasked.items():
        run = child_run_of(label, trained)
        params = {**run.params, "study": MASKING_STUDY, "masking": "off"}
        runs.append(dataclasses.replace(run, params=params))
    return runs


def plot_accuracy_by_length(table: pd.DataFrame) -> Figure:
    """Test accuracy against a sequence's valid steps, masking on and off, one panel per cell."""
    cells = list(dict.fromkeys(table["cell"]))
    figure = Figure(figsize=(4.5 * len(cells), 3.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(cells), sharey=True))
    for ax, cell in zip(axes, cells, strict=True):
        for masking, style in (("on", "-o"), ("off", "--s")):
            rows = table[(table["cell"] == cell) & (table["masking"] == masking)]
            ax.plot(rows["length"], rows["accuracy"], style, markersize=3, label=f"masking {masking}")
        ax.set_xlabel("valid steps (the rest of the window is padding)")
        ax.set_title(cell)
        ax.legend()
    axes[0].set_ylabel("test accuracy (every seed)")
    return figure
