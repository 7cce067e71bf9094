"""The neurons study (``mlp.neurons``): what the activation, the bias and the hidden layer each add.

Beside the sweep's ReLU networks (reused, not retrained: same widths, draws and seeds), the
study trains the same networks with a linear activation (``activation``: the network is a
linear map however wide) and without biases (``bias``: a ReLU network without bias is
positively homogeneous, f(c·x) = c·f(x) for c > 0, so it gives one label along every ray from
the origin, and the circles are centred there); and it fits the 1950s' single neuron, a
perceptron, and a logistic regression on every draw (``perceptron``). Every network of a
variant trains in one batched ensemble over every draw (:func:`fit_on_sets`).
"""

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Perceptron

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.mlp.configuration import DrawModels
from dlpipeline.pipelines.mlp.data import draw_split
from dlpipeline.pipelines.mlp.evaluate import predicted_labels
from dlpipeline.pipelines.mlp.params import NeuronsParams, SweepParams, TorchParams
from dlpipeline.pipelines.mlp.torch_flavour import as_tensors, fit_on_sets
from dlpipeline.records import Timing

DECIMALS = 6  # the tables are DVC-tracked: a fixed precision keeps them byte-stable

LOGISTIC_MAX_ITER = 100  # scikit-learn's default: lbfgs converges on 2-D points long before


def draw_numbers(draws: pd.DataFrame) -> list[int]:
    """The data draws of a draws table, in order."""
    return sorted(int(draw) for draw in draws["draw"].unique())


def fit_variants(
    draws: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams, neurons: NeuronsParams
) -> dict[str, DrawModels]:
    """The study's networks on every draw: ``{"activation": …, "bias": …}``, each ``{draw: {name: model}}``.

    ``activation``: one hidden layer of each width of ``neurons.hidden_neurons`` with
    ``neurons.activation``; ``bias``: the same widths with the sweep's activation and no bias.
    Both train as the sweep does (``mlp.torch``: loop, restarts, keeping the lowest training
    loss) on the study's seeds, all draws × widths × seeds × restarts of a variant in one batch.
    """
    numbers = draw_numbers(draws)
    train_sets = [as_tensors(draw_split(draws, draw)[0]) for draw in numbers]
    trained = {
        "activation": fit_on_sets(
            train_sets, neurons.study_sweep(sweep, neurons.hidden_neurons, neurons.activation), torch_params
        ),
        "bias": fit_on_sets(
            train_sets,
            neurons.study_sweep(sweep, neurons.hidden_neurons, sweep.activation),
            torch_params,
            bias=False,
        ),
    }
    return {study: dict(zip(numbers, per_draw, strict=True)) for study, per_draw in trained.items()}


@dataclass(frozen=True)
class LinearFits:
    """The single-neuron baselines' accuracies per draw × seed, and how long fitting them took."""

    table: pd.DataFrame
    timings: dict[str, Timing]
    max_iter: int
    epochs_run: dict[str, int]
    """The most epochs (iterations) any fit of each model ran."""


def fit_linear_baselines(draws: pd.DataFrame, sweep: SweepParams, neurons: NeuronsParams) -> LinearFits:
    """A perceptron (Rosenblatt's rule, its sample order shuffled by the seed) and a logistic regression.

    One row per model × draw × seed: the perceptron is fitted once per seed, the logistic
    regression (deterministic) once per draw and repeated beside every seed, so both pair with
    the networks by draw and seed.
    """
    seeds = neurons.study_sweep(sweep, neurons.hidden_neurons, sweep.activation).seeds
    rows, seconds = [], {"perceptron": Timing(0.0, 0.0), "logistic": Timing(0.0, 0.0)}
    epochs_run = {"perceptron": 0, "logistic": 0}
    for draw in draw_numbers(draws):
        (train_x, train_y), (test_x, test_y) = (
            features_and_labels(split) for split in draw_split(draws, draw)
        )
        fitted = {}
        for model in ("perceptron", "logistic"):
            started, cpu_started = time.perf_counter(), time.process_time()
            if model == "perceptron":
                fitted[model] = [
                    Perceptron(max_iter=neurons.perceptron_max_iter, random_state=seed).fit(train_x, train_y)
                    for seed in seeds
                ]
            else:
                fitted[model] = [LogisticRegression(max_iter=LOGISTIC_MAX_ITER).fit(train_x, train_y)] * len(
                    seeds
                )
            before = seconds[model]
            seconds[model] = Timing(
                before.train_seconds + time.perf_counter() - started,
                before.cpu_seconds + time.process_time() - cpu_started,
            )
        for model, classifiers in fitted.items():
            epochs_run[model] = max(epochs_run[model], *(int(np.max(c.n_iter_)) for c in classifiers))
            for seed, classifier in zip(seeds, classifiers, strict=True):
                rows.append(
                    {
                        **_row("perceptron", model, LINEAR_ACTIVATIONS[model], True, 0, draw, seed),
                        "train_accuracy": float((classifier.predict(train_x) == train_y).mean()),
                        "test_accuracy": float((classifier.predict(test_x) == test_y).mean()),
                    }
                )
    return LinearFits(pd.DataFrame(rows), seconds, neurons.perceptron_max_iter, epochs_run)


