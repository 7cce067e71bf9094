"""Sequence tasks, generated deterministically (nothing is downloaded), and their tensors.

Every task is a long table (one row per sequence step) so that sequences of any length
share one on-disk format, and is turned into padded tensors for the models:

- **adding problem** (Hochreiter & Schmidhuber 1997): two channels, a value uniform in
  [0, 1] and a marker that is 1 at exactly two steps (one in each half); the target is
  the sum of the two marked values. Predicting the mean 1 gives MSE 1/6 ≈ 0.167.
- **digits read row by row**: scikit-learn's 8×8 digits as 8 steps of 8 pixels
  (:mod:`dlpipeline.data.digits` loads them).
- **Mackey–Glass forecasting** (many-to-many): windows of varying length over the
  chaotic delay series; at every step the target is the value ``horizon`` steps ahead.
  Windows are right-padded, and the validity mask rides as the last channel of both
  features and targets (see :func:`dlpipeline.models.recurrent.split_mask`).
- **sine generation** (one-to-many): a single input, the angular frequency ω, fed at
  the first step; the model then produces ``sin(ω t)`` step by step, fed back its own
  previous value (teacher forcing during training).
"""

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.digits import table_to_images

ADDING_BASELINE_MSE = 1 / 6
"""Test MSE of always predicting the mean target 1: the variance of a sum of two U(0, 1)."""

DIGIT_PIXEL_MAX = 16.0
"""scikit-learn's digits have integer pixels 0..16."""


def _rng(*seeds: int) -> np.random.Generator:
    """A numpy generator seeded by several integers (e.g. a base seed and a length)."""
    return np.random.default_rng(list(seeds))


# --- adding problem ------------------------------------------------------------------


def adding_problem(n_sequences: int, seq_len: int, seed: int) -> pd.DataFrame:
    """``n_sequences`` adding-problem sequences of ``seq_len`` steps as a long table.

    Columns ``seq_len, sequence, step, value, marker``; one marked step lies in each half.
    """
    if seq_len < 2:
        raise ValueError(f"the adding problem needs at least 2 steps, got {seq_len}")
    rng = _rng(seed, seq_len)
    values = rng.random((n_sequences, seq_len), dtype=np.float32)
    half = seq_len // 2
    markers = np.zeros((n_sequences, seq_len), dtype=np.int8)
    rows = np.arange(n_sequences)
    markers[rows, rng.integers(0, half, n_sequences)] = 1
    markers[rows, rng.integers(half, seq_len, n_sequences)] = 1
    return pd.DataFrame(
        {
            "seq_len": np.full(values.size, seq_len, dtype=np.int64),
            "sequence": np.repeat(rows, seq_len),
            "step": np.tile(np.arange(seq_len), n_sequences),
            "value": values.ravel(),
            "marker": markers.ravel(),
        }
    )


