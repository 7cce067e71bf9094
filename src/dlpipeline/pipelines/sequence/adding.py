"""Many-to-one regression: the adding problem over a sweep of lengths, and the vanishing gradient.

Every model × seed is trained at every length; the evidence for the vanishing gradient is
‖∂loss/∂h_t‖ over t at the longest length (trained and at initialisation) and the gates
of one LSTM on one sequence.
"""

import logging

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dlpipeline.data.sequences import ADDING_BASELINE_MSE, adding_tensors
from dlpipeline.figures.over_seeds import Reference, SeedSpread, spread_over_seeds_figure
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.recurrent import hidden_gradient_norms, unroll
from dlpipeline.pipelines.sequence.params import AddingAnalysisParams, AddingDataParams
from dlpipeline.pipelines.sequence.plots import gate_activations_figure, gradient_norms_figure
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import unit_rows
from dlpipeline.training import initial_module

logger = logging.getLogger(__name__)


def adding_tasks(train: pd.DataFrame, test: pd.DataFrame) -> list[TaskTensors]:
    """One regression task per draw and length, shortest first (targets: sum of the two marked values)."""
    return [
        TaskTensors(
            "adding",
            *adding_tensors(_of(train, draw, seq_len)),
            *adding_tensors(_of(test, draw, seq_len)),
            kind="regression",
            output_size=1,
            draw=int(draw),
        )
        for draw in sorted(train["draw"].unique())
        for seq_len in sorted(train["seq_len"].unique())
    ]


def _of(table: pd.DataFrame, draw: int, seq_len: int) -> pd.DataFrame:
    """The sequences of one draw and length."""
    return table[(table["draw"] == draw) & (table["seq_len"] == seq_len)]


def mean_predictor_mse(train: pd.DataFrame, test: pd.DataFrame) -> dict[tuple[int, int], float]:
    """Per ``(draw, seq_len)``: the test MSE of predicting the training targets' mean (about 1/6).

    The control a model must beat on its own test set: it reads no input at all.
    """
    baselines = {}
    for (draw, seq_len), test_part in test.groupby(["draw", "seq_len"]):
        _, train_targets = adding_tensors(_of(train, draw, seq_len))
        _, test_targets = adding_tensors(test_part)
        baselines[(int(draw), int(seq_len))] = float(((test_targets - train_targets.mean()) ** 2).mean())
    return baselines


def adding_units(models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The adding problem's unit rows, each beside predicting the training mean on its own test set."""
    return unit_rows(models, mean_predictor_mse(train, test), "predict the mean")


def adding_gradient_norms(
    models: TrainedModels, test: pd.DataFrame, data: AddingDataParams, analysis: AddingAnalysisParams
) -> dict[str, dict[str, np.ndarray]]:
    """‖∂loss/∂h_t‖ over t at the longest length, per recurrent cell (first seed), trained and initial.

    Returns ``{"trained": {cell: (T,)}, "initial": {cell: (T,)}}``, averaged over the
    first ``n_probe`` test sequences.
    """
    longest = max(trained.about.seq_len for trained in models.values())
    profiles: dict[str, dict[str, np.ndarray]] = {"trained": {}, "initial": {}}
    for cell in analysis.gradient_cells:
        found = _first(models, cell, longest)
        if found is None:
            continue
        features, targets = adding_tensors(_of(test, found.about.draw, longest))
        features, targets = features[: data.n_probe], targets[: data.n_probe]
        for stage, model in (("trained", found.module), ("initial", initial_module(found))):
            norms = hidden_gradient_norms(model, features, targets, nn.functional.mse_loss)
            profiles[stage][cell] = norms.numpy()
        trained_norms = profiles["trained"][cell]
        logger.info(
            "adding %s T=%d: trained ‖∂L/∂h_t‖ at t=1 is %.2e, at t=T %.2e (ratio %.1e)",
            cell,
            longest,
            trained_norms[0],
            trained_norms[-1],
            trained_norms[0] / trained_norms[-1],
        )
    return profiles


def _first(models: TrainedModels, cell: str, seq_len: int) -> TrainedModule | None:
    """The first-seed model of ``cell`` at ``seq_len``, if it was trained."""
    return next((m for m in models.values() if (m.about.cell, m.about.seq_len) == (cell, seq_len)), None)


def plot_gradient_norms(profiles: dict[str, dict[str, np.ndarray]]) -> Figure:
    """The vanishing-gradient figure: ‖∂loss/∂h_t‖ over t per cell."""
    length = len(next(iter(profiles["trained"].values())))
    return gradient_norms_figure(
        profiles["trained"],
        profiles["initial"],
        title=f"adding problem, T={length}: gradient of the loss w.r.t. each hidden state",
    )


def plot_lstm_gates(models: TrainedModels, test: pd.DataFrame) -> Figure:
    """The gates of the LSTM (first seed) on the first test sequence of the longest length it solved.

    "Solved" means a test MSE below a tenth of the baseline; if it solved none, the
    longest length is shown.
    """
    lstms = [trained.about for trained in models.values() if trained.about.cell == "lstm"]
    if not lstms:
        return _note_figure("no LSTM was trained on the adding problem")
    solved = [run.seq_len for run in lstms if run.test_metrics["test_mse"] < ADDING_BASELINE_MSE / 10]
    longest = max(solved or [run.seq_len for run in lstms])
    lstm = _first(models, "lstm", longest)
    features, targets = adding_tensors(_of(test, lstm.about.draw, longest))
    with torch.no_grad():
        unrolled = unroll(lstm.module, features[:1])
    gates = {name: values[0].numpy() for name, values in unrolled.gates.items()}
    return gate_activations_figure(
        features[0].numpy(),
        gates,
        title=f"LSTM gates on one adding sequence (T={longest}): target {float(targets[0, 0]):.3f}, "
        f"predicted {float(unrolled.output[0, 0]):.3f}",
    )


def _note_figure(text: str) -> Figure:
    """A figure that only states ``text`` (when there is nothing to draw)."""
    figure = Figure(figsize=(5, 1.5))
    figure.text(0.5, 0.5, text, ha="center", va="center")
    return figure


def plot_mse_vs_length(models: TrainedModels) -> Figure:
    """Final test MSE against sequence length per model, beside the predict-the-mean baseline."""
    runs = [trained.about for trained in models.values()]
    per_cell = []
    for cell in dict.fromkeys(run.cell for run in runs):
        lengths = sorted({run.seq_len for run in runs if run.cell == cell})
        values = [
            np.array(
                [run.test_metrics["test_mse"] for run in runs if (run.cell, run.seq_len) == (cell, length)]
            )
            for length in lengths
        ]
        per_cell.append(SeedSpread(label=cell, x=lengths, per_seed=values))
    return spread_over_seeds_figure(
        per_cell,
        xlabel="sequence length T",
        ylabel="test MSE",
        title="adding problem: test MSE against sequence length",
        references=[Reference(ADDING_BASELINE_MSE, "predict the mean (1/6)")],
        higher_is_better=False,
        log=True,
    )


def adding_rows(models: TrainedModels) -> pd.DataFrame:
    """The adding problem's result rows, beside the predict-the-mean baseline 1/6."""
    return result_rows(models, ADDING_BASELINE_MSE, "predict the mean")
