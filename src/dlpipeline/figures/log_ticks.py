"""Log-scale axes with few tick objects: every decade labelled, grid lines only where they help read.

Matplotlib's default log axis puts eight minor ticks in every decade, one decade beyond each end
of the view as well, and every tick is a set of artists (marks, a grid line, two labels) built
and measured on each draw: on a loss curve over four decades they are most of the cost of
saving the figure. Beyond a decade of range the minor ticks here stand at 2 and 5 only, the
marks a reader interpolates from; within one decade, where few or no decades are in view, they
keep all eight so that the labelled minor ticks still give the axis its numbers.
"""

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import LogLocator

MAX_LABELLED_DECADES = 8
"""At most this many major (decade) ticks: over a wider range the locator labels every other decade."""

ALL_MINOR_SUBS = tuple(float(sub) for sub in range(2, 10))
SPARSE_MINOR_SUBS = (2.0, 5.0)


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
