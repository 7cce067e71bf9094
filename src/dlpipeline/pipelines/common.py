"""The vocabulary every experiment pipeline shares, so the same thing has the same name everywhere.

- :class:`StrictParams` and :class:`SeedParams`: parameter blocks that refuse unknown keys,
  and the seeds a configuration is trained with (``n_seeds`` from ``first_seed``).
- :func:`median_seed_index` and :func:`over_seeds`: the typical seed (the lower median, not
  the best), and a metric's median / mean / std / min / max over seeds.
- :class:`RegistryParams`: where a pipeline registers its best configuration (``<p>.registry``).
- :func:`nested_metrics`: a result table as the nested JSON that ``dvc metrics`` reads.
- :func:`child_run`: what every MLflow child run logs about how its models were trained,
  read from their :class:`~dlpipeline.records.TrainingRecord` and always under the same
  names — params ``seed``, ``n_seeds``, ``epochs``, ``learning_rate``, ``batch_size``,
  ``optimizer``; metrics ``train_seconds``, ``n_params``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import BaseModel, ConfigDict, Field

from dlpipeline.records import ParamValue, Timing, TrainingRecord
from dlpipeline.tracking import ChildRun, LoggableModel
from dlpipeline.training import MAX_SEED


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


class RegistryParams(StrictParams):
    """Which registered model a pipeline's champion goes to (``<p>.registry``); ``rank_by`` per pipeline.

    Each pipeline adds ``rank_by``: the validation metrics its child runs log, as a ``Literal``,
    so an unknown metric is refused when the parameters load, naming the ones there are.
    """

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$",
        description="registered model name, e.g. dlpipeline-cnn",
    )


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
class RunContent:
    """What a child run logs beyond its training record."""

    params: Mapping[str, ParamValue] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    histories: Mapping[str, Sequence[float]] = field(default_factory=dict)
    figures: Mapping[str, Figure] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    model: LoggableModel | None = None
    """The trained network, logged as the run's MLflow model (``dlpipeline.served.served_model``)."""


def child_run(name: str, record: TrainingRecord, timing: Timing, content: RunContent) -> ChildRun:
    """One MLflow child run of a trained model: its record's shared names first, then the pipeline's own.

    Params come from the model's :class:`~dlpipeline.records.TrainingRecord` (what it was
    trained with, never today's parameters); metrics ``train_seconds`` (its timing) and
    ``n_params`` (one network) join the pipeline's own.
    """
    return ChildRun(
        name=name,
        params={**record.params, **content.params},
        metrics={
            "train_seconds": timing.train_seconds,
            "n_params": float(record.n_params),
            **content.metrics,
        },
        metric_histories=content.histories,
        figures=content.figures,
        texts=content.texts,
        model=content.model,
    )
