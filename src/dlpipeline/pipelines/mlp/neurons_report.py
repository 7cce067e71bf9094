"""The neurons study's figures and MLflow child runs (one per trained configuration, param ``study``)."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.figures.over_seeds import (
    Reference,
    SeedSpread,
    draw_spread_over_seeds,
    spread_over_seeds_figure,
)
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.pipelines.mlp.configuration import DrawModels
from dlpipeline.pipelines.mlp.neurons import LOGISTIC_MAX_ITER, LinearFits
from dlpipeline.pipelines.mlp.noise_factor import SettingModels
from dlpipeline.records import ParamValue, Timing, TrainingRecord, seeds_tuple
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun

SERIES = {
    "sweep": "ReLU (the sweep's networks)",
    "activation": "linear activation (identity)",
    "bias": "ReLU without bias",
}
"""The figure's label of each network series, by the study column of its rows."""


def _spread(rows: pd.DataFrame, x: str) -> tuple[list[float], list[np.ndarray]]:
    """Each value of column ``x`` and the test accuracies of its units (draws × seeds)."""
    groups = [(value, group["test_accuracy"].to_numpy()) for value, group in rows.groupby(x, sort=True)]
    return [float(value) for value, _ in groups], [values for _, values in groups]


def plot_accuracy_vs_width(units: pd.DataFrame) -> Figure:
    """Test accuracy against hidden neurons for ReLU, linear and no-bias networks, with the linear baselines.

    Each series shows the mean, a ± std band and every unit (draw × seed); the perceptron and the
    logistic regression are horizontal lines at their median over the same units.
    """
    series = []
    for study, label in SERIES.items():
        rows = units[(units["study"] == study) & (units["model"] == "mlp")]
        if not rows.empty:
            x, per_unit = _spread(rows, "hidden_neurons")
            series.append(SeedSpread(label=label, x=x, per_seed=per_unit))
    references = [
        Reference(
            float(units.loc[units["model"] == model, "test_accuracy"].median()), f"{model} (median)", style
        )
        for model, style in (("perceptron", ":"), ("logistic", "-."))
        if (units["model"] == model).any()
    ]
    units_per_point = int(units[units["study"] == "sweep"].groupby("hidden_neurons").size().max())
    return spread_over_seeds_figure(
        series,
        xlabel="hidden neurons (one layer)",
        ylabel="test accuracy",
        title=f"circles: activation and bias ({units_per_point} units = draws x seeds per point)",
        references=references,
    )


def plot_accuracy_vs_noise(units: pd.DataFrame) -> Figure:
    """Test accuracy against make_circles' noise, one panel per factor, beside the Bayes limit."""
    factors = sorted(units["factor"].unique())
    figure = Figure(figsize=(4 * len(factors), 4), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(factors), sharey=True))
    width = int(units["hidden_neurons"].iloc[0])
    for ax, factor in zip(axes, factors, strict=True):
        rows = units[units["factor"] == factor]
        x, per_unit = _spread(rows, "noise")
        draw_spread_over_seeds(ax, [SeedSpread(label=f"{width}-neuron ReLU MLP", x=x, per_seed=per_unit)])
        limits = rows.groupby("noise", sort=True)["bayes_accuracy"].first()
        ax.plot(limits.index, limits.to_numpy(), "k--", linewidth=1, label="Bayes limit")
        ax.set_title(f"factor {factor:g}")
        ax.set_xlabel("noise")
        ax.legend(fontsize="small")
    axes[0].set_ylabel("test accuracy")
    figure.suptitle("circles: test accuracy against noise, beside the best any classifier can do")
    return figure


def _metrics(rows: pd.DataFrame) -> dict[str, float]:
    """A configuration's accuracy over its units (draws × seeds): mean, median, spread, worst."""
    test = rows["test_accuracy"]
    return {
        "train_accuracy": float(rows["train_accuracy"].mean()),
        "test_accuracy": float(test.mean()),
        "test_accuracy_median": float(test.median()),
        "test_accuracy_std": float(test.std(ddof=0)),
        "test_accuracy_min": float(test.min()),
        "units": float(len(rows)),
    }


def _network_params(study: str, model: TrainedModule, draws: int) -> dict[str, ParamValue]:
    """A trained network configuration's own params: the study, its activation, bias and widths.

    No ``flavour``: the sweep's children are the ones filtered by flavour (docs/mlp.md), these are
    found by ``study``.
    """
    return {
        "study": study,
        "model": "mlp",
        "activation": str(model.kwargs["activation"]),
        "bias": bool(model.kwargs.get("bias", True)),
        "hidden_neurons": sum(model.about.hidden_layers),
        "draws": draws,
    }


