"""Learned features against raw pixels and hand-made features, at the same classifier.

The notes say deep learning learns its features from raw pixels, where classical machine
learning has them defined by hand. The same classifier, a logistic regression on
standardized features, is fitted on the same training images (the training split as it is:
the shifted copies the networks also saw would only handicap a linear model on raw pixels)
with three kinds of features:

* ``raw_pixels``: the pixels themselves (no features);
* ``handmade``: gradient-orientation histograms and row/column projections (:mod:`.handmade`);
* ``learned``: the featured CNN's penultimate layer (dense + ReLU), one set per seed.

Its test accuracy on each is one row per seed: the learned features differ by seed, while the
raw pixels and the hand-made features are fitted once and their one result is paired with
every seed.
"""

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from dlpipeline.data.digits import table_to_images
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble
from dlpipeline.pipelines.cnn.handmade import handmade_features
from dlpipeline.pipelines.cnn.params import ExperimentParams, FeatureParams
from dlpipeline.pipelines.cnn.train import as_tensors

RAW_PIXELS, HANDMADE, LEARNED = "raw_pixels", "handmade", "learned"
FEATURE_SETS = (RAW_PIXELS, HANDMADE, LEARNED)


def classifier(features: FeatureParams) -> Pipeline:
    """The one classifier every kind of features gets: standardize, then a logistic regression."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(C=features.inverse_regularization, max_iter=features.max_iter),
    )


def classifier_accuracy(
    train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, test_y: np.ndarray, features: FeatureParams
) -> tuple[float, float]:
    """Training and test accuracy of the classifier fitted on ``train_x``."""
    fitted = classifier(features).fit(train_x, train_y)
    return float(fitted.score(train_x, train_y)), float(fitted.score(test_x, test_y))


def learned_features(model: ConvNetEnsemble, images: np.ndarray) -> np.ndarray:
    """Every member's penultimate-layer features of ``(n, rows, cols)`` images: ``(members, n, units)``."""
    tensor, _ = as_tensors(images, np.zeros(len(images), dtype=np.int64))
    model = model.cpu().eval()
    with torch.no_grad():
        return model.penultimate(tensor).numpy().astype(np.float64)


def feature_table(
    models: dict[str, TrainedModule],
    train_images: pd.DataFrame,
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    features: FeatureParams,
) -> pd.DataFrame:
    """One row per kind of features and seed of the featured CNN: the classifier's accuracy on them.

    Columns ``features``, ``seed``, ``n_features``, ``train_accuracy``, ``test_accuracy``.
    """
    train_x, train_y = table_to_images(train_images)
    test_x, test_y = table_to_images(test_images)
    trained = models[experiments.featured]
    seeds = trained.trained_record.seeds

    def handmade(images: np.ndarray) -> np.ndarray:
        return handmade_features(images, features.orientations, features.cell_size, features.cell_stride)

    fixed = {
        RAW_PIXELS: (train_x.reshape(len(train_x), -1), test_x.reshape(len(test_x), -1)),
        HANDMADE: (handmade(train_x), handmade(test_x)),
    }
    rows = []
    for name, (train_set, test_set) in fixed.items():
        accuracy = classifier_accuracy(train_set, train_y, test_set, test_y, features)
        rows += [_row(name, seed, train_set.shape[1], accuracy) for seed in seeds]
    train_learned = learned_features(trained.module, train_x)
    test_learned = learned_features(trained.module, test_x)
    for member, seed in enumerate(seeds):
        accuracy = classifier_accuracy(train_learned[member], train_y, test_learned[member], test_y, features)
        rows.append(_row(LEARNED, seed, train_learned.shape[2], accuracy))
    return pd.DataFrame(rows)


def _row(
    name: str, seed: int, n_features: int, accuracy: tuple[float, float]
) -> dict[str, str | int | float]:
    """One row of the feature table."""
    train_accuracy, test_accuracy = accuracy
    return {
        "features": name,
        "seed": seed,
        "n_features": n_features,
        "train_accuracy": round(train_accuracy, 6),
        "test_accuracy": round(test_accuracy, 6),
    }
