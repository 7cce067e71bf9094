"""The CNN experiment's reports: the result table and its metrics, comparison figures, child runs.

One MLflow child run per configuration carries the shared training names (see
:func:`dlpipeline.pipelines.common.child_run`), the configuration's own settings and its
trained ensemble as an MLflow model (:mod:`dlpipeline.served`); the best of them by a
validation metric becomes the registry's champion (:mod:`dlpipeline.registry`).
"""

import dataclasses

import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.data.digits import table_to_images
from dlpipeline.figures.curves import LearningCurves, learning_curves_figure
from dlpipeline.figures.over_seeds import seed_strip_figure
from dlpipeline.pipelines.cnn.params import CnnRegistryParams, ExperimentParams, ImageDataParams
from dlpipeline.pipelines.cnn.plots import confusion_figure
from dlpipeline.pipelines.cnn.train import SPLITS, EnsembleAccuracy
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.registry import Champion, choose_champion
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun, LoggedRun, ParamValue

NOT_APPLICABLE = "n/a"
"""Param value of the CNN-only settings (filters, pooling, kernel size) of an MLP."""
SPLIT_NAMES = {"train": "train", "val": "validation", "test": "test"}
RUN_METRICS = (
    "test_accuracy",
    "test_accuracy_mean",
    "test_accuracy_min",
    "val_accuracy",
    "train_accuracy",
    "train_test_gap",
)
"""What each child run logs from its table row, besides the shared ``train_seconds`` and ``n_params``."""


def experiment_table(results: list[EnsembleAccuracy]) -> pd.DataFrame:
    """One row per configuration: its settings, size and accuracies over seeds (times are in MLflow)."""
    rows = []
    for result in results:
        test = result.accuracy["test"]
        rows.append(
            {
                "configuration": result.name,
                **_settings(result),
                "n_params": result.spec.n_params,
                "seeds": len(result.seeds),
                "test_accuracy": round(result.median("test"), 6),
                "test_accuracy_mean": round(float(test.mean()), 6),
                "test_accuracy_min": round(float(test.min()), 6),
                "val_accuracy": round(result.median("val"), 6),
                "train_accuracy": round(result.median("train"), 6),
                "train_test_gap": round(result.median("train") - result.median("test"), 6),
            }
        )
    return pd.DataFrame(rows)


def unit_table(results: list[EnsembleAccuracy], experiments: ExperimentParams) -> pd.DataFrame:
    """One row per configuration and seed: the units the claims pair, with vs without an ingredient.

    ``train_test_gap`` is that seed's training minus test accuracy (its overfitting);
    ``test_gain_over_featured`` its test accuracy minus the featured CNN's of the same seed
    (0 for the featured CNN itself).
    """
    (shown,) = [result for result in results if result.name == experiments.featured]
    featured = dict(zip(shown.seeds, shown.accuracy["test"], strict=True))
    rows = []
    for result in results:
        settings = _settings(result)
        for member, seed in enumerate(result.seeds):
            train, val, test = (float(result.accuracy[split][member]) for split in SPLITS)
            rows.append(
                {
                    "configuration": result.name,
                    "model": settings["model"],
                    "filters": settings["filters"],
                    "pooling": settings["pooling"],
                    "dropout": settings["dropout"],
                    "seed": seed,
                    "n_params": result.spec.n_params,
                    "train_accuracy": round(train, 6),
                    "val_accuracy": round(val, 6),
                    "test_accuracy": round(test, 6),
                    "train_test_gap": round(train - test, 6),
                    "test_gain_over_featured": round(test - float(featured[seed]), 6),
                }
            )
    return pd.DataFrame(rows)


def _settings(result: EnsembleAccuracy) -> dict[str, ParamValue]:
    """The architecture as it is reported: CNN-only settings are ``n/a`` for an MLP."""
    spec, is_cnn = result.spec, result.spec.model == "cnn"
    return {
        "model": spec.model,
        "filters": "x".join(map(str, spec.filters)) if is_cnn else NOT_APPLICABLE,
        "kernel_size": spec.kernel_size if is_cnn else NOT_APPLICABLE,
        "pooling": spec.pooling if is_cnn else NOT_APPLICABLE,
        "feature_maps": " ".join("x".join(map(str, shape)) for shape in spec.block_shapes) or NOT_APPLICABLE,
        "dense_units": spec.dense_units,
        "dropout": spec.dropout,
    }


