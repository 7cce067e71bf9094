"""Typed parameters of the CNN experiment (``conf/*/parameters_cnn.yml``, key ``cnn``).

Kedro validates each ``params:cnn.<section>`` input against the model that the node
annotates it with, before any node runs: a wrong value stops the run with a message
naming the key and the rule it broke.
"""

from collections.abc import Callable, Mapping
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, Field, PositiveInt, model_validator

from dlpipeline import search_space
from dlpipeline.data.digits import N_IMAGE_CLASSES, ImageSourceName
from dlpipeline.models.cnn import PoolingName
from dlpipeline.pipelines.common import RegistryParams, SeedParams, StrictParams
from dlpipeline.records import ParamValue
from dlpipeline.training import MAX_SEED, TrainConfig

MAX_SEEDS = 100
"""Tighter than the shared bound: all seeds of a configuration train as one batched network in memory."""


class IDXFilePair(StrictParams):
    """One MNIST-format images file and its labels file (plain or gzip-compressed)."""

    images: str = Field(min_length=1)
    labels: str = Field(min_length=1)


class ImageDataParams(StrictParams):
    """Which images to use and how to split them (``cnn.data``)."""

    source: ImageSourceName = "digits"
    idx_files: list[IDXFilePair] = Field(
        default_factory=list, description="source idx: (images, labels) pairs, concatenated"
    )
    max_samples: int | None = Field(
        default=None, ge=30, description="stratified subsample of at most this many images; null = all"
    )
    val_size: float = Field(default=0.15, gt=0, lt=1, description="share of all images for validation")
    test_size: float = Field(default=0.25, gt=0, lt=1, description="share of all images held out for test")
    random_state: int = Field(default=42, ge=0, le=MAX_SEED)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.source == "idx" and not self.idx_files:
            raise ValueError("source 'idx' needs idx_files: a list of {images: path, labels: path}")
        if self.val_size + self.test_size >= 1:
            raise ValueError("val_size + test_size must leave images to train on (sum < 1)")
        if self.max_samples is not None:
            shares = {"val_size": self.val_size, "test_size": self.test_size}
            for key, share in shares.items():
                if share * self.max_samples < N_IMAGE_CLASSES:
                    raise ValueError(
                        f"{key} {share} of max_samples {self.max_samples} is under {N_IMAGE_CLASSES} "
                        "images: every split needs one image per class"
                    )
        return self

    @property
    def idx_paths(self) -> list[tuple[str, str]]:
        """The IDX file pairs as ``(images, labels)`` tuples."""
        return [(pair.images, pair.labels) for pair in self.idx_files]


ModelName = Literal["cnn", "mlp"]


class Architecture(StrictParams):
    """One network: [conv → ReLU → pool] blocks (none for the MLP), then dense → dropout → softmax."""

    model: ModelName = "cnn"
    filters: list[PositiveInt] = Field(
        default=[32, 64], min_length=1, description="cnn: output channels of each block"
    )
    kernel_size: int = Field(default=3, ge=1, le=7, description="cnn: odd, same padding")
    pooling: PoolingName = "max"
    dense_units: PositiveInt = 128
    dropout: float = Field(default=0.5, ge=0, lt=1, description="dropout rate before the output layer")

    @model_validator(mode="after")
    def _odd_kernel(self) -> Self:
        if self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {self.kernel_size}")
        return self


class ArchitectureChanges(StrictParams):
    """What one configuration changes in the baseline architecture (unset keys are kept)."""

    model: ModelName | None = None
    filters: list[PositiveInt] | None = Field(default=None, min_length=1)
    kernel_size: int | None = Field(default=None, ge=1, le=7)
    pooling: PoolingName | None = None
    dense_units: PositiveInt | None = None
    dropout: float | None = Field(default=None, ge=0, lt=1)


