"""The vocabulary every experiment pipeline shares, so the same thing has the same name everywhere.

- :class:`StrictParams` and :class:`SeedParams`: parameter blocks that refuse unknown keys,
  and the seeds a configuration is trained with (``n_seeds`` from ``first_seed``).
- :func:`median_seed_index` and :func:`over_seeds`: the typical seed (the lower median, not
  the best), and a metric's median / mean / std / min / max over seeds.
- :func:`nested_metrics`: a result table as the nested JSON that ``dvc metrics`` reads.
- :class:`TrainingRecord` and :func:`child_run`: what every MLflow child run logs about how
  its models were trained, always under the same names — params ``seed``, ``n_seeds``,
  ``epochs``, ``learning_rate``, ``batch_size``, ``optimizer``; metrics ``train_seconds``,
  ``n_params``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import BaseModel, ConfigDict, Field

from dlpipeline.tracking import ChildRun, ParamValue
from dlpipeline.training import MAX_SEED, TrainConfig


class StrictParams(BaseModel):
    """A frozen parameter block that rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedParams(StrictParams):
    """How many seeds every configuration is trained with: ``first_seed .. first_seed + n_seeds - 1``."""

    n_seeds: int = Field(default=3, ge=1, le=1000, description="seeds per configuration")
    first_seed: int = Field(default=0, ge=0, le=MAX_SEED)

    @property
    def seeds(self) -> list[int]:
        """The seeds every configuration is trained with."""
        return list(range(self.first_seed, self.first_seed + self.n_seeds))


def median_seed_index(values: Sequence[float] | np.ndarray) -> int:
    """Index of the lower-median value: a typical seed, not the best one."""
    order = np.argsort(np.asarray(values), kind="stable")
    return int(order[(len(order) - 1) // 2])


def over_seeds(name: str, values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``name`` (the median over seeds) with its ``_mean``, ``_std``, ``_min`` and ``_max``."""
    array = np.asarray(values, dtype=float)
    return {
        name: float(np.median(array)),
        f"{name}_mean": float(array.mean()),
        f"{name}_std": float(array.std()),
        f"{name}_min": float(array.min()),
        f"{name}_max": float(array.max()),
    }


def nested_metrics(table: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> dict[str, Any]:
    """``table`` as nested JSON for ``dvc metrics``: ``keys[0]`` → ``keys[1]`` → … → column → value."""
    if not keys:
        (row,) = table.to_dict("records")
        return {column: float(row[column]) for column in columns}
    return {
        str(value): nested_metrics(rows, keys[1:], columns)
        for value, rows in table.groupby(keys[0], sort=False)
    }


@dataclass(frozen=True)
class TrainingRecord:
    """How one configuration's models were trained, under the names every pipeline uses."""

    seeds: tuple[int, ...]
    epochs: int
    learning_rate: float
    batch_size: int
    optimizer: str
    train_seconds: float
    n_params: int

    @classmethod
    def from_config(
        cls, train: TrainConfig, seeds: Sequence[int], n_train: int, train_seconds: float, n_params: int
    ) -> "TrainingRecord":
        """The record of a configuration trained by the shared loop on ``n_train`` rows."""
        return cls(
            seeds=tuple(seeds),
            epochs=train.epochs,
            learning_rate=train.learning_rate,
            batch_size=min(train.batch_size or n_train, n_train),
            optimizer="adam",
            train_seconds=train_seconds,
            n_params=n_params,
        )

    @property
    def params(self) -> dict[str, ParamValue]:
        """``seed`` (the first), ``n_seeds``, ``epochs``, ``learning_rate``, ``batch_size``, ``optimizer``."""
        return {
            "seed": self.seeds[0],
            "n_seeds": len(self.seeds),
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "optimizer": self.optimizer,
        }

    @property
    def metrics(self) -> dict[str, float]:
        """``train_seconds`` and ``n_params`` (of one network)."""
        return {"train_seconds": self.train_seconds, "n_params": float(self.n_params)}


@dataclass(frozen=True)
class RunContent:
    """What a child run logs beyond its training record."""

    params: Mapping[str, ParamValue] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    histories: Mapping[str, Sequence[float]] = field(default_factory=dict)
    figures: Mapping[str, Figure] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)


def child_run(name: str, training: TrainingRecord, content: RunContent) -> ChildRun:
    """One MLflow child run: the shared training names first, then the pipeline's own."""
    return ChildRun(
        name=name,
        params={**training.params, **content.params},
        metrics={**training.metrics, **content.metrics},
        metric_histories=content.histories,
        figures=content.figures,
        texts=content.texts,
    )
