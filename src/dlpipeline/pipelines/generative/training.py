"""Training nodes of the generative experiment: the generators, the digit classifier, and sampling.

Each generator family trains all its seeds as one ensemble through
:func:`dlpipeline.training.train_configuration`, one task of the executor
(``generative.executor``: here, or on a Dask cluster). Models train on data shifted and
scaled by the training split (their :class:`GeneratorRun` keeps ``shift`` and ``scale``);
samples are mapped back to the data's units before anyone scores or draws them. A set drawn
several times (a ``draw`` column) gives every member its own draw: member ``i`` trains on draw
``i mod n_draws``, fed to the loop as ``(n, members, features)`` rows.
"""

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from dlpipeline.allocator import keep_freed_memory
from dlpipeline.data.digits import pixel_columns
from dlpipeline.data.toy2d import FEATURE_COLUMNS
from dlpipeline.executor import IsolatedExecutorParams, run_tasks
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.generative import (
    DiffusionModel,
    FeatureClassifier,
    GenerativeAdversarialNetwork,
    VariationalAutoencoder,
    own_objective,
)
from dlpipeline.pipelines.generative.data import DRAW_COLUMN
from dlpipeline.pipelines.generative.params import FeatureClassifierParams, GeneratorParams
from dlpipeline.training import LossFunction, TrainConfig, train_configuration, with_fixed_threads

GENERATOR_NAMES = ("vae", "gan", "diffusion")
TrainedModels = dict[str, TrainedModule]


@dataclass(frozen=True)
class GeneratorRun:
    """The ``about`` of a trained generator: which one, on which set, and the standardisation it saw."""

    dataset: str
    model: str
    shift: np.ndarray
    scale: np.ndarray
    draws: tuple[int, ...] = ()
    """The draw each member trained on, in member order; empty when every member saw the same data."""


@dataclass(frozen=True)
class Samples:
    """What every generator of one dataset drew, in the data's units, one array per seed."""

    dataset: str
    seeds: tuple[int, ...]
    by_model: Mapping[str, np.ndarray]
    """``model → (seeds, n_samples, n_features)``."""
    trajectory: Mapping[int, np.ndarray]
    """The diffusion model's reverse process: steps left → ``(seeds, n_samples, n_features)``."""
    draws: tuple[int, ...] = ()
    """The draw of the data each seed trained on, in seed order; empty when all saw the same data."""


@dataclass(frozen=True)
class EnsembleJob:
    """One ensemble (every seed of one model) to train: what to build, on which data, how."""

    module_class: type[nn.Module]
    kwargs: Mapping[str, Any]
    loss: LossFunction
    train: TrainConfig
    seeds: tuple[int, ...]
    description: str
    about: Any
    inputs: str = "inputs"
    """Which of the shared tensors the ensemble reads."""
    targets: str | None = None
    """Which shared tensor it reproduces; ``None`` for a model with its own objective."""


def train_ensemble(tensors: Mapping[str, torch.Tensor], job: EnsembleJob) -> TrainedModule:
    """Train one ensemble with the shared loop on ``tensors[job.inputs]`` (an executor task).

    The shared loop keeps the memory it frees (:func:`~dlpipeline.allocator.keep_freed_memory`):
    a wide ensemble's step otherwise faults in fresh pages for every large temporary.
    """
    inputs = tensors[job.inputs]
    targets = torch.zeros(len(inputs)) if job.targets is None else tensors[job.targets]
    return train_configuration(
        functools.partial(TrainedModule.build, job.module_class, seeds=list(job.seeds), **job.kwargs),
        inputs,
        targets,
        job.loss,
        job.train,
        job.seeds,
        job.description,
        members=len(job.seeds),
        about=job.about,
    )


def training_cost(tensors: Mapping[str, torch.Tensor], job: EnsembleJob) -> int:
    """Multiply-adds one training of ``job`` takes, roughly: epochs × rows × weights of all its members.

    Only an order is read from it (:func:`train_ensembles`): a generator's extra passes (the
    GAN's discriminator reads each batch three times) make it an estimate, not a count.
    """
    module = job.module_class(**job.kwargs, seeds=list(job.seeds))
    weights = sum(parameter.numel() for parameter in module.parameters() if parameter.requires_grad)
    return job.train.epochs * len(tensors[job.inputs]) * weights


def train_ensembles(
    tensors: Mapping[str, torch.Tensor], jobs: Mapping[str, EnsembleJob], executor: IsolatedExecutorParams
) -> TrainedModels:
    """Every job trained by :func:`train_ensemble` where ``executor`` says, returned in the order given.

    The jobs start heaviest first (:func:`training_cost`): with three ensembles on two
    workers, the longest one trains beside the two others instead of after one of them (the
    digits' diffusion model: 53 % of the three's work). Each ensemble seeds everything it
    draws, so the order changes when it finishes, never what it learns.
    """
    heaviest_first = sorted(jobs, key=lambda label: training_cost(tensors, jobs[label]), reverse=True)
    trained = run_tasks(train_ensemble, tensors, {label: jobs[label] for label in heaviest_first}, executor)
    return {label: trained[label] for label in jobs}


def data_matrix(table: pd.DataFrame) -> np.ndarray:
    """The features of a table as floats: pixels of an image table, ``x1, x2`` of a 2-D set."""
    columns = pixel_columns(table) or list(FEATURE_COLUMNS)
    return table[columns].to_numpy(dtype=np.float64)


def member_draws(table: pd.DataFrame, n_members: int) -> tuple[int, ...]:
    """The draw of ``table`` each of ``n_members`` members reads (member ``i``: ``i mod n_draws``).

    Empty when ``table`` has no ``draw`` column or one draw only: every member then reads the same rows.
    """
    if DRAW_COLUMN not in table:
        return ()
    draws = sorted(int(draw) for draw in table[DRAW_COLUMN].unique())
    if len(draws) < 2:
        return ()
    return tuple(draws[member % len(draws)] for member in range(n_members))


