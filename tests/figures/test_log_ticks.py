"""Log-scale axes: every decade in view labelled, few tick objects, numbers even within one decade,
labels in plain text."""

import io

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.mathtext import MathTextParser

from dlpipeline.figures.log_ticks import MAX_LABELLED_DECADES, log_scale, plain_text_label


def drawn_loss_axis(low: float, high: float) -> Axes:
    """A loss falling from ``high`` to ``low`` on a log y axis, drawn so that its ticks exist."""
    figure = Figure(figsize=(7, 4.5))
    ax = figure.subplots()
    ax.plot(np.arange(1, 41), np.geomspace(high, low, 40))
    log_scale(ax)
    figure.draw_without_rendering()
    return ax


def in_view(ax: Axes, locations: np.ndarray) -> np.ndarray:
    """The tick locations within the y axis's view."""
    low, high = sorted(ax.get_ylim())
    return locations[(locations >= low) & (locations <= high)]


def labelled(ax: Axes) -> dict[float, str]:
    """The y ticks in view that carry a label, major and minor, by location."""
    low, high = sorted(ax.get_ylim())
    ticks = [*ax.yaxis.get_major_ticks(), *ax.yaxis.get_minor_ticks()]
    return {
        float(tick.get_loc()): tick.label1.get_text()
        for tick in ticks
        if low <= tick.get_loc() <= high and tick.label1.get_text()
    }


def test_a_loss_over_four_decades_labels_each_decade_and_nothing_else():
    ax = drawn_loss_axis(2e-4, 2.3)
    decades = {10.0**power for power in range(-3, 1)}
    shown = labelled(ax)
    assert decades <= set(shown)
    assert len(shown) <= len(decades) + 1  # the decade below 2e-4 may show too


def test_beyond_a_decade_each_decade_has_two_minor_ticks_not_eight():
    ax = drawn_loss_axis(2e-4, 2.3)
    minor = in_view(ax, ax.yaxis.get_minorticklocs())
    mantissas = {round(value / 10 ** np.floor(np.log10(value)), 6) for value in minor}
    assert mantissas == {2.0, 5.0}
    assert len(minor) <= 2 * 5


@pytest.mark.parametrize(("low", "high"), [(0.3, 0.6), (0.12, 0.9)])
def test_within_a_decade_the_minor_ticks_give_the_axis_at_least_two_numbers(low: float, high: float):
    ax = drawn_loss_axis(low, high)
    assert len(labelled(ax)) >= 2


def test_a_range_of_many_decades_labels_at_most_the_bounded_number_of_decades():
    ax = drawn_loss_axis(1e-12, 10.0)
    shown = labelled(ax)
    assert 2 <= len(shown) <= MAX_LABELLED_DECADES
    powers = sorted(round(np.log10(value)) for value in shown)
    assert len(set(np.diff(powers))) == 1  # evenly spaced decades, none skipped at random


def test_the_x_axis_can_be_put_on_the_log_scale_too():
    figure = Figure()
    ax = figure.subplots()
    ax.plot([1, 10, 100, 1000], [1, 2, 3, 4])
    log_scale(ax, axis="x")
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")


@pytest.mark.parametrize(
    ("math_text", "plain"),
    [
        (r"$\mathdefault{10^{-3}}$", "10⁻³"),
        (r"$\mathdefault{10^{2}}$", "10²"),
        (r"$\mathdefault{2\times10^{-1}}$", "2×10⁻¹"),
        (r"$\mathdefault{1}$", "1"),
        ("", ""),
    ],
)
def test_a_math_text_label_reads_the_same_as_plain_text(math_text: str, plain: str):
    assert plain_text_label(math_text) == plain


def test_the_labels_are_plain_text_superscripts_so_no_draw_parses_math_text(monkeypatch):
    parsed = []
    monkeypatch.setattr(MathTextParser, "parse", lambda self, text, *args, **kwargs: parsed.append(text))
    ax = drawn_loss_axis(2e-4, 2.3)
    ax.figure.savefig(io.BytesIO(), format="png")
    assert set(labelled(ax).values()) == {"10⁻³", "10⁻²", "10⁻¹", "10⁰"}
    assert parsed == []


def test_within_one_decade_the_minor_labels_are_plain_text_too():
    ax = drawn_loss_axis(0.2, 0.5)
    labels = set(labelled(ax).values())
    assert "2×10⁻¹" in labels
    assert not any("$" in label for label in labels)
