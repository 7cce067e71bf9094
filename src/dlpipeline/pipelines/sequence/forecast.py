"""Many-to-many: the Mackey–Glass series forecast ``horizon`` steps ahead at every step.

Windows have varying lengths: they are right-padded and carry a validity mask, and the
loss and the test MSE count valid steps only.
"""

import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.data.sequences import padded_windows
from dlpipeline.pipelines.sequence.params import ForecastDataParams
from dlpipeline.pipelines.sequence.plots import SequencePanel, sequence_panels_figure
from dlpipeline.pipelines.sequence.report import first_seeds, result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import unit_rows
from dlpipeline.training import predict


def forecast_task(train: pd.DataFrame, test: pd.DataFrame, data: ForecastDataParams) -> TaskTensors:
    """Predict the value ``horizon`` steps ahead at every step of variable-length (padded) windows."""
    return TaskTensors(
        "forecast",
        *padded_windows(train, data.max_len),
        *padded_windows(test, data.max_len),
        kind="masked_regression",
        output_size=1,
        readout="every",
        causal=True,
    )


def persistence_mse(test: pd.DataFrame) -> float:
    """Test MSE of predicting that the series stays where it is (the naive forecast)."""
    return float(((test["target"] - test["value"]) ** 2).mean())


def plot_forecast(models: TrainedModels, test: pd.DataFrame, data: ForecastDataParams) -> Figure:
    """Three test windows: the true values ``horizon`` steps ahead against each model's forecast."""
    features, targets = padded_windows(test, data.max_len)
    shown = [0, 1, 2][: len(features)]
    outputs = {
        trained.about.cell: predict(trained.module, features[shown], "cpu")[..., 0]
        for trained in first_seeds(models)
    }
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


def forecast_rows(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The forecast's result rows, beside the persistence forecast's MSE."""
    return result_rows(models, persistence_mse(test), "persistence")


def forecast_units(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The forecast's unit rows (one series: seeds only), beside the persistence forecast's MSE."""
    return unit_rows(models, persistence_mse(test), "persistence")
