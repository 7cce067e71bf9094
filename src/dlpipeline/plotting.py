"""Every figure of dlpipeline: decision boundaries, metric curves, loss curves.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so
nodes stay pure and figures are freed once the catalog has saved them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

CLASS_COLOURS = ("#d62728", "#2ca02c")  # the notes: red = class 0, green = class 1
REGION_CMAP = ListedColormap(["#f4a6a6", "#a8dca8"])
POINT_CMAP = ListedColormap(list(CLASS_COLOURS))


@dataclass(frozen=True)
class BoundaryGrid:
    """A mesh over the feature plane and the class a model predicts at each node."""

    xx: np.ndarray
    yy: np.ndarray
    labels: np.ndarray

    @property
    def points(self) -> np.ndarray:
        """The mesh nodes as an ``(resolution², 2)`` feature matrix."""
        return np.column_stack([self.xx.ravel(), self.yy.ravel()])


def mesh_over(features: np.ndarray, resolution: int, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Return a ``resolution × resolution`` mesh covering ``features`` plus ``margin``."""
    low = features.min(axis=0) - margin
    high = features.max(axis=0) + margin
    return np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))


def draw_decision_boundary(
    ax: Axes,
    grid: BoundaryGrid,
    features: np.ndarray,
    labels: np.ndarray,
    title: str,
    corner_text: str,
) -> None:
    """Draw predicted regions (``contourf``), the points coloured by class, and a score."""
    ax.contourf(grid.xx, grid.yy, grid.labels, levels=[-0.5, 0.5, 1.5], cmap=REGION_CMAP, alpha=0.8)
    ax.scatter(
        features[:, 0],
        features[:, 1],
        c=labels,
        cmap=POINT_CMAP,
        vmin=0,
        vmax=1,
        s=12,
        edgecolors="black",
        linewidths=0.3,
    )
    ax.set_title(title, fontsize=10)
    ax.text(
        0.98,
        0.02,
        corner_text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    ax.set_xticks([])
    ax.set_yticks([])


def decision_boundary_figure(
    grid: BoundaryGrid, features: np.ndarray, labels: np.ndarray, title: str, corner_text: str
) -> Figure:
    """One decision-boundary plot as its own figure."""
    figure = Figure(figsize=(4.5, 4.5), layout="constrained")
    draw_decision_boundary(figure.subplots(), grid, features, labels, title, corner_text)
    return figure


@dataclass(frozen=True)
class BoundaryPanel:
    """One panel of a boundary grid: its mesh, title and corner text."""

    grid: BoundaryGrid
    title: str
    corner_text: str


def boundary_grid_figure(
    rows: Mapping[str, Sequence[BoundaryPanel]],
    features: np.ndarray,
    labels: np.ndarray,
    suptitle: str,
) -> Figure:
    """A grid of boundaries: one row per entry of ``rows`` (e.g. flavour), one column per panel."""
    n_columns = max(len(panels) for panels in rows.values())
    figure = Figure(figsize=(2.4 * n_columns, 2.6 * len(rows)), layout="constrained")
    axes = figure.subplots(len(rows), n_columns, squeeze=False)
    for row_axes, (row_name, panels) in zip(axes, rows.items(), strict=True):
        for ax, panel in zip(row_axes, panels, strict=False):
            draw_decision_boundary(ax, panel.grid, features, labels, panel.title, panel.corner_text)
        for ax in row_axes[len(panels) :]:
            ax.set_visible(False)
        row_axes[0].set_ylabel(row_name)
    figure.suptitle(suptitle)
    return figure


@dataclass(frozen=True)
class SeedSpread:
    """A metric measured over seeds at each value of a swept parameter, for one series."""

    label: str
    x: Sequence[float]
    per_seed: Sequence[np.ndarray]


def spread_over_seeds_figure(
    series: Sequence[SeedSpread], xlabel: str, ylabel: str, title: str, reference: float | None = None
) -> Figure:
    """Mean ± std band, worst case and every seed's value against a swept parameter."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    for index, one in enumerate(series):
        colour = f"C{index}"
        x = np.asarray(one.x, dtype=float)
        means = np.array([values.mean() for values in one.per_seed])
        stds = np.array([values.std() for values in one.per_seed])
        worst = np.array([values.min() for values in one.per_seed])
        offset = (index - (len(series) - 1) / 2) * 0.08
        for x_value, values in zip(x, one.per_seed, strict=True):
            ax.scatter(np.full(len(values), x_value + offset), values, s=6, color=colour, alpha=0.25)
        ax.plot(x, means, marker="o", color=colour, label=f"{one.label}: mean")
        ax.fill_between(x, means - stds, np.minimum(means + stds, 1.0), color=colour, alpha=0.15)
        ax.plot(x, worst, linestyle=":", marker="v", color=colour, label=f"{one.label}: worst seed")
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle="--", linewidth=1, label=f"reference {reference}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return figure


def loss_curves_figure(curves: Mapping[str, np.ndarray], title: str) -> Figure:
    """Training loss per epoch (log scale), one line per named curve."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    for index, (label, losses) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(losses) + 1), losses, color=f"C{index % 10}", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncols=2)
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
        ax.set_yscale("log")
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


def image_grid_figure(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    suptitle: str,
    n_columns: int = 8,
    diverging: bool = False,
) -> Figure:
    """Small images in a grid, each with its title: digits, learned filters, ...

    ``diverging`` draws each image on a red-blue scale symmetric about zero (weights);
    otherwise dark ink on white (pixels).
    """
    n_columns = max(1, min(n_columns, len(images)))
    n_rows = max(1, -(-len(images) // n_columns))
    figure = Figure(figsize=(max(1.25 * n_columns, 5.0), 1.4 * n_rows + 0.7), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        if diverging:
            limit = float(np.abs(image).max()) or 1.0
            ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=8)
    figure.suptitle(suptitle)
    return figure


def image_rows_figure(rows: Mapping[str, Sequence[np.ndarray]], suptitle: str) -> Figure:
    """One labelled row of images per entry, e.g. an input's feature maps after each stage of a network.

    Each image has its own colour scale (dark = low, bright = high).
    """
    n_columns = max(len(images) for images in rows.values())
    figure = Figure(figsize=(1.1 * n_columns + 1.4, 1.15 * len(rows) + 0.5), layout="constrained")
    axes = figure.subplots(len(rows), n_columns, squeeze=False)
    for row_axes, (label, images) in zip(axes, rows.items(), strict=True):
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(False)
        for ax, image in zip(row_axes, images, strict=False):
            ax.imshow(image, cmap="viridis")
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle(suptitle)
    return figure


def seed_strip_figure(
    categories: Sequence[str],
    series: Mapping[str, Sequence[np.ndarray]],
    ylabel: str,
    title: str,
    reference: float | None = None,
) -> Figure:
    """For each category (e.g. configuration), every seed's value of each series and its median.

    Dots are seeds, the short bar the median; series sit side by side within a category.
    """
    figure = Figure(figsize=(1.0 * len(categories) + 3, 4.8), layout="constrained")
    ax = figure.subplots()
    positions = np.arange(len(categories), dtype=float)
    width = 0.7 / len(series)
    for index, (label, per_category) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        colour = f"C{index}"
        for position, values in zip(positions + offset, per_category, strict=True):
            ax.scatter(np.full(len(values), position), values, s=14, color=colour, alpha=0.6)
            ax.hlines(
                np.median(values), position - width / 2, position + width / 2, color=colour, linewidth=2
            )
        ax.scatter([], [], color=colour, label=f"{label} (bar: median)")
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle="--", linewidth=1, label=f"reference {reference}")
    ax.set_xticks(positions, categories, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc="lower left")
    return figure
