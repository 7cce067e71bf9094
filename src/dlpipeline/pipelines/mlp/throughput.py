"""Batch processing, timed for the purpose: one network's training throughput at batch sizes 1 … full.

The notes credit batch processing with processing data efficiently. The measure: examples per
second of training epochs of ONE network (one hidden layer, ``mlp.throughput.hidden_neurons``
wide) on draw 0's training points, by the project's own loop, on one device with one thread
count, at every batch size of ``mlp.throughput.batch_sizes`` and at the full batch. Sizes are
timed in turns, all of them once per repeat, the order reversed on every other repeat so
that a machine growing busier or quieter weighs on every size alike; each repeat is a unit.
Clock readings vary from run to run: the table lives under ``data/09_timings``, outside DVC.
"""

import time

import pandas as pd
import torch

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.mlp.params import SweepParams, ThroughputParams, TorchParams
from dlpipeline.threads import resolve_threads
from dlpipeline.training import fit

IN_FEATURES, N_CLASSES = 2, 2  # the toy sets: points of the plane, two classes


def timed_batch_sizes(batch_sizes: list[int], n_rows: int) -> list[int]:
    """The distinct sizes below the full batch, ascending, then the full batch ``n_rows``."""
    return [*sorted({size for size in batch_sizes if size < n_rows}), n_rows]


def batch_throughput(
    train_points: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams, throughput: ThroughputParams
) -> pd.DataFrame:
    """One row per repeat × batch size: epochs timed, seconds, examples per second, threads.

    Every timing trains a fresh network from the same seed (``sweep.first_seed``) for
    ``throughput.epochs`` epochs; an untimed first fit loads the kernels. ``full_batch`` marks
    the full batch, whatever the number of points.
    """
    features, labels = features_and_labels(train_points)
    features_t, labels_t = torch.tensor(features, dtype=torch.float32), torch.tensor(labels)
    sizes = timed_batch_sizes(throughput.batch_sizes, len(features))
    threads = resolve_threads(torch_params.train.threads) or torch.get_num_threads()

    def seconds_for(size: int, epochs: int) -> float:
        model = MLPEnsemble.uniform(
            IN_FEATURES, [throughput.hidden_neurons], N_CLASSES, sweep.activation, [sweep.first_seed]
        )
        config = torch_params.train.model_copy(
            update={
                "epochs": epochs,
                "batch_size": None if size == len(features) else size,
                "threads": threads,
            }
        )
        started = time.perf_counter()
        fit(model, features_t, labels_t, ensemble_cross_entropy, config, sweep.first_seed)
        return time.perf_counter() - started

    seconds_for(len(features), 1)  # untimed: the first fit pays for loading kernels
    rows = []
    for repeat in range(throughput.repeats):
        for size in sizes if repeat % 2 == 0 else sizes[::-1]:
            seconds = seconds_for(size, throughput.epochs)
            examples = throughput.epochs * len(features)
            rows.append(
                {
                    "repeat": repeat,
                    "batch_size": size,
                    "full_batch": size == len(features),
                    "epochs": throughput.epochs,
                    "examples": examples,
                    "seconds": seconds,
                    "examples_per_second": examples / seconds,
                    "threads": threads,
                }
            )
    return pd.DataFrame(rows).sort_values(["repeat", "batch_size"], ignore_index=True)
