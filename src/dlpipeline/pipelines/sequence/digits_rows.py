"""Many-to-one classification: each 8×8 digit read as a sequence of its 8 rows."""

import pandas as pd

from dlpipeline.data.digits import LABEL_COLUMN
from dlpipeline.data.sequences import digit_rows
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import unit_rows


def digits_rows_task(train: pd.DataFrame, test: pd.DataFrame) -> TaskTensors:
    """Classify each digit from its 8 rows read one per step."""
    n_classes = int(train[LABEL_COLUMN].max()) + 1
    return TaskTensors(
        "digits_rows", *digit_rows(train), *digit_rows(test), kind="classification", output_size=n_classes
    )


def majority_accuracy(test: pd.DataFrame) -> float:
    """Test accuracy of always answering the most common test digit."""
    return float(test[LABEL_COLUMN].value_counts(normalize=True).max())


def digits_rows(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The digits' result rows, beside the majority-class accuracy."""
    return result_rows(models, majority_accuracy(test), "majority class")


def digits_rows_units(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The digits' unit rows (one split: seeds only), beside the majority-class accuracy."""
    return unit_rows(models, majority_accuracy(test), "majority class")
