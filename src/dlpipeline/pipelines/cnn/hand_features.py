"""Learned against hand-made features at every training-set size, with the same classifier head.

"Unlike ML (where features are manually defined), DL extracts patterns/features automatically."
The CNN is its convolution blocks (features it learns) followed by a classifier head: dense +
ReLU → dropout → softmax. The same head (the baseline's units and dropout), trained by the same
loop, seeds and steps on the same nested subsets as the CNN of :mod:`.size`, gets two other
inputs:

* ``handmade``: the features a person defines for digits (:mod:`.handmade`: gradient-orientation
  histograms and the ink of every row and column), standardized with the subset's own mean and
  spread, as classical machine learning feeds them;
* ``raw_pixels``: the pixels themselves, as the CNN gets them (no features at all).

Per seed and size, the test accuracy of the CNN (``learned``) against each says whether the
features found automatically serve the head better than the ones defined by hand, and whether
the hand-made ones' prior knowledge wins where images are few.
"""

import dataclasses

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.digits import table_to_images
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn.handmade import handmade_features
from dlpipeline.pipelines.cnn.params import (
    Architecture,
    DataSizeParams,
    ExperimentParams,
    FeatureParams,
    HandFeatureParams,
    TrainingParams,
)
from dlpipeline.pipelines.cnn.size import (
    ACCURACIES,
    check_configurations,
    nested_subsets,
    plot_against_size,
    size_key,
    subset_label,
    subset_train_config,
    train_test_rows,
)
from dlpipeline.pipelines.cnn.train import ConfigurationTask, TrainingData, train_ensemble
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.served import served_model
from dlpipeline.tracking import ChildRun

LEARNED, HANDMADE, RAW_PIXELS = "learned", "handmade", "raw_pixels"
HEADS = (HANDMADE, RAW_PIXELS)
"""The inputs the CNN's head is trained on by itself (``learned`` is the CNN of the size study)."""


