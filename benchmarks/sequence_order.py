"""What starting the costliest models first buys the adding task's training node (issue 29).

    python benchmarks/sequence_order.py [--epochs N]     # base size: about 240 CPU seconds

Trains the adding task's base sweep (5 draws x 2 lengths x 3 cells, each model on one thread, two
at a time on threads, as ``kedro run`` does) and prints its wall and CPU seconds, each model's CPU
seconds, and the makespan two idle cores would take for those models in training order and
costliest first (simulated from the measured seconds, so a loaded machine still gives the figure).
"""

import argparse
import heapq
import json
import time
from collections.abc import Iterable
from pathlib import Path

from dlpipeline.config import load_parameters
from dlpipeline.executor import ExecutorParams, longest_first
from dlpipeline.pipelines.sequence import adding, data
from dlpipeline.pipelines.sequence.params import AddingDataParams, ModelParams
from dlpipeline.pipelines.sequence.training import run_label, train_models, training_cost
from dlpipeline.training import TrainConfig

PROJECT = Path(__file__).resolve().parents[1]


def makespan(seconds: Iterable[float], workers: int = 2) -> float:
    """When the last of the jobs ends, each started in the order given on the first free worker."""
    free = [0.0] * workers
    for duration in seconds:
        heapq.heappush(free, heapq.heappop(free) + duration)
    return max(free)


def main(epochs: int | None) -> dict[str, object]:
    """Train the adding sweep at base size and measure it (``epochs``: fewer, for a quick look)."""
    parameters = load_parameters("base", PROJECT)["sequence"]["adding"]
    data_params = AddingDataParams.model_validate(parameters["data"])
    model_params = ModelParams.model_validate(parameters["model"])
    train = TrainConfig.model_validate(parameters["train"])
    train = train if epochs is None else train.model_copy(update={"epochs": epochs})
    tasks = adding.adding_tasks(*data.split_adding(data.generate_adding(data_params), data_params))
    started, cpu_started = time.perf_counter(), time.process_time()
    models = train_models(tasks, model_params, train, ExecutorParams(kind="threads", workers=2))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    seconds = {label: trained.timing.cpu_seconds for label, trained in models.items()}
    costs = {
        run_label(task.task, cell, task.seq_len, seed): training_cost(task, cell, model_params)
        for task in tasks
        for cell in model_params.cells
        for seed in model_params.seeds
    }
    return {
        "models": len(models),
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(cpu, 1),
        "model_cpu_seconds": round(sum(seconds.values()), 1),
        "makespan_training_order": round(makespan(seconds.values()), 1),
        "makespan_costliest_first": round(
            makespan(seconds[label] for label in longest_first(seconds, costs)), 1
        ),
        "per_model_cpu_seconds": {label: round(value, 2) for label, value in seconds.items()},
    }


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--epochs", type=int, default=None, help="fewer epochs than the base run's")
    print(json.dumps(main(arguments.parse_args().epochs), indent=1))
