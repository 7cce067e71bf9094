"""Edge detectors, measured: orientation selectivity of the first-layer filters, trained against untrained.

"Convolutional Layer: Applies filters (kernels) to detect features (edges, …)" and "Hidden
layers learn patterns (edges, …)". An edge detector answers to a change of brightness across
one direction and not across the others. So each first-layer filter (the CNN's 3×3 kernels,
the MLP's hidden units as 8×8 weight images) is shown sinusoidal gratings at evenly spaced
orientations; its peak response over the grating's phase is the size of the filter's Fourier
transform at that grating's wave vector. Its **orientation selectivity** is one minus the
circular variance of that tuning curve (on doubled angles: orientation repeats every 180°),
at the spatial frequency the filter answers most: 0 for a filter that answers every
orientation alike (a constant or any filter with a quarter-turn symmetry), 1 for one that
answers one orientation only. The control is the same architecture at its initial weights,
same seeds (the ensembles draw them from the seed): what training added.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble
from dlpipeline.pipelines.cnn.params import EdgesParams
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.tracking import ChildRun

STATES = ("trained", "untrained")
"""The table's ``state``: the filters after training, and the same seeds' filters at initialisation."""


@dataclass(frozen=True)
class Tuned:
    """One configuration's first-layer filters in one state, every seed: what the table and figure read."""

    configuration: str
    state: str
    seeds: tuple[int, ...]
    kernels: np.ndarray
    """``(seeds, filters, rows, cols)``."""
    curves: np.ndarray
    """``(seeds, filters, angles)``: each filter's tuning curve at its preferred frequency."""
    selectivity: np.ndarray
    """``(seeds, filters)``: one minus the circular variance of each tuning curve."""


def orientations(n_angles: int) -> np.ndarray:
    """``n_angles`` grating orientations evenly spaced over [0°, 180°), in radians."""
    return np.arange(n_angles) * np.pi / n_angles


def grating_responses(kernels: np.ndarray, angles: np.ndarray, frequencies: list[float]) -> np.ndarray:
    """Peak response of each kernel to a grating of each frequency and orientation: ``(..., freqs, angles)``.

    ``kernels`` is ``(..., rows, cols)``; a grating ``cos(2π f (x cos θ + y sin θ) + φ)`` (``f`` in
    cycles per pixel, ``θ`` the direction across its stripes) gives the response
    ``|W(f, θ)| cos(φ + arg W)``, so the peak over the phase ``φ`` is the size of the kernel's
    Fourier transform ``W`` at the wave vector, about the kernel's centre.
    """
    rows, cols = kernels.shape[-2:]
    y = np.arange(rows) - (rows - 1) / 2
    x = np.arange(cols) - (cols - 1) / 2
    wave = np.asarray(frequencies)[:, None, None, None] * (
        np.cos(angles)[None, :, None, None] * x[None, None, None, :]
        + np.sin(angles)[None, :, None, None] * y[None, None, :, None]
    )
    basis = np.exp(-2j * np.pi * wave)  # (freqs, angles, rows, cols)
    return np.abs(np.einsum("...rc,farc->...fa", kernels, basis))


