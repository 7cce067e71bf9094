"""Benchmarks: each workload of dlpipeline against the peer a user would otherwise use.

    python benchmarks/run.py                          # every workload, 3 repetitions each
    python benchmarks/run.py --workloads mlp_sweep,overhead --repeats 5
    python benchmarks/run.py --smoke                  # tiny sizes: checks the harness runs
    python benchmarks/run.py --workloads mlp_sweep,cnn --contended 2   # beside 2 busy processes

Each workload is timed ``--repeats`` times (median reported) in the same process and on
the same machine as its peer, the two taking turns; the sequence workload runs the two loops
in lock-step, one step each in turn (:func:`lock_step_lstms`). With ``--contended N``, ``N``
busy torch processes run beside both (``benchmarks/contention.py``). The table is printed and written to
``benchmarks/results.json`` (``--output``): a list with one object per workload with ``workload``,
``ours_s``, ``peer``, ``peer_s``, ``ratio`` (= ours_s / peer_s), ``quality_ok`` (ours
reached at least the peer's quality), ``contended``, ``machine`` (with the ``device``) and
the quality figures themselves. Each training workload also states how far it is from what the
machine can do (``benchmarks/roofline.py``): ``gflop`` (its floating-point operations, counted
while it runs once, untimed), ``gflops`` (achieved: ``gflop / ours_s``), ``peak_gflops`` (the best
float32 matrix-multiply rate measured on the same ``peak_threads``) and ``share_of_peak``;
rows that time a whole ``kedro run`` or its start-up leave them ``null`` and say why. The ``suite``
rows (one whole ``kedro run`` per pipeline) also give ``cpu_s`` (the machine's busy CPU-seconds
during the run, worker processes included: time them on a quiet machine), ``cores_busy``
(``cpu_s / ours_s``) and ``cpu_floor_s`` (``cpu_s`` over every core: the wall time if no core waited).
"""

# dlpipeline first: it sets OpenMP's wait policy, which torch reads once, when it loads.
import dlpipeline  # noqa: F401, I001

import argparse
import contextlib
import functools
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from contention import busy_processes
from plain_mlp import mlp_node_compute
from roofline import counted_gflop, matmul_peak_gflops, roofline_fields, significant
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from torch import nn