LINEAR_ACTIVATIONS = {"perceptron": "step", "logistic": "logistic"}
"""What the single neuron of each linear baseline outputs: a step (0/1) or a logistic probability."""


def _row(study: str, model: str, activation: str, bias: bool, width: int, draw: int, seed: int) -> dict:
    """The identifying columns of one unit of the study's table."""
    return {
        "study": study,
        "model": model,
        "activation": activation,
        "bias": int(bias),
        "hidden_neurons": width,
        "draw": draw,
        "seed": seed,
    }


def network_rows(study: str, per_draw: DrawModels, draws: pd.DataFrame, seeds: list[int]) -> list[dict]:
    """One row per one-layer network of ``per_draw`` × draw × seed of ``seeds``, with its accuracies."""
    rows = []
    for draw, models in sorted(per_draw.items()):
        (train_x, train_y), (test_x, test_y) = (
            features_and_labels(split) for split in draw_split(draws, draw)
        )
        for model in models.values():
            widths = model.about.hidden_layers
            if len(widths) != 1:
                continue
            train_accuracy = (predicted_labels(model, train_x) == train_y).mean(axis=1)
            test_accuracy = (predicted_labels(model, test_x) == test_y).mean(axis=1)
            for member, seed in enumerate(model.trained_record.seeds):
                if seed in seeds:
                    rows.append(
                        {
                            **_row(study, "mlp", _activation(model), _bias(model), widths[0], draw, seed),
                            "train_accuracy": float(train_accuracy[member]),
                            "test_accuracy": float(test_accuracy[member]),
                        }
                    )
    return rows


def _activation(model: TrainedModule) -> str:
    """The activation a trained MLP was built with."""
    return str(model.kwargs["activation"])


def _bias(model: TrainedModule) -> bool:
    """Whether a trained MLP has biases."""
    return bool(model.kwargs.get("bias", True))


def neuron_units(
    torch_draws: DrawModels,
    variants: dict[str, DrawModels],
    linear: LinearFits,
    draws: pd.DataFrame,
    sweep: SweepParams,
    neurons: NeuronsParams,
) -> pd.DataFrame:
    """The study's units: one row per model × width × draw × seed, train and test accuracy.

    ``study`` says who trained the row: ``sweep`` (the sweep's own networks of the study's widths,
    reused), ``activation``, ``bias`` or ``perceptron`` (the single-neuron baselines, width 0).
    """
    seeds = neurons.study_sweep(sweep, neurons.hidden_neurons, sweep.activation).seeds
    wanted = set(neurons.hidden_neurons)
    sweep_rows = [
        row for row in network_rows("sweep", torch_draws, draws, seeds) if row["hidden_neurons"] in wanted
    ]
    variant_rows = [
        row for study, models in variants.items() for row in network_rows(study, models, draws, seeds)
    ]
    table = pd.DataFrame([*sweep_rows, *variant_rows])
    return pd.concat([table, linear.table], ignore_index=True).round(DECIMALS)


def spread_table(units: pd.DataFrame, by: list[str], column: str = "test_accuracy") -> pd.DataFrame:
    """``column`` summarised per group of ``by``: units, median, quartiles, min and max."""
    grouped = units.groupby(by, sort=False)[column]
    table = pd.DataFrame(
        {
            "units": grouped.size(),
            "median": grouped.median(),
            "q25": grouped.quantile(0.25),
            "q75": grouped.quantile(0.75),
            "min": grouped.min(),
            "max": grouped.max(),
        }
    )
    return table.reset_index().round(DECIMALS)


def neuron_summary(units: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy per model × activation × bias × width over draws × seeds (the docs' table)."""
    return spread_table(units, ["study", "model", "activation", "bias", "hidden_neurons"])