def orientation_selectivity(curves: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """One minus the circular variance of tuning curves ``(..., angles)`` over orientations (period 180°).

    ``|Σ r(θ) e^{2iθ}| / Σ r(θ)``: 0 when every orientation is answered alike, 1 when one only; a
    filter answering nothing (all zero) has none, 0.
    """
    total = curves.sum(axis=-1)
    vector = np.abs((curves * np.exp(2j * angles)).sum(axis=-1))
    return np.where(total > 0, vector / np.where(total > 0, total, 1.0), 0.0)


def tuning(kernels: np.ndarray, edges: EdgesParams) -> tuple[np.ndarray, np.ndarray]:
    """Each kernel's tuning curve ``(..., angles)`` and its selectivity ``(...)``.

    The curve is taken at the kernel's preferred frequency: the one of ``edges.frequencies`` with
    the largest mean response over orientations.
    """
    angles = orientations(edges.n_angles)
    responses = grating_responses(kernels, angles, edges.frequencies)
    preferred = responses.mean(axis=-1).argmax(axis=-1)
    curves = np.take_along_axis(responses, preferred[..., None, None], axis=-2).squeeze(-2)
    return curves, orientation_selectivity(curves, angles)


def first_layer_kernels(module: ConvNetEnsemble) -> np.ndarray:
    """The first layer's filters as images, every member: ``(members, filters, rows, cols)``.

    A CNN's first convolution kernels (one input channel), or an MLP's hidden units, each a
    weight image of the input's shape.
    """
    if module.spec.filters:
        return module.first_layer_filters()[:, :, 0].cpu().numpy()
    _, rows, cols = module.spec.in_shape
    weights = module.dense_weight.detach().cpu()  # (members, pixels, units)
    return weights.transpose(1, 2).reshape(module.members, -1, rows, cols).numpy()


def untrained(trained: TrainedModule) -> ConvNetEnsemble:
    """The same architecture and seeds at initialisation: the ensemble rebuilt from its arguments."""
    return ConvNetEnsemble(**trained.kwargs)


def tune_models(models: dict[str, TrainedModule], edges: EdgesParams) -> list[Tuned]:
    """The first-layer tuning of ``edges.configurations``, trained and at initialisation, every seed."""
    missing = [name for name in edges.configurations if name not in models]
    if missing:
        raise ValueError(
            f"cnn.edges.configurations names {missing}, which the sweep did not train: "
            f"choose from {sorted(models)}"
        )
    tuned = []
    for name in edges.configurations:
        trained = models[name]
        for state, module in zip(STATES, (trained.module, untrained(trained)), strict=True):
            kernels = first_layer_kernels(module)
            curves, selectivity = tuning(kernels, edges)
            tuned.append(Tuned(name, state, trained.trained_record.seeds, kernels, curves, selectivity))
    return tuned


def selectivity_table(tuned: list[Tuned]) -> pd.DataFrame:
    """One row per configuration, state and seed: the filters' mean orientation selectivity.

    Columns ``configuration``, ``state``, ``seed``, ``n_filters``, ``selectivity`` (mean over the
    filters), ``selective_share`` (share of filters above 0.5).
    """
    rows = [
        {
            "configuration": one.configuration,
            "state": one.state,
            "seed": seed,
            "n_filters": int(one.selectivity.shape[1]),
            "selectivity": round(float(one.selectivity[member].mean()), 6),
            "selective_share": round(float((one.selectivity[member] > 0.5).mean()), 6),
        }
        for one in tuned
        for member, seed in enumerate(one.seeds)
    ]
    return pd.DataFrame(rows)


def edges_child_runs(table: pd.DataFrame) -> list[ChildRun]:
    """One MLflow child run per configuration (param ``study``: ``edges``): mean selectivity per state."""
    runs = []
    for name, rows in table.groupby("configuration", sort=False):
        by_state = rows.groupby("state").selectivity.mean()
        runs.append(
            ChildRun(
                name=f"edges-{name}",
                params={"study": "edges", "configuration": str(name), "n_seeds": int(rows.seed.nunique())},
                metrics={f"selectivity_{state}": float(by_state[state]) for state in STATES},
            )
        )
    return runs


def plot_tuning(tuned: list[Tuned], edges: EdgesParams) -> Figure:
    """Per configuration and state (median seed): the most selective filters and their tuning curves.

    Each filter is drawn with a line along the edge it answers most (the stripes of its preferred
    grating) and its selectivity above it; beside them, the tuning curves of those filters.
    """
    angles = np.degrees(orientations(edges.n_angles))
    shown = edges.shown_filters
    figure = Figure(figsize=(1.2 * shown + 3.4, 2.5 * len(tuned)), layout="constrained")
    grid = figure.subplots(len(tuned), shown + 1, squeeze=False, width_ratios=[1] * shown + [3])
    for row_axes, one in zip(grid, tuned, strict=True):
        member = median_seed_index(one.selectivity.mean(axis=1))
        order = np.argsort(one.selectivity[member])[::-1][:shown]
        for ax, index in zip(row_axes[:shown], order, strict=False):
            kernel = one.kernels[member, index]
            limit = float(np.abs(kernel).max()) or 1.0
            ax.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
            theta = np.radians(angles[one.curves[member, index].argmax()]) + np.pi / 2  # along the stripes
            centre_y, centre_x = (np.array(kernel.shape) - 1) / 2
            half = min(kernel.shape) / 2
            ax.plot(
                [centre_x - half * np.cos(theta), centre_x + half * np.cos(theta)],
                [centre_y - half * np.sin(theta), centre_y + half * np.sin(theta)],
                color="k",
                linewidth=1.5,
            )
            ax.set_title(f"{one.selectivity[member, index]:.2f}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in row_axes[len(order) : shown]:
            ax.set_axis_off()
        row_axes[0].set_ylabel(
            f"{one.configuration}\n{one.state}\nseed {one.seeds[member]}", rotation=0, ha="right", va="center"
        )
        curves_ax = row_axes[shown]
        for index in order:
            curve = one.curves[member, index]
            curves_ax.plot(angles, curve / (curve.max() or 1.0), alpha=0.7)
        curves_ax.set_xlabel("grating direction (°)", fontsize=8)
        curves_ax.set_ylabel("response / peak", fontsize=8)
        curves_ax.set_ylim(0, 1.05)
        curves_ax.set_title(f"mean selectivity {one.selectivity[member].mean():.2f}", fontsize=9)
    figure.suptitle(
        "First-layer filters, most orientation-selective first (line: the edge each prefers;\n"
        "number: its selectivity), and their responses to gratings by direction (median seed)"
    )
    return figure
