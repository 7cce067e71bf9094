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
