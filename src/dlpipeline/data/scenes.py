"""Scenes: each digit pasted at a random place on a larger canvas among clutter, with its box and mask.

The image set of the detection and segmentation studies, built from the digits alone (nothing
downloaded): every scene is an empty ``canvas × canvas`` image on which ``fragments`` pieces of
*other* digits (``fragment_size`` square crops) and ``strokes`` straight noise strokes are drawn
first, then the scene's own digit at a uniformly random place (each pixel the brighter of digit
and clutter). What a model must find is that digit: its class, its box (the tightest box around
its ink, ``x0, y0`` inclusive, ``x1, y1`` exclusive, in pixels) and its mask (every pixel where
the digit has ink, whatever the clutter there). The fragments are made of the same strokes as
digits, so brightness alone cannot tell them apart. Everything comes from one seed.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

BOX_COLUMNS = ("x0", "y0", "x1", "y1")
LABEL_COLUMN = "label"
PIXEL_PREFIX = "px_"
MASK_PREFIX = "mask_"


@dataclass(frozen=True)
class SceneSettings:
    """How a scene is drawn: canvas side, and the clutter put on it before the digit."""

    canvas: int
    fragments: int
    fragment_size: int
    strokes: int
    stroke_length: tuple[int, int] = (4, 9)
    """Smallest and largest length of a noise stroke, in pixels (the upper one excluded)."""


@dataclass(frozen=True)
class Scenes:
    """Scenes as arrays: ``images``, ``masks`` ``(n, canvas, canvas)``, ``boxes`` ``(n, 4)``, ``labels``."""

    images: np.ndarray
    masks: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray


def tight_box(mask: np.ndarray) -> np.ndarray:
    """The tightest box ``(x0, y0, x1, y1)`` around a mask's pixels (ends exclusive), as floats."""
    rows, cols = np.nonzero(mask)
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float32)


def _stroke(canvas: np.ndarray, rng: np.random.Generator, length: tuple[int, int]) -> None:
    """Draw one straight stroke of random length, direction and brightness onto ``canvas`` (in place)."""
    side = canvas.shape[0]
    start = rng.uniform(0, side, size=2)
    angle = rng.uniform(0, np.pi)
    steps = np.arange(rng.integers(*length))
    rows = np.clip(np.round(start[0] + steps * np.sin(angle)), 0, side - 1).astype(int)
    cols = np.clip(np.round(start[1] + steps * np.cos(angle)), 0, side - 1).astype(int)
    canvas[rows, cols] = np.maximum(canvas[rows, cols], rng.uniform(0.5, 1.0))


def _paste(canvas: np.ndarray, patch: np.ndarray, row: int, col: int) -> None:
    """Put ``patch`` on ``canvas`` at ``(row, col)``, each pixel the brighter of the two (in place)."""
    rows, cols = patch.shape
    canvas[row : row + rows, col : col + cols] = np.maximum(canvas[row : row + rows, col : col + cols], patch)


def draw_scene(
    digits: np.ndarray, index: int, settings: SceneSettings, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One scene of ``digits[index]`` (pixels in [0, 1]) among clutter cut from the other digits.

    Returns the canvas and the digit's mask (booleans: where the digit has ink).
    """
    side, size = settings.canvas, settings.fragment_size
    digit = digits[index]
    canvas = np.zeros((side, side), dtype=np.float32)
    for _ in range(settings.fragments):
        other = int(rng.integers(len(digits) - 1)) if len(digits) > 1 else 0
        source = digits[other + (other >= index and len(digits) > 1)]
        top, left = rng.integers(0, source.shape[0] - size + 1), rng.integers(0, source.shape[1] - size + 1)
        row, col = rng.integers(0, side - size + 1, size=2)
        _paste(canvas, source[top : top + size, left : left + size], row, col)
    for _ in range(settings.strokes):
        _stroke(canvas, rng, settings.stroke_length)
    row, col = rng.integers(0, side - digit.shape[0] + 1), rng.integers(0, side - digit.shape[1] + 1)
    _paste(canvas, digit, row, col)
    mask = np.zeros((side, side), dtype=bool)
    mask[row : row + digit.shape[0], col : col + digit.shape[1]] = digit > 0
    return canvas, mask


def draw_scenes(
    digits: np.ndarray, labels: np.ndarray, copies: int, settings: SceneSettings, seed: int
) -> Scenes:
    """``copies`` scenes of every digit (``(n, rows, cols)``, pixels in [0, 1]), clutter from the same set.

    Deterministic: the same digits, settings and seed give the same scenes.
    """
    if digits.shape[1] > settings.canvas or settings.fragment_size > digits.shape[1]:
        raise ValueError(
            f"a {settings.canvas}x{settings.canvas} canvas with {settings.fragment_size}-pixel fragments "
            f"cannot hold {digits.shape[1]}x{digits.shape[2]} digits"
        )
    rng = np.random.default_rng(seed)
    images, masks, boxes, scene_labels = [], [], [], []
    for _ in range(copies):
        for index in range(len(digits)):
            canvas, mask = draw_scene(digits, index, settings, rng)
            images.append(canvas)
            masks.append(mask)
            boxes.append(tight_box(mask))
            scene_labels.append(labels[index])
    return Scenes(
        np.stack(images), np.stack(masks), np.stack(boxes), np.asarray(scene_labels, dtype=np.int64)
    )


def scenes_to_table(scenes: Scenes) -> pd.DataFrame:
    """One row per scene: ``label``, its box ``x0 y0 x1 y1``, its pixels and its mask.

    Pixels are ``px_<row>_<col>`` (as :mod:`dlpipeline.data.digits` names them), masks ``mask_<row>_<col>``.
    """
    side = scenes.images.shape[1]
    cells = [f"{row}_{col}" for row in range(side) for col in range(side)]
    columns = {LABEL_COLUMN: scenes.labels}
    columns |= {name: scenes.boxes[:, i].astype(np.int64) for i, name in enumerate(BOX_COLUMNS)}
    pixels = pd.DataFrame(
        scenes.images.reshape(len(scenes.images), -1), columns=[PIXEL_PREFIX + c for c in cells]
    )
    mask = pd.DataFrame(
        scenes.masks.reshape(len(scenes.masks), -1).astype(np.int8), columns=[MASK_PREFIX + c for c in cells]
    )
    return pd.concat([pd.DataFrame(columns), pixels, mask], axis=1)


def table_to_scenes(table: pd.DataFrame) -> Scenes:
    """The arrays of a table written by :func:`scenes_to_table`."""
    pixel_columns = [name for name in table.columns if name.startswith(PIXEL_PREFIX)]
    side = round(len(pixel_columns) ** 0.5)
    mask_columns = [MASK_PREFIX + name.removeprefix(PIXEL_PREFIX) for name in pixel_columns]
    return Scenes(
        table[pixel_columns].to_numpy(dtype=np.float32).reshape(len(table), side, side),
        table[mask_columns].to_numpy(dtype=bool).reshape(len(table), side, side),
        table[list(BOX_COLUMNS)].to_numpy(dtype=np.float32),
        table[LABEL_COLUMN].to_numpy(dtype=np.int64),
    )