def standardized(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """``train`` and ``others`` centred and scaled by ``train``'s per-column mean and spread.

    A column that does not vary in ``train`` is only centred (its spread counts as 1).
    """
    mean, spread = train.mean(axis=0), train.std(axis=0)
    spread = np.where(spread > 0, spread, 1.0)
    return [(values - mean) / spread for values in (train, *others)]


def head_architecture(experiments: ExperimentParams) -> Architecture:
    """The CNN's classifier head alone: the baseline's dense units and dropout, no convolution blocks."""
    baseline = experiments.baseline
    return Architecture(model="mlp", dense_units=baseline.dense_units, dropout=baseline.dropout)


def head_inputs(
    kind: str, images: np.ndarray, indices: np.ndarray, others: list[np.ndarray], features: FeatureParams
) -> list[np.ndarray]:
    """The inputs of the head ``kind`` for the subset ``indices`` of ``images`` and for ``others``.

    Shaped as the ensemble takes them: pixels ``(n, 1, rows, cols)``, features ``(n, 1, 1, k)``.
    """
    if kind == RAW_PIXELS:
        return [images[indices, None], *(other[:, None] for other in others)]

    def made(values: np.ndarray) -> np.ndarray:
        return handmade_features(values, features.orientations, features.cell_size, features.cell_stride)

    scaled = standardized(made(images[indices]), *(made(other) for other in others))
    return [values[:, None, None, :].astype(np.float32) for values in scaled]


def train_heads(
    train_images: pd.DataFrame,
    val_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    features: FeatureParams,
    size: DataSizeParams,
    hand: HandFeatureParams,
) -> dict[str, TrainedModule]:
    """The CNN's head on hand-made features and on raw pixels, every subset of ``size``, all seeds at once."""
    check_configurations([hand.configuration], experiments, "cnn.hand_features.configuration")
    check_configurations(size.configurations, experiments, "cnn.data_size.configurations")
    if hand.configuration not in size.configurations:
        raise ValueError(
            f"cnn.hand_features.configuration {hand.configuration!r} is not trained by cnn.data_size: "
            f"choose from {size.configurations}"
        )
    images, labels = table_to_images(train_images)
    val_x, val_y = table_to_images(val_images)
    architecture = head_architecture(experiments)
    trained = {}
    for share, indices in nested_subsets(labels, size.shares, size.seed).items():
        train = subset_train_config(training.train, len(indices), size)
        for kind in HEADS:
            subset, val = head_inputs(kind, images, indices, [val_x], features)
            data = TrainingData(*_tensors(subset, labels[indices]), *_tensors(val, val_y))
            key = size_key(kind, share)
            task = ConfigurationTask(
                f"hand_features: {key}", architecture, tuple(experiments.seeds), train, "none", validate=False
            )
            trained[key] = train_ensemble(data, task)
    return trained


def _tensors(inputs: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs already shaped for the ensemble as float32, labels as int64."""
    return torch.tensor(inputs, dtype=torch.float32), torch.tensor(labels)


def hand_feature_table(
    train_images: pd.DataFrame,
    test_images: pd.DataFrame,
    heads: dict[str, TrainedModule],
    size_models: dict[str, TrainedModule],
    features: FeatureParams,
    size: DataSizeParams,
    hand: HandFeatureParams,
) -> pd.DataFrame:
    """One row per input (``learned``, ``handmade``, ``raw_pixels``), share and seed: accuracies, gap.

    Columns ``features``, ``share``, ``subset``, ``n_train``, ``n_inputs``, ``seed``,
    ``train_accuracy``, ``test_accuracy``, ``train_test_gap`` and ``gain_over_handmade`` (the
    row's test accuracy minus the hand-made head's, same share and seed).
    """
    images, labels = table_to_images(train_images)
    test_x, test_y = table_to_images(test_images)
    rows = []
    for share, indices in nested_subsets(labels, size.shares, size.seed).items():
        head = {"share": share, "subset": subset_label(share, size.shares), "n_train": len(indices)}
        cnn = size_models[size_key(hand.configuration, share)]
        splits = {LEARNED: (cnn, [images[indices, None], test_x[:, None]])}
        for kind in HEADS:
            splits[kind] = (
                heads[size_key(kind, share)],
                head_inputs(kind, images, indices, [test_x], features),
            )
        for kind, (trained, (subset, test)) in splits.items():
            measured = train_test_rows(trained, (subset, labels[indices]), (test, test_y))
            rows += [{"features": kind, **head, "n_inputs": subset[0].size, **row} for row in measured]
    table = pd.DataFrame(rows)
    handmade = table[table["features"] == HANDMADE].set_index(["share", "seed"])["test_accuracy"]
    own = table.set_index(["share", "seed"]).index
    table["gain_over_handmade"] = (table["test_accuracy"].to_numpy() - handmade.loc[own].to_numpy()).round(6)
    return table


def hand_feature_child_runs(
    heads: dict[str, TrainedModule],
    table: pd.DataFrame,
    train_images: pd.DataFrame,
    test_images: pd.DataFrame,
    features: FeatureParams,
    size: DataSizeParams,
) -> list[ChildRun]:
    """One MLflow child run per head and share (``study``: ``hand_features``), its ensemble as a model.

    The CNN's own runs are the size study's (``study``: ``data_size``): it is trained once. A
    model's example is the test split as that head takes it (hand-made features standardized
    with its training subset's mean and spread).
    """
    images, labels = table_to_images(train_images)
    test_x, _ = table_to_images(test_images)
    subsets = nested_subsets(labels, size.shares, size.seed)
    runs = []
    for (kind, share), rows in table[table["features"] != LEARNED].groupby(["features", "share"], sort=False):
        trained = heads[size_key(str(kind), float(share))]
        _, example = head_inputs(str(kind), images, subsets[share], [test_x], features)
        content = RunContent(
            params={"study": "hand_features", "features": str(kind), "share": float(share)},
            metrics={column: float(np.median(rows[column])) for column in ACCURACIES},
        )
        name = f"hand_features-{size_key(str(kind), float(share))}"
        run = child_run(name, trained.trained_record, trained.timing, content)
        runs.append(dataclasses.replace(run, model=served_model(trained, example)))
    return runs


def plot_hand_features(table: pd.DataFrame) -> Figure:
    """Test accuracy of the CNN and of its head on hand-made features and raw pixels, against size."""
    return plot_against_size(table, "features", ("test_accuracy", "train_test_gap"))