def experiment_metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline for ``dvc metrics``: each configuration's median test accuracy over seeds.

    The full table (validation, train, gaps, sizes) is a DVC plot and the child runs' metrics.
    """
    by_configuration = dict(zip(table["configuration"], table["test_accuracy"], strict=True))
    return {"test_accuracy": {str(name): float(value) for name, value in by_configuration.items()}}


def featured_curve_table(results: list[EnsembleAccuracy], experiments: ExperimentParams) -> pd.DataFrame:
    """The featured configuration's per-epoch curves (mean over seeds): one row per epoch.

    One configuration, so that ``dvc plots diff`` draws one line per experiment and column.
    """
    (featured,) = [result for result in results if result.name == experiments.featured]
    history = featured.history
    return pd.DataFrame(
        {
            "epoch": range(1, history.epochs + 1),
            "train_loss": history.loss.mean(dim=1).numpy().round(6),
            "val_loss": history.of("val_loss").mean(dim=1).numpy().round(6),
            "val_accuracy": history.of("val_accuracy").mean(dim=1).numpy().round(6),
        }
    )


def plot_experiments(results: list[EnsembleAccuracy]) -> Figure:
    """Train, validation and test accuracy of every configuration and seed, side by side."""
    categories = [f"{result.name}\n{result.spec.n_params:,} params" for result in results]
    return seed_strip_figure(
        categories,
        {SPLIT_NAMES[split]: [result.accuracy[split] for result in results] for split in SPLITS},
        ylabel="accuracy",
        title=f"Accuracy by configuration ({len(results[0].seeds)} seeds each)",
    )


def plot_learning_curves(results: list[EnsembleAccuracy]) -> Figure:
    """Training against validation loss per epoch for every configuration (mean over seeds)."""
    return learning_curves_figure(
        {result.name: _curves(result) for result in results},
        title="Training vs validation loss (mean over seeds)",
    )


def _curves(result: EnsembleAccuracy) -> LearningCurves:
    """A configuration's mean loss curves, with its median test accuracy in the corner."""
    return LearningCurves(
        train_loss=result.history.loss.mean(dim=1).numpy(),
        val_loss=result.history.of("val_loss").mean(dim=1).numpy(),
        corner_text=f"test {result.median('test'):.3f}",
    )


def _data_params(data: ImageDataParams) -> dict[str, ParamValue]:
    """The data settings as child-run params (``data_source``, ``data_test_size``, ...)."""
    params: dict[str, ParamValue] = {
        f"data_{key}": str(value) for key, value in data.model_dump(exclude={"idx_files"}).items()
    }
    if data.idx_files:
        params["data_idx_images"] = ", ".join(pair.images for pair in data.idx_files)
    return params


def build_child_runs(
    results: list[EnsembleAccuracy],
    test_images: pd.DataFrame,
    data: ImageDataParams,
) -> list[ChildRun]:
    """One MLflow child run per configuration: settings, accuracies, loss curves and figures.

    How each configuration was trained (epochs, learning rate, augmentation, weight decay, …)
    comes from its model's record, not from today's parameters.
    """
    images, labels = table_to_images(test_images)
    runs = []
    for result, row in zip(results, experiment_table(results).to_dict("records"), strict=True):
        shown = result.shown
        content = RunContent(
            params={
                **_settings(result),
                "seeds": f"{result.seeds[0]}..{result.seeds[-1]}",
                **_data_params(data),
                "weight_decay": result.record.weight_decay,
            },
            metrics={key: float(row[key]) for key in RUN_METRICS},
            histories={
                "epoch_train_loss": result.history.loss.mean(dim=1).tolist(),
                "epoch_val_loss": result.history.of("val_loss").mean(dim=1).tolist(),
                "epoch_val_accuracy": result.history.of("val_accuracy").mean(dim=1).tolist(),
            },
            figures={
                "learning_curves.png": learning_curves_figure(
                    {result.name: _curves(result)}, title=f"{result.name}: mean over seeds"
                ),
                "confusion_matrix.png": confusion_figure(
                    result.name,
                    result.seeds[shown],
                    labels,
                    result.test_predictions[shown],
                    result.spec.n_classes,
                ),
            },
        )
        run = child_run(result.name, result.record, result.model.timing, content)
        runs.append(dataclasses.replace(run, model=served_model(result.model, images[:, None])))
    return runs


def champion(
    child_runs: list[LoggedRun], results: list[EnsembleAccuracy], registry: CnnRegistryParams
) -> Champion:
    """The configuration to register as ``cnn.registry.name``: the best by ``cnn.registry.rank_by``."""
    return choose_champion(child_runs, results, registry)