class ExperimentParams(SeedParams):
    """The configurations to train (``cnn.experiments``), each for every seed (``seeds``).

    Every configuration starts from ``baseline`` and changes only the keys it names, so
    each study (CNN vs MLP, dropout, pooling, filters) is one or two lines.
    """

    baseline: Architecture = Architecture()
    configurations: dict[str, ArchitectureChanges] = Field(min_length=1)
    featured: str = Field(
        default="cnn", description="the CNN configuration whose filters, feature maps and errors are drawn"
    )
    n_seeds: int = Field(default=5, ge=1, le=MAX_SEEDS, description="seeds per configuration")

    @model_validator(mode="after")
    def _featured_is_a_cnn(self) -> Self:
        if self.featured not in self.configurations:
            raise ValueError(
                f"featured configuration {self.featured!r} is not one of {sorted(self.configurations)}"
            )
        if self.architectures[self.featured].model != "cnn":
            raise ValueError(f"featured configuration {self.featured!r} must be a cnn")
        return self

    @property
    def architectures(self) -> dict[str, Architecture]:
        """Each configuration's full architecture: the baseline with its changes applied."""
        return {
            name: Architecture.model_validate(
                {**self.baseline.model_dump(), **changes.model_dump(exclude_none=True)}
            )
            for name, changes in self.configurations.items()
        }


class TrainingParams(StrictParams):
    """How every configuration is trained (``cnn.training``): augmentation, then the shared loop."""

    augment: Literal["none", "shifts"] = Field(
        default="shifts",
        description="shifts: add copies of every training image moved one pixel up, down, left and right",
    )
    train: TrainConfig = TrainConfig(epochs=16, learning_rate=0.003, batch_size=128)


class FeatureParams(StrictParams):
    """One classifier on three kinds of features of the same images (``cnn.features``).

    A logistic regression (on standardized features) is fitted on the raw pixels, on hand-made
    features and on the featured CNN's learned features (every seed), all on the training
    split without shifted copies; its test accuracy says which features serve it best.
    """

    inverse_regularization: float = Field(
        default=1.0, gt=0, description="the logistic regression's C: larger = weaker L2 penalty"
    )
    max_iter: int = Field(default=1000, ge=10, le=100_000, description="lbfgs iterations at most")
    orientations: int = Field(default=9, ge=2, le=36, description="hand-made: gradient direction bins")
    cell_size: int = Field(default=4, ge=2, le=64, description="hand-made: histogram cells, pixels a side")
    cell_stride: int = Field(default=2, ge=1, le=64, description="hand-made: pixels between cells")


class ReportParams(StrictParams):
    """What the figures show (``cnn.report``)."""

    example_index: int = Field(default=0, ge=0, description="test image whose feature maps are drawn")
    max_channels: int = Field(default=8, ge=1, le=64, description="feature maps drawn per stage")
    max_misclassified: int = Field(default=24, ge=1, le=200)


def _architecture_check(name: str) -> Callable[[ParamValue], object]:
    """A check that the baseline architecture accepts ``value`` for ``name``."""
    return lambda value: Architecture.model_validate({name: value})


def _training_check(name: str) -> Callable[[ParamValue], object]:
    """A check that the shared training loop accepts ``value`` for ``name``."""
    return lambda value: TrainConfig.model_validate({name: value})


class SearchParams(search_space.SearchParams):
    """A hyperparameter search over the baseline network and its training (``cnn.search``).

    Each trial trains the baseline architecture (``cnn.experiments.baseline``) with the drawn
    changes, on ``cnn.training`` with the drawn changes, for ``n_seeds`` seeds from
    ``cnn.experiments.first_seed``; ``metric`` is measured on the validation split after every
    epoch (mean over the seeds).
    """

    TUNABLE: ClassVar[Mapping[str, search_space.Tunable]] = {
        **{
            name: search_space.Tunable(f"cnn.experiments.baseline.{name}", _architecture_check(name))
            for name in ("dropout", "dense_units", "kernel_size", "pooling")
        },
        **{
            name: search_space.Tunable(f"cnn.training.train.{name}", _training_check(name))
            for name in ("learning_rate", "weight_decay", "batch_size")
        },
    }
    METRICS: ClassVar[Mapping[str, search_space.Direction]] = {
        "val_accuracy": "maximize",
        "val_loss": "minimize",
    }

    metric: str = "val_accuracy"
    storage: str = "data/07_model_output/cnn/search.db"
    study_name: str = "cnn"


