"""Nodes of the MLP experiment: toy data → two flavours of MLP over a sweep → results.

The sweep trains every configuration (hidden-layer widths) for every seed, in two
flavours: ``torch`` (the shared training loop, all seeds and restarts of one
configuration as one batched ensemble) and ``sklearn`` (``MLPClassifier`` exactly as
the notes use it). Both are evaluated and plotted by the same code.
"""

import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from dlpipeline.data.toy2d import features_and_labels, make_toy_points, stratified_split
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, TorchParams, ToyDataParams
from dlpipeline.plotting import (
    BoundaryGrid,
    BoundaryPanel,
    SeedSpread,
    boundary_grid_figure,
    decision_boundary_figure,
    loss_curves_figure,
    mesh_over,
    spread_over_seeds_figure,
)
from dlpipeline.tracking import ChildRun
from dlpipeline.training import fit, predict, seed_everything

logger = logging.getLogger(__name__)

Flavour = Literal["torch", "sklearn"]
LabelPredictor = Callable[[np.ndarray], np.ndarray]
"""Maps features ``(n, 2)`` to every seed's predicted labels ``(seeds, n)``."""

BAYES_ACCURACY_CIRCLES = 0.994  # make_circles(noise=0.1, factor=0.5), see DESIGN.md


@dataclass(frozen=True)
class FittedConfig:
    """One configuration trained for every seed, ready to predict."""

    flavour: Flavour
    hidden_layers: tuple[int, ...]
    seeds: tuple[int, ...]
    predict_labels: LabelPredictor
    settings: dict[str, str | int | float]
    loss_history: np.ndarray | None = None  # (epochs, seeds), torch only
    train_seconds: float = 0.0


@dataclass(frozen=True)
class ConfigResult:
    """One configuration's accuracy for every seed and the boundary of a typical seed."""

    fitted: FittedConfig
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    shown_seed: int
    boundary: BoundaryGrid

    @property
    def label(self) -> str:
        """Short name such as ``torch-5`` or ``sklearn-8x8``."""
        return f"{self.fitted.flavour}-{_widths_text(self.fitted.hidden_layers)}"


def _widths_text(hidden_layers: tuple[int, ...]) -> str:
    """``(5,)`` → ``5``; ``(8, 8)`` → ``8x8``."""
    return "x".join(str(width) for width in hidden_layers)


def _neurons_text(hidden_layers: tuple[int, ...]) -> str:
    """``(1,)`` → ``1 neuron``; ``(5,)`` → ``5 neurons``; ``(8, 8)`` → ``8x8 neurons``."""
    return f"{_widths_text(hidden_layers)} neuron{'' if hidden_layers == (1,) else 's'}"


# --- data -----------------------------------------------------------------------------


def generate_points(data: ToyDataParams) -> pd.DataFrame:
    """Generate the labelled 2-D points of the configured toy set."""
    return make_toy_points(data.name, data.n_samples, data.noise, data.factor, data.random_state)


