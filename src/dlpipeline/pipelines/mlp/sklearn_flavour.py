"""The scikit-learn flavour of the sweep: ``MLPClassifier`` exactly as the notes use it, per seed.

The fitted classifiers are not pickled: each configuration's classifiers (one per seed)
become one float64 :class:`MLPEnsemble` holding their ``coefs_`` and ``intercepts_``
(see :func:`dlpipeline.models.mlp.sklearn_layers`), which predicts exactly what
``MLPClassifier.predict`` does and is saved like every other trained model.
"""

import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.mlp import ActivationName, MLPEnsemble, parameters_per_network, sklearn_layers
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, model_name, widths_text

logger = logging.getLogger(__name__)

SKLEARN_ACTIVATIONS: dict[ActivationName, str] = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic"}
"""The project's activation names as ``MLPClassifier`` spells them."""
SKLEARN_AUTO_BATCH = 200  # MLPClassifier's batch_size="auto" is min(200, n_samples)


def fit_sklearn_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, sklearn_params: SklearnParams
) -> dict[str, TrainedModule]:
    """Fit ``MLPClassifier`` per configuration and seed: ``{"sklearn-<widths>": one member per seed}``.

    Each model's info holds ``seeds``, ``hidden_layers``, ``train_seconds``, ``solver``,
    ``max_iter``, ``unconverged_seeds`` (how many stopped at ``max_iter``) and how it was
    trained under the shared names (``epochs`` = ``max_iter``, ``learning_rate``,
    ``batch_size``, ``optimizer`` = the solver, ``n_params``).
    """
    features, labels = features_and_labels(train_points)
    models = {}
    for index, widths in enumerate(sweep.architectures, start=1):
        started = time.perf_counter()
        classifiers = fit_classifiers(features, labels, widths, sweep, sklearn_params)
        seconds = time.perf_counter() - started
        trained = classifiers_as_module(classifiers, sweep).with_info(
            train_seconds=seconds, **_how_trained(classifiers, sklearn_params, n_train=len(features))
        )
        models[model_name("sklearn", widths)] = trained
        logger.info(
            "[%d/%d] sklearn %s neurons: %d seeds in %.1f s (%d hit max_iter)",
            index,
            len(sweep.architectures),
            widths_text(widths),
            len(sweep.seeds),
            seconds,
            trained.info["unconverged_seeds"],
        )
    return models


def fit_classifiers(
    features: np.ndarray,
    labels: np.ndarray,
    widths: tuple[int, ...],
    sweep: SweepParams,
    sklearn_params: SklearnParams,
) -> list[MLPClassifier]:
    """One fitted ``MLPClassifier`` per seed of ``sweep``; the convergence warning is counted, not shown."""
    classifiers = []
    for seed in sweep.seeds:
        classifier = MLPClassifier(
            hidden_layer_sizes=widths,
            activation=SKLEARN_ACTIVATIONS[sweep.activation],
            random_state=seed,
            solver=sklearn_params.solver,
            max_iter=sklearn_params.max_iter,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            classifiers.append(classifier.fit(features, labels))
    return classifiers


def classifiers_as_module(classifiers: list[MLPClassifier], sweep: SweepParams) -> TrainedModule:
    """The classifiers (one per seed of ``sweep``) as one float64 ensemble predicting what they predict."""
    first = classifiers[0]
    widths = list(first.hidden_layer_sizes)
    trained = TrainedModule.build(
        MLPEnsemble,
        info={"seeds": sweep.seeds, "hidden_layers": widths},
        in_features=first.n_features_in_,
        member_widths=[widths] * len(classifiers),
        out_features=max(first.n_outputs_, 2),  # one logistic unit z becomes the logits [0, z]
        activation=sweep.activation,
        seeds=sweep.seeds,
        dtype="float64",  # sklearn computes in float64: so must its copy, to predict the same labels
    )
    trained.module.load_layers(
        *sklearn_layers([c.coefs_ for c in classifiers], [c.intercepts_ for c in classifiers])
    )
    return trained


def _how_trained(
    classifiers: list[MLPClassifier], sklearn_params: SklearnParams, n_train: int
) -> dict[str, str | int | float]:
    """The classifiers' settings under the shared names, plus solver, max_iter and unconverged seeds."""
    first = classifiers[0]
    return {
        "epochs": sklearn_params.max_iter,
        "learning_rate": float(first.learning_rate_init),
        "batch_size": _batch_size(first, n_train),
        "optimizer": sklearn_params.solver,
        "n_params": parameters_per_network(
            [first.n_features_in_, *first.hidden_layer_sizes, first.n_outputs_]
        ),
        "solver": sklearn_params.solver,
        "max_iter": sklearn_params.max_iter,
        "unconverged_seeds": sum(c.n_iter_ >= sklearn_params.max_iter for c in classifiers),
    }


def _batch_size(classifier: MLPClassifier, n_train: int) -> int:
    """Rows per step: all of them for lbfgs, else ``batch_size`` (``"auto"``: ``min(200, n_train)``)."""
    if classifier.solver == "lbfgs":
        return n_train
    if classifier.batch_size == "auto":
        return min(SKLEARN_AUTO_BATCH, n_train)
    return min(int(classifier.batch_size), n_train)
