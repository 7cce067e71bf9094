"""Exploding and vanishing gradients on the adding problem, as numbers over seeds.

**Exploding.** The vanilla RNN is trained without gradient clipping from recurrent weights
scaled to a chosen spectral radius (the *gain*): above 1 a perturbation of the hidden state
grows from step to step, and so can the gradient flowing back through them. Every training
step's gradient norm is recorded (:class:`GradientRecordingModel`), and the share of steps
whose norm is not finite or above a threshold (:func:`exploding_share`) is the measure,
beside the same RNN at a gain below 1 and an LSTM at its own initialisation. These are new
models of their own (``sequence.adding.explosion``); the adding problem's clipped models are
untouched. Each is logged with its child run as an MLflow model (it has no ``.pt`` file).

**Vanishing.** For every trained recurrent model of the adding problem at the longest length
(every seed), ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ (:func:`gradient_ratio`): how much of the loss's gradient
reaches the first step, against the last.
"""

import copy
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn
from torch.autograd.graph import register_multi_grad_hook

from dlpipeline.data.sequences import adding_tensors
from dlpipeline.executor import ExecutorParams, run_tasks
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.recurrent import CellName, RecurrentModel, hidden_gradient_norms
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.pipelines.sequence.params import AddingAnalysisParams, AddingDataParams, ExplosionParams
from dlpipeline.pipelines.sequence.training import TrainedModels, seed_draws
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun
from dlpipeline.training import initial_module, train_configuration, with_fixed_threads

logger = logging.getLogger(__name__)

EXPLOSION_STUDY = "exploding-gradients"
RATIO_STUDY = "vanishing-gradients"


def exploding_share(norms: Sequence[float] | np.ndarray | torch.Tensor, threshold: float) -> float:
    """The share of steps whose gradient norm is not finite or above ``threshold``."""
    values = np.asarray(norms, dtype=np.float64)
    if values.size == 0:
        raise ValueError("no gradient norms: nothing was trained")
    exploded = ~np.isfinite(values) | (values > threshold)
    return float(exploded.mean())


def gradient_ratio(norms: Sequence[float] | np.ndarray | torch.Tensor) -> float:
    """‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ from the norms over steps ``t = 1 … T`` (first over last)."""
    values = np.asarray(norms, dtype=np.float64)
    if values.size < 2 or values[-1] <= 0:
        raise ValueError(f"need at least two norms with a positive last one, got {values.tolist()}")
    return float(values[0] / values[-1])


def scale_spectral_radius(weight: torch.Tensor, radius: float) -> None:
    """Scale a square matrix in place so that its largest eigenvalue modulus is ``radius``."""
    with torch.no_grad():
        current = torch.linalg.eigvals(weight).abs().max()
        weight.mul_(radius / current)


class GradientRecordingModel(RecurrentModel):
    """A many-to-one :class:`RecurrentModel` that records the gradient norm of every training step.

    With ``gain`` (the vanilla RNN only), its recurrent weights start at that spectral radius.
    Each forward pass in training with gradients on watches the parameters once: when the
    backward pass has computed all their gradients, their joint norm (the one clipping would
    read) is appended to :attr:`gradient_norms`. The hook removes itself, so nothing stays
    attached to the parameters.
    """

    def __init__(
        self, cell: CellName, input_size: int, hidden_size: int, output_size: int, gain: float | None = None
    ) -> None:
        super().__init__(cell, input_size, hidden_size, output_size)
        if gain is not None:
            if cell != "rnn":
                raise ValueError(f"a gain sets the vanilla RNN's spectral radius, not the {cell}'s")
            scale_spectral_radius(self.recurrent.weight_hh_l0, gain)
        self.gradient_norms: list[float] = []

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """The outputs at the last step; in training, the step's gradient norm is recorded too."""
        if self.training and torch.is_grad_enabled():
            self._watch_gradients()
        return super().forward(features)

    def _watch_gradients(self) -> None:
        parameters = tuple(self.parameters())

        def record(gradients: Sequence[torch.Tensor | None]) -> None:
            found = [gradient.detach() for gradient in gradients if gradient is not None]
            self.gradient_norms.append(float(torch.nn.utils.get_total_norm(found)))
            handle.remove()

        handle = register_multi_grad_hook(parameters, record, mode="all")


