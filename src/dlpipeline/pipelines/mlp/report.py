"""Reporting of the MLP sweep: the accuracy table and metrics, the figures, one MLflow child run per model.

Each child run logs its configuration's ensemble as an MLflow model (:mod:`dlpipeline.served`);
the best of them by accuracy on fresh validation points becomes the registry's champion.
"""

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.figures.boundaries import BoundaryPanel, boundary_grid_figure, decision_boundary_figure
from dlpipeline.figures.curves import curves_figure
from dlpipeline.figures.over_seeds import Reference, SeedSpread, spread_over_seeds_figure
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.pipelines.mlp.evaluate import SweepResult
from dlpipeline.pipelines.mlp.params import MlpRegistryParams, ToyDataParams, widths_text
from dlpipeline.records import ParamValue
from dlpipeline.registry import Champion, choose_champion
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun, LoggedRun

BAYES_ACCURACY_CIRCLES = 0.994  # make_circles(noise=0.1, factor=0.5): the best any classifier can do


def accuracy_table(results: list[SweepResult]) -> pd.DataFrame:
    """One row per configuration: accuracy mean / std / min over seeds (training times are in MLflow)."""
    return pd.DataFrame(
        [
            {
                "flavour": result.flavour,
                "hidden_neurons": widths_text(result.hidden_layers),
                "seeds": len(result.seeds),
                "train_accuracy": round(float(result.train_accuracy.mean()), 6),
                "test_accuracy": round(float(result.test_accuracy.mean()), 6),
                "test_accuracy_std": round(float(result.test_accuracy.std()), 6),
                "test_accuracy_min": round(float(result.test_accuracy.min()), 6),
            }
            for result in results
        ]
    )


HEADLINE_ACCURACY = 0.95
"""``fewest_neurons_reaching_95pct``: the fewest hidden neurons whose mean test accuracy reaches this."""


def sweep_metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline figures per flavour for ``dvc metrics`` (the full table is a DVC plot).

    The mean test accuracy of the narrowest and the widest configuration, the best mean and
    its worst seed, and the fewest neurons that reach :data:`HEADLINE_ACCURACY` (left out if
    none does).
    """
    return {str(flavour): _headline(rows) for flavour, rows in table.groupby("flavour", sort=False)}


def _headline(rows: pd.DataFrame) -> dict[str, float]:
    """One flavour's headline figures, from its rows in sweep order."""
    best = rows.loc[rows["test_accuracy"].idxmax()]
    first, last = rows.iloc[0], rows.iloc[-1]
    figures = {
        f"test_accuracy_{first['hidden_neurons']}_neurons": float(first["test_accuracy"]),
        f"test_accuracy_{last['hidden_neurons']}_neurons": float(last["test_accuracy"]),
        "best_test_accuracy": float(best["test_accuracy"]),
        "best_worst_seed": float(best["test_accuracy_min"]),
    }
    reaching = [
        _total_neurons(str(row["hidden_neurons"]))
        for _, row in rows.iterrows()
        if row["test_accuracy"] >= HEADLINE_ACCURACY
    ]
    if reaching:
        figures[f"fewest_neurons_reaching_{round(HEADLINE_ACCURACY * 100)}pct"] = float(min(reaching))
    return figures


def _total_neurons(hidden_neurons: str) -> int:
    """``"8"`` → 8; ``"4x4"`` → 8."""
    return sum(int(width) for width in hidden_neurons.split("x"))


def plot_accuracy_vs_neurons(results: list[SweepResult], data: ToyDataParams) -> Figure:
    """Test accuracy against hidden neurons per flavour: mean ± std, worst seed, every seed."""
    series = []
    for flavour in dict.fromkeys(result.flavour for result in results):
        mine = [result for result in results if result.flavour == flavour]
        series.append(
            SeedSpread(
                label=flavour,
                x=[sum(result.hidden_layers) for result in mine],
                per_seed=[result.test_accuracy for result in mine],
            )
        )
    bayes = [Reference(BAYES_ACCURACY_CIRCLES, f"reference {BAYES_ACCURACY_CIRCLES}")]
    return spread_over_seeds_figure(
        series,
        xlabel="hidden neurons (total)",
        ylabel="test accuracy",
        title=f"{data.name}: test accuracy over {len(results[0].seeds)} seeds",
        references=bayes if _is_notes_circles(data) else [],
    )


def _is_notes_circles(data: ToyDataParams) -> bool:
    """Whether the data is the notes' circles set, whose Bayes accuracy is known."""
    return (data.name, data.noise, data.factor) == ("circles", 0.1, 0.5)


