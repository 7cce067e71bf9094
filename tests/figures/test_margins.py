"""Fixed margins: the axes sit a set distance from the edges and nothing a curve figure draws is cut."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dlpipeline.figures.curves import curves_figure
from dlpipeline.figures.margins import Margins, fix_margins


@pytest.mark.parametrize("size", [(7, 4.5), (4, 3)])
def test_the_axes_sit_the_margins_in_inches_from_the_edges_at_any_size(size: tuple[float, float]):
    figure = Figure(figsize=size)
    margins = Margins(left=1.0, bottom=0.5, right=0.25, top=0.4)
    fix_margins(figure, margins)
    width, height = size
    box = figure.subplots().get_position()  # figure fractions
    np.testing.assert_allclose(
        [box.x0 * width, box.y0 * height, (1 - box.x1) * width, (1 - box.y1) * height],
        [1.0, 0.5, 0.25, 0.4],
        atol=1e-9,
    )


WIDE_LABELS = {
    "a loss within one decade (labels like 6x10^-1)": ({"lstm seed 0": np.geomspace(0.6, 0.3, 30)}, True),
    "a loss over many decades": ({"lstm seed 0": np.geomspace(2.3, 1e-9, 30)}, True),
    "a small metric on a linear axis (0.0025)": ({"gru": np.linspace(0.0031, 0.0002, 30)}, False),
    "a large metric on a linear axis (12500)": ({"gru": np.linspace(12500, 100, 300)}, False),
}


@pytest.mark.parametrize("case", WIDE_LABELS)
def test_a_curve_figures_title_labels_and_ticks_all_fall_inside_it(case: str):
    curves, log = WIDE_LABELS[case]
    figure = curves_figure(curves, title="adding-long lstm T=100 seed 0: test_mse per epoch", log=log)
    canvas = FigureCanvasAgg(figure)
    figure.draw(canvas.get_renderer())  # as a save draws it: ticks and labels placed
    drawn = figure.get_tightbbox(canvas.get_renderer())  # inches
    width, height = figure.get_size_inches()
    assert drawn.x0 >= 0 and drawn.y0 >= 0, case
    assert drawn.x1 <= width and drawn.y1 <= height, case