def _increasing(values: list[float]) -> list[float]:
    """``values`` if each is larger than the one before (a swept setting, drawn left to right)."""
    if values != sorted(set(values)):
        raise ValueError(f"must be increasing, without repeats, got {values}")
    return values


IncreasingShares = Annotated[list[Annotated[float, Field(ge=0, le=1)]], AfterValidator(_increasing)]
"""Shares of the pixel range or of an image's pixels, increasing."""


class StudyParams(StrictParams):
    """A study of the sweep's trained configurations (``cnn.<study>``)."""

    configurations: list[str] = Field(
        default=["cnn", "mlp"], min_length=1, description="configurations of the sweep the study reads"
    )


class PerturbationParams(StudyParams):
    """The perturbation study (``cnn.perturbation``): accuracy under attack and under noise of size ε.

    ε is a share of the pixel range [0, 1]; every ε moves each pixel by at most that much.
    """

    epsilons: IncreasingShares = Field(
        default=[0.0, 0.05, 0.1, 0.15, 0.2, 0.3], min_length=1, description="perturbation sizes, in [0, 1]"
    )
    pgd_steps: int = Field(default=10, ge=1, le=1000, description="steps of the stronger attack (PGD)")
    shown_epsilon: float = Field(default=0.1, gt=0, le=1, description="the ε of the adversarial digits drawn")
    shown_images: int = Field(default=8, ge=1, le=64, description="test images drawn clean and attacked")


class SaliencyParams(StudyParams):
    """The interpretability study (``cnn.saliency``): saliency maps, agreement across seeds, deletion."""

    deletion_fractions: IncreasingShares = Field(
        default=[0.0, 0.05, 0.1, 0.2, 0.3, 0.5],
        min_length=2,
        description="shares of each digit's pixels blanked, most salient first (or at random)",
    )
    shown_images: int = Field(default=8, ge=1, le=64, description="test digits whose maps are drawn")


class PermutationParams(StudyParams):
    """The locality study (``cnn.permutation``): configurations retrained on pixel-permuted digits."""

    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="draws the one pixel permutation")


class CnnRegistryParams(RegistryParams):
    """Where the best configuration is registered (``cnn.registry``) and by which validation metric."""

    rank_by: Literal["val_accuracy"] = Field(
        default="val_accuracy", description="child-run metric that picks the champion (never a test one)"
    )


def _positive_shares(values: list[float]) -> list[float]:
    """``values`` if none is 0: a training subset of no image trains nothing."""
    if values and values[0] <= 0:
        raise ValueError(f"every share of the training images must be above 0, got {values}")
    return values


TrainingShares = Annotated[IncreasingShares, AfterValidator(_positive_shares)]
"""Shares of the training images, increasing, each above 0."""


class DataSizeParams(StudyParams):
    """The limited-data study (``cnn.data_size``): configurations retrained on nested subsets.

    Each share of the training images is a stratified subset drawn once (``seed``), every
    smaller subset inside the larger ones; the configurations train on it as the sweep's
    recipe says, without shifted copies (they would add images), for the sweep's epochs or
    more, so that every subset gets at least ``min_steps`` optimizer steps.
    """

    shares: TrainingShares = Field(
        default=[0.05, 0.1, 0.25, 0.5, 1.0], min_length=2, description="shares of the training images"
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="draws the nested subsets")
    min_steps: int = Field(default=100, ge=1, le=100_000, description="optimizer steps at least, any size")