def plot_boundary_grid(results: list[SweepResult], train_points: pd.DataFrame) -> Figure:
    """Every configuration's decision boundary: one row per flavour, one column per width."""
    features, labels = features_and_labels(train_points)
    rows: dict[str, list[BoundaryPanel]] = {}
    for result in results:
        rows.setdefault(result.flavour, []).append(
            BoundaryPanel(
                grid=result.boundary,
                title=neurons_text(result.hidden_layers),
                corner_text=score_text(result),
            )
        )
    return boundary_grid_figure(
        rows, features, labels, suptitle="Decision boundaries (seed with the median test accuracy)"
    )


def neurons_text(hidden_layers: tuple[int, ...]) -> str:
    """``(1,)`` → ``1 neuron``; ``(5,)`` → ``5 neurons``; ``(8, 8)`` → ``8x8 neurons``."""
    return f"{widths_text(hidden_layers)} neuron{'' if hidden_layers == (1,) else 's'}"


def score_text(result: SweepResult) -> str:
    """The corner text: this seed's test accuracy and the mean ± std over all seeds."""
    shown = result.seeds.index(result.shown_seed)
    return (
        f"test {result.test_accuracy[shown]:.3f}\n"
        f"mean {result.test_accuracy.mean():.3f} ± {result.test_accuracy.std():.3f}"
    )


def plot_torch_loss(results: list[SweepResult]) -> Figure:
    """Mean training loss over seeds per epoch, one curve per torch configuration."""
    curves = {
        neurons_text(result.hidden_layers): result.model.history.loss.numpy().mean(axis=1)
        for result in results
        if result.model.history is not None
    }
    return curves_figure(curves, title="torch: training loss (mean over seeds, best restart)")


def boundary_figure(result: SweepResult, train_points: pd.DataFrame) -> Figure:
    """The decision boundary of the configuration's median seed over the training points."""
    features, labels = features_and_labels(train_points)
    return decision_boundary_figure(
        result.boundary,
        features,
        labels,
        title=f"{result.flavour}: {neurons_text(result.hidden_layers)} (seed {result.shown_seed})",
        corner_text=score_text(result),
    )


def build_child_runs(
    results: list[SweepResult],
    train_points: pd.DataFrame,
    validation: dict[str, np.ndarray],
    data: ToyDataParams,
) -> list[ChildRun]:
    """One MLflow child run per configuration × flavour: how it was trained, its accuracy, its boundary.

    Each run also logs ``val_accuracy`` (mean over seeds on the validation points) and its
    ensemble as the run's MLflow model, with training points as the input example.
    """
    features, _ = features_and_labels(train_points)
    runs = []
    for result in results:
        run = child_run(
            result.name, result.record, result.model.timing, _run_content(result, train_points, data)
        )
        runs.append(
            dataclasses.replace(
                run,
                metrics={**run.metrics, "val_accuracy": float(validation[result.name].mean())},
                model=served_model(result.model, features),
            )
        )
    return runs


def champion(
    child_runs: list[LoggedRun], results: list[SweepResult], registry: MlpRegistryParams
) -> Champion:
    """The configuration to register as ``mlp.registry.name``: the best by ``mlp.registry.rank_by``."""
    return choose_champion(child_runs, results, registry)


def _run_content(result: SweepResult, train_points: pd.DataFrame, data: ToyDataParams) -> RunContent:
    """The child run's own params (architecture, data, flavour settings), accuracies and figure."""
    histories = {}
    if result.model.history is not None:
        histories["loss"] = result.model.history.loss.numpy().mean(axis=1).tolist()
    return RunContent(
        params={
            "flavour": result.flavour,
            "hidden_neurons": sum(result.hidden_layers),
            "hidden_layers": widths_text(result.hidden_layers),
            "activation": result.model.kwargs["activation"],
            "seeds": f"{result.seeds[0]}..{result.seeds[-1]}",
            **{f"data_{key}": value for key, value in data.model_dump().items()},
            **_flavour_params(result),
        },
        metrics={
            "train_accuracy": float(result.train_accuracy.mean()),
            "test_accuracy": float(result.test_accuracy.mean()),
            "test_accuracy_std": float(result.test_accuracy.std()),
            "test_accuracy_min": float(result.test_accuracy.min()),
        },
        histories=histories,
        figures={"decision_boundary.png": boundary_figure(result, train_points)},
    )


def _flavour_params(result: SweepResult) -> dict[str, ParamValue]:
    """What one flavour logs beyond its record: torch's weight decay, scikit-learn's unconverged seeds."""
    if result.flavour == "torch":
        return {"weight_decay": result.record.weight_decay}
    return {"unconverged_seeds": int(result.about.unconverged_seeds or 0)}
