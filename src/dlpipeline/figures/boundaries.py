"""Decision boundaries: the class a model predicts over the feature plane, with the points on top."""

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
