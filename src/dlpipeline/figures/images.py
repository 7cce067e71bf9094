"""Images: small pictures in a grid with titles, or in labelled rows (digits, filters, feature maps)."""

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def image_grid_figure(
    images: Sequence[np.ndarray],
    titles: Sequence[str],
    suptitle: str,
    n_columns: int = 8,
    diverging: bool = False,
) -> Figure:
    """Small images in a grid, each with its title: digits, learned filters, ...

    ``diverging`` draws each image on a red-blue scale symmetric about zero (weights);
    otherwise dark ink on white (pixels).
    """
    n_columns = max(1, min(n_columns, len(images)))
    n_rows = max(1, -(-len(images) // n_columns))
    figure = Figure(figsize=(max(1.25 * n_columns, 5.0), 1.4 * n_rows + 0.7), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        if diverging:
            limit = float(np.abs(image).max()) or 1.0
            ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(image, cmap="gray_r")
        ax.set_title(title, fontsize=8)
    figure.suptitle(suptitle)
    return figure


def image_rows_figure(
    rows: Mapping[str, Sequence[np.ndarray]], suptitle: str, ink_range: tuple[float, float] | None = None
) -> Figure:
    """One labelled row of images per entry: an input's feature maps after each stage, digits, ...

    Without ``ink_range`` each image has its own colour scale (dark = low, bright = high);
    with it, every image is dark ink on white on that one scale, so a faint image looks it,
    and each sits in a frame so the white background has an edge.
    """
    n_columns = max(len(images) for images in rows.values())
    figure = Figure(figsize=(1.1 * n_columns + 1.4, 1.15 * len(rows) + 0.5), layout="constrained")
    axes = figure.subplots(len(rows), n_columns, squeeze=False)
    for row_axes, (label, images) in zip(axes, rows.items(), strict=True):
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_frame_on(ink_range is not None)
        for ax, image in zip(row_axes, images, strict=False):
            if ink_range is None:
                ax.imshow(image, cmap="viridis")
            else:
                ax.imshow(image, cmap="gray_r", vmin=ink_range[0], vmax=ink_range[1])
        row_axes[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    figure.suptitle(suptitle)
    return figure
