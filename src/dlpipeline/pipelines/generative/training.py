"""Training nodes of the generative experiment: the generators, the digit classifier, and sampling.

Each generator family trains all its seeds as one ensemble through the shared loop. Models
train on data shifted and scaled by the training split (``info["shift"]``, ``info["scale"]``);
samples are mapped back to the data's units before anyone scores or draws them.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.digits import pixel_columns
from dlpipeline.data.toy2d import FEATURE_COLUMNS
from dlpipeline.models.checkpoint import TrainedModule, count_parameters
from dlpipeline.models.generative import (
    DiffusionModel,
    FeatureClassifier,
    GenerativeAdversarialNetwork,
    VariationalAutoencoder,
    own_objective,
)
from dlpipeline.pipelines.generative.params import FeatureClassifierParams, GeneratorParams
from dlpipeline.training import TrainConfig, fit, predict, seed_everything

GENERATOR_NAMES = ("vae", "gan", "diffusion")
TrainedModels = dict[str, TrainedModule]


@dataclass(frozen=True)
class Samples:
    """What every generator of one dataset drew, in the data's units, one array per seed."""

    dataset: str
    seeds: tuple[int, ...]
    by_model: Mapping[str, np.ndarray]
    """``model → (seeds, n_samples, n_features)``."""
    trajectory: Mapping[int, np.ndarray]
    """The diffusion model's reverse process: steps left → ``(seeds, n_samples, n_features)``."""


def data_matrix(table: pd.DataFrame) -> np.ndarray:
    """The features of a table as floats: pixels of an image table, ``x1, x2`` of a 2-D set."""
    columns = pixel_columns(table) or list(FEATURE_COLUMNS)
    return table[columns].to_numpy(dtype=np.float64)


def standardisation(data: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """The shift and scale that give the training data mean 0 and standard deviation 1.

    ``per_feature`` scales each column on its own; ``global`` one number for all (images,
    whose border pixels are almost always 0 and must not be blown up).
    """
    if how == "global":
        return np.full(data.shape[1], data.mean()), np.full(data.shape[1], data.std())
    return data.mean(axis=0), np.maximum(data.std(axis=0), 1e-8)


def _fit_family(
    module: torch.nn.Module, inputs: torch.Tensor, config: TrainConfig, seed: int, description: str
) -> tuple[np.ndarray, float]:
    """Train one ensemble by the shared loop on its own objective: loss history and seconds."""
    started = time.perf_counter()
    history = fit(module, inputs, torch.zeros(len(inputs)), own_objective, config, seed, description)
    return history.loss.numpy(), time.perf_counter() - started


def train_generators(train: pd.DataFrame, generators: GeneratorParams) -> TrainedModels:
    """The VAE, the GAN and the diffusion model on ``train``, every seed of each in one ensemble."""
    dataset = generators.dataset
    data = data_matrix(train)
    shift, scale = standardisation(data, generators.standardise)
    inputs = torch.tensor((data - shift) / scale, dtype=torch.float32)
    seeds, n_features = generators.seeds, data.shape[1]
    specs = {
        "vae": (
            VariationalAutoencoder,
            {
                "latent_dim": generators.vae.latent_dim,
                "hidden": generators.vae.hidden,
                "decoder_scale": generators.vae.decoder_scale,
            },
            generators.vae.train,
        ),
        "gan": (
            GenerativeAdversarialNetwork,
            {"latent_dim": generators.gan.latent_dim, "hidden": generators.gan.hidden},
            generators.gan.train,
        ),
        "diffusion": (
            DiffusionModel,
            {"hidden": generators.diffusion.hidden, "n_steps": generators.diffusion.n_steps},
            generators.diffusion.train,
        ),
    }
    trained = {}
    for name, (module_class, kwargs, config) in specs.items():
        seed_everything(seeds[0])
        model = TrainedModule.build(module_class, n_features=n_features, seeds=seeds, **kwargs)
        loss, seconds = _fit_family(model.module, inputs, config, seeds[0], f"{dataset} {name}")
        trained[name] = model.with_info(
            dataset=dataset,
            model=name,
            seeds=list(seeds),
            loss=loss,
            shift=shift,
            scale=scale,
            n_train=len(data),
            n_params=count_parameters(model.module, members=len(seeds)),
            train_config=config.model_dump(),
            train_seconds=seconds,
        )
    return trained


def draw_samples(models: TrainedModels, generators: GeneratorParams) -> Samples:
    """``n_samples`` from every seed of every generator, in the data's units (seeded by the first seed)."""
    first = next(iter(models.values()))
    generator = torch.Generator().manual_seed(generators.seeds[0])
    n_samples, n_features = generators.n_samples, len(first.info["shift"])
    n_steps = generators.diffusion.n_steps
    keep = sorted(
        {round(n_steps * k / (generators.trajectory_steps - 1)) for k in range(generators.trajectory_steps)}
    )
    drawn = {
        "vae": models["vae"].module.sample(n_samples, generator, generators.vae.sample_noise),
        "gan": models["gan"].module.sample(n_samples, generator),
    }
    drawn["diffusion"], trajectory = models["diffusion"].module.sample(n_samples, n_features, generator, keep)

    def to_data_units(values: torch.Tensor) -> np.ndarray:
        array = values.numpy().astype(np.float64) * first.info["scale"] + first.info["shift"]
        return np.clip(array, *generators.sample_range) if generators.sample_range else array

    return Samples(
        dataset=first.info["dataset"],
        seeds=tuple(first.info["seeds"]),
        by_model={name: to_data_units(drawn[name]) for name in GENERATOR_NAMES},
        trajectory={step: to_data_units(state) for step, state in trajectory.items()},
    )


def train_feature_classifier(
    train: pd.DataFrame, val: pd.DataFrame, classifier: FeatureClassifierParams
) -> TrainedModels:
    """The digit classifier whose last hidden layer is the Fréchet distance's feature space, trained once.

    Returned as ``{"feature_classifier": model}``: the catalog writes every model file as a mapping.
    """
    images, labels = data_matrix(train), train["label"].to_numpy()
    seed_everything(classifier.seed)
    model = TrainedModule.build(
        FeatureClassifier,
        n_features=images.shape[1],
        hidden=classifier.hidden,
        n_classes=10,
        seed=classifier.seed,
    )
    started = time.perf_counter()
    history = fit(
        model.module,
        torch.tensor(images, dtype=torch.float32),
        torch.tensor(labels),
        torch.nn.functional.cross_entropy,
        classifier.train,
        classifier.seed,
        "feature classifier",
    )
    predicted = predict(model.module, torch.tensor(data_matrix(val), dtype=torch.float32), "cpu").argmax(-1)
    val_accuracy = float((predicted.numpy() == val["label"].to_numpy()).mean())
    info = {"loss": history.loss.numpy(), "val_accuracy": val_accuracy}
    return {"feature_classifier": model.with_info(**info, train_seconds=time.perf_counter() - started)}
