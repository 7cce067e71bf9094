"""Typed parameters of the generative experiment (``conf/*/parameters_generative.yml``).

Each part of the experiment has its own block under ``generative.<part>``: the digits, the
ring of Gaussians and the two moons each have ``data`` and ``generators``, the digits also
``classifier`` (the features of the Fréchet distance); the autoencoders have ``model``.
"""

from typing import Literal

from pydantic import Field, model_validator

from dlpipeline.pipelines.common import RegistryParams, SeedParams, StrictParams
from dlpipeline.training import MAX_SEED, TrainConfig

Widths = list[int]
DRAWS = (
    "independent draws of the set (draw d from random_state + d, split on its own); "
    "the generators' seed i trains on draw i mod n_draws"
)


class DigitsDataParams(StrictParams):
    """The digits split as the cnn experiment splits them (``generative.digits.data``)."""

    val_size: float = Field(default=0.15, gt=0, lt=0.5)
    test_size: float = Field(default=0.25, gt=0, lt=0.5)
    random_state: int = Field(default=42, ge=0, le=MAX_SEED)


class RingDataParams(StrictParams):
    """A ring of Gaussian modes, the mode-collapse benchmark (``generative.ring.data``)."""

    n_samples: int = Field(default=5000, ge=20, description="points drawn, before the split")
    n_modes: int = Field(default=8, ge=2, le=64)
    radius: float = Field(default=2.0, gt=0)
    std: float = Field(default=0.02, gt=0, description="standard deviation of each mode")
    test_size: float = Field(default=0.5, gt=0, lt=1)
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)


class MoonsDataParams(StrictParams):
    """Two noisy moons (``generative.moons.data``)."""

    n_samples: int = Field(default=4000, ge=20)
    noise: float = Field(default=0.05, ge=0)
    test_size: float = Field(default=0.5, gt=0, lt=1)
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)


class VAEParams(StrictParams):
    """A variational autoencoder (``…generators.vae``)."""

    latent_dim: int = Field(default=2, ge=1, le=256)
    hidden: Widths = Field(default=[128, 128], min_length=1)
    decoder_scale: float | None = Field(
        default=None, gt=0, description="fixed std of the decoder (standardised units); null = learned"
    )
    sample_noise: bool = Field(
        default=True, description="add the decoder's noise to samples (false: its means)"
    )
    train: TrainConfig = TrainConfig(epochs=200, learning_rate=0.002, batch_size=128)


class GANParams(StrictParams):
    """A generative adversarial network (``…generators.gan``); both players train in one Adam step."""

    latent_dim: int = Field(default=2, ge=1, le=256)
    hidden: Widths = Field(default=[128, 128], min_length=1)
    train: TrainConfig = TrainConfig(epochs=200, learning_rate=0.001, batch_size=128)


class DiffusionParams(StrictParams):
    """A denoising diffusion model (``…generators.diffusion``)."""

    hidden: Widths = Field(default=[128, 128, 128], min_length=1)
    n_steps: int = Field(default=1000, ge=2, le=10000, description="diffusion steps T")
    train: TrainConfig = TrainConfig(epochs=200, learning_rate=0.002, batch_size=128)
    sampler: Literal["ancestral", "ddim"] = Field(
        default="ancestral", description="ancestral (noise added at every step) or ddim (deterministic)"
    )
    sample_steps: int | None = Field(
        default=None,
        ge=1,
        description="reverse steps taken when sampling, evenly spaced; null: every one of n_steps",
    )

    @model_validator(mode="after")
    def _sample_steps_within_training(self) -> "DiffusionParams":
        if self.sample_steps is not None and self.sample_steps > self.n_steps:
            raise ValueError(f"sample_steps ({self.sample_steps}) cannot exceed n_steps ({self.n_steps})")
        return self


