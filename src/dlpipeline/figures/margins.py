"""Fixed margins for a figure of one axes: no layout pass when the figure is saved.

``layout="constrained"`` draws a figure twice on every save (once to measure its labels, once
to render); a figure of one axes whose labels have a known size needs no measuring. The
margins are in inches, so they hold at any figure size; they fit the widest tick labels the
figures here draw (a log axis's ``2×10⁻¹``, a linear axis's ``0.0025``), an axis label on
each of the left and bottom sides and a one-line title; a test draws such figures and checks
that nothing falls outside.
"""

from dataclasses import dataclass

from matplotlib.figure import Figure


@dataclass(frozen=True)
class Margins:
    """The space around the axes, in inches."""

    left: float = 0.95
    bottom: float = 0.55
    right: float = 0.2
    top: float = 0.35


ONE_AXES = Margins()
"""Tick labels and an axis label left and below, a title above."""


def fix_margins(figure: Figure, margins: Margins = ONE_AXES) -> None:
    """Place ``figure``'s axes ``margins`` inches from its edges (the figure must have no layout engine)."""
    width, height = figure.get_size_inches()
    figure.subplots_adjust(
        left=margins.left / width,
        bottom=margins.bottom / height,
        right=1 - margins.right / width,
        top=1 - margins.top / height,
    )
