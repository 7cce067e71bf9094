"""Many-to-one classification: each 8×8 digit read as a sequence of its 8 rows."""

import pandas as pd

from dlpipeline.data.digits import LABEL_COLUMN
from dlpipeline.data.sequences import digit_rows
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels


def digits_rows_task(train: pd.DataFrame, test: pd.DataFrame) -> TaskTensors:
    """Classify each digit from its 8 rows read one per step."""
    n_classes = int(train[LABEL_COLUMN].max()) + 1
    return TaskTensors(
        "digits_rows", *digit_rows(train), *digit_rows(test), kind="classification", output_size=n_classes
    )


def digits_rows(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The digits' result rows, beside the majority-class accuracy."""
    majority = float(test[LABEL_COLUMN].value_counts(normalize=True).max())
    return result_rows(models, majority, "majority class")
