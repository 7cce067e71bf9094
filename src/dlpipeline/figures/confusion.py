"""Confusion matrices: true against predicted classes."""

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def confusion_matrix_figure(matrix: np.ndarray, class_names: Sequence[str], title: str) -> Figure:
    """Counts of true (rows) against predicted (columns) classes; mistakes off the diagonal in red."""
    size = 0.42 * len(class_names) + 1.8
    figure = Figure(figsize=(size + 0.6, size), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            on_diagonal = row == col
            ax.text(
                col,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=8,
                color=("white" if count > matrix.max() / 2 else "black") if on_diagonal else "#d62728",
                fontweight="normal" if on_diagonal else "bold",
            )
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    figure.colorbar(image, ax=ax, shrink=0.8)
    return figure
