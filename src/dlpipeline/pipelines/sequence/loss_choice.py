"""Which loss for a classification? The same cell trained with MSE on one-hot targets, beside cross-entropy.

The digits read row by row are a classification, and the task trains its cells with cross-entropy.
The study trains one of them (``sequence.digits_rows.loss_choice.cell``) again with the same data,
sizes, seeds, epochs and learning rate, minimising instead the mean squared error between the
softmax of its outputs and the one-hot target (:func:`dlpipeline.models.losses.softmax_mse`); the
prediction is the argmax of the outputs either way. The control is the task's own cross-entropy
models of that cell, read as they were trained (not trained again). Both are scored on the same
test digits: accuracy (what the claim reads), and, as secondary figures, the negative
log-likelihood and the Brier score of their softmax probabilities.
"""

import dataclasses

import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.pipelines.sequence.params import LossChoiceParams, ModelParams
from dlpipeline.pipelines.sequence.report import build_child_runs
from dlpipeline.pipelines.sequence.training import SequenceModel, TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun

LOSS_STUDY = "loss"
CROSS_ENTROPY = "cross_entropy"
MSE = "mse"
MSE_TASK = "-mse"
"""The suffix of the task the MSE models are trained on (``digits_rows-mse``)."""


def mse_task(task: TaskTensors) -> TaskTensors:
    """The same tensors as ``<task>-mse``, trained with MSE on one-hot targets instead of cross-entropy."""
    if task.kind != "classification":
        raise ValueError(f"the loss study compares losses of a classification, not of {task.kind!r}")
    return dataclasses.replace(task, task=task.task + MSE_TASK, kind="classification_mse")


def loss_choice_model(model: ModelParams, loss_choice: LossChoiceParams) -> ModelParams:
    """The study's models: the task's ``model`` (sizes, seeds) for the study's cell only."""
    return model.model_copy(update={"cells": [loss_choice.cell]})


def probability_scores(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy of the argmax, and the mean NLL and Brier score of the softmax probabilities."""
    probabilities = torch.softmax(logits, dim=-1)
    one_hot = torch.nn.functional.one_hot(labels, logits.shape[-1]).to(probabilities.dtype)
    return {
        "test_accuracy": float((logits.argmax(dim=-1) == labels).float().mean()),
        "test_nll": float(torch.nn.functional.cross_entropy(logits, labels)),
        "test_brier": float(((probabilities - one_hot) ** 2).sum(dim=-1).mean()),
    }


def _row(trained: SequenceModel, loss: str, task: TaskTensors) -> dict[str, object]:
    """One model's row: which it is, its loss, and its scores on the task's test digits."""
    run = trained.about
    module = trained.module.cpu().eval()
    with torch.no_grad():
        scores = probability_scores(module(task.test_features), task.test_targets)
    return {
        "task": task.task,
        "study": LOSS_STUDY,
        "cell": run.cell,
        "seq_len": run.seq_len,
        "draw": run.draw,
        "seed": run.seed,
        "loss": loss,
        **scores,
    }


def loss_choice_units(
    models: TrainedModels, mse_models: TrainedModels, task: TaskTensors, loss_choice: LossChoiceParams
) -> pd.DataFrame:
    """One row per model and loss: the task's cross-entropy models of the cell, then the MSE ones."""
    control = [trained for trained in models.values() if trained.about.cell == loss_choice.cell]
    rows = [_row(trained, CROSS_ENTROPY, task) for trained in control]
    rows += [_row(trained, MSE, task) for trained in mse_models.values()]
    return pd.DataFrame(rows)


def with_loss(runs: list[ChildRun], loss: str, **params: str) -> list[ChildRun]:
    """``runs`` with the param ``loss`` (and any other ``params``) added."""
    return [dataclasses.replace(run, params={**run.params, "loss": loss, **params}) for run in runs]


def cross_entropy_child_runs(models: TrainedModels) -> list[ChildRun]:
    """The task's own child runs, with ``loss=cross_entropy`` (the study's control among them)."""
    return with_loss(build_child_runs(models), CROSS_ENTROPY)


def mse_child_runs(mse_models: TrainedModels) -> list[ChildRun]:
    """One child run per MSE model, with ``loss=mse`` and ``study=loss`` (``task`` is ``<task>-mse``)."""
    return with_loss(build_child_runs(mse_models), MSE, study=LOSS_STUDY)


def plot_loss_choice(table: pd.DataFrame) -> Figure:
    """Test accuracy and test NLL of the cell with cross-entropy and with MSE, each line a seed."""
    figure = Figure(figsize=(8, 4), layout="constrained")
    losses = [CROSS_ENTROPY, MSE]
    by_seed = table.pivot(index="seed", columns="loss", values=["test_accuracy", "test_nll"])
    for ax, metric in zip(figure.subplots(1, 2), ["test_accuracy", "test_nll"], strict=True):
        for pair in by_seed[metric][losses].to_numpy():
            ax.plot([0, 1], pair, color="black", marker="o", linewidth=1)
        ax.set_xticks([0, 1], ["cross-entropy", "MSE on one-hot"])
        ax.set_xlim(-0.3, 1.3)
        ax.set_ylabel(metric)
    first = table.iloc[0]
    figure.suptitle(f"{first['task']}, {first['cell']}: the loss of a classification")
    return figure
