"""Confusion matrices: every non-zero count written in its cell, mistakes picked out."""

import numpy as np

from dlpipeline.figures.confusion import confusion_matrix_figure

MATRIX = np.array([[5, 1, 0], [0, 4, 2], [0, 0, 6]])


def test_every_count_is_written_in_its_cell_and_mistakes_are_bold():
    ax = confusion_matrix_figure(MATRIX, ["a", "b", "c"], title="seed 0").axes[0]
    written = {(text.get_position(), text.get_text()): text.get_fontweight() for text in ax.texts}
    expected = {((col, row), str(count)) for (row, col), count in np.ndenumerate(MATRIX) if count}
    assert set(written) == expected
    for ((col, row), _), weight in written.items():
        assert (weight == "bold") == (row != col)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
