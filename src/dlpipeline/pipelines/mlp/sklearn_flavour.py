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
from dlpipeline.pipelines.mlp.configuration import DrawModels, MLPConfiguration
from dlpipeline.pipelines.mlp.data import draw_split
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, UnitsParams, model_name, widths_text
from dlpipeline.records import Timing, TrainingRecord, seeds_tuple

logger = logging.getLogger(__name__)

SKLEARN_ACTIVATIONS: dict[ActivationName, str] = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "logistic",
    "identity": "identity",
}
"""The project's activation names as ``MLPClassifier`` spells them."""
SKLEARN_AUTO_BATCH = 200  # MLPClassifier's batch_size="auto" is min(200, n_samples)


def fit_sklearn_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, sklearn_params: SklearnParams
) -> dict[str, TrainedModule]:
    """Fit ``MLPClassifier`` per configuration and seed: ``{"sklearn-<widths>": one member per seed}``.

    Each model's record says how it was trained under the shared names (``epochs`` =
    ``max_iter``, ``optimizer`` = the solver; ``solver`` and ``max_iter`` among its settings);
    its ``about`` counts the seeds that stopped at ``max_iter``. scikit-learn records no
    per-epoch history.
    """
    features, labels = features_and_labels(train_points)
    models = {}
    for index, widths in enumerate(sweep.architectures, start=1):
        started, cpu_started = time.perf_counter(), time.process_time()
        classifiers = fit_classifiers(features, labels, widths, sweep, sklearn_params)
        timing = Timing(time.perf_counter() - started, time.process_time() - cpu_started)
        trained = classifiers_as_module(classifiers, sweep).replace(
            record=training_record(classifiers, sweep, sklearn_params, n_train=len(features)),
            about=MLPConfiguration(
                "sklearn",
                tuple(widths),
                unconverged_seeds=sum(int(c.n_iter_ >= sklearn_params.max_iter) for c in classifiers),
            ),
            timing=timing,
        )
        models[model_name("sklearn", widths)] = trained
        logger.info(
            "[%d/%d] sklearn %s neurons: %d seeds in %.1f s (%d hit max_iter)",
            index,
            len(sweep.architectures),
            widths_text(widths),
            len(sweep.seeds),
            timing.train_seconds,
            trained.about.unconverged_seeds,
        )
    return models


def fit_sklearn_draws(
    sklearn_models: dict[str, TrainedModule],
    draws: pd.DataFrame,
    sweep: SweepParams,
    sklearn_params: SklearnParams,
    units: UnitsParams,
) -> DrawModels:
    """The sweep fitted on every draw: draw 0 is ``sklearn_models`` as saved, the others fit now.

    ``MLPClassifier`` fits one network at a time, so draws 1, 2, … fit only the first
    ``units.sklearn_seeds`` seeds of the sweep: the claims' units are the seeds every draw has.
    """
    fewer = SweepParams.model_validate(
        {**sweep.model_dump(), "n_seeds": min(units.sklearn_seeds, sweep.n_seeds)}
    )
    models = {0: sklearn_models}
    for draw in sorted(int(draw) for draw in draws["draw"].unique() if draw != 0):
        logger.info("sklearn: draw %d", draw)
        models[draw] = fit_sklearn_sweep(draw_split(draws, draw)[0], fewer, sklearn_params)
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


def training_record(
    classifiers: list[MLPClassifier], sweep: SweepParams, sklearn_params: SklearnParams, n_train: int
) -> TrainingRecord:
    """How the classifiers (one per seed) were fitted, under the shared names."""
    first = classifiers[0]
    return TrainingRecord(
        seeds=seeds_tuple(sweep.seeds),
        epochs=sklearn_params.max_iter,
        epochs_run=max(int(c.n_iter_) for c in classifiers),
        learning_rate=float(first.learning_rate_init),
        batch_size=_batch_size(first, n_train),
        optimizer=sklearn_params.solver,
        n_train=n_train,
        n_params=parameters_per_network([first.n_features_in_, *first.hidden_layer_sizes, first.n_outputs_]),
        weight_decay=float(first.alpha),
        settings={"solver": sklearn_params.solver, "max_iter": sklearn_params.max_iter},
    )


def _batch_size(classifier: MLPClassifier, n_train: int) -> int:
    """Rows per step: all of them for lbfgs, else ``batch_size`` (``"auto"``: ``min(200, n_train)``)."""
    if classifier.solver == "lbfgs":
        return n_train
    if classifier.batch_size == "auto":
        return min(SKLEARN_AUTO_BATCH, n_train)
    return min(int(classifier.batch_size), n_train)
