"""Reporting shared by every sequence task: result rows, the results table, metrics and child runs.

Every node here reads the trained models from the catalog (``sequence.<task>.models``) and
uses only what they carry: their record, history and :class:`SequenceRun` (see
:mod:`dlpipeline.pipelines.sequence.training`).
"""

import dataclasses

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.figures.curves import curves_figure
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.pipelines.sequence.training import SequenceModel, TrainedModels
from dlpipeline.served import EXAMPLE_ROWS, served_model
from dlpipeline.tracking import ChildRun

PATTERNS = {
    "adding": "many-to-one",
    "digits_rows": "many-to-one",
    "forecast": "many-to-many",
    "generate": "one-to-many",
    "text": "many-to-many",
    "names": "many-to-one",
    "names-shuffled": "many-to-one",
    "tagging": "many-to-many",
    "translate": "many-to-many",
    "music": "one-to-many",
    "adding-shuffled": "many-to-one",
    "digits_rows-shuffled": "many-to-one",
    "digits_rows-mse": "many-to-one",
    "names-unmasked": "many-to-one",
    "text-bigrams": "many-to-many",
}


def first_seeds(models: TrainedModels) -> list[SequenceModel]:
    """Each configuration's first-seed model, in training order (the one the figures show)."""
    first = min(trained.about.seed for trained in models.values())
    return [trained for trained in models.values() if trained.about.seed == first]


def plot_losses(models: TrainedModels) -> Figure:
    """Training loss of every run (first seed of each model and length)."""
    curves = {trained.about.label: trained.trained_history.loss.numpy() for trained in first_seeds(models)}
    task = next(iter(models.values())).about.task
    return curves_figure(curves, title=f"{task}: training loss per epoch")


def plot_test_curves(models: TrainedModels) -> Figure:
    """The test metric after every epoch, per run (first seed)."""
    first = next(iter(models.values())).about
    curves = {
        trained.about.label: trained.trained_history.of(first.metric).numpy()
        for trained in first_seeds(models)
    }
    return curves_figure(
        curves,
        ylabel=first.metric,
        title=f"{first.task}: {first.metric} per epoch",
        log=first.metric == "test_mse",
    )


def result_rows(models: TrainedModels, baseline: float, baseline_name: str) -> pd.DataFrame:
    """One row per model × length: the test metric's median, spread and worst over seeds (times: MLflow)."""
    rows = []
    for (cell, seq_len), group in _grouped(models).items():
        run = group[0].about
        metric = run.metric
        values = np.array([trained.about.test_metrics[metric] for trained in group])
        worst = values.min() if metric == "test_accuracy" else values.max()
        rows.append(
            {
                "task": run.task,
                "pattern": PATTERNS[run.task],
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


def _grouped(models: TrainedModels) -> dict[tuple[str, int], list[SequenceModel]]:
    """Models grouped by (cell, length), in training order."""
    groups: dict[tuple[str, int], list[SequenceModel]] = {}
    for trained in models.values():
        groups.setdefault((trained.about.cell, trained.about.seq_len), []).append(trained)
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
    return [child_run_of(label, trained) for label, trained in models.items()]


def build_text_child_runs(models: TrainedModels, samples: pd.DataFrame) -> list[ChildRun]:
    """The language models' child runs, each with the names it wrote and its bits per character.

    Param ``tokens`` says what they read (``characters``; the tokens study's models: ``bigrams``).
    """
    runs = []
    for label, trained in models.items():
        written = samples[(samples["cell"] == trained.about.cell) & (samples["seed"] == trained.about.seed)]
        nats = trained.about.test_metrics["test_nll"]
        extra = {
            "test_bits_per_char": nats / np.log(2),
            "samples_in_training": float(written["in_training"].mean()),
        }
        texts = {"samples.txt": "\n".join(written["text"]) + "\n"}
        run = child_run_of(label, trained, extra, texts)
        runs.append(dataclasses.replace(run, params={**run.params, "tokens": "characters"}))
    return runs


def input_example(trained: SequenceModel) -> np.ndarray:
    """A few inputs the model reads, at the length it was trained at (drawn from a fixed seed).

    A model with a vocabulary (language models, taggers, encoder–decoders) reads token ids
    ``(n, steps)``, never the padding id 0; an encoder–decoder reads its source and then two
    decoder steps. Any other sequence model reads features ``(n, steps, input_size)``, with the
    validity mask last (every step valid) when it reads padded batches.
    """
    rng = np.random.default_rng(trained.about.seed)
    steps, kwargs = trained.about.seq_len, trained.kwargs
    if "vocab_size" in kwargs:
        steps = kwargs["source_len"] + 2 if "source_len" in kwargs else steps
        return rng.integers(1, kwargs["vocab_size"], (EXAMPLE_ROWS, steps), dtype=np.int64)
    features = rng.standard_normal((EXAMPLE_ROWS, steps, kwargs["input_size"])).astype(np.float32)
    if kwargs.get("masked", False):
        features = np.concatenate([features, np.ones((EXAMPLE_ROWS, steps, 1), np.float32)], axis=-1)
    return features


def child_run_of(
    label: str,
    trained: SequenceModel,
    extra_metrics: dict[str, float] | None = None,
    texts: dict[str, str] | None = None,
) -> ChildRun:
    """The child run of one trained model, under the shared training names and the sequence ones.

    It carries the trained network, logged as the run's MLflow model (kind ``sequence``).
    """
    run, history = trained.about, trained.trained_history
    loss = history.loss.numpy()
    histories = {"loss": loss.tolist()}
    if (
        getattr(history, run.metric, None) is not None
    ):  # a translator's exact match is scored once, at the end
        histories[f"{run.metric}_per_epoch"] = history.of(run.metric).tolist()
    content = RunContent(
        params={
            "task": run.task,
            "pattern": PATTERNS[run.task],
            "cell": run.cell,
            "seq_len": run.seq_len,
            "hidden_size": run.hidden_size,
            **run.architecture,
        },
        metrics={
            **run.test_metrics,
            "final_loss": float(loss[-1]),
            "cpu_seconds": trained.timing.cpu_seconds,
            **(extra_metrics or {}),
        },
        histories=histories,
        figures={"loss.png": curves_figure({label: loss}, title=f"{label}: training loss")},
        texts=texts or {},
        model=served_model(trained, input_example(trained), "sequence"),
    )
    return child_run(label, trained.trained_record, trained.timing, content)