def split_points(points: pd.DataFrame, data: ToyDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of the points."""
    return stratified_split(points, data.test_size, data.random_state)


# --- training -------------------------------------------------------------------------


def fit_torch_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams
) -> list[FittedConfig]:
    """Train every configuration × seed × restart with the shared loop; keep each seed's best restart.

    All configurations of the same depth, with all their seeds and restarts, form one
    :class:`MLPEnsemble` trained in a single call of the loop (the narrower members are
    padded and masked). Per seed, the restart with the lowest final *training* loss is
    kept: a guard against dead ReLUs and poor local minima that never looks at test data.
    """
    seed_everything(sweep.first_seed)
    features, labels = _as_tensors(train_points)
    n_classes = int(labels.max()) + 1
    seeds, restarts = sweep.seeds, torch_params.restarts
    fitted: dict[tuple[int, ...], FittedConfig] = {}
    for architectures in _by_depth(sweep.architectures):
        member_widths = [widths for widths in architectures for _ in seeds for _ in range(restarts)]
        member_seeds = [
            seed * 1000 + restart for _ in architectures for seed in seeds for restart in range(restarts)
        ]
        started = time.perf_counter()
        model = MLPEnsemble(2, member_widths, n_classes, sweep.activation, member_seeds)
        losses = fit(
            model,
            features,
            labels,
            ensemble_cross_entropy,
            torch_params.train,
            seed=sweep.first_seed,
            description=f"torch {len(architectures)} configurations",
        ).loss
        seconds = time.perf_counter() - started
        logger.info(
            "torch: %d configurations x %d seeds x %d restarts = %d networks trained as one batch "
            "in %.1f s (%d epochs)",
            len(architectures),
            len(seeds),
            restarts,
            len(member_seeds),
            seconds,
            torch_params.train.epochs,
        )
        for index, widths in enumerate(architectures):
            offset = index * len(seeds) * restarts
            best = offset + _best_restarts(
                losses[-1, offset : offset + len(seeds) * restarts], len(seeds), restarts
            )
            fitted[widths] = FittedConfig(
                flavour="torch",
                hidden_layers=widths,
                seeds=tuple(seeds),
                predict_labels=_ensemble_predictor(model, best, torch_params.train.device),
                settings=_torch_settings(torch_params),
                loss_history=losses[:, best].numpy(),
                train_seconds=seconds / len(architectures),
            )
            logger.info(
                "torch %s neurons: final training loss %.3f (mean over seeds, best restart)",
                _widths_text(widths),
                float(losses[-1, best].mean()),
            )
    return [fitted[widths] for widths in sweep.architectures]


def _by_depth(architectures: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """Group distinct architectures by number of hidden layers, keeping their order."""
    groups: dict[int, list[tuple[int, ...]]] = {}
    for widths in dict.fromkeys(architectures):
        groups.setdefault(len(widths), []).append(widths)
    return list(groups.values())


def _torch_settings(torch_params: TorchParams) -> dict[str, str | int | float]:
    """The torch flavour's training settings, as logged with each child run."""
    return {
        "epochs": torch_params.train.epochs,
        "learning_rate": torch_params.train.learning_rate,
        "weight_decay": torch_params.train.weight_decay,
        "restarts": torch_params.restarts,
        "optimizer": "adam",
    }


def _as_tensors(points: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Features as float32 and labels as int64 tensors."""
    features, labels = features_and_labels(points)
    return torch.tensor(features, dtype=torch.float32), torch.tensor(labels)


def _best_restarts(final_losses: torch.Tensor, n_seeds: int, restarts: int) -> torch.Tensor:
    """Indices of the ensemble member with the lowest final loss within each seed's restarts."""
    best_restart = final_losses.reshape(n_seeds, restarts).argmin(dim=1)
    return torch.arange(n_seeds) * restarts + best_restart


def _ensemble_predictor(model: MLPEnsemble, members: torch.Tensor, device: str) -> LabelPredictor:
    """A label predictor that runs the chosen ``members`` of a trained ensemble."""

    def predict_labels(features: np.ndarray) -> np.ndarray:
        logits = predict(model, torch.tensor(features, dtype=torch.float32), device)
        return logits[members].argmax(dim=-1).numpy()

    return predict_labels


def fit_sklearn_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, sklearn_params: SklearnParams
) -> list[FittedConfig]:
    """Train ``MLPClassifier(hidden_layer_sizes=(n,), activation=..., random_state=seed)`` per seed."""
    features, labels = features_and_labels(train_points)
    fitted = []
    for index, widths in enumerate(sweep.architectures, start=1):
        started = time.perf_counter()
        classifiers = [
            _fit_classifier(features, labels, widths, sweep.activation, seed, sklearn_params)
            for seed in sweep.seeds
        ]
        unconverged = sum(classifier.n_iter_ >= sklearn_params.max_iter for classifier in classifiers)
        seconds = time.perf_counter() - started
        fitted.append(
            FittedConfig(
                flavour="sklearn",
                hidden_layers=widths,
                seeds=tuple(sweep.seeds),
                predict_labels=lambda grid, models=classifiers: np.stack([m.predict(grid) for m in models]),
                settings={
                    "solver": sklearn_params.solver,
                    "max_iter": sklearn_params.max_iter,
                    "unconverged_seeds": unconverged,
                },
                train_seconds=seconds,
            )
        )
        logger.info(
            "[%d/%d] sklearn %s neurons: %d seeds in %.1f s (%d hit max_iter)",
            index,
            len(sweep.architectures),
            _widths_text(widths),
            len(sweep.seeds),
            seconds,
            unconverged,
        )
    return fitted


def _fit_classifier(
    features: np.ndarray,
    labels: np.ndarray,
    widths: tuple[int, ...],
    activation: str,
    seed: int,
    sklearn_params: SklearnParams,
) -> MLPClassifier:
    """Fit one scikit-learn MLP, silencing the convergence warning (it is counted instead)."""
    classifier = MLPClassifier(
        hidden_layer_sizes=widths,
        activation=activation,
        random_state=seed,
        solver=sklearn_params.solver,
        max_iter=sklearn_params.max_iter,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier.fit(features, labels)


# --- evaluation -----------------------------------------------------------------------


def evaluate_sweep(
    torch_fits: list[FittedConfig],
    sklearn_fits: list[FittedConfig],
    train_points: pd.DataFrame,
    test_points: pd.DataFrame,
    sweep: SweepParams,
) -> list[ConfigResult]:
    """Accuracy of every seed on train and test, and the boundary of the median-test-accuracy seed."""
    train_features, train_labels = features_and_labels(train_points)
    test_features, test_labels = features_and_labels(test_points)
    xx, yy = mesh_over(train_features, sweep.grid_resolution)
    mesh = np.column_stack([xx.ravel(), yy.ravel()])
    results = []
    for fitted in [*torch_fits, *sklearn_fits]:
        train_accuracy = (fitted.predict_labels(train_features) == train_labels).mean(axis=1)
        test_accuracy = (fitted.predict_labels(test_features) == test_labels).mean(axis=1)
        shown = _median_index(test_accuracy)
        mesh_labels = fitted.predict_labels(mesh)[shown].reshape(xx.shape)
        results.append(
            ConfigResult(
                fitted=fitted,
                train_accuracy=train_accuracy,
                test_accuracy=test_accuracy,
                shown_seed=fitted.seeds[shown],
                boundary=BoundaryGrid(xx, yy, mesh_labels),
            )
        )
    return results


def _median_index(values: np.ndarray) -> int:
    """Index of the lower-median value (a typical seed, not the best one)."""
    order = np.argsort(values, kind="stable")
    return int(order[(len(values) - 1) // 2])


# --- reporting ------------------------------------------------------------------------


def accuracy_table(results: list[ConfigResult]) -> pd.DataFrame:
    """One row per configuration: accuracy mean / std / min over seeds, and training time."""
    return pd.DataFrame(
        [
            {
                "flavour": result.fitted.flavour,
                "hidden_neurons": _widths_text(result.fitted.hidden_layers),
                "seeds": len(result.fitted.seeds),
                "train_accuracy": round(float(result.train_accuracy.mean()), 6),
                "test_accuracy": round(float(result.test_accuracy.mean()), 6),
                "test_accuracy_std": round(float(result.test_accuracy.std()), 6),
                "test_accuracy_min": round(float(result.test_accuracy.min()), 6),
                "train_seconds": round(result.fitted.train_seconds, 3),
            }
            for result in results
        ]
    )


def sweep_metrics(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """The accuracy table as nested JSON for ``dvc metrics``: flavour → neurons → metric."""
    metric_columns = ["train_accuracy", "test_accuracy", "test_accuracy_std", "test_accuracy_min"]
    return {
        flavour: {
            str(row["hidden_neurons"]): {column: float(row[column]) for column in metric_columns}
            for _, row in rows.iterrows()
        }
        for flavour, rows in table.groupby("flavour", sort=False)
    }


def plot_accuracy_vs_neurons(results: list[ConfigResult], data: ToyDataParams) -> Figure:
    """Test accuracy against hidden neurons per flavour: mean ± std, worst seed, every seed."""
    series = []
    for flavour in dict.fromkeys(result.fitted.flavour for result in results):
        mine = [result for result in results if result.fitted.flavour == flavour]
        series.append(
            SeedSpread(
                label=flavour,
                x=[sum(result.fitted.hidden_layers) for result in mine],
                per_seed=[result.test_accuracy for result in mine],
            )
        )
    reference = BAYES_ACCURACY_CIRCLES if _is_notes_circles(data) else None
    return spread_over_seeds_figure(
        series,
        xlabel="hidden neurons (total)",
        ylabel="test accuracy",
        title=f"{data.name}: test accuracy over {len(results[0].fitted.seeds)} seeds",
        reference=reference,
    )


def _is_notes_circles(data: ToyDataParams) -> bool:
    """Whether the data is the notes' circles set, whose Bayes accuracy is known."""
    return (data.name, data.noise, data.factor) == ("circles", 0.1, 0.5)


def plot_boundary_grid(results: list[ConfigResult], train_points: pd.DataFrame) -> Figure:
    """Every configuration's decision boundary: one row per flavour, one column per width."""
    features, labels = features_and_labels(train_points)
    rows: dict[str, list[BoundaryPanel]] = {}
    for result in results:
        rows.setdefault(result.fitted.flavour, []).append(
            BoundaryPanel(
                grid=result.boundary,
                title=_neurons_text(result.fitted.hidden_layers),
                corner_text=score_text(result),
            )
        )
    return boundary_grid_figure(
        rows, features, labels, suptitle="Decision boundaries (seed with the median test accuracy)"
    )


def score_text(result: ConfigResult) -> str:
    """The corner text: this seed's test accuracy and the mean ± std over all seeds."""
    shown = result.fitted.seeds.index(result.shown_seed)
    return (
        f"test {result.test_accuracy[shown]:.3f}\n"
        f"mean {result.test_accuracy.mean():.3f} ± {result.test_accuracy.std():.3f}"
    )


def plot_torch_loss(results: list[ConfigResult]) -> Figure:
    """Mean training loss over seeds per epoch, one curve per torch configuration."""
    curves = {
        _neurons_text(result.fitted.hidden_layers): result.fitted.loss_history.mean(axis=1)
        for result in results
        if result.fitted.loss_history is not None
    }
    return loss_curves_figure(curves, title="torch: training loss (mean over seeds, best restart)")


def build_child_runs(
    results: list[ConfigResult], train_points: pd.DataFrame, data: ToyDataParams, sweep: SweepParams
) -> list[ChildRun]:
    """One MLflow child run per configuration × flavour, with its boundary plot."""
    features, labels = features_and_labels(train_points)
    runs = []
    for result in results:
        fitted = result.fitted
        widths = _widths_text(fitted.hidden_layers)
        histories = {}
        if fitted.loss_history is not None:
            histories["loss"] = fitted.loss_history.mean(axis=1).tolist()
        runs.append(
            ChildRun(
                name=result.label,
                params={
                    "flavour": fitted.flavour,
                    "hidden_neurons": sum(fitted.hidden_layers),
                    "hidden_layers": widths,
                    "activation": sweep.activation,
                    "seeds": f"{fitted.seeds[0]}..{fitted.seeds[-1]}",
                    "n_seeds": len(fitted.seeds),
                    **{f"data_{key}": value for key, value in data.model_dump().items()},
                    **fitted.settings,
                },
                metrics={
                    "train_accuracy": float(result.train_accuracy.mean()),
                    "test_accuracy": float(result.test_accuracy.mean()),
                    "test_accuracy_std": float(result.test_accuracy.std()),
                    "test_accuracy_min": float(result.test_accuracy.min()),
                    "train_seconds": fitted.train_seconds,
                },
                metric_histories=histories,
                figures={
                    "decision_boundary.png": decision_boundary_figure(
                        result.boundary,
                        features,
                        labels,
                        title=f"{fitted.flavour}: {_neurons_text(fitted.hidden_layers)} "
                        f"(seed {result.shown_seed})",
                        corner_text=score_text(result),
                    ),
                },
            )
        )
    return runs
