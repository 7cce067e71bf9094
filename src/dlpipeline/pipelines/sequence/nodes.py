"""Nodes of the sequence experiment: four tasks, one per input–output pattern, and a shared report.

Every task turns its tables into a :class:`TaskTensors` (features, targets, loss, how
the model reads out) and trains every configured model × seed with the shared loop via
:func:`train_models`. The adding problem repeats that for each sequence length and adds
the vanishing-gradient evidence: ‖∂loss/∂h_t‖ over t, and one LSTM's gates.
"""

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.model_selection import train_test_split
from torch import nn

from dlpipeline.data.digits import LABEL_COLUMN, load_digits_table
from dlpipeline.data.sequences import (
    ADDING_BASELINE_MSE,
    adding_problem,
    adding_tensors,
    digit_rows,
    forecast_windows,
    generation_tensors,
    mackey_glass,
    padded_windows,
    sine_waves,
)
from dlpipeline.models.recurrent import Readout, RecurrentModel, hidden_gradient_norms, unroll
from dlpipeline.models.transformer import TransformerModel
from dlpipeline.pipelines.sequence.params import (
    AddingAnalysisParams,
    AddingDataParams,
    DigitsRowsDataParams,
    ForecastDataParams,
    GenerateDataParams,
    ModelName,
    ModelParams,
)
from dlpipeline.pipelines.sequence.plots import (
    SequencePanel,
    gate_activations_figure,
    gradient_norms_figure,
    metric_curves_figure,
    metric_vs_length_figure,
    sequence_panels_figure,
)
from dlpipeline.plotting import loss_curves_figure
from dlpipeline.tracking import ChildRun
from dlpipeline.training import TrainConfig, fit, predict, seed_everything

logger = logging.getLogger(__name__)

TaskKind = Literal["regression", "classification", "masked_regression"]
PATTERNS = {
    "adding": "many-to-one",
    "digits_rows": "many-to-one",
    "forecast": "many-to-many",
    "generate": "one-to-many",
}


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
        """``test_accuracy`` for classification, else ``test_mse``."""
        return "test_accuracy" if self.kind == "classification" else "test_mse"

    @property
    def masked(self) -> bool:
        """Whether features and targets carry the validity mask as their last channel."""
        return self.kind == "masked_regression"


@dataclass(frozen=True)
class TrainedModel:
    """One model × seed trained on one task and length, with what it recorded."""

    task: str
    cell: ModelName
    seq_len: int
    seed: int
    hidden_size: int
    model: nn.Module
    initial_state: dict[str, torch.Tensor]
    loss: np.ndarray
    test_history: np.ndarray
    metrics: dict[str, float]
    settings: dict[str, str | int | float]
    train_seconds: float
    cpu_seconds: float

    @property
    def label(self) -> str:
        """Run name such as ``adding-lstm-T100-s0``."""
        return f"{self.task}-{self.cell}-T{self.seq_len}-s{self.seed}"


# --- losses and scores ----------------------------------------------------------------


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """MSE over valid steps only: outputs ``(n, T, 1)``, targets ``(n, T, 2)`` (value, mask)."""
    mask = targets[..., 1]
    return (((outputs[..., 0] - targets[..., 0]) ** 2) * mask).sum() / mask.sum()


def _loss_function(kind: TaskKind) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The training loss of a task kind."""
    return {
        "regression": nn.functional.mse_loss,
        "masked_regression": masked_mse,
        "classification": nn.functional.cross_entropy,
    }[kind]


def _score(kind: TaskKind, outputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Test accuracy for classification, else the (masked) MSE."""
    if kind == "classification":
        return float((outputs.argmax(dim=-1) == targets).float().mean())
    return float(_loss_function(kind)(outputs, targets))


# --- models and the training sweep ----------------------------------------------------


def build_model(cell: ModelName, task: TaskTensors, model_params: ModelParams) -> nn.Module:
    """The recurrent model or Transformer that fits ``task``'s inputs, outputs and readout."""
    input_size = task.train_features.shape[-1] - int(task.masked)
    if cell == "transformer":
        return TransformerModel(
            input_size,
            model_params.hidden_size,
            task.output_size,
            max_len=task.train_features.shape[1],
            n_heads=model_params.n_heads,
            n_layers=model_params.n_layers,
            readout=task.readout,
            masked=task.masked,
            causal=task.causal,
        )
    return RecurrentModel(
        cell, input_size, model_params.hidden_size, task.output_size, task.readout, task.masked
    )


