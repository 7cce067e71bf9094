"""Training shared by every sequence task: a task as tensors, its loss, and the model × seed sweep.

Each task turns its tables into a :class:`TaskTensors` (features, targets, loss kind, how
the model reads out) and :func:`train_models` trains every configured model × seed on it
with the shared loop. The trained models are returned as ``{run label: TrainedModule}``,
with everything later nodes need in each one's ``info``:

``task``, ``cell``, ``seq_len``, ``seed``, ``hidden_size``
    which configuration it is;
``initial_state``
    its weights before training (the gradient-norm analysis compares against them);
``loss``, ``test_history``
    the training loss and the test metric after every epoch;
``metrics``
    the test metric (``test_accuracy`` or ``test_mse``) at the end;
``settings``
    the Transformer's ``n_heads`` and ``n_layers`` (empty for recurrent cells);
``training``
    the :class:`~dlpipeline.pipelines.common.TrainingRecord` its MLflow child run logs;
``train_seconds``, ``cpu_seconds``
    wall-clock and CPU time of its training.
"""

import copy
import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dlpipeline.models.char_lm import CharLanguageModel, masked_cross_entropy
from dlpipeline.models.checkpoint import TrainedModule, count_parameters
from dlpipeline.models.losses import masked_mse
from dlpipeline.models.recurrent import Readout
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.common import TrainingRecord
from dlpipeline.pipelines.sequence.params import ModelName, ModelParams
from dlpipeline.training import TrainConfig, fit, predict, seed_everything, torch_threads

logger = logging.getLogger(__name__)

TaskKind = Literal["regression", "classification", "masked_regression", "language_model"]
TrainedModels = dict[str, TrainedModule]
"""Trained models by run label, such as ``adding-lstm-T100-s0``, in training order."""


@dataclass(frozen=True)
class TaskTensors:
    """One task at one length, ready for the shared loop, and how its models read out."""

    task: str
    seq_len: int
    train_features: torch.Tensor
    train_targets: torch.Tensor
    test_features: torch.Tensor
    test_targets: torch.Tensor
    kind: TaskKind
    output_size: int
    readout: Readout = "last"
    causal: bool = False

    @property
    def metric(self) -> str:
        """``test_accuracy`` for classification, ``test_nll`` (nats per token) for text, else ``test_mse``."""
        return {"classification": "test_accuracy", "language_model": "test_nll"}.get(self.kind, "test_mse")

    @property
    def masked(self) -> bool:
        """Whether features and targets carry the validity mask as their last channel."""
        return self.kind == "masked_regression"

    @property
    def shape(self) -> SequenceShape:
        """What this task asks of a model (the mask channel is not an input)."""
        return SequenceShape(
            input_size=self.train_features.shape[-1] - int(self.masked),
            output_size=self.output_size,
            max_len=self.train_features.shape[1],
            readout=self.readout,
            masked=self.masked,
            causal=self.causal,
        )


def run_label(task: str, cell: str, seq_len: int, seed: int) -> str:
    """The name of one trained model and its child run, such as ``adding-lstm-T100-s0``."""
    return f"{task}-{cell}-T{seq_len}-s{seed}"


def loss_function(kind: TaskKind) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss of a task kind."""
    return {
        "regression": nn.functional.mse_loss,
        "masked_regression": masked_mse,
        "classification": nn.functional.cross_entropy,
        "language_model": masked_cross_entropy,
    }[kind]


def score(kind: TaskKind, outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Test accuracy for classification, else the loss: (masked) MSE, or NLL per token for text."""
    if kind == "classification":
        return float((outputs.argmax(dim=-1) == targets).float().mean())
    return float(loss_function(kind)(outputs, targets))


def new_model(cell: ModelName, task: TaskTensors, model_params: ModelParams) -> TrainedModule:
    """A fresh model of ``cell`` sized by ``model_params`` that fits ``task``.

    A language model reads token ids through an embedding; every other task reads numbers.
    """
    hidden_size = model_params.hidden_size_of(cell)
    if task.kind == "language_model":
        return TrainedModule.build(
            CharLanguageModel,
            vocab_size=task.output_size,
            embedding_dim=model_params.embedding_dim,
            cell=cell,
            hidden_size=hidden_size,
            max_len=task.seq_len,
            n_heads=model_params.n_heads,
            n_layers=model_params.n_layers,
        )
    return build_model(cell, task.shape, hidden_size, model_params.n_heads, model_params.n_layers)