class HandFeatureParams(StrictParams):
    """The hand-made features study (``cnn.hand_features``): the CNN's head on other inputs, every size.

    The CNN of ``cnn.data_size`` (configuration ``configuration``) is compared with its own
    classifier head (dense → dropout → softmax of the baseline) trained on hand-made features
    (``cnn.features``' kind) and on the raw pixels, on the same subsets, seeds and steps.
    """

    configuration: str = Field(default="cnn", min_length=1, description="the CNN of cnn.data_size compared")


class CostParams(StrictParams):
    """The cost study (``cnn.cost``): time per epoch and MACs against the training-set size.

    One network (``cnn.experiments.first_seed``) of each configuration, and a logistic
    regression on the raw pixels, trains one epoch on every subset of ``cnn.data_size``, all in
    turns, ``repeats`` times (the order reversed on every other repeat); each repeat is a unit.
    """

    configurations: list[str] = Field(
        default=["cnn", "cnn-no-pool", "mlp"], min_length=1, description="configurations of the sweep timed"
    )
    repeats: int = Field(default=5, ge=1, le=100, description="turns over every configuration and size")


class EdgesParams(StudyParams):
    """The edges study (``cnn.edges``): first-layer filters' orientation selectivity, trained, untrained."""

    n_angles: int = Field(
        default=12,
        ge=4,
        le=360,
        multiple_of=2,
        description="grating orientations over [0°, 180°); even, so each one's quarter turn is shown too",
    )
    frequencies: Annotated[list[Annotated[float, Field(gt=0, le=0.5)]], AfterValidator(_increasing)] = Field(
        default=[0.125, 0.25, 0.375],
        min_length=1,
        description="grating frequencies in cycles per pixel (up to 0.5, the pixels' limit)",
    )
    shown_filters: int = Field(
        default=6, ge=1, le=32, description="filters drawn per configuration and state"
    )


class ScenesParams(StrictParams):
    """The generated scenes of the detection and segmentation studies (``cnn.scenes``).

    Every training digit is pasted ``copies`` times, every test digit once, each at a random
    place on a ``canvas × canvas`` image among clutter: ``fragments`` square crops of other
    digits (``fragment_size`` pixels a side) and ``strokes`` straight noise strokes.
    """

    canvas: int = Field(default=32, ge=8, le=128, description="side of a scene, in pixels")
    copies: int = Field(default=2, ge=1, le=50, description="scenes drawn from every training digit")
    fragments: int = Field(default=3, ge=0, le=50, description="crops of other digits drawn as clutter")
    fragment_size: int = Field(default=4, ge=1, le=8, description="side of a clutter crop, in pixels")
    strokes: int = Field(default=1, ge=0, le=50, description="straight noise strokes drawn as clutter")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="draws every scene")


class DetectionParams(StrictParams):
    """The detection study (``cnn.detection``): a CNN predicting the digit's box and class.

    The network is ``[conv → ReLU → max-pool] × len(filters)``, then the class from each map's
    maximum and the box from the flattened maps; its seeds are ``cnn.experiments``' and train
    as one batched module.
    """

    filters: list[PositiveInt] = Field(default=[8, 16, 32], min_length=1, description="channels per block")
    box_weight: float = Field(
        default=5.0, gt=0, le=1000, description="weight of the box loss (L1) by the class loss"
    )
    iou_threshold: float = Field(default=0.5, gt=0, le=1, description="a box is found at this IoU or more")
    train: TrainConfig
    shown_images: int = Field(default=8, ge=1, le=64, description="test scenes drawn with their boxes")


class SegmentationParams(StrictParams):
    """The segmentation study (``cnn.segmentation``): a fully-convolutional network labelling pixels."""

    channels: PositiveInt = Field(default=8, le=256, description="feature maps of every layer")
    dilations: list[Annotated[int, Field(ge=1, le=16)]] = Field(
        default=[1, 2, 4, 1], min_length=1, description="one 3x3 conv + ReLU per entry, with this dilation"
    )
    train: TrainConfig
    shown_images: int = Field(default=8, ge=1, le=64, description="test scenes drawn with their masks")
