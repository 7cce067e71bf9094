"""Evaluation of the trained sweep: every saved model, both flavours, judged by the same code.

The models come from the catalog (``mlp.torch_models``, ``mlp.sklearn_models``): one
:class:`MLPEnsemble` per configuration with one member per seed. Each seed is scored on
the train and test points, and the seed with the median test accuracy draws the
configuration's decision boundary.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.toy2d import features_and_labels, make_toy_points
from dlpipeline.figures.boundaries import BoundaryGrid, mesh_over
from dlpipeline.models.checkpoint import OfTrainedModel, TrainedModule
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.pipelines.mlp.configuration import MLPConfiguration
from dlpipeline.pipelines.mlp.params import Flavour, SweepParams, ToyDataParams
from dlpipeline.training import predict


@dataclass(frozen=True)
class SweepResult(OfTrainedModel):
    """One configuration's accuracy for every seed and the boundary of a typical seed."""

    name: str
    """The model's name in its file and in MLflow, e.g. ``torch-5`` or ``sklearn-8x8``."""
    flavour: Flavour
    model: TrainedModule
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    shown_seed: int
    boundary: BoundaryGrid

    @property
    def hidden_layers(self) -> tuple[int, ...]:
        """The widths of the hidden layers."""
        return self.about.hidden_layers

    @property
    def about(self) -> MLPConfiguration:
        """Which configuration of the sweep the model is."""
        return self.model.about


def predicted_labels(model: TrainedModule, features: np.ndarray) -> np.ndarray:
    """Every member's (seed's) predicted labels for ``features`` ``(n, 2)``: ``(seeds, n)``."""
    module = model.module
    logits = predict(module, torch.tensor(features, dtype=module.dtype), device="cpu")
    return logits.argmax(dim=-1).numpy()


def evaluate_sweep(
    torch_models: dict[str, TrainedModule],
    sklearn_models: dict[str, TrainedModule],
    train_points: pd.DataFrame,
    test_points: pd.DataFrame,
    sweep: SweepParams,
) -> list[SweepResult]:
    """Accuracy of every seed on train and test, and the boundary of the median-test-accuracy seed."""
    train_features, train_labels = features_and_labels(train_points)
    test_features, test_labels = features_and_labels(test_points)
    xx, yy = mesh_over(train_features, sweep.grid_resolution)
    mesh = np.column_stack([xx.ravel(), yy.ravel()])
    flavours: dict[Flavour, dict[str, TrainedModule]] = {"torch": torch_models, "sklearn": sklearn_models}
    results = []
    for flavour, models in flavours.items():
        for name, model in models.items():
            train_accuracy = (predicted_labels(model, train_features) == train_labels).mean(axis=1)
            test_accuracy = (predicted_labels(model, test_features) == test_labels).mean(axis=1)
            shown = median_seed_index(test_accuracy)
            mesh_labels = predicted_labels(model, mesh)[shown].reshape(xx.shape)
            results.append(
                SweepResult(
                    name=name,
                    flavour=flavour,
                    model=model,
                    train_accuracy=train_accuracy,
                    test_accuracy=test_accuracy,
                    shown_seed=model.trained_record.seeds[shown],
                    boundary=BoundaryGrid(xx, yy, mesh_labels),
                )
            )
    return results


def validation_points(data: ToyDataParams) -> pd.DataFrame:
    """Fresh points of the configured toy set that no training, test or draw used (the registry's choice)."""
    return make_toy_points(data.name, data.n_samples, data.noise, data.factor, data.validation_random_state)


def validation_accuracy(
    torch_models: dict[str, TrainedModule], sklearn_models: dict[str, TrainedModule], data: ToyDataParams
) -> dict[str, np.ndarray]:
    """Every configuration's accuracy per seed on :func:`validation_points`, by model name."""
    features, labels = features_and_labels(validation_points(data))
    return {
        name: (predicted_labels(model, features) == labels).mean(axis=1)
        for models in (torch_models, sklearn_models)
        for name, model in models.items()
    }