class TrainingStoppedError(Exception):
    """Raised inside a training thread when the run is being stopped (Ctrl-C, SIGTERM, a failure)."""


def train_models(task: TaskTensors, model_params: ModelParams, train: TrainConfig) -> TrainedModels:
    """Train every configured model × seed on ``task`` with the shared loop.

    Each model is built first, one by one, right after seeding with its seed, so its initial
    weights are the seed's; then ``model_params.workers`` of them train at once, on threads.
    Training draws nothing from the global random generators (mini-batches come from each
    seed's own generator), so the results are the same for any number of workers. After
    every epoch the test metric is recorded (monitoring only: nothing is selected on it).
    """
    fresh: dict[str, tuple[ModelName, int, TrainedModule]] = {}
    for cell in model_params.cells:
        for seed in model_params.seeds:
            seed_everything(seed)
            fresh[run_label(task.task, cell, task.seq_len, seed)] = (
                cell,
                seed,
                new_model(cell, task, model_params),
            )
    stop = threading.Event()

    def train_one(label: str) -> TrainedModule:
        cell, seed, model = fresh[label]
        return _train_one(cell, seed, model, task, model_params, train, stop)

    if model_params.workers == 1:
        return {label: train_one(label) for label in fresh}
    with torch_threads(train.threads), ThreadPoolExecutor(model_params.workers) as pool:
        futures = {label: pool.submit(train_one, label) for label in fresh}
        try:
            done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
            for failed in (future for future in done if future.exception() is not None):
                raise failed.exception()
            return {label: future.result() for label, future in futures.items()}
        except BaseException:
            stop.set()  # the other threads stop at their next epoch, so the pool can close
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _train_one(
    cell: ModelName,
    seed: int,
    trained: TrainedModule,
    task: TaskTensors,
    model_params: ModelParams,
    train: TrainConfig,
    stop: threading.Event,
) -> TrainedModule:
    """Train one fresh model of ``cell`` (built from ``seed``); ``stop`` ends it at the next epoch."""

    def evaluate(model: nn.Module) -> dict[str, float]:
        if stop.is_set():
            raise TrainingStoppedError(f"{task.task} {cell} T={task.seq_len} seed {seed}: stopped")
        return {task.metric: score(task.kind, *_test_outputs(model, task))}

    model = trained.module
    initial_state = copy.deepcopy(model.state_dict())
    started, cpu_started = time.perf_counter(), time.thread_time()
    history = fit(
        model,
        task.train_features,
        task.train_targets,
        loss_function(task.kind),
        train,
        seed=seed,
        description=f"{task.task} {cell} T={task.seq_len} seed {seed}",
        evaluate_epoch=evaluate,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.thread_time() - cpu_started
    outputs = predict(model, task.test_features, train.device)
    metrics = {task.metric: score(task.kind, outputs, task.test_targets)}
    logger.info(
        "%s %s T=%d seed %d: %s %.4f (%.1f s, %.1f s CPU)",
        task.task,
        cell,
        task.seq_len,
        seed,
        task.metric,
        metrics[task.metric],
        seconds,
        cpu_seconds,
    )
    model.cpu()
    n_train = len(task.train_features)
    return trained.with_info(
        task=task.task,
        cell=cell,
        seq_len=task.seq_len,
        seed=seed,
        hidden_size=model_params.hidden_size_of(cell),
        initial_state=initial_state,
        loss=history.loss.numpy(),
        test_history=history.evaluations[task.metric].numpy(),
        metrics=metrics,
        settings=_architecture(cell, model_params),
        # The record's clock reading stays NaN: the model file must not change with the clock
        # (``train_seconds`` below is kept outside it and joins the record in the child run).
        training=TrainingRecord.from_config(train, [seed], n_train, math.nan, count_parameters(model)),
        train_seconds=seconds,
        cpu_seconds=cpu_seconds,
    )


def _test_outputs(model: nn.Module, task: TaskTensors) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's outputs on the test set and the test targets, on the model's device."""
    device = next(model.parameters()).device
    return model(task.test_features.to(device)), task.test_targets.to(device)


def _architecture(cell: ModelName, model_params: ModelParams) -> dict[str, int]:
    """The Transformer's ``n_heads`` and ``n_layers``, which its child run logs; nothing for a cell."""
    if cell == "transformer":
        return {"n_heads": model_params.n_heads, "n_layers": model_params.n_layers}
    return {}
