"""The one seeded, device-aware training loop that every torch model of dlpipeline uses.

:func:`train_configuration` is how every pipeline trains a configuration: seed, build (the
pipeline's model factory), fit, and return the model with its typed
:class:`~dlpipeline.records.TrainingRecord`, :class:`~dlpipeline.records.History` and
:class:`~dlpipeline.records.Timing`. :func:`fit` is the loop inside it.

A model may hold several independent members (an ensemble trained as one batched
module, see :mod:`dlpipeline.models.mlp`); its loss function then returns one loss per
member. The loop minimises their sum, which leaves each member's Adam update exactly
what it would be alone, and records every member's loss at every epoch.
"""

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Annotated, Literal, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dlpipeline.allocator import keep_freed_memory
from dlpipeline.executor import StopRequestedError, stop_requested
from dlpipeline.models.checkpoint import TrainedModule, count_parameters
from dlpipeline.records import History, ParamValue, Timing, TrainingRecord, effective_batch_size, seeds_tuple
from dlpipeline.threads import ThreadSetting, resolve_threads

logger = logging.getLogger(__name__)

DeviceName = Literal["auto", "cpu", "cuda"]
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EpochEvaluator = Callable[[torch.nn.Module], Mapping[str, torch.Tensor | float]]
"""Called after every epoch (model in eval mode, no gradients); returns named measurements."""

PROGRESS_INTERVAL_SECONDS = 5.0


