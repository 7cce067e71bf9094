"""Log-scale axes with few tick objects: every decade labelled, grid lines only where they help read.

Matplotlib's default log axis puts eight minor ticks in every decade, one decade beyond each end
of the view as well, and every tick is a set of artists (marks, a grid line, two labels) built
and measured on each draw: on a loss curve over four decades they are most of the cost of
saving the figure. Beyond a decade of range the minor ticks here stand at 2 and 5 only, the
marks a reader interpolates from; within one decade, where few or no decades are in view, they
keep all eight so that the labelled minor ticks still give the axis its numbers.

Labels are plain text with superscript digits (``10⁻³``, ``2×10⁻¹``) rather than matplotlib's
math text: every figure is saved by a renderer of its own, whose math-text cache starts empty,
so each ``$10^{-3}$`` label was parsed anew on every draw of every figure.
"""

import re

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

MAX_LABELLED_DECADES = 8
"""At most this many major (decade) ticks: over a wider range the locator labels every other decade."""

ALL_MINOR_SUBS = tuple(float(sub) for sub in range(2, 10))
SPARSE_MINOR_SUBS = (2.0, 5.0)

SUPERSCRIPT = str.maketrans("0123456789-\N{MINUS SIGN}", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻")
MATH_DEFAULT = re.compile(r"\$\\mathdefault\{(?P<body>.*)\}\$")
POWER = re.compile(r"\^\{(?P<exponent>[^}]*)\}")


def plain_text_label(label: str) -> str:
    r"""A log-axis label of matplotlib's math text (``$\mathdefault{2\times10^{-1}}$``) as plain text.

    Exponents become superscript digits and ``\times`` a multiplication sign; a label that is
    not math text (empty, or already plain) comes back as it is.
    """
    match = MATH_DEFAULT.fullmatch(label)
    if match is None:
        return label
    body = POWER.sub(lambda power: power["exponent"].translate(SUPERSCRIPT), match["body"])
    return body.replace("\\times", "×").replace("-", "\N{MINUS SIGN}")


class PlainLogFormatter(LogFormatterSciNotation):
    """Matplotlib's scientific log labels, written as plain text (no math-text parse per draw)."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        """The label of the tick at ``x``: ``10⁻³``, ``2×10⁻¹``, ``1`` or empty where unlabelled."""
        return plain_text_label(super().__call__(x, pos))


class SpanMinorLocator(LogLocator):
    """Minor log ticks at every integer multiple within a decade of range, at 2 and 5 beyond it."""

    def __init__(self, base: float = 10.0) -> None:
        super().__init__(base=base, subs=ALL_MINOR_SUBS)

    def tick_values(self, vmin: float, vmax: float) -> np.ndarray:
        """The minor ticks for the view ``vmin``-``vmax``: sparse once it spans more than a decade."""
        low, high = sorted((vmin, vmax))
        wide = low > 0 and np.log10(high / low) > 1.0
        self.set_params(subs=SPARSE_MINOR_SUBS if wide else ALL_MINOR_SUBS)
        return super().tick_values(vmin, vmax)


def log_scale(ax: Axes, axis: str = "y") -> None:
    """Put ``ax``'s ``axis`` (``"x"`` or ``"y"``) on a base-10 log scale with the ticks above."""
    if axis == "y":
        ax.set_yscale("log")
        target = ax.yaxis
    else:
        ax.set_xscale("log")
        target = ax.xaxis
    target.set_major_locator(LogLocator(numticks=MAX_LABELLED_DECADES))
    target.set_minor_locator(SpanMinorLocator())
    target.set_major_formatter(PlainLogFormatter())
    target.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))
