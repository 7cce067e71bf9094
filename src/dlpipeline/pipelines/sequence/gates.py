"""The LSTM's gates on the adding problem, scored over seeds, and what its cell state is worth.

For every trained LSTM at the longest length (every seed, each on its own draw's first
``n_probe`` test sequences) the network is recomputed step by step (:func:`unroll`):

- the **input gate** at the marked steps (the two values the answer needs) against the
  unmarked ones: an LSTM that writes selectively opens it where there is something to keep;
- the **forget gate** between the two marks and after the second one (kept, not scored);
- the **cell-state ablation**: the same network with its cell state zeroed after every step,
  so only the hidden state carries anything forward; its test MSE against the intact one's.
"""

import math

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import nn

from dlpipeline.data.sequences import ADDING_BASELINE_MSE, adding_tensors
from dlpipeline.models.recurrent import unroll
from dlpipeline.pipelines.sequence.params import AddingDataParams
from dlpipeline.pipelines.sequence.training import TrainedModels
from dlpipeline.tracking import ChildRun

GATES_STUDY = "lstm-gates"


def gate_means(gate: torch.Tensor, markers: torch.Tensor) -> tuple[float, float]:
    """Mean of ``gate`` ``(n, T, h)`` at the marked steps and at the others (``markers``: ``(n, T)``)."""
    marked = markers.bool()
    if not marked.any() or marked.all():
        raise ValueError("need both marked and unmarked steps")
    return float(gate[marked].mean()), float(gate[~marked].mean())


def forget_gate_means(forget: torch.Tensor, markers: torch.Tensor) -> tuple[float, float]:
    """Mean forget gate strictly between the first and second marks, and after the second mark.

    Steps are counted per sequence; a sequence with no step in a span adds nothing to it
    (NaN when no sequence has one).
    """
    steps = torch.arange(markers.shape[1]).expand_as(markers)
    marked_steps = torch.where(markers.bool(), steps, markers.shape[1])
    first = marked_steps.min(dim=1, keepdim=True).values
    second = torch.where(markers.bool(), steps, -1).max(dim=1, keepdim=True).values
    between = (steps > first) & (steps < second)
    after = steps > second

    def mean_over(span: torch.Tensor) -> float:
        return float(forget[span].mean()) if span.any() else math.nan

    return mean_over(between), mean_over(after)


def lstm_gate_scores(models: TrainedModels, test: pd.DataFrame, data: AddingDataParams) -> pd.DataFrame:
    """One row per trained LSTM at the longest length: its gates and its MSE with and without a cell state."""
    longest = max(trained.about.seq_len for trained in models.values())
    rows = []
    for trained in models.values():
        about = trained.about
        if about.cell != "lstm" or about.seq_len != longest:
            continue
        part = test[(test["draw"] == about.draw) & (test["seq_len"] == longest)]
        features, targets = adding_tensors(part)
        features, targets = features[: data.n_probe], targets[: data.n_probe]
        with torch.no_grad():
            intact = unroll(trained.module, features)
            ablated = unroll(trained.module, features, zero_cell_state=True)
        markers = features[..., 1]
        input_marked, input_unmarked = gate_means(intact.gates["input"], markers)
        forget_between, forget_after = forget_gate_means(intact.gates["forget"], markers)
        rows.append(
            {
                "task": "adding",
                "study": GATES_STUDY,
                "cell": "lstm",
                "seq_len": longest,
                "draw": about.draw,
                "seed": about.seed,
                "input_gate_marked": input_marked,
                "input_gate_unmarked": input_unmarked,
                "forget_gate_between_marks": forget_between,
                "forget_gate_after_second_mark": forget_after,
                "probe_mse": float(nn.functional.mse_loss(intact.output, targets)),
                "probe_mse_cell_state_zeroed": float(nn.functional.mse_loss(ablated.output, targets)),
                "baseline": ADDING_BASELINE_MSE,
            }
        )
    return pd.DataFrame(rows)


def gate_child_runs(scores: pd.DataFrame) -> list[ChildRun]:
    """One child run per scored LSTM (no training: the model is the adding problem's)."""
    params = ("task", "study", "cell", "seq_len", "draw", "seed")
    metrics = [column for column in scores.columns if column not in {*params, "baseline"}]
    return [
        ChildRun(
            name=f"adding-lstm-T{row['seq_len']}-s{row['seed']}-gates",
            params={key: row[key] for key in params},
            metrics={key: float(row[key]) for key in metrics if np.isfinite(row[key])},
        )
        for _, row in scores.iterrows()
    ]


def plot_gate_scores(scores: pd.DataFrame) -> Figure:
    """Left: the input gate at marked and unmarked steps; right: MSE with and without the cell state."""
    figure = Figure(figsize=(9, 4), layout="constrained")
    gates_ax, ablation_ax = figure.subplots(1, 2)
    _paired_points(
        gates_ax,
        scores[["input_gate_unmarked", "input_gate_marked"]].to_numpy(),
        ["unmarked steps", "marked steps"],
    )
    gates_ax.set_ylabel("mean input gate")
    gates_ax.set_title("LSTM input gate (each line a seed)")
    _paired_points(
        ablation_ax,
        scores[["probe_mse", "probe_mse_cell_state_zeroed"]].to_numpy(),
        ["intact", "cell state zeroed"],
    )
    ablation_ax.axhline(ADDING_BASELINE_MSE, color="grey", linestyle="--", label="predict the mean (1/6)")
    ablation_ax.set_yscale("log")
    ablation_ax.set_ylabel("test MSE (probe sequences)")
    ablation_ax.set_title("LSTM without its cell state")
    ablation_ax.legend()
    figure.suptitle(f"adding problem, T={scores['seq_len'].iloc[0]}: the LSTM's gates and cell state")
    return figure


def _paired_points(ax: Axes, values: np.ndarray, labels: list[str]) -> None:
    """Each row of ``values`` ``(units, 2)`` as a line between two positions."""
    for pair in values:
        ax.plot([0, 1], pair, color="black", marker="o", linewidth=1)
    ax.set_xticks([0, 1], labels)
    ax.set_xlim(-0.3, 1.3)
