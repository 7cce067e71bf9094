"""Training shared by every sequence task: a task as tensors, its loss, and the model × seed sweep.

Each task turns its tables into :class:`TaskTensors` (features, targets, loss kind, how the
model reads out; one per sequence length) and :func:`train_models`, the training node of
every task, trains every configured model × seed on each through
:func:`dlpipeline.training.train_configuration`, each model one task of the executor
(``sequence.executor``: in order, on threads, or on a Dask cluster). The trained models are
returned as ``{run label: TrainedModule}``, each with its record, its history (training
``loss`` and the test metric after every epoch, under the metric's name) and a
:class:`SequenceRun` that says which configuration it is and what it scored.
"""

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from dlpipeline.data.tagging import entity_f1_of_ids
from dlpipeline.executor import IN_THIS_PROCESS, ExecutorParams, run_tasks
from dlpipeline.models.char_lm import CharLanguageModel, masked_cross_entropy
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.losses import masked_mse, softmax_mse
from dlpipeline.models.recurrent import Readout
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.models.tagger import TokenTagger
from dlpipeline.pipelines.sequence.params import ModelName, ModelParams
from dlpipeline.training import TrainConfig, train_configuration, with_fixed_threads

logger = logging.getLogger(__name__)

TaskKind = Literal[
    "regression", "classification", "masked_regression", "language_model", "tagging", "classification_mse"
]
"""``classification_mse``: a classification trained with MSE on one-hot targets (the loss study)."""
CLASSIFICATION = ("classification", "classification_mse")


@dataclass(frozen=True)
class SequenceRun:
    """The ``about`` of a trained sequence model: which configuration it is and what it scored."""

    task: str
    cell: ModelName
    seq_len: int
    seed: int
    hidden_size: int
    architecture: Mapping[str, int]
    """The Transformer's ``n_heads`` and ``n_layers`` (empty for a recurrent cell)."""
    test_metrics: Mapping[str, float]
    """The task's test metric first (``test_accuracy``, ``test_mse`` or ``test_nll``), then any others."""
    characters: tuple[str, ...] = ()
    """A language model's vocabulary (text only)."""
    draw: int = 0
    """The data draw it was trained and tested on."""

    @property
    def metric(self) -> str:
        """The test metric the model is scored by."""
        return next(iter(self.test_metrics))

    @property
    def label(self) -> str:
        """``<cell> T=<length>``: one line of a figure."""
        return f"{self.cell} T={self.seq_len}"


SequenceModel = TrainedModule[SequenceRun]
TrainedModels = dict[str, SequenceModel]
"""Trained models by run label, such as ``adding-lstm-T100-s0``, in training order."""


@dataclass(frozen=True)
class TaskTensors:
    """One task at one length, ready for the shared loop, and how its models read out."""

    task: str
    train_features: torch.Tensor
    train_targets: torch.Tensor
    test_features: torch.Tensor
    test_targets: torch.Tensor
    kind: TaskKind
    output_size: int
    readout: Readout = "last"
    causal: bool = False
    characters: tuple[str, ...] = ()
    """A language model's characters, a tagger's words: the vocabulary travels with its models."""
    draw: int = 0
    """Which data draw the tensors hold (tasks whose data is generated draw it several times)."""
    padded: bool = False
    """Whether the features carry the validity mask last though the targets do not (padded classes)."""

    @property
    def metric(self) -> str:
        """``test_accuracy`` for classification, ``test_nll`` (nats per token) for text, else ``test_mse``."""
        named = {
            "language_model": "test_nll",
            "tagging": "entity_f1",
            **dict.fromkeys(CLASSIFICATION, "test_accuracy"),
        }
        return named.get(self.kind, "test_mse")

    @property
    def seq_len(self) -> int:
        """The steps of every sequence (padded ones included): the length a model is trained at."""
        return self.train_features.shape[1]

    @property
    def masked(self) -> bool:
        """Whether the features end in the validity mask channel (in a masked regression, the targets too)."""
        return self.kind == "masked_regression" or self.padded

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
        "tagging": masked_cross_entropy,  # padded steps' target is <pad>: no loss, no gradient
        "classification_mse": softmax_mse,
    }[kind]


