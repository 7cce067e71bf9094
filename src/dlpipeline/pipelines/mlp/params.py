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
from dlpipeline.executor import ExecutorParams
from dlpipeline.models.mlp import ActivationName
from dlpipeline.pipelines.common import RegistryParams, SeedParams, StrictParams
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
    n_draws: int = Field(
        default=1,
        ge=1,
        le=100,
        description="data draws for the claims: draw d generates and splits with random_state + d",
    )

    @property
    def draw_random_states(self) -> list[int]:
        """The random state of every draw; draw 0's is ``random_state``, the set the figures show."""
        return [self.random_state + draw for draw in range(self.n_draws)]

    @property
    def validation_random_state(self) -> int:
        """The random state of the validation points: the first one no draw uses."""
        return (self.random_state + self.n_draws) % (MAX_SEED + 1)

    @model_validator(mode="after")
    def _both_splits_hold_both_classes(self) -> Self:
        n_test = math.ceil(self.test_size * self.n_samples)
        if min(n_test, self.n_samples - n_test) < N_TOY_CLASSES:
            raise ValueError(
                f"test_size {self.test_size} of {self.n_samples} points leaves a split with fewer "
                f"than {N_TOY_CLASSES} points (one per class)"
            )
        return self

    @model_validator(mode="after")
    def _every_draw_has_a_valid_seed(self) -> Self:
        if self.random_state + self.n_draws - 1 > MAX_SEED:
            raise ValueError(f"random_state + n_draws - 1 must be at most {MAX_SEED}")
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
    executor: ExecutorParams = Field(
        default=ExecutorParams(),
        description="where the fits run, one network each: local (one by one) or processes (`workers` "
        "at once); every fit gives the same network wherever it runs",
    )


NotesGroup = Annotated[list[PositiveInt], Field(min_length=1)]
"""The one-layer widths one line of the notes speaks of together (``3–4 neurons``: ``[3, 4]``)."""


class UnitsParams(StrictParams):
    """The units the claims are judged on (``mlp.units``): every draw × seed, and the notes' groups."""

    sklearn_seeds: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="MLPClassifier's seeds per draw, the first of mlp.sweep (it fits one network at a time)",
    )
    groups: dict[str, NotesGroup] = Field(
        default_factory=dict,
        description="the notes' groups of one-layer widths, by label: {'3-4': [3, 4]}",
    )


class ThroughputParams(StrictParams):
    """The batch-processing timing (``mlp.throughput``): one network, one epoch at several batch sizes."""

    hidden_neurons: PositiveInt = 8
    batch_sizes: list[PositiveInt] = Field(
        default=[1, 4, 16, 64],
        min_length=1,
        description="mini-batch sizes timed beside the full batch (sizes at or above it are dropped)",
    )
    repeats: int = Field(default=5, ge=1, le=100, description="turns over every batch size")
    epochs: int = Field(default=2, ge=1, le=1000, description="epochs timed per batch size and turn")


Noise = Annotated[float, Field(ge=0, le=10)]
Factor = Annotated[float, Field(gt=0, lt=1)]


class NoiseFactorParams(StrictParams):
    """The ``noise_factor`` study (``mlp.neurons.noise_factor``): make_circles' noise × factor grid."""

    noise: list[Noise] = Field(min_length=1, description="make_circles' noise values (std of the blur)")
    factor: list[Factor] = Field(min_length=1, description="make_circles' factor values (inner/outer radius)")
    hidden_neurons: PositiveInt = Field(default=8, description="one hidden layer of this many neurons")

    @property
    def settings(self) -> list[tuple[float, float]]:
        """Every (noise, factor) of the grid, noise first."""
        return [
            (noise, factor) for noise in dict.fromkeys(self.noise) for factor in dict.fromkeys(self.factor)
        ]


class NeuronsParams(StrictParams):
    """The neurons study (``mlp.neurons``): activation, bias, a perceptron, the data's noise and factor.

    The networks train as the sweep's torch flavour does (``mlp.torch``), on every data draw
    (``mlp.data.n_draws``), with the sweep's first ``n_seeds`` seeds; the sweep's own ReLU networks
    of the same widths, draws and seeds are the other side of every comparison.
    """

    n_seeds: int = Field(
        default=5, ge=1, le=1000, description="the sweep's first seeds (at most mlp.sweep.n_seeds)"
    )
    hidden_neurons: list[PositiveInt] = Field(
        min_length=1, description="one-layer widths trained without bias and with `activation`"
    )
    activation: ActivationName = Field(
        default="identity", description="the activation trained beside the sweep's (mlp.sweep.activation)"
    )
    perceptron_max_iter: int = Field(default=1000, ge=1, description="epochs of the perceptron at most")
    noise_factor: NoiseFactorParams

    def study_sweep(
        self, sweep: SweepParams, hidden_neurons: list[int], activation: ActivationName
    ) -> SweepParams:
        """``sweep`` restricted to the study's seeds, with these one-layer widths and activation."""
        return SweepParams.model_validate(
            {
                **sweep.model_dump(),
                "hidden_neurons": hidden_neurons,
                "activation": activation,
                "n_seeds": min(self.n_seeds, sweep.n_seeds),
            }
        )


class MlpRegistryParams(RegistryParams):
    """Where the best configuration is registered (``mlp.registry``) and by which validation metric.

    ``val_accuracy``: the mean over seeds of the accuracy on fresh points of the same toy set
    (its own random state, one no data draw uses), never the test split.
    """

    rank_by: Literal["val_accuracy"] = Field(
        default="val_accuracy", description="child-run metric that picks the champion (never a test one)"
    )