@dataclass(frozen=True)
class ExplosionJob:
    """One model of the study: a cell, its gain (RNN only), a seed and the data draw it trains on."""

    cell: CellName
    gain: float | None
    seed: int
    draw: int


@dataclass(frozen=True)
class ExplosionRun:
    """The ``about`` of a model of the study: its configuration and what it measured."""

    cell: CellName
    gain: float | None
    seed: int
    draw: int
    seq_len: int
    gradient_norms: tuple[float, ...]
    share_exploding: float
    test_mse: float


def gradient_explosion(
    train: pd.DataFrame, test: pd.DataFrame, explosion: ExplosionParams, executor: ExecutorParams
) -> tuple[pd.DataFrame, list[ChildRun]]:
    """Train every configuration × seed of the study unclipped; one row and one child run per model."""
    draws = sorted(int(draw) for draw in train["draw"].unique())
    if explosion.seq_len not in set(train["seq_len"]):
        raise ValueError(f"explosion.seq_len {explosion.seq_len} is not a length of the adding data")
    data = {draw: _draw_tensors(train, test, draw, explosion) for draw in draws}
    draw_of = seed_draws(explosion.seeds, draws)
    configurations = [("rnn", gain) for gain in explosion.rnn_gains] + [(c, None) for c in explosion.cells]
    jobs = {
        _label(cell, gain, seed): ExplosionJob(cell, gain, seed, draw_of[seed])
        for cell, gain in configurations
        for seed in explosion.seeds
    }
    trained = run_tasks(train_unclipped, (data, explosion), jobs, executor)
    table = pd.DataFrame([_row(model.about, explosion.threshold) for model in trained.values()])
    test_features = {draw: tensors[2].numpy() for draw, tensors in data.items()}
    runs = [_child_run(label, model, test_features[model.about.draw]) for label, model in trained.items()]
    return table, runs


def _draw_tensors(
    train: pd.DataFrame, test: pd.DataFrame, draw: int, explosion: ExplosionParams
) -> tuple[torch.Tensor, ...]:
    """The first ``n_train`` / ``n_test`` sequences of one draw at the study's length, as tensors."""

    def first(table: pd.DataFrame, count: int) -> pd.DataFrame:
        part = table[(table["draw"] == draw) & (table["seq_len"] == explosion.seq_len)]
        return part[part["sequence"].isin(sorted(part["sequence"].unique())[:count])]

    return (*adding_tensors(first(train, explosion.n_train)), *adding_tensors(first(test, explosion.n_test)))


def _label(cell: str, gain: float | None, seed: int) -> str:
    """The name of one model and its child run, such as ``explosion-rnn-gain3-s0``."""
    return f"explosion-{cell}{'' if gain is None else f'-gain{gain:g}'}-s{seed}"


def train_unclipped(
    shared: tuple[dict[int, tuple[torch.Tensor, ...]], ExplosionParams], job: ExplosionJob
) -> TrainedModule[ExplosionRun]:
    """Train one model of the study through the shared loop, unclipped; every step's gradient norm is kept."""
    data, explosion = shared
    train_features, train_targets, test_features, test_targets = data[job.draw]
    trained = train_configuration(
        lambda: TrainedModule.build(
            GradientRecordingModel,
            cell=job.cell,
            input_size=train_features.shape[-1],
            hidden_size=explosion.hidden_size,
            output_size=1,
            gain=job.gain,
        ),
        train_features,
        train_targets,
        nn.functional.mse_loss,
        with_fixed_threads(explosion.train),
        [job.seed],
        f"explosion {job.cell} gain {job.gain} seed {job.seed}",
    )
    with torch.no_grad():
        test_mse = float(nn.functional.mse_loss(trained.module(test_features), test_targets))
    norms = tuple(trained.module.gradient_norms)
    share = exploding_share(norms, explosion.threshold)
    logger.info(
        "explosion %s gain %s seed %d: %.0f %% of %d steps exploded, test MSE %.4g",
        job.cell,
        job.gain,
        job.seed,
        100 * share,
        len(norms),
        test_mse,
    )
    about = ExplosionRun(
        job.cell, job.gain, job.seed, job.draw, train_features.shape[1], norms, share, test_mse
    )
    return trained.replace(about=about)


