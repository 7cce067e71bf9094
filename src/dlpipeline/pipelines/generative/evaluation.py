"""Scoring the generators: every metric per unit (a seed, on its draw of the data), beside floor and baseline.

Each node returns a long table ``dataset, model, draw, seed, metric, value``: one row per
generator, unit and metric, plus rows of the model ``reference`` for the floor (real held-out
data scored the same way) and the baseline (a trivial generator fitted to the unit's training
data and sampled with the unit's seed) of each metric, named ``<metric>_floor`` and
``<metric>_baseline``. A unit is one ensemble member: its seed and the draw of the data it
trained on (0 for a set drawn once, such as the digits), so every generator is paired with the
baseline of its own unit.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.generative import metrics
from dlpipeline.pipelines.generative.params import FeatureClassifierParams, RingDataParams
from dlpipeline.pipelines.generative.training import (
    Samples,
    TrainedModels,
    data_matrix,
    member_data,
    rows_of_draw,
)
from dlpipeline.training import predict

REFERENCE = "reference"
FLOOR, BASELINE = "_floor", "_baseline"


@dataclass(frozen=True)
class Unit:
    """One ensemble member: its position, its seed, and the draw of the data it trained on."""

    index: int
    seed: int
    draw: int | None
    """``None`` when every member saw the same data."""

    @property
    def draw_number(self) -> int:
        """The draw as the tables write it: 0 for data drawn once."""
        return 0 if self.draw is None else self.draw


def units(samples: Samples) -> list[Unit]:
    """Every member of ``samples``' generators, in member order."""
    return [
        Unit(index, seed, samples.draws[index] if samples.draws else None)
        for index, seed in enumerate(samples.seeds)
    ]


Scorer = Callable[[np.ndarray, Unit], dict[str, float]]
"""``score(samples, unit) → {metric: value}``, against the unit's own held-out data."""
References = Callable[[Unit, int], tuple[dict[str, float], dict[str, float]]]
"""``references(unit, n_samples) → (floor, baseline)`` scores of the unit."""


def _rows(dataset: str, model: str, unit: Unit, values: dict[str, float]) -> list[dict]:
    """Long-table rows for one model and unit."""
    return [
        {
            "dataset": dataset,
            "model": model,
            "draw": unit.draw_number,
            "seed": unit.seed,
            "metric": name,
            "value": float(value),
        }
        for name, value in values.items()
    ]


def _per_unit(samples: Samples, score: Scorer, references: References) -> list[dict]:
    """Every generator's scores for every unit, and that unit's floor and baseline."""
    rows = []
    n_samples = next(iter(samples.by_model.values())).shape[1]
    for unit in units(samples):
        for model, drawn in samples.by_model.items():
            rows += _rows(samples.dataset, model, unit, score(drawn[unit.index], unit))
        floor, baseline = references(unit, n_samples)
        named = {f"{name}{FLOOR}": value for name, value in floor.items()}
        named |= {f"{name}{BASELINE}": value for name, value in baseline.items()}
        rows += _rows(samples.dataset, REFERENCE, unit, named)
    return rows


def test_negative_elbo(models: TrainedModels, test: pd.DataFrame) -> list[dict]:
    """The VAE's negative ELBO on each unit's test split, in nats per example in the data's units."""
    vae = models["vae"]
    shift, scale = vae.about.shift, vae.about.scale
    draws = vae.about.draws
    inputs = torch.tensor((member_data(test, draws) - shift) / scale, dtype=torch.float32)
    if draws:  # (n, members, features) → (members, n, features): each member on its own draw
        inputs = inputs.transpose(0, 1)
    torch.manual_seed(0)  # one reparameterised draw per example, the same every time
    with torch.no_grad():
        per_member = vae.module.eval().negative_elbo(inputs).mean(dim=1).numpy()
    # Standardising divided the density by prod(scale): add its log back to speak in data units.
    in_data_units = per_member + float(np.log(scale).sum())
    seeds = vae.trained_record.seeds
    members = [Unit(index, seed, draws[index] if draws else None) for index, seed in enumerate(seeds)]
    return [
        row
        for unit, value in zip(members, in_data_units, strict=True)
        for row in _rows(vae.about.dataset, "vae", unit, {"negative_elbo": value})
    ]