def train_models(task: TaskTensors, model_params: ModelParams, train: TrainConfig) -> list[TrainedModel]:
    """Train every configured model × seed on ``task`` with the shared loop, one by one.

    After every epoch the test metric is recorded (monitoring only: nothing is selected on it).
    """
    loss_fn = _loss_function(task.kind)
    trained = []
    for cell in model_params.cells:
        for seed in model_params.seeds:
            seed_everything(seed)
            model = build_model(cell, task, model_params)
            initial_state = copy.deepcopy(model.state_dict())
            started, cpu_started = time.perf_counter(), time.process_time()
            history = fit(
                model,
                task.train_features,
                task.train_targets,
                loss_fn,
                train,
                seed=seed,
                description=f"{task.task} {cell} T={task.seq_len} seed {seed}",
                evaluate_epoch=lambda m: {task.metric: _score(task.kind, *_test_outputs(m, task))},
            )
            seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
            outputs = predict(model, task.test_features, train.device)
            metrics = {task.metric: _score(task.kind, outputs, task.test_targets)}
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
            trained.append(
                TrainedModel(
                    task=task.task,
                    cell=cell,
                    seq_len=task.seq_len,
                    seed=seed,
                    hidden_size=model_params.hidden_size,
                    model=model.cpu(),
                    initial_state=initial_state,
                    loss=history.loss.numpy(),
                    test_history=history.evaluations[task.metric].numpy(),
                    metrics=metrics,
                    settings=_settings(train, model_params, cell),
                    train_seconds=seconds,
                    cpu_seconds=cpu_seconds,
                )
            )
    return trained


def _test_outputs(model: nn.Module, task: TaskTensors) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's outputs on the test set and the test targets, on the model's device."""
    device = next(model.parameters()).device
    return model(task.test_features.to(device)), task.test_targets.to(device)


def _settings(train: TrainConfig, model_params: ModelParams, cell: ModelName) -> dict[str, str | int | float]:
    """The training settings each child run logs."""
    settings: dict[str, str | int | float] = {
        "epochs": train.epochs,
        "learning_rate": train.learning_rate,
        "batch_size": train.batch_size or "full",
        "optimizer": "adam",
    }
    if cell == "transformer":
        settings |= {"n_heads": model_params.n_heads, "n_layers": model_params.n_layers}
    return settings


# --- many-to-one: the adding problem --------------------------------------------------


def generate_adding(data: AddingDataParams) -> pd.DataFrame:
    """Every length's adding-problem sequences (train and test) in one long table."""
    return pd.concat(
        [adding_problem(data.n_train + data.n_test, seq_len, data.random_state) for seq_len in data.seq_lens],
        ignore_index=True,
    )