def _finite_or_nan(value: float) -> float:
    """``value``, or NaN (an empty cell of the table) where it is not finite."""
    return value if math.isfinite(value) else float("nan")


def _row(run: ExplosionRun, threshold: float) -> dict[str, object]:
    """One model's row of the explosion table."""
    norms = np.asarray(run.gradient_norms, dtype=np.float64)
    finite = norms[np.isfinite(norms)]
    return {
        "task": "adding",
        "study": EXPLOSION_STUDY,
        "cell": run.cell,
        "gain": float("nan") if run.gain is None else run.gain,
        "seq_len": run.seq_len,
        "draw": run.draw,
        "seed": run.seed,
        "steps": len(norms),
        "threshold": threshold,
        "share_exploding": run.share_exploding,
        "share_non_finite": float((~np.isfinite(norms)).mean()),
        # a step whose norm is not finite counts as an infinite one (it is above any median of the rest)
        "median_gradient_norm": _finite_or_nan(float(np.median(np.nan_to_num(norms, nan=np.inf)))),
        "max_finite_gradient_norm": float(finite.max()) if len(finite) else float("nan"),
        "test_mse": _finite_or_nan(run.test_mse),
    }


def _child_run(label: str, trained: TrainedModule[ExplosionRun], test_features: np.ndarray) -> ChildRun:
    """The child run of one model of the study: its configuration, shares, gradient norms per step, network.

    The trained network is logged as the run's MLflow model (kind ``sequence``), its input
    example the first test sequences of its draw ``(n, seq_len, 2)``. A network that diverged
    (an unclipped RNN at a large gain may end with weights or outputs that are not finite) is
    logged as it is: it is what the study trained, and logging reads only the example's
    shapes and dtype (finite inputs), never the outputs' values.
    """
    run = trained.about
    norms = np.asarray(run.gradient_norms, dtype=np.float64)
    non_finite = float((~np.isfinite(norms)).mean())
    metrics = {"share_exploding": run.share_exploding, "share_non_finite": non_finite}
    if math.isfinite(run.test_mse):
        metrics["test_mse"] = run.test_mse
    content = RunContent(
        params={
            "task": "adding",
            "study": EXPLOSION_STUDY,
            "cell": run.cell,
            "gain": "default" if run.gain is None else run.gain,
            "seq_len": run.seq_len,
            "draw": run.draw,
            "max_grad_norm": "none",  # no clipping: the study's point (the shared record omits it)
        },
        metrics=metrics,
        # MLflow stores finite numbers: a step whose norm overflowed is logged as the float maximum
        histories={"gradient_norm": np.nan_to_num(norms, nan=np.finfo(np.float64).max).tolist()},
        model=served_model(trained, test_features, "sequence"),
    )
    return child_run(label, trained.trained_record, trained.timing, content)