class TrainConfig(BaseModel):
    """Knobs of the shared training loop (Adam, full batch unless ``batch_size`` is set)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(default=1000, ge=1, description="passes over the training set")
    learning_rate: float = Field(default=0.01, gt=0, le=10, description="Adam step size")
    weight_decay: float = Field(default=0.0, ge=0, description="L2 penalty (Adam)")
    adam_betas: tuple[float, float] = Field(
        default=(0.9, 0.999),
        description="Adam's decay rates for its gradient mean and square (GANs train better with 0.5 first)",
    )
    batch_size: int | None = Field(
        default=None, ge=1, description="mini-batch size; null trains on the full batch"
    )
    device: DeviceName = Field(default="auto", description="auto = cuda when present, else cpu")
    max_grad_norm: float | None = Field(
        default=None, gt=0, description="clip the gradient norm to this before each step; null = no clipping"
    )
    fused_adam: bool = Field(
        default=False,
        description="update every parameter in one fused Adam kernel (torch's fused=True) instead of "
        "several small operations per parameter: faster for many small steps; the float rounding of "
        "the update may differ from the per-parameter loop's",
    )
    threads: Annotated[int, Field(ge=1, le=256)] | Literal["auto"] | None = Field(
        default=None,
        description="CPU threads for torch: a count, auto (every core, or the cores other work leaves "
        "free when idle threads spin; see dlpipeline.threads) or null (torch's default)",
    )

    @field_validator("adam_betas")
    @classmethod
    def _betas_below_one(cls, betas: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"each of adam_betas must be in [0, 1), got {list(betas)}")
        return betas


def resolve_device(requested: DeviceName) -> torch.device:
    """Map ``auto`` / ``cpu`` / ``cuda`` to a torch device; ``auto`` prefers CUDA."""
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was requested but torch sees no CUDA device")
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


MAX_SEED = 2**32 - 1  # the largest seed numpy and scikit-learn accept


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch in one place; on CUDA, ask for deterministic kernels.

    The CPU kernels these models use are deterministic already; turning torch's
    deterministic mode on there would only cost a 2-second import of its compiler stack.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def fit(
    model: torch.nn.Module,
    features: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: LossFunction,
    config: TrainConfig,
    seed: int,
    description: str = "model",
    evaluate_epoch: EpochEvaluator | None = None,
) -> History:
    """Train ``model`` in place with Adam and return what was recorded on the way.

    ``loss_fn(outputs, targets)`` returns a scalar or one loss per ensemble member.
    ``seed`` fixes the mini-batch order; the model's initial weights are the caller's.
    ``evaluate_epoch(model)``, if given, runs after every epoch (e.g. validation loss and
    accuracy) under the names of :class:`~dlpipeline.records.History`, stacked over epochs.
    ``config.threads`` applies while this model trains (``auto`` is resolved now, from the
    machine's load); torch's setting is restored after. The loop stops at the end of an epoch
    when its executor asks it to (another task of its sweep failed, or the run was interrupted).
    """
    keep_freed_memory()  # every epoch frees and allocates the same large tensors again
    with torch_threads(config.threads):
        device = resolve_device(config.device)
        model.to(device)
        features, targets = features.to(device), targets.to(device)
        optimiser = torch.optim.Adam(
            model.parameters(),
            lr=config.learning_rate,
            betas=config.adam_betas,
            weight_decay=config.weight_decay,
            fused=config.fused_adam or None,  # None: torch's default, the per-parameter loop on the CPU
        )
        batches = _batch_schedule(len(features), config.batch_size, seed, device)
        history: list[torch.Tensor] = []
        evaluations: dict[str, list[torch.Tensor]] = {}
        started = last_report = time.perf_counter()
        model.train()
        for epoch in range(config.epochs):
            epoch_loss = torch.zeros((), device=device)
            for batch in batches():
                optimiser.zero_grad(set_to_none=True)
                batch_features = features[batch]
                batch_loss = loss_fn(model(batch_features), targets[batch])
                # a scalar loss goes to backward as it is: summing it adds a node to every step's graph
                (batch_loss if batch_loss.dim() == 0 else batch_loss.sum()).backward()
                if config.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                optimiser.step()
                epoch_loss = epoch_loss + batch_loss.detach() * (len(batch_features) / len(features))
            history.append(epoch_loss)
            if stop_requested():
                raise StopRequestedError(f"{description}: stopped at epoch {epoch + 1}")
            if evaluate_epoch is not None:
                _record(evaluations, _evaluate(model, evaluate_epoch))
            if time.perf_counter() - last_report > PROGRESS_INTERVAL_SECONDS:
                last_report = time.perf_counter()
                logger.info(
                    "%s: epoch %d/%d, mean loss %.4f",
                    description,
                    epoch + 1,
                    config.epochs,
                    float(epoch_loss.mean()),
                )
        model.eval()
        logger.debug("%s: trained in %.2f s", description, time.perf_counter() - started)
        return History.measured(
            torch.stack(history).cpu(),
            {name: torch.stack(values).cpu() for name, values in evaluations.items()},
        )


def with_fixed_threads(train: TrainConfig) -> TrainConfig:
    """``train`` with ``threads`` set: as configured, else this process's torch thread count.

    How many threads share a CPU kernel changes the order of its float sums, so a sweep gives
    every task the same count wherever it runs: a Dask worker (whose own default is its Dask
    threads, usually 1) then trains to the same weights as this process would.
    """
    return (
        train if train.threads is not None else train.model_copy(update={"threads": torch.get_num_threads()})
    )


@contextmanager
def torch_threads(setting: ThreadSetting) -> Iterator[None]:
    """Run the block on ``setting`` torch threads (``auto``: as the load allows, ``None``: as set).

    Torch's setting is restored after.
    """
    previous = torch.get_num_threads()
    count = resolve_threads(setting)
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@torch.no_grad()
def _evaluate(model: torch.nn.Module, evaluate_epoch: EpochEvaluator) -> Mapping[str, torch.Tensor | float]:
    """Run the epoch evaluator in eval mode without gradients, then return to training mode."""
    model.eval()
    measurements = evaluate_epoch(model)
    model.train()
    return measurements


def _record(
    evaluations: dict[str, list[torch.Tensor]], measurements: Mapping[str, torch.Tensor | float]
) -> None:
    """Append one epoch's measurements to the running lists."""
    for name, value in measurements.items():
        evaluations.setdefault(name, []).append(torch.as_tensor(value).detach())


def _batch_schedule(
    n_rows: int, batch_size: int | None, seed: int, device: torch.device
) -> Callable[[], list[torch.Tensor | slice]]:
    """Return a function giving each epoch's row selections: one full slice, or shuffled batches."""
    if batch_size is None or batch_size >= n_rows:
        full_batch: list[torch.Tensor | slice] = [slice(None)]
        return lambda: full_batch
    generator = torch.Generator().manual_seed(seed)

    def shuffled_batches() -> list[torch.Tensor | slice]:
        order = torch.randperm(n_rows, generator=generator).to(device)
        return list(order.split(batch_size))

    return shuffled_batches


@torch.no_grad()
def predict(model: torch.nn.Module, features: torch.Tensor, device: DeviceName = "auto") -> torch.Tensor:
    """Return ``model``'s outputs for ``features`` on the CPU, without tracking gradients."""
    model.eval()
    target_device = resolve_device(device)
    model.to(target_device)
    return model(features.to(target_device)).cpu()


About = TypeVar("About")
_BUILDING = threading.Lock()
"""Held while a model is seeded and built: its initial weights come from its seed alone, even when
other configurations are built on other threads at the same time."""


def train_configuration(
    build: Callable[[], TrainedModule],
    features: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: LossFunction,
    config: TrainConfig,
    seeds: Sequence[int],
    description: str,
    *,
    evaluate_epoch: EpochEvaluator | None = None,
    members: int = 1,
    about: About | None = None,
    settings: Mapping[str, ParamValue] | None = None,
) -> TrainedModule[About]:
    """Seed, build, fit and record one configuration: how every pipeline trains a model.

    ``build()`` (the pipeline's model factory) runs right after seeding with ``seeds[0]``, so
    the initial weights (and any dropout masks) depend on the seeds alone. The model trains
    with :func:`fit` on ``features`` and ``targets`` and comes back on the CPU with its
    record (``members`` networks share its parameters; ``settings`` are the pipeline's own
    training settings), its per-epoch history, ``about`` (the pipeline's description of the
    configuration) and its timing. Torch's thread count is fixed for the whole training and
    recorded, so a rerun elsewhere (a Dask worker) can train to the same weights.
    """
    with _BUILDING:
        seed_everything(seeds[0])
        trained = build()
    device = resolve_device(config.device)
    with torch_threads(config.threads):
        threads = torch.get_num_threads()
        started, cpu_started = time.perf_counter(), time.thread_time()
        history = fit(
            trained.module,
            features,
            targets,
            loss_fn,
            config.model_copy(update={"threads": threads}),
            seeds[0],
            description,
            evaluate_epoch,
        )
        timing = Timing(time.perf_counter() - started, time.thread_time() - cpu_started)
    trained.module.cpu()
    record = TrainingRecord(
        seeds=seeds_tuple(seeds),
        epochs=config.epochs,
        epochs_run=history.epochs,
        learning_rate=config.learning_rate,
        batch_size=effective_batch_size(config.batch_size, len(features)),
        optimizer="adam",
        n_train=len(features),
        n_params=count_parameters(trained.module, members),
        device=device.type,
        threads=threads,
        weight_decay=config.weight_decay,
        max_grad_norm=config.max_grad_norm,
        settings=dict(settings or {}),
    )
    return trained.replace(record=record, history=history, about=about, timing=timing)


def initial_module(trained: TrainedModule) -> torch.nn.Module:
    """``trained``'s module as :func:`train_configuration` built it, before any training.

    Rebuilt from its arguments after the same seeding, so a model file need not carry a
    second copy of the weights to show what training changed.
    """
    with _BUILDING:
        seed_everything(trained.trained_record.seeds[0])
        return type(trained.module)(**trained.kwargs).eval()
