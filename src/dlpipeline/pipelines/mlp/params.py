"""Typed parameters of the MLP experiment (``conf/*/parameters_mlp.yml``, key ``mlp``).

Kedro validates each ``params:mlp.<section>`` input against the model that the node
annotates it with, before any node runs: a wrong value stops the run with a message
naming the key and the rule it broke.

The names the experiment gives its configurations live here too (``torch-5``,
``sklearn-8x8``): the model files, tables and MLflow runs all use them.
"""

import math
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, PositiveInt, model_validator

from dlpipeline.data.toy2d import N_TOY_CLASSES, ToyDatasetName
from dlpipeline.models.mlp import ActivationName
from dlpipeline.pipelines.common import SeedParams, StrictParams
from dlpipeline.training import MAX_SEED, TrainConfig

Flavour = Literal["torch", "sklearn"]
"""Who trains a configuration: the project's loop (``torch``) or ``MLPClassifier`` (``sklearn``)."""


def _as_widths(entry: object) -> object:
    """Read a bare int ``n`` as the one-layer architecture ``[n]``."""
    return [entry] if isinstance(entry, int) else entry


HiddenLayers = Annotated[list[PositiveInt], Field(min_length=1), BeforeValidator(_as_widths)]
"""Widths of the hidden layers of one configuration; a bare int is a single layer."""


def widths_text(hidden_layers: tuple[int, ...]) -> str:
    """``(5,)`` → ``5``; ``(8, 8)`` → ``8x8``."""
    return "x".join(str(width) for width in hidden_layers)


def model_name(flavour: Flavour, hidden_layers: tuple[int, ...]) -> str:
    """A configuration's name in the model files and MLflow: ``torch-5``, ``sklearn-8x8``."""
    return f"{flavour}-{widths_text(hidden_layers)}"


class ToyDataParams(StrictParams):
    """Which 2-D toy set to generate and how to split it (``mlp.data``)."""

    name: ToyDatasetName = "circles"
    n_samples: int = Field(default=300, ge=10, le=1_000_000)
    noise: float = Field(default=0.1, ge=0, le=10)
    factor: float = Field(default=0.5, gt=0, lt=1)
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    test_size: float = Field(default=0.3, gt=0, lt=1)

    @model_validator(mode="after")
    def _both_splits_hold_both_classes(self) -> Self:
        n_test = math.ceil(self.test_size * self.n_samples)
        if min(n_test, self.n_samples - n_test) < N_TOY_CLASSES:
            raise ValueError(
                f"test_size {self.test_size} of {self.n_samples} points leaves a split with fewer "
                f"than {N_TOY_CLASSES} points (one per class)"
            )
        return self


class SweepParams(SeedParams):
    """The configurations to train (``mlp.sweep``): architectures × seeds.

    Each ``hidden_neurons`` entry is one configuration: an int is a single hidden layer
    of that many neurons, a list gives the widths of a deeper net (``[8, 8]``).
    """

    hidden_neurons: list[HiddenLayers] = Field(min_length=1)
    activation: ActivationName = "relu"
    n_seeds: int = Field(default=20, ge=1, le=1000, description="seeds per configuration")
    grid_resolution: int = Field(default=100, ge=10, le=1000)

    @property
    def architectures(self) -> list[tuple[int, ...]]:
        """Each configuration's hidden-layer widths as a tuple."""
        return [tuple(widths) for widths in self.hidden_neurons]


class TorchParams(StrictParams):
    """The torch flavour (``mlp.torch``): the shared loop, plus restarts per seed."""

    restarts: int = Field(
        default=4,
        ge=1,
        le=100,
        description="initialisations per seed; the one with the lowest final train loss is kept",
    )
    train: TrainConfig = TrainConfig()


class SklearnParams(StrictParams):
    """The scikit-learn flavour (``mlp.sklearn``): ``MLPClassifier`` as the notes use it."""

    solver: Literal["adam", "lbfgs", "sgd"] = "adam"
    max_iter: int = Field(default=1000, ge=1)