def adding_tensors(table: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(n, T, 2)`` (value, marker) and targets ``(n, 1)`` of one length's table."""
    table = table.sort_values(["sequence", "step"])
    n_sequences, seq_len = table["sequence"].nunique(), int(table["step"].max()) + 1
    values = table["value"].to_numpy(np.float32).reshape(n_sequences, seq_len)
    markers = table["marker"].to_numpy(np.float32).reshape(n_sequences, seq_len)
    features = torch.from_numpy(np.stack([values, markers], axis=-1))
    targets = torch.from_numpy((values * markers).sum(axis=1, keepdims=True))
    return features, targets


# --- digits row by row ----------------------------------------------------------------


def digit_rows(table: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Digits as sequences: features ``(n, 8, 8)`` (row ``t`` is step ``t``, in [0, 1]) and labels."""
    images, labels = table_to_images(table)
    return torch.from_numpy(images / DIGIT_PIXEL_MAX), torch.tensor(labels)


# --- Mackey–Glass forecasting ---------------------------------------------------------


def mackey_glass(
    n_steps: int, tau: int = 17, beta: float = 0.2, gamma: float = 0.1, power: int = 10, warmup: int = 500
) -> np.ndarray:
    """The Mackey–Glass series ``x[t+1] = x[t] + β x[t-τ] / (1 + x[t-τ]^p) - γ x[t]`` (x = 1.2 before 0).

    Chaotic for τ = 17. The first ``warmup`` steps (the transient) are dropped.
    """
    total = n_steps + warmup
    series = np.full(total + tau, 1.2)
    for t in range(tau, total + tau - 1):
        delayed = series[t - tau]
        series[t + 1] = series[t] + beta * delayed / (1 + delayed**power) - gamma * series[t]
    return series[tau + warmup :]


def forecast_windows(
    series: np.ndarray, n_windows: int, min_len: int, max_len: int, horizon: int, seed: int
) -> pd.DataFrame:
    """Windows of random length in ``[min_len, max_len]`` over ``series``, as a long table.

    Columns ``window, step, value, target`` where ``target`` is the value ``horizon``
    steps after ``value``. Each window starts at a random position where it fits.
    """
    if len(series) < max_len + horizon:
        raise ValueError(f"a series of {len(series)} steps is too short for windows of {max_len}+{horizon}")
    rng = _rng(seed)
    lengths = rng.integers(min_len, max_len + 1, n_windows)
    starts = rng.integers(0, len(series) - lengths - horizon + 1)
    frames = [
        pd.DataFrame(
            {
                "window": window,
                "step": np.arange(length),
                "value": series[start : start + length],
                "target": series[start + horizon : start + horizon + length],
            }
        )
        for window, (start, length) in enumerate(zip(starts, lengths, strict=True))
    ]
    return pd.concat(frames, ignore_index=True)


def padded_windows(table: pd.DataFrame, max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(n, T, 2)`` (value, mask) and targets ``(n, T, 2)`` (target, mask), right-padded.

    ``T`` is the longest window (or ``max_len``); padded steps are zero in every channel.
    """
    table = table.sort_values(["window", "step"])
    windows = table["window"].to_numpy()
    _, index = np.unique(windows, return_inverse=True)
    steps = max_len or int(table["step"].max()) + 1
    features = torch.zeros(index.max() + 1, steps, 2)
    targets = torch.zeros(index.max() + 1, steps, 2)
    rows, columns = torch.tensor(index), torch.tensor(table["step"].to_numpy())
    features[rows, columns, 0] = torch.from_numpy(table["value"].to_numpy(np.float32))
    targets[rows, columns, 0] = torch.from_numpy(table["target"].to_numpy(np.float32))
    features[rows, columns, 1] = targets[rows, columns, 1] = 1.0
    return features, targets


# --- sine generation -----------------------------------------------------------------


def sine_waves(n_sequences: int, seq_len: int, omega_min: float, omega_max: float, seed: int) -> pd.DataFrame:
    """``sin(ω t)`` for ``t = 1..seq_len`` and ω uniform in ``[omega_min, omega_max]``, as a long table.

    Columns ``sequence, step, omega, value``.
    """
    omegas = _rng(seed).uniform(omega_min, omega_max, n_sequences)
    steps = np.arange(seq_len)
    return pd.DataFrame(
        {
            "sequence": np.repeat(np.arange(n_sequences), seq_len),
            "step": np.tile(steps, n_sequences),
            "omega": np.repeat(omegas, seq_len),
            "value": np.sin(np.outer(omegas, steps + 1)).ravel(),
        }
    )


def generation_tensors(table: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher-forced features ``(n, T, 2)`` and targets ``(n, T, 1)`` of the sine generation task.

    Step ``t`` of the features holds ω at ``t = 0`` (0 after) and the previous true value
    (0 at ``t = 0``); the target is the value at ``t``.
    """
    table = table.sort_values(["sequence", "step"])
    n_sequences, seq_len = table["sequence"].nunique(), int(table["step"].max()) + 1
    values = torch.from_numpy(table["value"].to_numpy(np.float32).reshape(n_sequences, seq_len))
    omegas = torch.from_numpy(table["omega"].to_numpy(np.float32).reshape(n_sequences, seq_len)[:, 0])
    features = torch.zeros(n_sequences, seq_len, 2)
    features[:, 0, 0] = omegas
    features[:, 1:, 1] = values[:, :-1]
    return features, values.unsqueeze(-1)