def score(kind: TaskKind, outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Test accuracy for classification, entity-level F1 for tagging, else the loss: (masked) MSE or NLL."""
    if kind in CLASSIFICATION:
        return float((outputs.argmax(dim=-1) == targets).float().mean())
    if kind == "tagging":
        return entity_f1_of_ids(outputs, targets)
    return float(loss_function(kind)(outputs, targets))


def new_model(cell: ModelName, task: TaskTensors, model_params: ModelParams) -> TrainedModule:
    """A fresh model of ``cell`` sized by ``model_params`` that fits ``task``.

    A language model and a tagger read token ids through an embedding (a tagger's vocabulary is its
    task's ``characters``: words); every other task reads numbers.
    """
    hidden_size = model_params.hidden_size_of(cell)
    if task.kind in ("tagging", "language_model"):
        body = {
            "embedding_dim": model_params.embedding_dim,
            "cell": cell,
            "hidden_size": hidden_size,
            "n_heads": model_params.n_heads,
            "n_layers": model_params.n_layers,
        }
        if task.kind == "tagging":
            words = len(task.characters) + 2  # the words, <pad> and <unk>
            return TrainedModule.build(
                TokenTagger, vocab_size=words, n_tags=task.output_size, max_len=task.seq_len, **body
            )
        return TrainedModule.build(
            CharLanguageModel, vocab_size=task.output_size, max_len=task.seq_len, **body
        )
    return build_model(cell, task.shape, hidden_size, model_params.n_heads, model_params.n_layers)


@dataclass(frozen=True)
class ModelJob:
    """One model of a task's sweep: its cell, its seed, how it is sized and trained."""

    task_index: int
    """Which of the sweep's :class:`TaskTensors` it trains on."""
    cell: ModelName
    seed: int
    model_params: ModelParams
    train: TrainConfig


def train_models(
    tasks: TaskTensors | Sequence[TaskTensors],
    model_params: ModelParams,
    train: TrainConfig,
    executor: ExecutorParams = IN_THIS_PROCESS,
) -> TrainedModels:
    """Train every configured model × seed on every task (length, draw), each one task of ``executor``.

    Where the tasks hold several data draws, seed number ``i`` trains (and is tested) on the
    ``i``-th draw (cycling through the draws): every seed is a fresh draw of data and of initial
    weights, at the cost of one model. A cell trains only at the lengths
    ``model_params.cell_seq_lens`` names for it, if any. Each model is seeded with its own
    seed right before it is built, and training draws nothing from the global random
    generators (mini-batches come from each seed's own generator): the results are the same
    in order, on any number of threads or on a Dask cluster. The costliest models start first
    (:func:`training_cost`), so no long model starts last while the other workers idle; the models
    come back in training order. After every epoch the test metric is recorded (monitoring only:
    nothing is selected on it); the last epoch's is the model's test metric.
    """
    tasks = (tasks,) if isinstance(tasks, TaskTensors) else tuple(tasks)
    fixed = with_fixed_threads(train)
    draw_of = seed_draws(model_params.seeds, [task.draw for task in tasks])
    jobs = {
        run_label(task.task, cell, task.seq_len, seed): ModelJob(index, cell, seed, model_params, fixed)
        for index, task in enumerate(tasks)
        for cell in model_params.cells
        if model_params.trains_at(cell, task.seq_len)
        for seed in model_params.seeds
        if draw_of[seed] == task.draw
    }
    costs = {
        label: training_cost(tasks[job.task_index], job.cell, job.model_params) for label, job in jobs.items()
    }
    return run_tasks(train_model, tasks, jobs, executor, costs)


def training_cost(task: TaskTensors, cell: ModelName, model_params: ModelParams) -> float:
    """A relative estimate of what training ``cell`` on ``task`` costs, to start the costliest first.

    Sequences × steps × the work of one step: a small recurrent cell's step costs about the same
    whatever its gates (its kernels' overhead dominates), a Transformer's grows with the length it
    attends over. Only the order matters: on two workers, a sweep whose longest models start last
    leaves one core idle while they finish.
    """
    width = model_params.hidden_size_of(cell)
    if cell == "transformer":
        per_step = model_params.n_layers * width * (6 * width + task.seq_len)
    else:
        per_step = 4 * width * width
    return float(len(task.train_features) * task.seq_len * per_step)


def seed_draws(seeds: Sequence[int], draws: Sequence[int]) -> dict[int, int]:
    """The data draw each seed trains on: the ``i``-th seed on the ``i``-th draw, cycling through them."""
    distinct = sorted(set(draws))
    return {seed: distinct[index % len(distinct)] for index, seed in enumerate(seeds)}


def train_model(tasks: Sequence[TaskTensors], job: ModelJob) -> SequenceModel:
    """Train a fresh model of ``job.cell`` (built from ``job.seed``) on its task; score it on the test set."""
    task = tasks[job.task_index]
    description = f"{task.task} {job.cell} T={task.seq_len} seed {job.seed}"

    last: dict[str, float] = {}

    def evaluate(model: nn.Module) -> dict[str, float]:
        last[task.metric] = score(task.kind, *_test_outputs(model, task))
        return dict(last)

    trained = train_configuration(
        functools.partial(new_model, job.cell, task, job.model_params),
        task.train_features,
        task.train_targets,
        loss_function(task.kind),
        job.train,
        [job.seed],
        description,
        evaluate_epoch=evaluate,
    )
    # The last epoch's evaluation scored the trained model on the whole test set, in eval mode
    # without gradients, as a fresh prediction would: its score is the model's test metric.
    metrics = dict(last)
    logger.info(
        "%s: %s %.4f (%.1f s, %.1f s CPU)",
        description,
        task.metric,
        metrics[task.metric],
        trained.timing.train_seconds,
        trained.timing.cpu_seconds,
    )
    return trained.replace(
        about=SequenceRun(
            task=task.task,
            cell=job.cell,
            seq_len=task.seq_len,
            seed=job.seed,
            hidden_size=job.model_params.hidden_size_of(job.cell),
            architecture=_architecture(job.cell, job.model_params),
            test_metrics=metrics,
            characters=task.characters,
            draw=task.draw,
        )
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
