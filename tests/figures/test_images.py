"""Images in labelled rows and in titled grids: one scale each, or one scale for all."""

import numpy as np

from dlpipeline.figures.images import image_grid_figure, image_rows_figure

RNG = np.random.default_rng(0)


def _images(n: int, scale: float = 1.0) -> list[np.ndarray]:
    return [scale * RNG.random((8, 8)) for _ in range(n)]


def test_each_entry_is_a_labelled_row_of_its_images():
    rows = {"input": _images(1), "conv": _images(4), "pool": _images(3)}
    figure = image_rows_figure(rows, suptitle="stages")
    axes = np.reshape(figure.axes, (len(rows), 4))
    assert [row[0].get_ylabel() for row in axes] == list(rows)
    assert [sum(bool(ax.get_images()) for ax in row) for row in axes] == [1, 4, 3]


def test_without_an_ink_range_each_image_has_its_own_colour_scale():
    faint, bold = _images(1, scale=0.1)[0], _images(1, scale=10.0)[0]
    figure = image_rows_figure({"maps": [faint, bold]}, suptitle="maps")
    limits = [ax.get_images()[0].get_clim() for ax in figure.axes]
    assert limits == [(faint.min(), faint.max()), (bold.min(), bold.max())]


def test_with_an_ink_range_every_image_is_ink_on_the_same_scale_so_a_faint_one_looks_faint():
    rows = {"real": _images(3), "faint sample": _images(3, scale=0.1)}
    figure = image_rows_figure(rows, suptitle="digits", ink_range=(0.0, 1.0))
    images = [ax.get_images()[0] for ax in figure.axes if ax.get_images()]
    assert {image.get_clim() for image in images} == {(0.0, 1.0)}
    assert {image.get_cmap().name for image in images} == {"gray_r"}


def test_a_grid_titles_every_image_and_draws_weights_symmetric_about_zero():
    weights = _images(5, scale=2.0)
    weights = [w - 0.5 for w in weights]
    figure = image_grid_figure(weights, [f"w{i}" for i in range(5)], "filters", n_columns=3, diverging=True)
    drawn = [ax for ax in figure.axes if ax.get_images()]
    assert [ax.get_title() for ax in drawn] == [f"w{i}" for i in range(5)]
    for ax, weight in zip(drawn, weights, strict=True):
        low, high = ax.get_images()[0].get_clim()
        assert low == -high == -np.abs(weight).max()