def split_adding(table: pd.DataFrame, data: AddingDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``n_train`` sequences of each length for training, the rest for testing."""
    is_train = table["sequence"] < data.n_train
    return table[is_train].reset_index(drop=True), table[~is_train].reset_index(drop=True)


def train_adding(
    train: pd.DataFrame, test: pd.DataFrame, model_params: ModelParams, train_config: TrainConfig
) -> list[TrainedModel]:
    """Train every model × seed at every length of the sweep (targets: sum of the two marked values)."""
    trained = []
    for seq_len in sorted(train["seq_len"].unique()):
        train_features, train_targets = adding_tensors(train[train["seq_len"] == seq_len])
        test_features, test_targets = adding_tensors(test[test["seq_len"] == seq_len])
        task = TaskTensors(
            "adding",
            int(seq_len),
            train_features,
            train_targets,
            test_features,
            test_targets,
            kind="regression",
            output_size=1,
        )
        trained += train_models(task, model_params, train_config)
    return trained


def adding_gradient_norms(
    trained: list[TrainedModel], test: pd.DataFrame, data: AddingDataParams, analysis: AddingAnalysisParams
) -> dict[str, dict[str, np.ndarray]]:
    """‖∂loss/∂h_t‖ over t at the longest length, per recurrent cell (first seed), trained and initial.

    Returns ``{"trained": {cell: (T,)}, "initial": {cell: (T,)}}``, averaged over the
    first ``n_probe`` test sequences.
    """
    longest = max(model.seq_len for model in trained)
    features, targets = adding_tensors(test[test["seq_len"] == longest])
    features, targets = features[: data.n_probe], targets[: data.n_probe]
    profiles: dict[str, dict[str, np.ndarray]] = {"trained": {}, "initial": {}}
    for cell in analysis.gradient_cells:
        record = _first(trained, cell, longest)
        if record is None:
            continue
        initial = copy.deepcopy(record.model)
        initial.load_state_dict(record.initial_state)
        for stage, model in (("trained", record.model), ("initial", initial)):
            norms = hidden_gradient_norms(model, features, targets, nn.functional.mse_loss)
            profiles[stage][cell] = norms.numpy()
        trained_norms = profiles["trained"][cell]
        logger.info(
            "adding %s T=%d: trained ‖∂L/∂h_t‖ at t=1 is %.2e, at t=T %.2e (ratio %.1e)",
            cell,
            longest,
            trained_norms[0],
            trained_norms[-1],
            trained_norms[0] / trained_norms[-1],
        )
    return profiles


def _first(trained: list[TrainedModel], cell: str, seq_len: int) -> TrainedModel | None:
    """The first-seed record of ``cell`` at ``seq_len``, if it was trained."""
    return next((m for m in trained if m.cell == cell and m.seq_len == seq_len), None)


def plot_gradient_norms(profiles: dict[str, dict[str, np.ndarray]]) -> Figure:
    """The vanishing-gradient figure: ‖∂loss/∂h_t‖ over t per cell."""
    length = len(next(iter(profiles["trained"].values())))
    return gradient_norms_figure(
        profiles["trained"],
        profiles["initial"],
        title=f"adding problem, T={length}: gradient of the loss w.r.t. each hidden state",
    )


def plot_lstm_gates(trained: list[TrainedModel], test: pd.DataFrame) -> Figure:
    """The gates of the LSTM (first seed) on the first test sequence of the longest length it solved.

    "Solved" means a test MSE below a tenth of the baseline; if it solved none, the
    longest length is shown.
    """
    lstms = [model for model in trained if model.cell == "lstm"]
    if not lstms:
        return _note_figure("no LSTM was trained on the adding problem")
    solved = [m.seq_len for m in lstms if m.metrics["test_mse"] < ADDING_BASELINE_MSE / 10]
    longest = max(solved or [m.seq_len for m in lstms])
    record = _first(trained, "lstm", longest)
    features, targets = adding_tensors(test[test["seq_len"] == longest])
    with torch.no_grad():
        unrolled = unroll(record.model, features[:1])
    gates = {name: values[0].numpy() for name, values in unrolled.gates.items()}
    return gate_activations_figure(
        features[0].numpy(),
        gates,
        title=f"LSTM gates on one adding sequence (T={longest}): target {float(targets[0, 0]):.3f}, "
        f"predicted {float(unrolled.output[0, 0]):.3f}",
    )


def _note_figure(text: str) -> Figure:
    """A figure that only states ``text`` (when there is nothing to draw)."""
    figure = Figure(figsize=(5, 1.5))
    figure.text(0.5, 0.5, text, ha="center", va="center")
    return figure


def plot_mse_vs_length(trained: list[TrainedModel]) -> Figure:
    """Final test MSE against sequence length per model, beside the predict-the-mean baseline."""
    per_cell: dict[str, tuple[list[int], list[np.ndarray]]] = {}
    for cell in dict.fromkeys(model.cell for model in trained):
        lengths = sorted({model.seq_len for model in trained if model.cell == cell})
        values = [
            np.array([m.metrics["test_mse"] for m in trained if m.cell == cell and m.seq_len == length])
            for length in lengths
        ]
        per_cell[cell] = (lengths, values)
    return metric_vs_length_figure(
        per_cell,
        baseline=ADDING_BASELINE_MSE,
        baseline_label="predict the mean (1/6)",
        ylabel="test MSE",
        title="adding problem: test MSE against sequence length",
    )


# --- many-to-one: digits row by row ---------------------------------------------------


def load_digits() -> pd.DataFrame:
    """scikit-learn's 8×8 digits as a table (label, px_0_0, …)."""
    return load_digits_table()


def split_digits(table: pd.DataFrame, data: DigitsRowsDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of the digits."""
    train, test = train_test_split(
        table, test_size=data.test_size, random_state=data.random_state, stratify=table[LABEL_COLUMN]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def train_digits_rows(
    train: pd.DataFrame, test: pd.DataFrame, model_params: ModelParams, train_config: TrainConfig
) -> list[TrainedModel]:
    """Classify each digit from its 8 rows read one per step."""
    train_features, train_labels = digit_rows(train)
    test_features, test_labels = digit_rows(test)
    task = TaskTensors(
        "digits_rows",
        train_features.shape[1],
        train_features,
        train_labels,
        test_features,
        test_labels,
        kind="classification",
        output_size=int(train_labels.max()) + 1,
    )
    return train_models(task, model_params, train_config)


# --- many-to-many: Mackey–Glass forecasting -------------------------------------------


def generate_series(data: ForecastDataParams) -> pd.DataFrame:
    """The Mackey–Glass series (τ = 17) as a ``step, value`` table."""
    return pd.DataFrame({"step": np.arange(data.n_steps), "value": mackey_glass(data.n_steps)})


def make_windows(series: pd.DataFrame, data: ForecastDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train windows from the first ``train_share`` of the series, test windows from the rest.

    Values are standardised by the training part's mean and std, so an MSE of 1 is the
    variance of the series.
    """
    values = series["value"].to_numpy()
    cut = int(len(values) * data.train_share)
    standard = (values - values[:cut].mean()) / values[:cut].std()
    windows = [
        forecast_windows(part, n, data.min_len, data.max_len, data.horizon, data.random_state + offset)
        for offset, (part, n) in enumerate(((standard[:cut], data.n_train), (standard[cut:], data.n_test)))
    ]
    return windows[0], windows[1]


def train_forecast(
    train: pd.DataFrame,
    test: pd.DataFrame,
    model_params: ModelParams,
    train_config: TrainConfig,
    data: ForecastDataParams,
) -> list[TrainedModel]:
    """Predict the value ``horizon`` steps ahead at every step of variable-length (padded) windows."""
    train_features, train_targets = padded_windows(train, data.max_len)
    test_features, test_targets = padded_windows(test, data.max_len)
    task = TaskTensors(
        "forecast",
        data.max_len,
        train_features,
        train_targets,
        test_features,
        test_targets,
        kind="masked_regression",
        output_size=1,
        readout="every",
        causal=True,
    )
    return train_models(task, model_params, train_config)


def persistence_mse(test: pd.DataFrame) -> float:
    """Test MSE of predicting that the series stays where it is (the naive forecast)."""
    return float(((test["target"] - test["value"]) ** 2).mean())


def plot_forecast(trained: list[TrainedModel], test: pd.DataFrame, data: ForecastDataParams) -> Figure:
    """Three test windows: the true values ``horizon`` steps ahead against each model's forecast."""
    features, targets = padded_windows(test, data.max_len)
    shown = [0, 1, 2][: len(features)]
    outputs = {m.cell: predict(m.model, features[shown], "cpu")[..., 0] for m in _first_seeds(trained)}
    panels = []
    for row, index in enumerate(shown):
        valid = int(features[index, :, 1].sum())
        panels.append(
            SequencePanel(
                title=f"test window {index} ({valid} steps)",
                truth=targets[index, :valid, 0].numpy(),
                predictions={cell: values[row, :valid].numpy() for cell, values in outputs.items()},
            )
        )
    return sequence_panels_figure(
        panels, xlabel="step", suptitle=f"Mackey–Glass: value {data.horizon} steps ahead, every step"
    )


def _first_seeds(trained: list[TrainedModel]) -> list[TrainedModel]:
    """Each model's first-seed record."""
    first = min(model.seed for model in trained)
    return [model for model in trained if model.seed == first]


# --- one-to-many: sine generation ----------------------------------------------------


def generate_waves(data: GenerateDataParams) -> pd.DataFrame:
    """Train and test sine waves in one table (the first ``n_train`` sequences train)."""
    return sine_waves(
        data.n_train + data.n_test, data.seq_len, data.omega_min, data.omega_max, data.random_state
    )


def split_waves(table: pd.DataFrame, data: GenerateDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``n_train`` waves for training, the rest for testing."""
    is_train = table["sequence"] < data.n_train
    return table[is_train].reset_index(drop=True), table[~is_train].reset_index(drop=True)


def train_generate(
    train: pd.DataFrame, test: pd.DataFrame, model_params: ModelParams, train_config: TrainConfig
) -> list[TrainedModel]:
    """Learn to generate ``sin(ω t)`` from ω (teacher forcing); test MSE is on free-running generation."""
    train_features, train_targets = generation_tensors(train)
    test_features, test_targets = generation_tensors(test)
    task = TaskTensors(
        "generate",
        train_features.shape[1],
        train_features,
        train_targets,
        test_features,
        test_targets,
        kind="regression",
        output_size=1,
        readout="every",
        causal=True,
    )
    records = []
    for record in train_models(task, model_params, train_config):
        generated = generate_free_running(record.model, test_features[:, 0, 0], test_features.shape[1])
        free_running = float(((generated - test_targets[..., 0]) ** 2).mean())
        logger.info("generate %s: free-running test MSE %.4f", record.cell, free_running)
        metrics = {"test_mse": free_running, "test_mse_teacher_forced": record.metrics["test_mse"]}
        records.append(replace(record, metrics=metrics))
    return records


@torch.no_grad()
def generate_free_running(model: nn.Module, omegas: torch.Tensor, steps: int) -> torch.Tensor:
    """Generate ``(n, steps)`` from ω alone, feeding each output back as the next step's input."""
    model.eval()
    features = torch.zeros(len(omegas), steps, 2)
    features[:, 0, 0] = omegas
    generated = torch.zeros(len(omegas), steps)
    for step in range(steps):
        generated[:, step] = model(features[:, : step + 1])[:, step, 0]
        if step + 1 < steps:
            features[:, step + 1, 1] = generated[:, step]
    return generated


def plot_generated(trained: list[TrainedModel], test: pd.DataFrame) -> Figure:
    """Three test waves: generated from ω alone by each model, against the true ``sin(ω t)``."""
    features, targets = generation_tensors(test)
    order = torch.argsort(features[:, 0, 0])
    shown = order[torch.linspace(0, len(order) - 1, 3).long()]
    generated = {
        m.cell: generate_free_running(m.model, features[shown, 0, 0], features.shape[1])
        for m in _first_seeds(trained)
    }
    panels = [
        SequencePanel(
            title=f"ω = {float(features[index, 0, 0]):.3f}",
            truth=targets[index, :, 0].numpy(),
            predictions={cell: values[row].numpy() for cell, values in generated.items()},
        )
        for row, index in enumerate(shown.tolist())
    ]
    return sequence_panels_figure(panels, xlabel="step t", suptitle="one-to-many: generated from ω alone")


# --- reporting, shared by every task ------------------------------------------------


def plot_losses(trained: list[TrainedModel]) -> Figure:
    """Training loss of every run (first seed of each model and length)."""
    curves = {f"{m.cell} T={m.seq_len}": m.loss for m in _first_seeds(trained)}
    return loss_curves_figure(curves, title=f"{trained[0].task}: training loss per epoch")


def plot_test_curves(trained: list[TrainedModel]) -> Figure:
    """The test metric after every epoch, per run (first seed)."""
    metric = next(iter(trained[0].metrics))
    curves = {f"{m.cell} T={m.seq_len}": m.test_history for m in _first_seeds(trained)}
    return metric_curves_figure(
        curves, ylabel=metric, title=f"{trained[0].task}: {metric} per epoch", log=metric == "test_mse"
    )


def result_rows(trained: list[TrainedModel], baseline: float, baseline_name: str) -> pd.DataFrame:
    """One row per model × length: the test metric's mean, std and worst over seeds, and timing."""
    rows = []
    for (cell, seq_len), group in _grouped(trained).items():
        metric = next(iter(group[0].metrics))
        values = np.array([model.metrics[metric] for model in group])
        worst = values.min() if metric == "test_accuracy" else values.max()
        rows.append(
            {
                "task": group[0].task,
                "pattern": PATTERNS[group[0].task],
                "cell": cell,
                "seq_len": seq_len,
                "seeds": len(group),
                "metric": metric,
                "mean": round(float(values.mean()), 6),
                "std": round(float(values.std()), 6),
                "worst": round(float(worst), 6),
                "baseline": round(baseline, 6),
                "baseline_name": baseline_name,
                "train_seconds": round(sum(model.train_seconds for model in group), 2),
                "cpu_seconds": round(sum(model.cpu_seconds for model in group), 2),
            }
        )
    return pd.DataFrame(rows)


def _grouped(trained: list[TrainedModel]) -> dict[tuple[str, int], list[TrainedModel]]:
    """Records grouped by (model, length), in training order."""
    groups: dict[tuple[str, int], list[TrainedModel]] = {}
    for model in trained:
        groups.setdefault((model.cell, model.seq_len), []).append(model)
    return groups


def adding_rows(trained: list[TrainedModel]) -> pd.DataFrame:
    """The adding problem's result rows, beside the predict-the-mean baseline 1/6."""
    return result_rows(trained, ADDING_BASELINE_MSE, "predict the mean")


def digits_rows(trained: list[TrainedModel], test: pd.DataFrame) -> pd.DataFrame:
    """The digits' result rows, beside the majority-class accuracy."""
    majority = float(test[LABEL_COLUMN].value_counts(normalize=True).max())
    return result_rows(trained, majority, "majority class")


def forecast_rows(trained: list[TrainedModel], test: pd.DataFrame) -> pd.DataFrame:
    """The forecast's result rows, beside the persistence forecast's MSE."""
    return result_rows(trained, persistence_mse(test), "persistence")


def generate_rows(trained: list[TrainedModel], test: pd.DataFrame) -> pd.DataFrame:
    """The generation's result rows, beside predicting 0 (the mean of a sine) at every step."""
    return result_rows(trained, float((test["value"] ** 2).mean()), "predict zero")


def results_table(*task_rows: pd.DataFrame) -> pd.DataFrame:
    """Every task's rows in one table (``results.csv``)."""
    return pd.concat(task_rows, ignore_index=True)


def results_metrics(table: pd.DataFrame) -> dict[str, dict[str, dict[str, float]]]:
    """The results as nested JSON for ``dvc metrics``: task → ``<cell>-T<length>`` → metric."""
    return {
        task: {
            f"{row['cell']}-T{row['seq_len']}": {
                row["metric"]: float(row["mean"]),
                "baseline": row["baseline"],
            }
            for _, row in rows.iterrows()
        }
        for task, rows in table.groupby("task", sort=False)
    }


def build_child_runs(trained: list[TrainedModel]) -> list[ChildRun]:
    """One MLflow child run per (task, model, length, seed): params, metrics, histories, loss plot."""
    runs = []
    for model in trained:
        metric = next(iter(model.metrics))
        runs.append(
            ChildRun(
                name=model.label,
                params={
                    "task": model.task,
                    "pattern": PATTERNS[model.task],
                    "cell": model.cell,
                    "seq_len": model.seq_len,
                    "hidden_size": model.hidden_size,
                    "seed": model.seed,
                    **model.settings,
                },
                metrics={
                    **model.metrics,
                    "final_loss": float(model.loss[-1]),
                    "train_seconds": model.train_seconds,
                    "cpu_seconds": model.cpu_seconds,
                },
                metric_histories={
                    "loss": model.loss.tolist(),
                    f"{metric}_per_epoch": model.test_history.tolist(),
                },
                figures={
                    "loss.png": loss_curves_figure(
                        {model.label: model.loss}, title=f"{model.label}: training loss"
                    )
                },
            )
        )
    return runs
