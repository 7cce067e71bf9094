"""Decision boundaries: a mesh over the points, the predicted regions and the points on top."""

import numpy as np

from dlpipeline.figures.boundaries import BoundaryGrid, BoundaryPanel, boundary_grid_figure, mesh_over

FEATURES = np.array([[-1.0, 0.0], [1.0, 2.0], [0.5, -1.0]])
LABELS = np.array([0, 1, 1])


def _grid(resolution: int = 5) -> BoundaryGrid:
    xx, yy = mesh_over(FEATURES, resolution, margin=0.5)
    return BoundaryGrid(xx, yy, (xx > 0).astype(int))


def test_the_mesh_covers_every_point_with_a_margin():
    grid = _grid()
    assert grid.points.shape == (25, 2)
    np.testing.assert_allclose(grid.points.min(axis=0), FEATURES.min(axis=0) - 0.5)
    np.testing.assert_allclose(grid.points.max(axis=0), FEATURES.max(axis=0) + 0.5)


def test_a_grid_has_one_row_per_entry_and_hides_the_panels_a_row_lacks():
    rows = {
        "torch": [BoundaryPanel(_grid(), f"{n} neurons", "test 1.0") for n in (1, 2, 3)],
        "sklearn": [BoundaryPanel(_grid(), "1 neuron", "test 0.5")],
    }
    figure = boundary_grid_figure(rows, FEATURES, LABELS, suptitle="boundaries")
    axes = np.reshape(figure.axes, (2, 3))
    assert [row[0].get_ylabel() for row in axes] == list(rows)
    assert [[ax.get_visible() for ax in row] for row in axes] == [[True] * 3, [True, False, False]]
    assert [ax.get_title() for ax in axes[0]] == ["1 neurons", "2 neurons", "3 neurons"]
