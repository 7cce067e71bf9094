"""Figures only the sequence experiment draws: gradient norms over time, gates, sequences.

The kinds every pipeline shares (curves over epochs, values over seeds) are in
:mod:`dlpipeline.figures`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure


@dataclass(frozen=True)
class SequencePanel:
    """One sequence drawn as the truth against each model's prediction or generation."""

    title: str
    truth: np.ndarray
    predictions: Mapping[str, np.ndarray]


def gradient_norms_figure(
    trained: Mapping[str, np.ndarray], initial: Mapping[str, np.ndarray], title: str
) -> Figure:
    """‖∂loss/∂h_t‖ over t per cell: after training (solid) and at initialisation (dashed), log scale."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    for index, (label, norms) in enumerate(trained.items()):
        colour = f"C{index % 10}"
        steps = np.arange(1, len(norms) + 1)
        ax.plot(steps, norms, color=colour, label=f"{label}: trained")
        if label in initial:
            ax.plot(steps, initial[label], color=colour, linestyle="--", label=f"{label}: initial")
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("mean ‖∂loss/∂h_t‖")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncols=2)
    return figure


def gate_activations_figure(inputs: np.ndarray, gates: Mapping[str, np.ndarray], title: str) -> Figure:
    """One sequence's two input channels, then each gate (units × steps) as a heat map.

    ``inputs`` is ``(T, 2)`` (value, marker); each gate is ``(T, units)``. Marked steps
    are drawn as dotted lines through every panel.
    """
    figure = Figure(figsize=(9, 1.8 * (len(gates) + 1)), layout="constrained")
    axes = figure.subplots(len(gates) + 1, 1, sharex=True)
    steps = np.arange(len(inputs))
    marked = steps[inputs[:, 1] > 0]
    axes[0].bar(steps, inputs[:, 0], color="C0", width=1.0)
    axes[0].set_ylabel("input value")
    for name, ax in zip(gates, axes[1:], strict=True):
        values = gates[name].T
        limits = (0.0, 1.0) if name != "cell" else (-np.abs(values).max(), np.abs(values).max())
        image = ax.imshow(
            values,
            aspect="auto",
            interpolation="nearest",
            cmap="viridis" if name != "cell" else "RdBu",
            vmin=limits[0],
            vmax=limits[1],
            extent=(-0.5, len(steps) - 0.5, values.shape[0] - 0.5, -0.5),
        )
        ax.set_ylabel(f"{name}\n(unit)")
        figure.colorbar(image, ax=ax, pad=0.01)
    for ax in axes:
        for step in marked:
            ax.axvline(step, color="red", linestyle=":", linewidth=1.2)
    axes[-1].set_xlabel("time step t (red: marked steps)")
    figure.suptitle(title)
    return figure


def sequence_panels_figure(panels: Sequence[SequencePanel], xlabel: str, suptitle: str) -> Figure:
    """One panel per sequence: the truth (black) and each model's output over the steps."""
    figure = Figure(figsize=(4.2 * len(panels), 3.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels), sharey=True))
    for ax, panel in zip(axes, panels, strict=True):
        steps = np.arange(len(panel.truth))
        ax.plot(steps, panel.truth, color="black", linewidth=2.5, alpha=0.5, label="true")
        for index, (label, values) in enumerate(panel.predictions.items()):
            ax.plot(steps[: len(values)], values, color=f"C{index % 10}", linewidth=1.2, label=label)
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    figure.suptitle(suptitle)
    return figure
