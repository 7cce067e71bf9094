"""Values over seeds: every seed's value of a metric, by configuration or against a swept number.

A single seed can mislead; these figures show each seed as a dot beside the central value, so
the spread and the worst case are read off the figure, not only the mean.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlpipeline.figures.log_ticks import log_scale


@dataclass(frozen=True)
class Reference:
    """A horizontal line the values are read against: a known optimum, a floor, a baseline."""

    value: float
    label: str
    linestyle: str = "--"


def draw_reference(ax: Axes, reference: Reference) -> None:
    """The reference as a grey line, named in the legend."""
    ax.axhline(
        reference.value, color="grey", linestyle=reference.linestyle, linewidth=1, label=reference.label
    )


@dataclass(frozen=True)
class SeedSpread:
    """A metric measured over seeds at each value of a swept parameter, for one series."""

    label: str
    x: Sequence[float]
    per_seed: Sequence[np.ndarray]


def draw_spread_over_seeds(
    ax: Axes,
    series: Sequence[SeedSpread],
    references: Sequence[Reference] = (),
    higher_is_better: bool = True,
) -> None:
    """Mean, a ± std band, the worst seed and every seed's value of each series against the swept value.

    The band stays within the values the seeds measured, so a bounded metric's band never
    crosses its bound; ``higher_is_better`` says which seed is the worst.
    """
    for index, one in enumerate(series):
        colour = f"C{index % 10}"
        x = np.asarray(one.x, dtype=float)
        means = np.array([values.mean() for values in one.per_seed])
        stds = np.array([values.std() for values in one.per_seed])
        lowest = np.array([values.min() for values in one.per_seed])
        highest = np.array([values.max() for values in one.per_seed])
        offset = (index - (len(series) - 1) / 2) * 0.08
        for x_value, values in zip(x, one.per_seed, strict=True):
            ax.scatter(np.full(len(values), x_value + offset), values, s=6, color=colour, alpha=0.25)
        ax.plot(x, means, marker="o", color=colour, label=f"{one.label}: mean")
        band = np.maximum(means - stds, lowest), np.minimum(means + stds, highest)
        ax.fill_between(x, *band, color=colour, alpha=0.15)
        worst = lowest if higher_is_better else highest
        ax.plot(x, worst, linestyle=":", marker="v", color=colour, label=f"{one.label}: worst seed")
    for reference in references:
        draw_reference(ax, reference)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)


def spread_over_seeds_figure(
    series: Sequence[SeedSpread],
    xlabel: str,
    ylabel: str,
    title: str,
    references: Sequence[Reference] = (),
    higher_is_better: bool = True,
    log: bool = False,
) -> Figure:
    """One metric over seeds against a swept parameter (see :func:`draw_spread_over_seeds`)."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    draw_spread_over_seeds(ax, series, references, higher_is_better)
    if log:
        log_scale(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return figure


def draw_seed_strip(
    ax: Axes,
    categories: Sequence[str],
    series: Mapping[str, Sequence[np.ndarray]],
    references: Sequence[Reference] = (),
) -> None:
    """For each category (e.g. configuration), every seed's value of each series and its median.

    Dots are seeds, the short bar the median; series sit side by side within a category.
    A category without values shows none.
    """
    positions = np.arange(len(categories), dtype=float)
    width = 0.7 / len(series)
    for index, (label, per_category) in enumerate(series.items()):
        offset = (index - (len(series) - 1) / 2) * width
        colour = f"C{index % 10}"
        for position, values in zip(positions + offset, per_category, strict=True):
            ax.scatter(np.full(len(values), position), values, s=14, color=colour, alpha=0.6)
            if len(values):
                median = np.median(values)
                ax.hlines(median, position - width / 2, position + width / 2, color=colour, linewidth=2)
        ax.scatter([], [], color=colour, label=f"{label} (bar: median)")
    for reference in references:
        draw_reference(ax, reference)
    ax.set_xticks(positions, categories, rotation=30, ha="right", fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)


def seed_strip_figure(
    categories: Sequence[str],
    series: Mapping[str, Sequence[np.ndarray]],
    ylabel: str,
    title: str,
    references: Sequence[Reference] = (),
) -> Figure:
    """Every seed's value and the median of each series per category (see :func:`draw_seed_strip`)."""
    figure = Figure(figsize=(1.0 * len(categories) + 3, 4.8), layout="constrained")
    ax = figure.subplots()
    draw_seed_strip(ax, categories, series, references)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return figure
