"""Reporting shared by every sequence task: result rows, the results table, metrics and child runs.

Every node here reads the trained models from the catalog (``sequence.<task>.models``) and
uses only what their ``info`` recorded (see :mod:`dlpipeline.pipelines.sequence.training`).
"""

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.figures.curves import curves_figure
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.pipelines.sequence.training import TrainedModels
from dlpipeline.tracking import ChildRun

PATTERNS = {
    "adding": "many-to-one",
    "digits_rows": "many-to-one",
    "forecast": "many-to-many",
    "generate": "one-to-many",
    "text": "many-to-many",
}


def first_seeds(models: TrainedModels) -> list[TrainedModule]:
    """Each configuration's first-seed model, in training order (the one the figures show)."""
    first = min(trained.info["seed"] for trained in models.values())
    return [trained for trained in models.values() if trained.info["seed"] == first]


def metric_name(trained: TrainedModule) -> str:
    """The test metric a model is scored by (``test_accuracy`` or ``test_mse``): its first metric."""
    return next(iter(trained.info["metrics"]))


def _curve_label(trained: TrainedModule) -> str:
    """``<cell> T=<length>``: one line of a figure."""
    return f"{trained.info['cell']} T={trained.info['seq_len']}"


def plot_losses(models: TrainedModels) -> Figure:
    """Training loss of every run (first seed of each model and length)."""
    curves = {_curve_label(trained): trained.info["loss"] for trained in first_seeds(models)}
    task = next(iter(models.values())).info["task"]
    return curves_figure(curves, title=f"{task}: training loss per epoch")


def plot_test_curves(models: TrainedModels) -> Figure:
    """The test metric after every epoch, per run (first seed)."""
    first = next(iter(models.values()))
    metric = metric_name(first)
    curves = {_curve_label(trained): trained.info["test_history"] for trained in first_seeds(models)}
    return curves_figure(
        curves, ylabel=metric, title=f"{first.info['task']}: {metric} per epoch", log=metric == "test_mse"
    )


def result_rows(models: TrainedModels, baseline: float, baseline_name: str) -> pd.DataFrame:
    """One row per model × length: the test metric's median, spread and worst over seeds (times: MLflow)."""
    rows = []
    for (cell, seq_len), group in _grouped(models).items():
        info = group[0].info
        metric = metric_name(group[0])
        values = np.array([trained.info["metrics"][metric] for trained in group])
        worst = values.min() if metric == "test_accuracy" else values.max()
        rows.append(
            {
                "task": info["task"],
                "pattern": PATTERNS[info["task"]],
                "cell": cell,
                "seq_len": seq_len,
                "seeds": len(group),
                "metric": metric,
                "median": round(float(np.median(values)), 6),
                "min": round(float(values.min()), 6),
                "max": round(float(values.max()), 6),
                "mean": round(float(values.mean()), 6),
                "std": round(float(values.std()), 6),
                "worst": round(float(worst), 6),
                "baseline": round(baseline, 6),
                "baseline_name": baseline_name,
            }
        )
    return pd.DataFrame(rows)


def _grouped(models: TrainedModels) -> dict[tuple[str, int], list[TrainedModule]]:
    """Models grouped by (cell, length), in training order."""
    groups: dict[tuple[str, int], list[TrainedModule]] = {}
    for trained in models.values():
        groups.setdefault((trained.info["cell"], trained.info["seq_len"]), []).append(trained)
    return groups


def results_table(*task_rows: pd.DataFrame) -> pd.DataFrame:
    """Every task's rows in one table (``results.csv``)."""
    return pd.concat(task_rows, ignore_index=True)


def results_metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The headline per task for ``dvc metrics`` (the full table is a DVC plot).

    Each task's best cell (on its longest sequences) beside the task's baseline; for the
    adding problem, every cell at the longest length, where the vanilla RNN's memory fails.
    """
    return {str(task): _task_headline(rows) for task, rows in table.groupby("task", sort=False)}


def _task_headline(rows: pd.DataFrame) -> dict[str, float]:
    """One task's headline: best (or, for ``adding``, every cell's) metric at the longest length."""
    metric = rows["metric"].iloc[0]  # one metric per task
    longest = rows[rows["seq_len"] == rows["seq_len"].max()]
    if rows["task"].iloc[0] == "adding":
        figures = {
            f"{row['cell']}_T{row['seq_len']}_{metric}": float(row["median"]) for _, row in longest.iterrows()
        }
    else:
        best = longest["median"].max() if metric == "test_accuracy" else longest["median"].min()
        figures = {f"best_{metric}": float(best)}
    return {**figures, "baseline": float(rows["baseline"].iloc[0])}


def build_child_runs(models: TrainedModels) -> list[ChildRun]:
    """One MLflow child run per (task, model, length, seed): params, metrics, histories, loss plot."""
    return [_child_run(label, trained) for label, trained in models.items()]


def build_text_child_runs(models: TrainedModels, samples: pd.DataFrame) -> list[ChildRun]:
    """The language models' child runs, each with the names it wrote and its bits per character."""
    runs = []
    for label, trained in models.items():
        written = samples[
            (samples["cell"] == trained.info["cell"]) & (samples["seed"] == trained.info["seed"])
        ]
        nats = trained.info["metrics"]["test_nll"]
        extra = {
            "test_bits_per_char": nats / np.log(2),
            "samples_in_training": float(written["in_training"].mean()),
        }
        texts = {"samples.txt": "\n".join(written["text"]) + "\n"}
        runs.append(_child_run(label, trained, extra, texts))
    return runs


def _child_run(
    label: str,
    trained: TrainedModule,
    extra_metrics: dict[str, float] | None = None,
    texts: dict[str, str] | None = None,
) -> ChildRun:
    """The child run of one trained model, under the shared training names and the sequence ones."""
    info = trained.info
    metric = metric_name(trained)
    content = RunContent(
        params={
            "task": info["task"],
            "pattern": PATTERNS[info["task"]],
            "cell": info["cell"],
            "seq_len": info["seq_len"],
            "hidden_size": info["hidden_size"],
            **info["settings"],
        },
        metrics={
            **info["metrics"],
            "final_loss": float(info["loss"][-1]),
            "cpu_seconds": info["cpu_seconds"],
            **(extra_metrics or {}),
        },
        histories={"loss": info["loss"].tolist(), f"{metric}_per_epoch": info["test_history"].tolist()},
        figures={"loss.png": curves_figure({label: info["loss"]}, title=f"{label}: training loss")},
        texts=texts or {},
    )
    return child_run(
        label, dataclasses.replace(info["training"], train_seconds=info["train_seconds"]), content
    )
