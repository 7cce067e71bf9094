"""One-to-many: a sine wave ``sin(ω t)`` generated from its frequency ω alone.

Models learn with teacher forcing (the previous true value is an input); they are scored
on free-running generation, where each output is fed back as the next step's input.
"""

import dataclasses
import logging
from typing import Any

import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dlpipeline.data.sequences import generation_tensors
from dlpipeline.pipelines.sequence.plots import SequencePanel, sequence_panels_figure
from dlpipeline.pipelines.sequence.report import first_seeds, result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import unit_rows

logger = logging.getLogger(__name__)

ONE_TO_MANY: dict[str, Any] = {"kind": "regression", "output_size": 1, "readout": "every", "causal": True}
"""How a generating model reads out: one value at every step, each seeing only the steps before."""


def generate_task(train: pd.DataFrame, test: pd.DataFrame) -> list[TaskTensors]:
    """Per draw: learn ``sin(ω t)`` from ω with teacher forcing (the previous true value is an input)."""
    return [
        TaskTensors(
            "generate",
            *generation_tensors(train[train["draw"] == draw]),
            *generation_tensors(test[test["draw"] == draw]),
            **ONE_TO_MANY,
            draw=int(draw),
        )
        for draw in sorted(train["draw"].unique())
    ]


def score_free_running(trained_models: TrainedModels, test: pd.DataFrame) -> TrainedModels:
    """The models scored on free-running generation (``test_mse``), beside their teacher-forced MSE.

    Each model is scored on the test waves of the draw it was trained on.
    """
    models = dict(trained_models)
    for label, trained in models.items():
        test_features, test_targets = generation_tensors(test[test["draw"] == trained.about.draw])
        generated = generate_free_running(trained.module, test_features[:, 0, 0], test_features.shape[1])
        free_running = float(((generated - test_targets[..., 0]) ** 2).mean())
        logger.info("generate %s: free-running test MSE %.4f", trained.about.cell, free_running)
        teacher_forced = trained.about.test_metrics["test_mse"]
        metrics = {"test_mse": free_running, "test_mse_teacher_forced": teacher_forced}
        models[label] = trained.replace(about=dataclasses.replace(trained.about, test_metrics=metrics))
    return models


@torch.no_grad()
def generate_free_running(model: nn.Module, omegas: torch.Tensor, steps: int) -> torch.Tensor:
    """Generate ``(n, steps)`` from ω alone, feeding each output back as the next step's input."""
    model.eval()
    features = torch.zeros(len(omegas), steps, 2)
    features[:, 0, 0] = omegas
    generated = torch.zeros(len(omegas), steps)
    for step in range(steps):
        generated[:, step] = model(features[:, : step + 1])[:, step, 0]
        if step + 1 < steps:
            features[:, step + 1, 1] = generated[:, step]
    return generated


def plot_generated(models: TrainedModels, test: pd.DataFrame) -> Figure:
    """Three test waves: generated from ω alone by each model, against the true ``sin(ω t)``.

    The first seed's models, on the first draw's test waves (the first seed trains on it).
    """
    features, targets = generation_tensors(test[test["draw"] == test["draw"].min()])
    order = torch.argsort(features[:, 0, 0])
    shown = order[torch.linspace(0, len(order) - 1, 3).long()]
    generated = {
        trained.about.cell: generate_free_running(trained.module, features[shown, 0, 0], features.shape[1])
        for trained in first_seeds(models)
    }
    panels = [
        SequencePanel(
            title=f"ω = {float(features[index, 0, 0]):.3f}",
            truth=targets[index, :, 0].numpy(),
            predictions={cell: values[row].numpy() for cell, values in generated.items()},
        )
        for row, index in enumerate(shown.tolist())
    ]
    return sequence_panels_figure(panels, xlabel="step t", suptitle="one-to-many: generated from ω alone")


MEAN_WAVE = "the mean wave (blind to ω)"


def mean_wave_mse(train: pd.DataFrame, test: pd.DataFrame) -> dict[tuple[int, int], float]:
    """Per ``(draw, seq_len)``: the test MSE of generating the training waves' mean at every step.

    The best sequence a generator can write without reading its single input ω: the control
    that tells a one-to-many model from a sequence that ignores the input.
    """
    baselines = {}
    for draw, test_part in test.groupby("draw"):
        mean_wave = train[train["draw"] == draw].groupby("step")["value"].mean()
        errors = test_part["value"].to_numpy() - mean_wave.loc[test_part["step"]].to_numpy()
        baselines[(int(draw), int(test_part["step"].max()) + 1)] = float((errors**2).mean())
    return baselines


def generate_rows(models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The generation's result rows, beside the mean wave (averaged over the draws)."""
    baselines = mean_wave_mse(train, test)
    return result_rows(models, sum(baselines.values()) / len(baselines), MEAN_WAVE)


def generate_units(models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The generation's unit rows, each beside the mean wave of its own draw."""
    return unit_rows(models, mean_wave_mse(train, test), MEAN_WAVE)