def rows_of_draw(table: pd.DataFrame, draw: int | None) -> pd.DataFrame:
    """The rows of ``table`` drawn in ``draw`` (all rows when ``draw`` is ``None`` or there is no draw)."""
    if draw is None or DRAW_COLUMN not in table:
        return table
    return table[table[DRAW_COLUMN] == draw]


def member_data(table: pd.DataFrame, draws: tuple[int, ...]) -> np.ndarray:
    """The features every member reads: ``(n, features)`` shared, or ``(n, members, features)`` by draw.

    The loop batches rows (the first axis), so member ``i`` sees row ``j`` of its own draw where
    another sees row ``j`` of its: every draw must have the same number of rows.
    """
    if not draws:
        return data_matrix(table)
    per_member = [data_matrix(rows_of_draw(table, draw)) for draw in draws]
    sizes = {len(rows) for rows in per_member}
    if len(sizes) != 1:
        raise ValueError(
            f"every draw needs the same number of rows to train as one ensemble, got {sorted(sizes)}"
        )
    return np.stack(per_member, axis=1)


def standardisation(data: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """The shift and scale that give the training data mean 0 and standard deviation 1.

    ``per_feature`` scales each column on its own; ``global`` one number for all (images,
    whose border pixels are almost always 0 and must not be blown up).
    """
    if how == "global":
        return np.full(data.shape[1], data.mean()), np.full(data.shape[1], data.std())
    return data.mean(axis=0), np.maximum(data.std(axis=0), 1e-8)


def train_generators(
    train: pd.DataFrame, generators: GeneratorParams, executor: IsolatedExecutorParams
) -> TrainedModels:
    """The VAE, the GAN and the diffusion model on ``train``, every seed of each in one ensemble."""
    dataset = generators.dataset
    data = data_matrix(train)
    # One standardisation from every draw's rows: the draws come from one distribution.
    shift, scale = standardisation(data, generators.standardise)
    draws = member_draws(train, generators.n_seeds)
    inputs = torch.tensor((member_data(train, draws) - shift) / scale, dtype=torch.float32)
    n_features = data.shape[1]
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
    jobs = {
        name: EnsembleJob(
            module_class,
            {"n_features": n_features, **kwargs},
            own_objective,
            with_fixed_threads(config),
            tuple(generators.seeds),
            f"{dataset} {name}",
            GeneratorRun(dataset, name, shift, scale, draws),
        )
        for name, (module_class, kwargs, config) in specs.items()
    }
    return train_ensembles({"inputs": inputs}, jobs, executor)


def draw_samples(models: TrainedModels, generators: GeneratorParams) -> Samples:
    """``n_samples`` from every seed of every generator, in the data's units (seeded by the first seed).

    The diffusion model samples as ``generators.diffusion`` says: ancestrally (or with DDIM)
    through every step, or through ``sample_steps`` of them.
    """
    keep_freed_memory()
    first = next(iter(models.values())).about
    generator = torch.Generator().manual_seed(generators.seeds[0])
    n_samples, n_features = generators.n_samples, len(first.shift)
    n_steps = generators.diffusion.n_steps
    keep = sorted(
        {round(n_steps * k / (generators.trajectory_steps - 1)) for k in range(generators.trajectory_steps)}
    )
    drawn = {
        "vae": models["vae"].module.sample(n_samples, generator, generators.vae.sample_noise),
        "gan": models["gan"].module.sample(n_samples, generator),
    }
    diffusion = generators.diffusion
    drawn["diffusion"], trajectory = models["diffusion"].module.sample(
        n_samples, n_features, generator, keep, diffusion.sample_steps, diffusion.sampler
    )

    def to_data_units(values: torch.Tensor) -> np.ndarray:
        array = values.numpy().astype(np.float64) * first.scale + first.shift
        return np.clip(array, *generators.sample_range) if generators.sample_range else array

    return Samples(
        dataset=first.dataset,
        seeds=models[first.model].trained_record.seeds,
        by_model={name: to_data_units(drawn[name]) for name in GENERATOR_NAMES},
        trajectory={step: to_data_units(state) for step, state in trajectory.items()},
        draws=first.draws,
    )


def train_feature_classifier(
    train: pd.DataFrame, val: pd.DataFrame, classifier: FeatureClassifierParams
) -> TrainedModels:
    """The digit classifier whose last hidden layer is the Fréchet distance's feature space, trained once.

    Its history holds the validation accuracy after every epoch. Returned as
    ``{"feature_classifier": model}``: the catalog writes every model file as a mapping.
    """
    images, labels = data_matrix(train), train["label"].to_numpy()
    val_images = torch.tensor(data_matrix(val), dtype=torch.float32)
    val_labels = torch.tensor(val["label"].to_numpy())

    def validation_accuracy(model: nn.Module) -> dict[str, torch.Tensor]:
        return {"val_accuracy": (model(val_images).argmax(-1) == val_labels).float().mean()}

    model = train_configuration(
        functools.partial(
            TrainedModule.build,
            FeatureClassifier,
            n_features=images.shape[1],
            hidden=classifier.hidden,
            n_classes=10,
            seed=classifier.seed,
        ),
        torch.tensor(images, dtype=torch.float32),
        torch.tensor(labels),
        torch.nn.functional.cross_entropy,
        classifier.train,
        [classifier.seed],
        "feature classifier",
        evaluate_epoch=validation_accuracy,
    )
    return {"feature_classifier": model}
