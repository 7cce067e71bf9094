"""What a hyperparameter search draws from, and how it is checked (``<pipeline>.search``).

Pydantic models only, so a pipeline's parameters can declare their search without importing
the study's machinery (:mod:`dlpipeline.search`): a space that cannot be sampled, an unknown
hyperparameter or an unknown metric is refused when the parameters load, before any training.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dlpipeline.records import ParamValue
from dlpipeline.training import MAX_SEED

Direction = Literal["maximize", "minimize"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FloatRange(_Strict):
    """A real number drawn between ``low`` and ``high`` (``log-float``: uniformly in its logarithm)."""

    type: Literal["float", "log-float"]
    low: float
    high: float

    @model_validator(mode="after")
    def _samplable(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        if self.type == "log-float" and self.low <= 0:
            raise ValueError(f"log-float needs low > 0, got {self.low}")
        return self

    def bounds(self) -> list[ParamValue]:
        """The values a draw may reach at the edges."""
        return [self.low, self.high]


class IntRange(_Strict):
    """An integer drawn from ``low``, ``low + step``, ... up to ``high``."""

    type: Literal["int"]
    low: int
    high: int
    step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _samplable(self) -> Self:
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self

    def bounds(self) -> list[ParamValue]:
        """The values a draw may reach at the edges."""
        return [self.low, self.low + (self.high - self.low) // self.step * self.step]


class Choices(_Strict):
    """One of ``choices``."""

    type: Literal["categorical"]
    choices: list[str | int | float | bool] = Field(min_length=1)

    def bounds(self) -> list[ParamValue]:
        """Every value a draw may take."""
        return list(self.choices)


Hyperparameter = Annotated[FloatRange | IntRange | Choices, Field(discriminator="type")]


class PruningParams(_Strict):
    """When a trial is stopped: its metric after an epoch is worse than the finished trials' median there."""

    startup_trials: int = Field(default=3, ge=0, description="trials that always finish, before any pruning")
    warmup_epochs: int = Field(default=2, ge=0, description="epochs of every trial that are never pruned")


@dataclass(frozen=True)
class Tunable:
    """A setting of a pipeline that a search may draw: where it lives and how a value is checked."""

    key: str
    """The parameter key it sets (``cnn.training.train.learning_rate``): what ``--params`` takes."""
    check: Callable[[ParamValue], object]
    """Raises ``ValueError`` (pydantic's too) when the pipeline would refuse the value."""


class SearchParams(_Strict):
    """A hyperparameter search (``<pipeline>.search``); ``trials: 0`` runs none.

    A pipeline subclasses it, naming its :attr:`TUNABLE` settings and the per-epoch
    :attr:`METRICS` (with their direction) a trial may be ranked by.
    """

    TUNABLE: ClassVar[Mapping[str, Tunable]] = {}
    METRICS: ClassVar[Mapping[str, Direction]] = {}

    trials: int = Field(default=0, ge=0, le=10_000, description="trials in the study in all; 0 = no search")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="the sampler's seed")
    metric: str = Field(description="the per-epoch measurement that ranks trials (its last epoch)")
    n_seeds: int = Field(default=1, ge=1, le=100, description="seeds each trial trains (one batched network)")
    storage: str = Field(min_length=1, description="SQLite file of the study (resumed when it exists)")
    study_name: str = Field(min_length=1, description="name of the study in that file")
    pruning: PruningParams = PruningParams()
    space: dict[str, Hyperparameter] = Field(min_length=1, description="name -> how it is drawn")

    @model_validator(mode="after")
    def _known_names(self) -> Self:
        if self.metric not in self.METRICS:
            raise ValueError(
                f"unknown metric {self.metric!r} to rank trials by: use one of {sorted(self.METRICS)}"
            )
        unknown = sorted(set(self.space) - set(self.TUNABLE))
        if unknown:
            raise ValueError(f"unknown hyperparameter {unknown[0]!r} in space: use {sorted(self.TUNABLE)}")
        for name, hyperparameter in self.space.items():
            for value in hyperparameter.bounds():
                try:
                    self.TUNABLE[name].check(value)
                except ValueError as error:
                    reason = str(error).splitlines()[-1].strip()
                    raise ValueError(f"space.{name} may draw {value!r}, which is refused: {reason}") from None
        return self

    @property
    def direction(self) -> Direction:
        """Whether the metric is better large (``maximize``) or small."""
        return self.METRICS[self.metric]

    def as_overrides(self, values: Mapping[str, ParamValue]) -> dict[str, ParamValue]:
        """Drawn values by parameter key: the form ``kedro run --params`` takes."""
        return {self.TUNABLE[name].key: value for name, value in values.items()}
