"""Many-to-one classification: each 8×8 digit read as a sequence of its 8 rows."""

import pandas as pd

from dlpipeline.data.digits import LABEL_COLUMN
from dlpipeline.data.sequences import digit_rows
from dlpipeline.executor import IN_THIS_PROCESS, ExecutorParams
from dlpipeline.pipelines.sequence.params import ModelParams
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels, train_models
from dlpipeline.training import TrainConfig


def train_digits_rows(
    train: pd.DataFrame,
    test: pd.DataFrame,
    model_params: ModelParams,
    train_config: TrainConfig,
    executor: ExecutorParams = IN_THIS_PROCESS,
) -> TrainedModels:
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
    return train_models(task, model_params, train_config, executor)


def digits_rows(models: TrainedModels, test: pd.DataFrame) -> pd.DataFrame:
    """The digits' result rows, beside the majority-class accuracy."""
    majority = float(test[LABEL_COLUMN].value_counts(normalize=True).max())
    return result_rows(models, majority, "majority class")