def _draws_timing(per_draw: dict[int, TrainedModule]) -> Timing:
    """The time of a configuration trained on every draw: its shares of the batches, summed."""
    timings = [model.timing for model in per_draw.values()]
    return Timing(sum(t.train_seconds for t in timings), sum(t.cpu_seconds for t in timings))


def _variant_runs(variants: dict[str, DrawModels], units: pd.DataFrame, points: np.ndarray) -> list[ChildRun]:
    """One child run per variant network configuration (``neurons-identity-3``, ``neurons-nobias-3``).

    Its MLflow model is the configuration's ensemble trained on the first draw, with ``points``
    of that draw as the input example.
    """
    runs = []
    for study, per_draw in variants.items():
        first = per_draw[min(per_draw)]
        for name, model in first.items():
            width = sum(model.about.hidden_layers)
            rows = units[(units["study"] == study) & (units["hidden_neurons"] == width)]
            label = f"{model.kwargs['activation']}" if study == "activation" else "nobias"
            by_draw = {draw: models[name] for draw, models in per_draw.items()}
            runs.append(
                child_run(
                    f"neurons-{label}-{width}",
                    model.trained_record,
                    _draws_timing(by_draw),
                    RunContent(
                        params=_network_params(study, model, len(per_draw)),
                        metrics=_metrics(rows),
                        model=served_model(model, points),
                    ),
                )
            )
    return runs


def _linear_runs(linear: LinearFits, units: pd.DataFrame, n_train: int) -> list[ChildRun]:
    """One child run per single-neuron baseline (``neurons-perceptron``, ``neurons-logistic``)."""
    runs = []
    for model, timing in linear.timings.items():
        rows = units[units["model"] == model]
        record = TrainingRecord(
            seeds=seeds_tuple(sorted(rows["seed"].unique())),
            epochs=linear.max_iter if model == "perceptron" else LOGISTIC_MAX_ITER,
            epochs_run=linear.epochs_run[model],
            learning_rate=1.0,
            batch_size=1 if model == "perceptron" else n_train,
            optimizer="perceptron" if model == "perceptron" else "lbfgs",
            n_train=n_train,
            n_params=3,  # two weights and a bias
        )
        params: dict[str, ParamValue] = {
            "study": "perceptron",
            "model": model,
            "activation": str(rows["activation"].iloc[0]),
            "bias": True,
            "hidden_neurons": 0,
            "draws": int(rows["draw"].nunique()),
        }
        runs.append(
            child_run(f"neurons-{model}", record, timing, RunContent(params=params, metrics=_metrics(rows)))
        )
    return runs


def _noise_factor_runs(models: SettingModels, units: pd.DataFrame, points: np.ndarray) -> list[ChildRun]:
    """One child run per (noise, factor) setting: its network over draws × seeds and its Bayes limit.

    Its MLflow model is the setting's ensemble trained on the first draw (``points``: the example).
    """
    runs = []
    for (noise, factor), per_draw in models.items():
        first = per_draw[min(per_draw)]
        rows = units[(units["noise"] == noise) & (units["factor"] == factor)]
        params = {
            **_network_params("noise_factor", first, len(per_draw)),
            "data_noise": noise,
            "data_factor": factor,
        }
        metrics = {**_metrics(rows), "bayes_accuracy": float(rows["bayes_accuracy"].iloc[0])}
        runs.append(
            child_run(
                f"neurons-noise{noise:g}-factor{factor:g}",
                first.trained_record,
                _draws_timing(per_draw),
                RunContent(params=params, metrics=metrics, model=served_model(first, points)),
            )
        )
    return runs


def neuron_child_runs(
    variants: dict[str, DrawModels],
    linear: LinearFits,
    noise_models: SettingModels,
    units: pd.DataFrame,
    noise_units: pd.DataFrame,
    draws: pd.DataFrame,
) -> list[ChildRun]:
    """Every configuration the study trained, as an MLflow child run with param ``study``."""
    first_train = draws[(draws["draw"] == draws["draw"].min()) & (draws["split"] == "train")]
    points, _ = features_and_labels(first_train)
    return [
        *_variant_runs(variants, units, points),
        *_linear_runs(linear, units, len(first_train)),
        *_noise_factor_runs(noise_models, noise_units, points),
    ]