class GeneratorParams(SeedParams):
    """The three generators trained on one dataset, each for every seed (``generative.<set>.generators``)."""

    dataset: Literal["digits", "ring", "moons"] = Field(description="which set these generators learn")

    vae: VAEParams = VAEParams()
    gan: GANParams = GANParams()
    diffusion: DiffusionParams = DiffusionParams()
    n_samples: int = Field(default=2500, ge=10, description="samples drawn from each generator to score it")
    trajectory_steps: int = Field(default=5, ge=2, le=20, description="states drawn of the reverse process")
    standardise: Literal["per_feature", "global"] = Field(
        default="per_feature", description="models train on data shifted and scaled by the training split"
    )
    sample_range: tuple[float, float] | None = Field(
        default=None, description="samples are clipped to this range (the pixel range of images)"
    )


class AutoencoderParams(SeedParams):
    """Autoencoders against PCA on the digits (``generative.autoencoders.model``)."""

    code_sizes: list[int] = Field(default=[2, 4, 8, 16], min_length=1)
    hidden: Widths = Field(default=[128], min_length=1, description="hidden widths of the ReLU autoencoder")
    train: TrainConfig = TrainConfig(epochs=150, learning_rate=0.002, batch_size=128)
    denoising_code_size: int = Field(default=16, ge=1)
    denoising_noise: float = Field(default=0.3, gt=0, description="std of the Gaussian noise on the pixels")
    probe_max_iter: int = Field(default=2000, ge=10, description="iterations of the logistic regression")
    grid_images: int = Field(default=10, ge=1, le=40, description="test images in the reconstruction figures")

    @model_validator(mode="after")
    def _distinct_code_sizes(self) -> "AutoencoderParams":
        if len(set(self.code_sizes)) != len(self.code_sizes):
            raise ValueError(f"code_sizes must be distinct, got {self.code_sizes}")
        return self


class FeatureClassifierParams(StrictParams):
    """The classifier whose features the Fréchet distance compares (``generative.digits.classifier``)."""

    hidden: Widths = Field(default=[128, 64], min_length=1)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    train: TrainConfig = TrainConfig(epochs=100, learning_rate=0.003, batch_size=128)
    min_class_share: float = Field(
        default=0.02, gt=0, lt=1, description="share a class needs to count as covered"
    )


DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class TextToImageParams(SeedParams):
    """A generator of digits prompted by the digit's word (``generative.text_to_image.model``)."""

    words: list[str] = Field(
        default=DIGIT_WORDS,
        min_length=10,
        max_length=10,
        description="the prompt of each digit 0-9, in order: lower-case letters a-z",
    )
    latent_dim: int = Field(default=8, ge=1, le=256)
    hidden: Widths = Field(default=[256, 128], min_length=1)
    embed_dim: int = Field(default=16, ge=1, le=256, description="size of each letter's learned vector")
    n_samples: int = Field(default=100, ge=1, le=10000, description="samples drawn per prompt word and seed")
    shown_samples: int = Field(default=8, ge=1, le=32, description="samples drawn per word in the figure")
    train: TrainConfig = TrainConfig(epochs=150, learning_rate=0.001, batch_size=64)

    @model_validator(mode="after")
    def _distinct_words_of_letters(self) -> "TextToImageParams":
        if len(set(self.words)) != len(self.words):
            raise ValueError(f"words must be distinct, got {self.words}")
        if not all(word and word.isascii() and word.isalpha() and word.islower() for word in self.words):
            raise ValueError(f"words must be lower-case letters a-z, got {self.words}")
        bags = ["".join(sorted(word)) for word in self.words]
        if len(set(bags)) != len(bags):
            raise ValueError(
                f"words must differ in their letters, not only their order (anagrams): {self.words}"
            )
        return self


class GenerativeRegistryParams(RegistryParams):
    """Where one family's champion is registered (``generative.registry``) and by which validation metric.

    ``autoencoders``: each configuration (model × code size, every seed in one ensemble) is scored
    on the digits' validation split (``generative.digits.data.val_size``), which no autoencoder
    trains on and no claim reads; ``val_reconstruction_mse`` is the mean over seeds of the squared
    error per pixel. The generators have no such score yet (their samples are scored on test data).
    """

    family: Literal["autoencoders"] = Field(
        default="autoencoders", description="the family whose best configuration is registered"
    )
    rank_by: Literal["val_reconstruction_mse"] = Field(
        default="val_reconstruction_mse",
        description="child-run metric that picks the champion (never a test one)",
    )