def plot_gradient_explosion(table: pd.DataFrame) -> Figure:
    """Share of exploded training steps per configuration, every seed a point, the median a bar."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    configurations = _configurations(table)
    for position, (_, rows) in enumerate(configurations):
        shares = rows["share_exploding"].to_numpy()
        ax.bar(position, np.median(shares), color="#9ecae1", edgecolor="black", width=0.6)
        ax.scatter(np.full(len(shares), position), shares, color="black", s=14, zorder=3)
    ax.set_xticks(range(len(configurations)), [name for name, _ in configurations])
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel(f"share of steps with gradient norm > {table['threshold'].iloc[0]:g} or not finite")
    ax.set_title(f"adding problem, T={table['seq_len'].iloc[0]}, no clipping: exploding gradients")
    return figure


def _configurations(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The study's configurations in table order, each named (``rnn gain 3``, ``lstm``) with its rows."""
    names = [
        cell if pd.isna(gain) else f"{cell} gain {gain:g}"
        for cell, gain in zip(table["cell"], table["gain"], strict=True)
    ]
    return [(name, table[[n == name for n in names]]) for name in dict.fromkeys(names)]


def gradient_ratios(
    models: TrainedModels, test: pd.DataFrame, data: AddingDataParams, analysis: AddingAnalysisParams
) -> tuple[pd.DataFrame, list[ChildRun]]:
    """‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ of every trained model of ``analysis.gradient_cells`` at the longest length.

    Per model (every seed, on its own draw's first ``n_probe`` test sequences), trained and at
    its initialisation, computed in double precision so that a gradient that vanished to
    below float32's range still has a ratio. One row and one child run per model and stage.
    """
    longest = max(trained.about.seq_len for trained in models.values())
    rows, runs = [], []
    for label, trained in models.items():
        about = trained.about
        if about.cell not in analysis.gradient_cells or about.seq_len != longest:
            continue
        part = test[(test["draw"] == about.draw) & (test["seq_len"] == longest)]
        features, targets = adding_tensors(part)
        features, targets = features[: data.n_probe].double(), targets[: data.n_probe].double()
        for stage, module in (("trained", trained.module), ("initial", initial_module(trained))):
            probe = _double_copy(module)
            norms = hidden_gradient_norms(probe, features, targets, nn.functional.mse_loss).numpy()
            ratio = gradient_ratio(norms)
            row = {
                "task": "adding",
                "study": RATIO_STUDY,
                "cell": about.cell,
                "stage": stage,
                "seq_len": longest,
                "draw": about.draw,
                "seed": about.seed,
                "norm_first": float(norms[0]),
                "norm_last": float(norms[-1]),
                "ratio": ratio,
                "log10_ratio": math.log10(ratio) if ratio > 0 else float("-inf"),
            }
            rows.append(row)
            runs.append(_ratio_child_run(f"{label}-{stage}-gradient-ratio", row))
    return pd.DataFrame(rows), runs


def _double_copy(module: nn.Module) -> nn.Module:
    """A double-precision copy of ``module`` (the trained weights stay as they are)."""
    return copy.deepcopy(module).double().eval()


def _ratio_child_run(name: str, row: dict[str, object]) -> ChildRun:
    """A child run of one model's gradient ratio (no training: the model is the adding problem's)."""
    return ChildRun(
        name=name,
        params={key: row[key] for key in ("task", "study", "cell", "stage", "seq_len", "draw", "seed")},
        metrics={key: float(row[key]) for key in ("norm_first", "norm_last", "ratio", "log10_ratio")},
    )


def plot_gradient_ratios(table: pd.DataFrame) -> Figure:
    """log₁₀ ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ per cell, trained and at initialisation, every seed a point."""
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    groups = list(table.groupby(["cell", "stage"], sort=False))
    for position, (_, rows) in enumerate(groups):
        values = rows["log10_ratio"].to_numpy()
        ax.bar(position, np.median(values), color="#fdae6b", edgecolor="black", width=0.6)
        ax.scatter(np.full(len(values), position), values, color="black", s=14, zorder=3)
    ax.set_xticks(range(len(groups)), [f"{cell}\n{stage}" for (cell, stage), _ in groups])
    ax.axhline(0, color="grey", linewidth=1, linestyle="--", label="as much gradient at h₁ as at h_T")
    ax.set_ylabel("log₁₀ ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖")
    ax.set_title(f"adding problem, T={table['seq_len'].iloc[0]}: gradient reaching the first step")
    ax.legend()
    return figure
