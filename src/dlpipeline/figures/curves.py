"""Curves over epochs: how a loss or a metric moved while a model trained."""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlpipeline.figures.log_ticks import log_scale
from dlpipeline.figures.margins import fix_margins


def draw_curves(ax: Axes, curves: Mapping[str, np.ndarray], ylabel: str, log: bool) -> None:
    """One line per named curve against the epoch (counted from 1), on a log scale if ``log``."""
    for index, (label, values) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(values) + 1), values, color=f"C{index % 10}", label=label)
    if log:
        log_scale(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncols=2)


def curves_figure(
    curves: Mapping[str, np.ndarray], title: str, ylabel: str = "training loss", log: bool = True
) -> Figure:
    """One value per epoch (by default the training loss, log scale), one line per named curve.

    Drawn once per save: its margins are fixed (see :mod:`dlpipeline.figures.margins`), not laid out.
    """
    figure = Figure(figsize=(7, 4.5))
    fix_margins(figure)
    ax = figure.subplots()
    draw_curves(ax, curves, ylabel, log)
    ax.set_title(title)
    return figure


@dataclass(frozen=True)
class LearningCurves:
    """Per-epoch training and validation loss of one trained configuration."""

    train_loss: np.ndarray
    val_loss: np.ndarray
    corner_text: str = ""


def learning_curves_figure(curves: Mapping[str, LearningCurves], title: str, n_columns: int = 3) -> Figure:
    """Training against validation loss per epoch (log scale), one panel per named configuration.

    Panels share their axes; a validation loss that stalls or rises while the training
    loss keeps falling is the overfitting the notes warn about.
    """
    n_columns = min(n_columns, len(curves))
    n_rows = -(-len(curves) // n_columns)
    figure = Figure(figsize=(3.3 * n_columns, 2.6 * n_rows + 0.6), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False, sharex=True, sharey=True)
    for ax, (label, one) in zip(axes.flat, curves.items(), strict=False):
        epochs = np.arange(1, len(one.train_loss) + 1)
        ax.plot(epochs, one.train_loss, color="C0", label="train")
        ax.plot(epochs, one.val_loss, color="C1", linestyle="--", label="validation")
        log_scale(ax)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        if one.corner_text:
            ax.text(0.97, 0.95, one.corner_text, transform=ax.transAxes, ha="right", va="top", fontsize=8)
    for ax in axes.flat[len(curves) :]:
        ax.set_visible(False)
    axes[0, 0].legend(fontsize=8, loc="lower left")
    figure.supxlabel("epoch")
    figure.supylabel("cross-entropy loss")
    figure.suptitle(title)
    return figure
