"""Does the order of the steps matter? The same cell trained and tested on each sequence's steps shuffled.

Each sequence's time steps are put in a random order of their own (a step's channels stay
together), in training and at test, and the study's cell is trained on them exactly as the task's
own models are (sizes, seeds, draws, training). A task whose answer depends on the order (digits
read row by row) should lose accuracy; a bag-of-steps task (the adding problem: the sum of the
marked values is the same in any order) should not.
"""

import dataclasses
from collections.abc import Sequence

import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.pipelines.sequence.params import ModelParams, OrderParams
from dlpipeline.pipelines.sequence.report import build_child_runs
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun

ORDER_STUDY = "order"
SHUFFLED = "-shuffled"


def shuffle_steps(features: torch.Tensor, seed: int) -> torch.Tensor:
    """Each sequence's steps ``(n, T, d)`` in a random order of its own; a step's values stay together."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.argsort(torch.rand(features.shape[:2], generator=generator), dim=1)
    return torch.gather(features, 1, order.unsqueeze(-1).expand_as(features))


def shuffled_tasks(tasks: TaskTensors | Sequence[TaskTensors], order: OrderParams) -> list[TaskTensors]:
    """The task's tensors at ``order.seq_len`` (null: all), steps shuffled, as ``<task>-shuffled``."""
    tasks = [tasks] if isinstance(tasks, TaskTensors) else list(tasks)
    chosen = [task for task in tasks if order.seq_len is None or task.seq_len == order.seq_len]
    if not chosen:
        raise ValueError(f"order.seq_len {order.seq_len} is not a length of the task")
    return [
        dataclasses.replace(
            task,
            task=task.task + SHUFFLED,
            train_features=shuffle_steps(task.train_features, order.random_state + 2 * task.draw),
            test_features=shuffle_steps(task.test_features, order.random_state + 2 * task.draw + 1),
        )
        for task in chosen
    ]


def order_model(model: ModelParams, order: OrderParams) -> ModelParams:
    """The study's models: the task's ``model`` (sizes, seeds) for the study's cell only."""
    return model.model_copy(update={"cells": [order.cell]})


def order_units(units: pd.DataFrame, shuffled: TrainedModels) -> pd.DataFrame:
    """The study's cell in order (the task's unit rows) beside the same cell on shuffled steps, per unit."""
    rows = []
    for trained in shuffled.values():
        run = trained.about
        task = run.task.removesuffix(SHUFFLED)
        in_order = units[
            (units["task"] == task)
            & (units["cell"] == run.cell)
            & (units["seq_len"] == run.seq_len)
            & (units["seed"] == run.seed)
        ]
        rows.append(
            {
                "task": task,
                "study": ORDER_STUDY,
                "cell": run.cell,
                "seq_len": run.seq_len,
                "draw": run.draw,
                "seed": run.seed,
                "metric": run.metric,
                "in_order": float(in_order["value"].iloc[0]) if len(in_order) else float("nan"),
                "shuffled": float(run.test_metrics[run.metric]),
            }
        )
    return pd.DataFrame(rows)


def order_child_runs(shuffled: TrainedModels) -> list[ChildRun]:
    """One child run per model on shuffled steps, with ``study=order`` (``task`` names the shuffled task)."""
    runs = build_child_runs(shuffled)
    return [dataclasses.replace(run, params={**run.params, "study": ORDER_STUDY}) for run in runs]


def plot_order(table: pd.DataFrame) -> Figure:
    """The study's cell in order and on shuffled steps, each line a seed."""
    figure = Figure(figsize=(5, 4), layout="constrained")
    ax = figure.subplots()
    for pair in table[["in_order", "shuffled"]].to_numpy():
        ax.plot([0, 1], pair, color="black", marker="o", linewidth=1)
    ax.set_xticks([0, 1], ["steps in order", "steps shuffled"])
    ax.set_xlim(-0.3, 1.3)
    metric = table["metric"].iloc[0]
    if metric == "test_mse":
        ax.set_yscale("log")
    ax.set_ylabel(metric)
    first = table.iloc[0]
    ax.set_title(f"{first['task']}, {first['cell']}, T={first['seq_len']}: does the order matter?")
    return figure
