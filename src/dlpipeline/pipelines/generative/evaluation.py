"""Scoring the generators: every metric per seed, always beside a floor and a baseline.

Each node returns a long table ``dataset, model, seed, metric, value``: one row per generator,
seed and metric, plus rows of the model ``reference`` for the floor (real held-out data scored
the same way) and the baseline (a trivial generator) of each metric, named ``<metric>_floor``
and ``<metric>_baseline``.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.generative import metrics
from dlpipeline.pipelines.generative.params import FeatureClassifierParams, RingDataParams
from dlpipeline.pipelines.generative.training import Samples, TrainedModels, data_matrix
from dlpipeline.training import predict

REFERENCE = "reference"


def _rows(dataset: str, model: str, seed: int, values: dict[str, float]) -> list[dict]:
    """Long-table rows for one model and seed."""
    return [
        {"dataset": dataset, "model": model, "seed": seed, "metric": name, "value": float(value)}
        for name, value in values.items()
    ]


def _per_seed(samples: Samples, score: Callable[[np.ndarray], dict[str, float]]) -> list[dict]:
    """``score(samples of one seed) → {metric: value}`` for every generator and seed."""
    rows = []
    for model, drawn in samples.by_model.items():
        for seed, seed_samples in zip(samples.seeds, drawn, strict=True):
            rows += _rows(samples.dataset, model, seed, score(seed_samples))
    return rows


def _references(dataset: str, seed: int, floor: dict[str, float], baseline: dict[str, float]) -> list[dict]:
    """The ``reference`` rows: each metric's floor and baseline."""
    named = {f"{name}_floor": value for name, value in floor.items()}
    named |= {f"{name}_baseline": value for name, value in baseline.items()}
    return _rows(dataset, REFERENCE, seed, named)


def test_negative_elbo(models: TrainedModels, test: pd.DataFrame) -> list[dict]:
    """The VAE's negative ELBO on the test split, in nats per example in the data's units, per seed."""
    vae = models["vae"]
    shift, scale = vae.about.shift, vae.about.scale
    inputs = torch.tensor((data_matrix(test) - shift) / scale, dtype=torch.float32)
    torch.manual_seed(0)  # one reparameterised draw per example, the same every time
    with torch.no_grad():
        per_member = vae.module.eval().negative_elbo(inputs).mean(dim=1).numpy()
    # Standardising divided the density by prod(scale): add its log back to speak in data units.
    in_data_units = per_member + float(np.log(scale).sum())
    return [
        row
        for seed, value in zip(vae.trained_record.seeds, in_data_units, strict=True)
        for row in _rows(vae.about.dataset, "vae", seed, {"negative_elbo": value})
    ]


def score_digits(
    samples: Samples,
    models: TrainedModels,
    classifier_models: TrainedModels,
    train: pd.DataFrame,
    test: pd.DataFrame,
    classifier: FeatureClassifierParams,
) -> pd.DataFrame:
    """Fréchet distance in the classifier's features, classes covered and distance to the training set."""
    network: TrainedModule = classifier_models["feature_classifier"]
    train_images, test_images = data_matrix(train), data_matrix(test)

    def features(images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return network.module.eval().features(torch.tensor(images, dtype=torch.float32)).numpy()

    train_features = features(train_images)

    def score(images: np.ndarray) -> dict[str, float]:
        labels = predict(network.module, torch.tensor(images, dtype=torch.float32), "cpu").argmax(-1).numpy()
        return {
            "fd": metrics.frechet_distance(features(images), train_features),
            "classes_covered": metrics.classes_covered(labels, 10, classifier.min_class_share),
            "nearest_train_distance": metrics.mean_nearest_distance(images, train_images),
        }

    n_samples = samples.by_model["vae"].shape[1]
    baseline = metrics.independent_pixel_samples(train_images, n_samples, samples.seeds[0])
    references = _references("digits", samples.seeds[0], score(test_images), score(baseline))
    return pd.DataFrame(_per_seed(samples, score) + test_negative_elbo(models, test) + references)


def score_ring(
    samples: Samples, models: TrainedModels, test: pd.DataFrame, ring: RingDataParams
) -> pd.DataFrame:
    """Modes covered (of ``n_modes``) and the share of high-quality samples (within 3 σ of a mode)."""
    centres = metrics.ring_centres(ring.n_modes, ring.radius)

    def score(points: np.ndarray) -> dict[str, float]:
        covered, high_quality = metrics.mode_coverage(points, centres, ring.std)
        return {"modes_covered": covered, "high_quality": high_quality}

    real = data_matrix(test)
    n_samples = samples.by_model["vae"].shape[1]
    rng = np.random.default_rng(samples.seeds[0])
    floor = score(real[rng.choice(len(real), size=min(n_samples, len(real)), replace=False)])
    baseline = score(metrics.gaussian_baseline_samples(real, n_samples, samples.seeds[0]))
    references = _references("ring", samples.seeds[0], floor, baseline)
    return pd.DataFrame(_per_seed(samples, score) + test_negative_elbo(models, test) + references)


def score_moons(
    samples: Samples, models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame
) -> pd.DataFrame:
    """Energy distance and sliced W2 to the test split, at the test split's size."""
    real_test, real_train = data_matrix(test), data_matrix(train)
    size = min(len(real_test), len(real_train), samples.by_model["vae"].shape[1])

    def score(points: np.ndarray) -> dict[str, float]:
        return {
            "energy_distance": metrics.energy_distance(points[:size], real_test[:size]),
            "sliced_w2": metrics.sliced_w2(points[:size], real_test[:size]),
        }

    baseline = metrics.gaussian_baseline_samples(real_train, size, samples.seeds[0])
    references = _references("moons", samples.seeds[0], score(real_train), score(baseline))
    return pd.DataFrame(_per_seed(samples, score) + test_negative_elbo(models, test) + references)
