"""What a trained model knows about itself, as types every pipeline shares.

- :class:`TrainingRecord`: how it was trained — the settings actually used, its seeds, the
  epochs it ran, the device and torch threads, its training rows and parameters.
- :class:`History`: what was measured after every epoch, under one set of names.
- :class:`Timing`: how long training took on this machine (kept out of model files, so a
  file's bytes depend only on code, data and parameters).

All three are frozen dataclasses of numbers, strings, tuples and tensors: they are saved
inside model files and load with ``torch.load(weights_only=True)``.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import torch

ParamValue = str | int | float | bool
"""A value MLflow logs as a param."""


@dataclass(frozen=True)
class TrainingRecord:
    """How one trained model (every seed of it) was trained, under the names every pipeline uses."""

    seeds: tuple[int, ...]
    epochs: int
    """Epochs asked for (``max_iter`` for scikit-learn)."""
    epochs_run: int
    """Epochs actually run (fewer when a solver converged early)."""
    learning_rate: float
    batch_size: int
    """Rows per step (the whole training set for full-batch training)."""
    optimizer: str
    n_train: int
    """Training rows seen per epoch (after any augmentation)."""
    n_params: int
    """Trainable parameters of one network (one seed)."""
    device: str = "cpu"
    threads: int | None = None
    """Torch threads it trained on (``None``: not trained by torch)."""
    weight_decay: float = 0.0
    max_grad_norm: float | None = None
    settings: Mapping[str, ParamValue] = field(default_factory=dict)
    """Settings of its own kind of training under their own names, e.g. ``restarts`` or ``solver``."""

    @property
    def params(self) -> dict[str, ParamValue]:
        """The shared child-run params: ``seed`` (the first), ``n_seeds``, ``epochs``, … then settings."""
        return {
            "seed": self.seeds[0],
            "n_seeds": len(self.seeds),
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
            **self.settings,
        }


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds of a training on this machine (NaN when unknown)."""

    train_seconds: float = math.nan
    cpu_seconds: float = math.nan

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> "Timing":
        """The timing saved as ``{"train_seconds": …, "cpu_seconds": …}``; missing values are NaN."""
        return cls(**{item.name: float(values[item.name]) for item in fields(cls) if item.name in values})

    def as_dict(self) -> dict[str, float]:
        """``train_seconds`` and ``cpu_seconds``."""
        return {item.name: float(getattr(self, item.name)) for item in fields(self)}


@dataclass(frozen=True)
class History:
    """What was measured after every epoch: each ``(epochs, *per_member)``, on the CPU.

    ``loss`` is the mean training loss; the others are there when the pipeline's epoch
    evaluator measured them, under these names only.
    """

    loss: torch.Tensor
    val_loss: torch.Tensor | None = None
    val_accuracy: torch.Tensor | None = None
    test_accuracy: torch.Tensor | None = None
    test_mse: torch.Tensor | None = None
    test_nll: torch.Tensor | None = None
    entity_f1: torch.Tensor | None = None
    """A tagger's entity-level F1 on the test sentences."""

    @classmethod
    def measured(cls, loss: torch.Tensor, evaluations: Mapping[str, torch.Tensor]) -> "History":
        """The history of ``loss`` and ``evaluations``; an evaluation under another name is an error."""
        known = {item.name for item in fields(cls)} - {"loss"}
        unknown = sorted(set(evaluations) - known)
        if unknown:
            raise ValueError(f"epoch evaluations {unknown} have no place in History: use {sorted(known)}")
        return cls(loss=loss, **evaluations)

    @property
    def epochs(self) -> int:
        """Epochs recorded."""
        return len(self.loss)

    def of(self, name: str) -> torch.Tensor:
        """The measurement ``name``; an error naming what was recorded when it was not."""
        value = getattr(self, name, None)
        if not isinstance(value, torch.Tensor):
            recorded = [item.name for item in fields(self) if getattr(self, item.name) is not None]
            raise KeyError(f"{name!r} was not recorded per epoch; recorded: {recorded}")
        return value


def effective_batch_size(batch_size: int | None, n_train: int) -> int:
    """Rows per step: ``batch_size`` capped at the training rows, or all of them when unset."""
    return min(batch_size or n_train, n_train)


def seeds_tuple(seeds: Sequence[int]) -> tuple[int, ...]:
    """``seeds`` as a tuple of plain ints (numpy integers do not survive a weights-only load)."""
    return tuple(int(seed) for seed in seeds)
