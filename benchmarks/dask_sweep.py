"""The cnn sweep in this process against the same sweep fanned out to a Dask cluster.

    python benchmarks/dask_sweep.py                      # base cnn sweep, 2-worker LocalCluster
    python benchmarks/dask_sweep.py --epochs 1 --threads 1   # base sweep, 1 epoch, 1 torch thread a task
    python benchmarks/dask_sweep.py --workers 4 --smoke  # tiny sizes: checks the harness runs
    python benchmarks/dask_sweep.py --address tcp://scheduler:8786   # an existing cluster

Both sweeps train every configuration of ``cnn.experiments`` (``conf/base``, or ``smoke``
over it) with the node ``train_configurations``: once with ``executor: local``, then with
``executor: dask``. Unless ``--address`` names a cluster, a ``LocalCluster`` of
``--workers`` processes (one Dask thread each) is started on 127.0.0.1 first; its start-up
is timed apart from the sweep. Every task trains on the same torch thread count in both
sweeps (``--threads``, else the configured one, else this process's). The figures are
printed and written to ``--output`` (JSON): wall seconds of each sweep, their ratio, the
largest difference between the two runs' per-epoch losses and validation accuracies (they
must agree within 1e-6) and the megabytes sent each way. The machine's load average is
recorded with them: on a shared machine the figures move with it.
"""

# dlpipeline first: it makes torch's idle threads sleep, which must be set before torch loads.
import dlpipeline  # noqa: F401, I001

import argparse
import contextlib
import json
import os
import platform
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

from dlpipeline.config import load_parameters
from dlpipeline.executor import ExecutorParams
from dlpipeline.training import with_fixed_threads
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn import data as cnn_data
from dlpipeline.pipelines.cnn import train as cnn_train
from dlpipeline.pipelines.cnn.params import ExperimentParams, ImageDataParams, TrainingParams

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("loss", "val_loss", "val_accuracy")
"""Per-epoch histories of every configuration that both sweeps must share."""


@contextlib.contextmanager
def scheduler(address: str | None, workers: int) -> Iterator[tuple[str, float]]:
    """``address`` (start-up 0), or a fresh ``LocalCluster`` of one-thread processes and its start-up s."""
    if address is not None:
        yield address, 0.0
        return
    from distributed import LocalCluster

    started = time.perf_counter()
    with LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    ) as cluster:
        yield cluster.scheduler_address, time.perf_counter() - started


def largest_difference(first: dict[str, TrainedModule], second: dict[str, TrainedModule]) -> float:
    """The largest absolute difference between the two sweeps' histories, over every configuration."""
    if first.keys() != second.keys():
        raise ValueError(f"the sweeps trained different configurations: {sorted(first)} vs {sorted(second)}")
    return max(
        float((first[name].trained_history.of(key) - second[name].trained_history.of(key)).abs().max())
        for name in first
        for key in COMPARED
    )


def megabytes(tensors: Iterable[torch.Tensor]) -> float:
    """Size of ``tensors`` in MB (what pickling them sends, give or take a few bytes each)."""
    return round(sum(tensor.numel() * tensor.element_size() for tensor in tensors) / 1e6, 2)


def results_megabytes(trained: dict[str, TrainedModule]) -> float:
    """What the workers send back: every ensemble's weights and its per-epoch histories."""
    return megabytes(
        tensor
        for ensemble in trained.values()
        for tensor in (
            *ensemble.module.state_dict().values(),
            *(ensemble.trained_history.of(key) for key in COMPARED),
        )
    )


def measure(
    smoke: bool, workers: int, address: str | None, epochs: int | None, threads: int | None
) -> dict[str, Any]:
    """Time the cnn sweep locally and on Dask (``epochs``, ``threads`` instead of the configured); figures."""
    parameters = load_parameters("smoke" if smoke else "base", PROJECT_ROOT)["cnn"]
    data = ImageDataParams.model_validate(parameters["data"])
    experiments = ExperimentParams.model_validate(parameters["experiments"])
    training = TrainingParams.model_validate(parameters["training"])
    changes = {"epochs": epochs, "threads": threads}
    train = training.train.model_copy(update={key: value for key, value in changes.items() if value})
    training = training.model_copy(update={"train": train})
    train_images, val_images, _ = cnn_data.split_images(cnn_data.load_images(data), data)

    started = time.perf_counter()
    local = cnn_train.train_configurations(train_images, val_images, experiments, training)
    local_s = time.perf_counter() - started
    with scheduler(address, workers) as (scheduler_address, start_up_s):
        on_dask = ExecutorParams(kind="dask", address=scheduler_address)
        started = time.perf_counter()
        fanned_out = cnn_train.train_configurations(train_images, val_images, experiments, training, on_dask)
        dask_s = time.perf_counter() - started
    return {
        "workload": "cnn sweep, " + ("smoke" if smoke else "base") + " parameters",
        "configurations": f"{len(experiments.configurations)} x {experiments.n_seeds} seeds",
        "epochs": training.train.epochs,
        "local_s": round(local_s, 2),
        "torch_threads_per_configuration": with_fixed_threads(training.train).threads,
        "dask_s": round(dask_s, 2),
        "dask_workers": "existing cluster" if address else f"{workers} processes x 1 thread",
        "cluster_start_s": round(start_up_s, 2),
        "speedup": round(local_s / dask_s, 2),
        "largest_history_difference": largest_difference(local, fanned_out),
        "data_to_each_worker_mb": megabytes(
            vars(cnn_train.training_data(train_images, val_images, training)).values()
        ),
        "results_back_mb": results_megabytes(fanned_out),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": platform.processor() or platform.machine(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse the arguments, measure, print and write the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="the smoke parameters over base")
    parser.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
    parser.add_argument("--address", default=None, help="an existing scheduler instead of a LocalCluster")
    parser.add_argument("--epochs", type=int, default=None, help="instead of cnn.training.train.epochs")
    parser.add_argument("--threads", type=int, default=None, help="instead of cnn.training.train.threads")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "benchmarks/dask_sweep.json")
    arguments = parser.parse_args(argv)
    figures = measure(
        arguments.smoke, arguments.workers, arguments.address, arguments.epochs, arguments.threads
    )
    arguments.output.write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>28}: {value}")
    return figures


if __name__ == "__main__":
    main()
