"""Intersection over union: how well a predicted box or mask covers the true one (1 exact, 0 apart)."""

import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of boxes ``(..., 4)`` as ``x0, y0, x1, y1`` (a box with ends before its starts has none)."""
    return np.clip(boxes[..., 2] - boxes[..., 0], 0, None) * np.clip(boxes[..., 3] - boxes[..., 1], 0, None)


def box_iou(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """IoU of boxes ``(..., 4)`` (``x0, y0, x1, y1``) pairwise along the leading axes; 0 if both are empty."""
    width = np.minimum(first[..., 2], second[..., 2]) - np.maximum(first[..., 0], second[..., 0])
    height = np.minimum(first[..., 3], second[..., 3]) - np.maximum(first[..., 1], second[..., 1])
    intersection = np.clip(width, 0, None) * np.clip(height, 0, None)
    union = box_area(first) + box_area(second) - intersection
    return np.divide(intersection, union, out=np.zeros_like(intersection, dtype=float), where=union > 0)


def mask_iou(predicted: np.ndarray, true: np.ndarray) -> np.ndarray:
    """IoU of boolean masks ``(..., rows, cols)`` per image; 1 where both are empty (nothing to find)."""
    intersection = np.logical_and(predicted, true).sum(axis=(-2, -1))
    union = np.logical_or(predicted, true).sum(axis=(-2, -1))
    return np.divide(intersection, union, out=np.ones(union.shape), where=union > 0)