from dlpipeline.config import load_parameters
from dlpipeline.data.digits import table_to_images, with_shifted_copies
from dlpipeline.data.sequences import ADDING_BASELINE_MSE, adding_problem, adding_tensors
from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.cnn import POOL_SIZE, ConvNetEnsemble, ConvNetSpec
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.cnn import data as cnn_data
from dlpipeline.pipelines.cnn import train as cnn_train
from dlpipeline import search as search_module
from dlpipeline.executor import IN_THIS_PROCESS
from dlpipeline.pipelines.cnn import params as cnn_params
from dlpipeline.pipelines.cnn import search as cnn_search
from dlpipeline.pipelines.cnn.params import ExperimentParams, ImageDataParams, TrainingParams
from dlpipeline.pipelines.mlp import data as mlp_data
from dlpipeline.pipelines.mlp import evaluate as mlp_evaluate
from dlpipeline.pipelines.mlp import torch_flavour
from dlpipeline.pipelines.mlp.params import SweepParams, TorchParams, ToyDataParams
from dlpipeline.pipelines.sequence import data as sequence_data
from dlpipeline.pipelines.sequence.params import AddingDataParams, ModelParams
from dlpipeline.threads import resolve_threads
from dlpipeline.training import (
    TrainConfig,
    fit,
    resolve_device,
    seed_everything,
    torch_threads,
    with_fixed_threads,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GOAL_RATIO = 1.0
"""Ours against a plain PyTorch loop, at the same quality: no slower (#15)."""

Row = dict[str, Any]
QUIET_ENV = {
    "KEDRO_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "MPLBACKEND": "Agg",
}


def median_seconds(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Run ``work`` ``repeats`` times; return the median wall time and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def alternating_medians(
    ours: Callable[[], Any], peer: Callable[[], Any], repeats: int
) -> tuple[float, Any, float, Any]:
    """Time ``ours`` and ``peer`` in turns, ``repeats`` times each: medians and last results of both.

    Taking turns puts a change in the machine's load (other work starting or stopping) on
    both sides alike, where timing one side after the other would put it on one. Who goes
    first swaps every round, so neither side always runs on the caches and memory the
    other left behind.
    """
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    results: dict[str, Any] = {}
    sides = {"ours": ours, "peer": peer}
    for round_index in range(repeats):
        order = ("ours", "peer") if round_index % 2 == 0 else ("peer", "ours")
        for side in order:
            seconds, results[side] = median_seconds(sides[side], 1)
            times[side].append(seconds)
    return (
        statistics.median(times["ours"]),
        results["ours"],
        statistics.median(times["peer"]),
        results["peer"],
    )


def base_parameters(pipeline: str, smoke: bool) -> dict[str, Any]:
    """The ``<pipeline>`` parameters of ``base`` (``smoke`` over them if ``smoke``), as Kedro reads them."""
    return load_parameters("smoke" if smoke else "base", PROJECT_ROOT)[pipeline]


@functools.cache
def machine_peak_gflops() -> float:
    """The matrix-multiply peak on the threads the workloads train with (torch's count), measured once."""
    return matmul_peak_gflops(torch.get_num_threads())


def roofline(gflop: float, seconds: float) -> Row:
    """A workload's roofline fields: its counted operations, achieved rate and share of the machine's peak."""
    return {**roofline_fields(gflop, seconds, machine_peak_gflops()), "peak_threads": torch.get_num_threads()}


NOT_COUNTED: Row = {"gflop": None, "gflops": None, "peak_gflops": None, "share_of_peak": None}
"""The roofline fields of a workload whose operations are not counted (the row says why)."""


# --- mlp_sweep --------------------------------------------------------------------------


def sklearn_sweep_accuracy(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], sweep: SweepParams, solver: str
) -> dict[str, float]:
    """The plain scikit-learn loop a user would write: median test accuracy per neuron count."""
    medians = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for widths in sweep.architectures:
            scores = [
                MLPClassifier(widths, activation=sweep.activation, solver=solver, random_state=seed)
                .fit(*train)
                .score(*test)
                for seed in sweep.seeds
            ]
            medians["x".join(map(str, widths))] = float(np.median(scores))
    return medians


def mlp_sweep(repeats: int, smoke: bool) -> list[Row]:
    """The circles sweep (torch flavour, base parameters) against scikit-learn's lbfgs and adam loops."""
    parameters = base_parameters("mlp", smoke)
    data = ToyDataParams.model_validate(parameters["data"])
    sweep = SweepParams.model_validate(parameters["sweep"]).model_copy(update={"grid_resolution": 10})
    torch_params = TorchParams.model_validate(parameters["torch"])
    train_points, test_points = mlp_data.split_points(mlp_data.generate_points(data), data)
    train, test = features_and_labels(train_points), features_and_labels(test_points)

    def ours() -> dict[str, float]:
        fits = torch_flavour.fit_torch_sweep(train_points, sweep, torch_params)
        results = mlp_evaluate.evaluate_sweep(fits, {}, train_points, test_points, sweep)
        return {"x".join(map(str, r.hidden_layers)): float(np.median(r.test_accuracy)) for r in results}

    gflop = counted_gflop(ours)
    rows = []
    for solver in ("lbfgs", "adam"):
        ours_s, ours_quality, peer_s, peer_quality = alternating_medians(
            ours, lambda s=solver: sklearn_sweep_accuracy(train, test, sweep, s), repeats
        )
        rows.append(
            {
                "workload": "mlp_sweep",
                "configurations": f"{len(sweep.architectures)} neuron counts x {sweep.n_seeds} seeds",
                "ours_s": significant(ours_s),
                "peer": f"sklearn MLPClassifier(solver={solver!r}) loop",
                "peer_s": significant(peer_s),
                "ratio": significant(ours_s / peer_s),
                **roofline(gflop, ours_s),
                "quality_ok": all(ours_quality[key] >= peer_quality[key] for key in peer_quality),
                "quality": {
                    "metric": "median test accuracy over seeds, per neuron count",
                    "ours": ours_quality,
                    "peer": peer_quality,
                },
            }
        )
    return rows


# --- overhead ---------------------------------------------------------------------------

OVERHEAD_GOAL_TAX_S = 1.0


def project_copy(destination: Path) -> Path:
    """Copy what `kedro run` needs (conf, src, pyproject, .telemetry) to ``destination``."""
    for name in ("conf", "src"):
        shutil.copytree(PROJECT_ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(PROJECT_ROOT / name, destination / name)
    (destination / "data").mkdir()
    return destination


def timed_command(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one command; raises with its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **QUIET_ENV, **(env or {})},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return elapsed


def machine_cpu_seconds() -> float | None:
    """CPU-seconds every core of this machine has been busy since boot (``/proc/stat``; None elsewhere).

    Read before and after a command on an otherwise quiet machine, the difference is the CPU the
    command used with all its descendants: worker processes, forkservers and cluster workers
    included, which a parent's ``RUSAGE_CHILDREN`` misses when it never waits for them.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = map(int, fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def overhead(repeats: int, smoke: bool) -> list[Row]:
    """`kedro run --pipelines mlp --env smoke` against the same nodes as a plain script, both fresh."""
    del smoke  # this workload always uses the smoke environment
    parameters = base_parameters("mlp", smoke=True)
    compute_s, _ = median_seconds(lambda: mlp_node_compute(parameters), repeats)
    python = sys.executable
    imports = "import kedro.framework.session, kedro_mlflow, mlflow, torch, sklearn, matplotlib, pandas"
    with tempfile.TemporaryDirectory() as scratch:
        copy = project_copy(Path(scratch) / "project")
        import_s = statistics.median(timed_command([python, "-c", imports], copy) for _ in range(repeats))
        plain_script = [python, str(Path(__file__).with_name("plain_mlp.py"))]
        kedro_run = [python, "-m", "kedro", "run", "--pipelines", "mlp", "--env", "smoke"]
        first_s = timed_command(kedro_run, copy)  # creates mlflow.db (schema migrations)
        warm_s, _, plain_s, _ = alternating_medians(
            lambda: timed_command(kedro_run, copy), lambda: timed_command(plain_script, copy), repeats
        )
    return [
        {
            "workload": "overhead",
            "ours_s": significant(warm_s),
            "peer": "the same nodes as a plain script in a fresh interpreter (benchmarks/plain_mlp.py)",
            "peer_s": significant(plain_s),
            "ratio": significant(warm_s / plain_s),
            **NOT_COUNTED,
            "roofline_note": "start-up and bookkeeping, not arithmetic: its share of peak says nothing",
            "quality_ok": True,
            "quality": {
                "tax_s (kedro run - plain script: Kedro, kedro-mlflow and MLflow bookkeeping)": round(
                    warm_s - plain_s, 3
                ),
                "goal_tax_s": OVERHEAD_GOAL_TAX_S,
                "compute_s (the same nodes called in-process, warm)": round(compute_s, 3),
                "python_imports_s": round(import_s, 3),
                "first_run_with_new_mlflow_db_s": round(first_s, 3),
                "first_run_extra_s (creating mlflow.db: MLflow's schema migrations)": round(
                    first_s - warm_s, 3
                ),
            },
        }
    ]


# --- cnn --------------------------------------------------------------------------------

CNN_TARGET_ACCURACY, CNN_MAX_EPOCHS = 0.985, 40
CNN_SMOKE_TARGET_ACCURACY, CNN_SMOKE_MAX_EPOCHS = 0.2, 30
ACCURACY_TOLERANCE = 0.005
"""How far below the peer's final test accuracy ours may end (about two digits of the test split)."""
POOLING_LAYERS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


@dataclass(frozen=True)
class ImageTask:
    """The cnn pipeline's training images (augmented as configured) and its test split, on the device."""

    features: torch.Tensor
    targets: torch.Tensor
    test_features: torch.Tensor
    test_targets: torch.Tensor


class TargetReachedError(Exception):
    """Raised by ours' epoch evaluator to end :func:`fit` at the first epoch reaching the target."""


def image_task(data: ImageDataParams, training: TrainingParams) -> ImageTask:
    """The pipeline's load, split, scale and augmentation steps; images as ``(n, 1, rows, cols)``."""
    train, _, test = cnn_data.split_images(cnn_data.load_images(data), data)
    images, labels = table_to_images(train)
    if training.augment == "shifts":
        images, labels = with_shifted_copies(images, labels)
    test_images, test_labels = table_to_images(test)
    arrays = (images[:, None], labels, test_images[:, None], test_labels)
    device = resolve_device(training.train.device)
    return ImageTask(*(torch.tensor(array, device=device) for array in arrays))


def train_ours(
    task: ImageTask, spec: ConvNetSpec, config: TrainConfig, seed: int, target: float
) -> dict[str, float]:
    """The project's path: a one-member ConvNetEnsemble trained by ``fit``, tested after every epoch."""
    accuracies: list[float] = []

    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        predicted = model(task.test_features)[0].argmax(dim=-1)
        accuracies.append((predicted == task.test_targets).float().mean().item())
        if accuracies[-1] >= target:
            raise TargetReachedError
        return {"test_accuracy": accuracies[-1]}

    seed_everything(seed)
    model = ConvNetEnsemble(spec, [seed])
    with contextlib.suppress(TargetReachedError):
        fit(model, task.features, task.targets, ensemble_cross_entropy, config, seed, evaluate_epoch=evaluate)
    return {"test_accuracy": accuracies[-1], "epochs": len(accuracies)}


def sequential_network(spec: ConvNetSpec) -> nn.Sequential:
    """The same network as a user writes it: Conv2d, ReLU, pooling blocks, then Linear, Dropout, Linear."""
    layers: list[nn.Module] = []
    channels = spec.in_shape[0]
    for filters in spec.filters:
        layers += [nn.Conv2d(channels, filters, spec.kernel_size, padding=spec.kernel_size // 2), nn.ReLU()]
        layers += [POOLING_LAYERS[spec.pooling](POOL_SIZE)] if spec.pooling in POOLING_LAYERS else []
        channels = filters
    return nn.Sequential(
        *layers,
        nn.Flatten(),
        nn.Linear(spec.flat_features, spec.dense_units),
        nn.ReLU(),
        nn.Dropout(spec.dropout),
        nn.Linear(spec.dense_units, spec.n_classes),
    )


@torch.no_grad()
def copy_initial_weights(source: ConvNetEnsemble, network: nn.Sequential) -> None:
    """Start ``network`` from the one member of ``source``: both sides then take the same path."""
    convolutions = [layer for layer in network if isinstance(layer, nn.Conv2d)]
    dense, output = (layer for layer in network if isinstance(layer, nn.Linear))
    for layer, weight, bias in zip(convolutions, source.conv_weights, source.conv_biases, strict=True):
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    for layer, weight, bias in (
        (dense, source.dense_weight, source.dense_bias),
        (output, source.out_weight, source.out_bias),
    ):
        layer.weight.copy_(weight[0].T)
        layer.bias.copy_(bias[0, 0])


def train_plain_torch(
    task: ImageTask, initial: ConvNetEnsemble, config: TrainConfig, seed: int, target: float
) -> dict[str, float]:
    """The plain PyTorch script: nn.Sequential, Adam, shuffled mini-batches, test accuracy every epoch.

    It starts from ``initial``'s weights and draws its batch order and dropout masks from
    ``seed`` the way ``fit`` does, so only the loops differ, not the luck.
    """
    network = sequential_network(initial.spec).to(task.features.device)
    copy_initial_weights(initial, network)
    optimiser = torch.optim.Adam(
        network.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    loss_fn = nn.CrossEntropyLoss()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    accuracy, epoch = 0.0, 0
    while epoch < config.epochs and accuracy < target:
        epoch += 1
        network.train()
        for batch in torch.randperm(len(task.features), generator=generator).split(config.batch_size):
            optimiser.zero_grad()
            loss = loss_fn(network(task.features[batch]), task.targets[batch])
            loss.backward()
            optimiser.step()
        network.eval()
        with torch.no_grad():
            predicted = network(task.test_features).argmax(dim=1)
            accuracy = (predicted == task.test_targets).float().mean().item()
    return {"test_accuracy": accuracy, "epochs": epoch}


def thread_note(config: TrainConfig) -> str:
    """How ``config.threads`` reads, with what ``auto`` stands for on the machine now."""
    if config.threads == "auto":
        return f"auto (now {resolve_threads('auto')})"
    return str(config.threads or f"torch's default {torch.get_num_threads()}")


def cnn(repeats: int, smoke: bool) -> list[Row]:
    """Time to a test accuracy on digits: the featured CNN, one seed, by ``fit`` and by a plain loop."""
    parameters = base_parameters("cnn", smoke)
    data = ImageDataParams.model_validate(parameters["data"])
    experiments = ExperimentParams.model_validate(parameters["experiments"])
    training = TrainingParams.model_validate(parameters["training"])
    target, max_epochs = (
        (CNN_SMOKE_TARGET_ACCURACY, CNN_SMOKE_MAX_EPOCHS) if smoke else (CNN_TARGET_ACCURACY, CNN_MAX_EPOCHS)
    )
    config = training.train.model_copy(update={"epochs": max_epochs})
    task = image_task(data, training)
    architecture = experiments.architectures[experiments.featured]
    spec = cnn_train.network_spec(architecture, tuple(task.features.shape[1:]), int(task.targets.max()) + 1)
    seed = experiments.first_seed
    initial = ConvNetEnsemble(spec, [seed])
    # One untimed epoch each: torch's one-time start-up (about 1 s) counts for neither side.
    warm_up = config.model_copy(update={"epochs": 1})
    train_ours(task, spec, warm_up, seed, target)
    train_plain_torch(task, initial, warm_up, seed, target)
    gflop = counted_gflop(lambda: train_ours(task, spec, config, seed, target))
    ours_s, ours_quality, peer_s, peer_quality = alternating_medians(
        lambda: train_ours(task, spec, config, seed, target),
        lambda: train_plain_torch(task, initial, config, seed, target),
        repeats,
    )
    return [
        {
            "workload": "cnn",
            "configuration": f"{experiments.featured}: filters {'x'.join(map(str, spec.filters))}, "
            f"{spec.pooling} pool, dense {spec.dense_units}, dropout {spec.dropout}, augment "
            f"{training.augment}, batch {config.batch_size}, lr {config.learning_rate}, seed {seed}, "
            f"{len(task.features)} training images; threads: ours {thread_note(config)}, "
            f"peer torch's default {torch.get_num_threads()}",
            "ours_s": significant(ours_s),
            "peer": "plain PyTorch nn.Sequential loop (same layers, init, Adam, batches, augmentation)",
            "peer_s": significant(peer_s),
            "ratio": significant(ours_s / peer_s),
            "goal_ratio": GOAL_RATIO,
            **roofline(gflop, ours_s),
            "ratio_per_epoch": significant(
                (ours_s / ours_quality["epochs"]) / (peer_s / peer_quality["epochs"])
            ),
            "quality_ok": ours_quality["test_accuracy"] >= target
            and ours_quality["test_accuracy"] >= peer_quality["test_accuracy"] - ACCURACY_TOLERANCE,
            "quality": {
                "metric": "test accuracy, evaluated after every epoch, at the first epoch reaching "
                f"{target} (at most {max_epochs} epochs)",
                "ours": ours_quality,
                "peer": peer_quality,
            },
        }
    ]


# --- search -----------------------------------------------------------------------------

SEARCH_SPACE = {
    "learning_rate": {"type": "log-float", "low": 0.001, "high": 0.01},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
}
SEARCH_GRID = {"learning_rate": (0.001, 0.003, 0.01), "dropout": (0.0, 0.25, 0.5)}
"""The grid a user would run instead: the same ranges, three values each (9 trainings)."""


def search(repeats: int, smoke: bool) -> list[Row]:
    """The CNN's Optuna search against a grid over the same ranges, at the same number of trained epochs.

    Both train the baseline CNN (one seed, no augmentation) with the pipeline's trial function;
    the grid trains every point for every epoch, the search draws trials (TPE, median pruning)
    until it has trained as many epochs in all. Best validation accuracy and wall time of each.
    """
    del repeats  # a whole study: timed once
    parameters = base_parameters("cnn", smoke)
    data = ImageDataParams.model_validate(parameters["data"])
    experiments = ExperimentParams.model_validate(parameters["experiments"])
    training = TrainingParams.model_validate({**parameters["training"], "augment": "none"})
    train_images, val_images, _ = cnn_data.split_images(cnn_data.load_images(data), data)
    shared = cnn_search.SearchData(
        cnn_train.training_data(train_images, val_images, training),
        experiments,
        training.model_copy(update={"train": with_fixed_threads(training.train)}),
        (experiments.first_seed,),
    )
    grid_points = [
        dict(zip(SEARCH_GRID, values, strict=True)) for values in itertools.product(*SEARCH_GRID.values())
    ]
    budget = len(grid_points) * training.train.epochs
    cnn_search.train_trial(shared, search_task(0, grid_points[0]))  # torch's start-up, untimed
    # Every trial trains the same network (dropout and learning rate change no product), so
    # operations are one trial's per epoch times the epochs trained.
    gflop_per_epoch = (
        counted_gflop(lambda: cnn_search.train_trial(shared, search_task(0, grid_points[0])))
        / training.train.epochs
    )
    started = time.perf_counter()
    grid = [cnn_search.train_trial(shared, search_task(n, point)) for n, point in enumerate(grid_points)]
    grid_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        params = cnn_params.SearchParams.model_validate(
            {"storage": f"{scratch}/search.db", "space": SEARCH_SPACE, "trials": 0}
        )
        started = time.perf_counter()
        study, _ = search_module.run_study(
            cnn_search.train_trial,
            shared,
            params.model_copy(update={"trials": 10_000}),
            IN_THIS_PROCESS,
            enough=lambda finished: trained_epochs(finished) >= budget,
        )
        search_s = time.perf_counter() - started
        finished = search_module.finished_trials(study)
        best_search = max(trial.value for trial in finished if trial.value is not None)
        pruned = sum(trial.state.name == "PRUNED" for trial in finished)
        epochs = trained_epochs(finished)
    best_grid = max(outcome.value for outcome in grid)
    return [
        {
            "workload": "search",
            "configuration": f"baseline cnn, 1 seed, augment none, {training.train.epochs} epochs a trial, "
            f"space {SEARCH_SPACE}",
            "ours_s": significant(search_s),
            "peer": f"grid {SEARCH_GRID} ({len(grid_points)} trainings)",
            "peer_s": significant(grid_s),
            "ratio": significant(search_s / grid_s),
            **roofline(gflop_per_epoch * epochs, search_s),
            "peer_share_of_peak": roofline(gflop_per_epoch * budget, grid_s)["share_of_peak"],
            "quality_ok": best_search >= best_grid,
            "quality": {
                "metric": "best validation accuracy (last epoch) at the same number of trained epochs",
                "ours": {
                    "val_accuracy": round(best_search, 4),
                    "trials": len(finished),
                    "pruned": pruned,
                    "epochs": epochs,
                },
                "peer": {"val_accuracy": round(best_grid, 4), "trials": len(grid), "epochs": budget},
            },
        }
    ]


def trained_epochs(trials: list[Any]) -> int:
    """Epochs the trials trained in all (a pruned trial counts the epochs it ran)."""
    return sum(len(trial.intermediate_values) for trial in trials)


def search_task(number: int, values: dict[str, float]) -> search_module.TrialTask:
    """A grid point as a trial that is never pruned (no finished trials to compare with)."""
    return search_module.TrialTask(number, values, "val_accuracy", "maximize", search_module.PruningParams())


# --- sequence ---------------------------------------------------------------------------

SEQUENCE_LENGTH, SEQUENCE_TARGET_MSE, SEQUENCE_MAX_EPOCHS = 100, 0.01, 40
SEQUENCE_SMOKE_LENGTH, SEQUENCE_SMOKE_TARGET_MSE, SEQUENCE_SMOKE_MAX_EPOCHS = 12, ADDING_BASELINE_MSE, 5


@dataclass(frozen=True)
class AddingTask:
    """The adding problem at one length, as the sequence pipeline builds it: ``(n, T, 2)`` → ``(n, 1)``."""

    features: torch.Tensor
    targets: torch.Tensor
    test_features: torch.Tensor
    test_targets: torch.Tensor


def adding_task(data: AddingDataParams, seq_len: int) -> AddingTask:
    """The pipeline's adding-problem data at ``seq_len``: generated, split and turned into tensors."""
    table = adding_problem(data.n_train + data.n_test, seq_len, data.random_state)
    train, test = sequence_data.split_adding(table, data)
    return AddingTask(*adding_tensors(train), *adding_tensors(test))


def train_ours_lstm(
    task: AddingTask,
    model: torch.nn.Module,
    config: TrainConfig,
    seed: int,
    target: float,
    after_loss: Callable[[], None] = lambda: None,
) -> dict:
    """The project's path: the pipeline's LSTM trained by ``fit``, its test MSE after every epoch.

    ``after_loss`` runs at every step once its loss is computed, before its backward pass.
    """
    errors: list[float] = []

    def loss_then(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(outputs, targets)
        after_loss()
        return loss

    def evaluate(trained: torch.nn.Module) -> dict[str, float]:
        errors.append(nn.functional.mse_loss(trained(task.test_features), task.test_targets).item())
        if errors[-1] < target:
            raise TargetReachedError
        return {"test_mse": errors[-1]}

    with contextlib.suppress(TargetReachedError):
        fit(model, task.features, task.targets, loss_then, config, seed, evaluate_epoch=evaluate)
    return {"test_mse": errors[-1], "epochs": len(errors)}


class PlainLSTM(nn.Module):
    """The network as a user writes it: ``nn.LSTM`` then ``nn.Linear`` on the last step."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.linear = nn.Linear(hidden_size, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """The prediction from the last step's hidden state."""
        outputs, _ = self.lstm(sequences)
        return self.linear(outputs[:, -1])


def plain_lstm_steps(
    task: AddingTask, initial: dict[str, torch.Tensor], config: TrainConfig, seed: int, target: float
) -> Iterator[dict | None]:
    """The plain PyTorch script: Adam, shuffled mini-batches, gradient clipping, test MSE every epoch.

    It pauses (yields ``None``) at every step once its loss is computed, before its backward
    pass, and yields its quality last. It starts from ``initial`` (ours' initial weights,
    renamed) and draws its batch order from ``seed`` the way ``fit`` does, so only the loops
    differ.
    """
    network = PlainLSTM(task.features.shape[-1], initial["lstm.weight_hh_l0"].shape[1])
    network.load_state_dict(initial)
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate, betas=config.adam_betas)
    generator = torch.Generator().manual_seed(seed)
    error, epoch = float("inf"), 0
    while epoch < config.epochs and error >= target:
        epoch += 1
        network.train()
        for batch in torch.randperm(len(task.features), generator=generator).split(config.batch_size):
            optimiser.zero_grad()
            loss = nn.functional.mse_loss(network(task.features[batch]), task.targets[batch])
            yield None
            loss.backward()
            nn.utils.clip_grad_norm_(network.parameters(), config.max_grad_norm or float("inf"))
            optimiser.step()
        network.eval()
        with torch.no_grad():
            error = nn.functional.mse_loss(network(task.test_features), task.test_targets).item()
    yield {"test_mse": error, "epochs": epoch}


@dataclass
class LockStep:
    """A paused loop advanced by one step at a time, the time of its own steps added up."""

    steps: Iterator[dict | None]
    clock: Callable[[], float] = time.perf_counter
    seconds: float = 0.0
    result: dict | None = None

    def advance(self) -> None:
        """Run the loop to its next pause (nothing once it has finished)."""
        if self.result is not None:
            return
        started = self.clock()
        outcome = next(self.steps)
        self.seconds += self.clock() - started
        self.result = outcome

    def finish(self) -> dict:
        """Run the loop to its end; its final result."""
        while self.result is None:
            self.advance()
        return self.result


def lock_step_lstms(
    task: AddingTask,
    model: torch.nn.Module,
    initial: dict[str, torch.Tensor],
    config: TrainConfig,
    seed: int,
    target: float,
) -> tuple[float, dict, float, dict]:
    """Ours and the plain loop in lock-step: seconds and quality of each.

    Every time ours has computed a step's loss, the plain loop runs to the same point of its
    next step; both pause there, before the backward pass, so each side finds the caches as
    the other left them. A change in the machine's speed, which on a shared host comes and
    goes within a second, then falls on both sides' steps alike. Each side is timed on its own
    steps (ours: the whole run less the plain loop's steps inside it).
    """
    peer = LockStep(plain_lstm_steps(task, initial, config, seed, target))
    with torch_threads(config.threads):  # the same thread count for both: the loops are compared
        started = time.perf_counter()
        ours_quality = train_ours_lstm(task, model, config, seed, target, after_loss=peer.advance)
        ours_s = time.perf_counter() - started - peer.seconds
        peer_quality = peer.finish()
    return ours_s, ours_quality, peer.seconds, peer_quality


def sequence(repeats: int, smoke: bool) -> list[Row]:
    """Time to a test MSE on the adding problem: the pipeline's LSTM by ``fit`` and by a plain loop."""
    parameters = base_parameters("sequence", smoke)["adding"]
    data = AddingDataParams.model_validate(parameters["data"])
    model_params = ModelParams.model_validate(parameters["model"])
    seq_len, target, max_epochs = (
        (SEQUENCE_SMOKE_LENGTH, SEQUENCE_SMOKE_TARGET_MSE, SEQUENCE_SMOKE_MAX_EPOCHS)
        if smoke
        else (SEQUENCE_LENGTH, SEQUENCE_TARGET_MSE, SEQUENCE_MAX_EPOCHS)
    )
    config = TrainConfig.model_validate(parameters["train"]).model_copy(update={"epochs": max_epochs})
    task = adding_task(data, seq_len)
    seed = model_params.first_seed
    hidden_size = model_params.hidden_size_of("lstm")
    shape = SequenceShape(input_size=task.features.shape[-1], output_size=1, max_len=seq_len)

    def fresh_model() -> torch.nn.Module:
        seed_everything(seed)
        return build_model("lstm", shape, hidden_size).module

    initial = {
        name.replace("recurrent.", "lstm.").replace("head.", "linear."): value
        for name, value in fresh_model().state_dict().items()
    }
    warm_up = config.model_copy(update={"epochs": 1})
    lock_step_lstms(task, fresh_model(), initial, warm_up, seed, target)
    with torch_threads(config.threads):
        gflop = counted_gflop(lambda: train_ours_lstm(task, fresh_model(), config, seed, target))
    runs = [lock_step_lstms(task, fresh_model(), initial, config, seed, target) for _ in range(repeats)]
    ours_s, peer_s = statistics.median(run[0] for run in runs), statistics.median(run[2] for run in runs)
    ours_quality, peer_quality = runs[-1][1], runs[-1][3]
    return [
        {
            "workload": "sequence",
            "configuration": f"adding problem T={seq_len}: lstm, hidden {hidden_size}, "
            f"{len(task.features)} training sequences, batch {config.batch_size}, lr {config.learning_rate}, "
            f"clip {config.max_grad_norm}, seed {seed}, threads {thread_note(config)}, "
            "ours and the plain loop in lock-step",
            "ours_s": significant(ours_s),
            "peer": "plain PyTorch nn.LSTM + nn.Linear loop (same data, init, Adam, batches, clipping)",
            "peer_s": significant(peer_s),
            "ratio": significant(ours_s / peer_s),
            "goal_ratio": GOAL_RATIO,
            **roofline(gflop, ours_s),
            "quality_ok": ours_quality["test_mse"] < target
            and ours_quality["epochs"] <= peer_quality["epochs"],
            "quality": {
                "metric": f"test MSE, evaluated after every epoch, at the first epoch below {target:.4g} "
                f"(at most {max_epochs} epochs)",
                "ours": ours_quality,
                "peer": peer_quality,
                "ratio_per_run": [significant(run[0] / run[2]) for run in runs],
            },
        }
    ]


# --- suite ------------------------------------------------------------------------------


def registered_pipelines() -> list[str]:
    """The architectures' pipelines: one folder per pipeline under src/dlpipeline/pipelines."""
    folder = PROJECT_ROOT / "src/dlpipeline/pipelines"
    return sorted(p.name for p in folder.iterdir() if (p / "pipeline.py").exists())


SUITE_NOT_COUNTED = (
    "a whole `kedro run` in another process: not counted; the training workloads (mlp_sweep, cnn, "
    "sequence, search) state their share of peak"
)


def busy_fields(cpu_s: float | None, wall_s: float) -> Row:
    """A run's machine CPU (``cpu_s``), the cores it kept busy on average, and its floor on this machine.

    ``cpu_floor_s`` is ``cpu_s`` shared out over every core: the wall time the same work would take
    if no core ever waited. A wall time goal below it needs less work, not better scheduling.
    """
    if cpu_s is None:
        return {"cpu_s": None, "cores_busy": None, "cpu_floor_s": None}
    return {
        "cpu_s": round(cpu_s, 1),
        "cores_busy": significant(cpu_s / wall_s),
        "cpu_floor_s": round(cpu_s / (os.cpu_count() or 1), 1),
    }


def suite(repeats: int, smoke: bool) -> list[Row]:
    """The whole `kedro run`, one pipeline at a time, on the base environment (smoke if ``smoke``)."""
    del repeats  # minutes per run: timed once
    env = "smoke" if smoke else "base"
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = project_copy(Path(scratch) / "project")
        timed_command(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "mlp", "--env", "smoke", "--tags", "data"],
            copy,
        )  # create the MLflow store outside the timings
        for pipeline in registered_pipelines():
            busy_before = machine_cpu_seconds()
            seconds = timed_command(
                [sys.executable, "-m", "kedro", "run", "--pipelines", pipeline, "--env", env], copy
            )
            busy_after = machine_cpu_seconds()
            cpu_s = None if busy_before is None or busy_after is None else busy_after - busy_before
            metrics_file = copy / f"data/08_reporting/{pipeline}/metrics.json"
            rows.append(
                {
                    "workload": f"suite:{pipeline}",
                    "ours_s": round(seconds, 3),
                    **busy_fields(cpu_s, seconds),
                    "peer": None,
                    "peer_s": None,
                    "ratio": None,
                    **NOT_COUNTED,
                    "roofline_note": SUITE_NOT_COUNTED,
                    "quality_ok": None,
                    "quality": json.loads(metrics_file.read_text()) if metrics_file.exists() else None,
                }
            )
    total = sum(row["ours_s"] for row in rows)
    cpu_total = None if any(row["cpu_s"] is None for row in rows) else sum(row["cpu_s"] for row in rows)
    rows.append(
        {
            "workload": "suite:total",
            "ours_s": round(total, 3),
            **busy_fields(cpu_total, total),
            "peer": "goal: 600 s",
            "peer_s": 600.0,
            "ratio": significant(total / 600.0),
            **NOT_COUNTED,
            "roofline_note": SUITE_NOT_COUNTED,
            "quality_ok": None,
            "quality": None,
        }
    )
    return rows


WORKLOADS: dict[str, Callable[[int, bool], list[Row]]] = {
    "mlp_sweep": mlp_sweep,
    "cnn": cnn,
    "sequence": sequence,
    "overhead": overhead,
    "search": search,
    "suite": suite,
}


def print_table(rows: list[Row]) -> None:
    """The results as an aligned text table (``peak%``: the share of the machine's matmul peak)."""
    header = (
        f"{'workload':<16} {'ours_s':>8} {'peer_s':>8} {'ratio':>6} {'GFLOP/s':>8} {'peak%':>6} "
        f"{'quality_ok':>10} {'busy':>4} {'cpu_s':>7}  peer"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        peer_s = "-" if row["peer_s"] is None else f"{row['peer_s']:.2f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        rate = "-" if row.get("gflops") is None else f"{row['gflops']:.2f}"
        share = "-" if row.get("share_of_peak") is None else f"{100 * row['share_of_peak']:.1f}"
        cpu = "-" if row.get("cpu_s") is None else f"{row['cpu_s']:.1f}"
        print(
            f"{row['workload']:<16} {row['ours_s']:>8.2f} {peer_s:>8} {ratio:>6} {rate:>8} {share:>6} "
            f"{row['quality_ok']!s:>10} {row['contended']:>4} {cpu:>7}  {row['peer'] or ''}"
        )


def device_name() -> str:
    """Where the workloads train (``device: auto``): ``cpu``, or ``cuda:<the GPU's name>``."""
    device = resolve_device("auto")
    return f"cuda:{torch.cuda.get_device_name(device)}" if device.type == "cuda" else "cpu"


def machine_description(smoke: bool) -> dict[str, Any]:
    """The machine and settings the figures were measured with."""
    return {
        "device": device_name(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "smoke": smoke,
    }


def kept_rows(previous: list[Row], new: list[Row]) -> list[Row]:
    """The ``previous`` rows that ``new`` does not replace (same workload and same contention)."""
    replaced = {(row["workload"], row.get("contended", 0)) for row in new}
    return [row for row in previous if (row["workload"], row.get("contended", 0)) not in replaced]


def main(argv: list[str] | None = None) -> list[Row]:
    """Parse the command line, run the chosen workloads, print and save the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {', '.join(WORKLOADS)}"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repetitions per measurement (median reported)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (conf/smoke): checks the harness only"
    )
    parser.add_argument(
        "--contended",
        type=int,
        default=0,
        metavar="N",
        help="run every workload beside N busy torch processes (started and stopped here)",
    )
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "benchmarks/results.json")
    parser.add_argument(
        "--append",
        action="store_true",
        help="keep the output file's other rows; replace those of the same workload and --contended",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.workloads.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {sorted(WORKLOADS)}")
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    if args.contended < 0:
        parser.error("--contended must be 0 or more")
    rows = []
    for name in chosen:
        print(
            f"==> {name}" + (f" beside {args.contended} busy processes" if args.contended else ""),
            file=sys.stderr,
            flush=True,
        )
        with busy_processes(args.contended):
            rows.extend(
                {**row, "contended": args.contended} for row in WORKLOADS[name](args.repeats, args.smoke)
            )
    print_table(rows)
    rows = [{**row, "device": device_name(), "machine": machine_description(args.smoke)} for row in rows]
    if args.append and args.output.exists():
        rows = kept_rows(json.loads(args.output.read_text()), rows) + rows
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"written: {args.output}")
    return rows


if __name__ == "__main__":
    main()