def _of_draw(table: pd.DataFrame, unit: Unit) -> np.ndarray:
    """The features of ``table``'s rows in the unit's draw."""
    return data_matrix(rows_of_draw(table, unit.draw))


def score_digits(
    samples: Samples,
    models: TrainedModels,
    classifier_models: TrainedModels,
    train: pd.DataFrame,
    test: pd.DataFrame,
    classifier: FeatureClassifierParams,
) -> pd.DataFrame:
    """Fréchet distance in the classifier's features, classes covered and distance to the training set.

    Floor: the real test images. Baseline: every pixel drawn on its own from its training
    marginal, with the unit's seed, as many images as each generator draws.
    """
    network: TrainedModule = classifier_models["feature_classifier"]
    train_images, test_images = data_matrix(train), data_matrix(test)

    def features(images: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return network.module.eval().features(torch.tensor(images, dtype=torch.float32)).numpy()

    train_features = features(train_images)

    def score(images: np.ndarray, _unit: Unit | None = None) -> dict[str, float]:
        labels = predict(network.module, torch.tensor(images, dtype=torch.float32), "cpu").argmax(-1).numpy()
        return {
            "fd": metrics.frechet_distance(features(images), train_features),
            "classes_covered": metrics.classes_covered(labels, 10, classifier.min_class_share),
            "nearest_train_distance": metrics.mean_nearest_distance(images, train_images),
        }

    floor = score(test_images)  # the digits are one fixed set: one floor for every unit

    def references(unit: Unit, n_samples: int) -> tuple[dict[str, float], dict[str, float]]:
        return floor, score(metrics.independent_pixel_samples(train_images, n_samples, unit.seed))

    return pd.DataFrame(_per_unit(samples, score, references) + test_negative_elbo(models, test))


def score_ring(
    samples: Samples,
    models: TrainedModels,
    train: pd.DataFrame,
    test: pd.DataFrame,
    ring: RingDataParams,
) -> pd.DataFrame:
    """Modes covered (of ``n_modes``), share of high-quality samples (within 3 σ of a mode), energy distance.

    Energy distance is to the unit's test draw, at the size of the smaller set. Floor: as many
    real training points of the unit's draw (picked with its seed): held-out data is not
    scored against itself. Baseline: a Gaussian with the mean and covariance of the unit's
    training draw, sampled with its seed.
    """
    centres = metrics.ring_centres(ring.n_modes, ring.radius)

    def score(points: np.ndarray, unit: Unit) -> dict[str, float]:
        covered, high_quality = metrics.mode_coverage(points, centres, ring.std)
        real = _of_draw(test, unit)
        size = min(len(points), len(real))
        return {
            "modes_covered": covered,
            "high_quality": high_quality,
            "energy_distance": metrics.energy_distance(points[:size], real[:size]),
        }

    def references(unit: Unit, n_samples: int) -> tuple[dict[str, float], dict[str, float]]:
        real = _of_draw(train, unit)
        rng = np.random.default_rng(unit.seed)
        floor = score(real[rng.choice(len(real), size=min(n_samples, len(real)), replace=False)], unit)
        return floor, score(metrics.gaussian_baseline_samples(real, n_samples, unit.seed), unit)

    return pd.DataFrame(_per_unit(samples, score, references) + test_negative_elbo(models, test))


def score_moons(
    samples: Samples, models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame
) -> pd.DataFrame:
    """Energy distance and sliced W2 to the unit's test draw, at the test split's size.

    Floor: the unit's training draw. Baseline: a Gaussian with its training draw's mean and
    covariance, sampled with the unit's seed.
    """

    def score(points: np.ndarray, unit: Unit) -> dict[str, float]:
        real_test = _of_draw(test, unit)
        size = min(len(real_test), len(points))
        return {
            "energy_distance": metrics.energy_distance(points[:size], real_test[:size]),
            "sliced_w2": metrics.sliced_w2(points[:size], real_test[:size]),
        }

    def references(unit: Unit, n_samples: int) -> tuple[dict[str, float], dict[str, float]]:
        real_train = _of_draw(train, unit)
        size = min(len(real_train), len(_of_draw(test, unit)), n_samples)
        baseline = metrics.gaussian_baseline_samples(real_train, size, unit.seed)
        return score(real_train, unit), score(baseline, unit)

    return pd.DataFrame(_per_unit(samples, score, references) + test_negative_elbo(models, test))
