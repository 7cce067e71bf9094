"""The scikit-learn flavour of the sweep: ``MLPClassifier`` exactly as the notes use it, per seed.

The fitted classifiers are not pickled: each configuration's classifiers (one per seed)
become one float64 :class:`MLPEnsemble` holding their ``coefs_`` and ``intercepts_``
(see :func:`dlpipeline.models.mlp.sklearn_layers`), which predicts exactly what
``MLPClassifier.predict`` does and is saved like every other trained model.
"""

import logging
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.executor import run_tasks
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
    its ``about`` counts the seeds that stopped at ``max_iter``; its timing is the sum over its
    seeds' fits. scikit-learn records no per-epoch history. The fits run where
    ``sklearn_params.executor`` says (:func:`fit_on_sets`).
    """
    return fit_on_sets({0: train_points}, sweep, sklearn_params)[0]


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
    Every fit of every draw is one task of one call of the executor, so its workers start once.
    """
    fewer = SweepParams.model_validate(
        {**sweep.model_dump(), "n_seeds": min(units.sklearn_seeds, sweep.n_seeds)}
    )
    extra = {
        draw: draw_split(draws, draw)[0]
        for draw in sorted(int(draw) for draw in draws["draw"].unique() if draw != 0)
    }
    models: DrawModels = {0: sklearn_models}
    if extra:
        models.update(fit_on_sets(extra, fewer, sklearn_params))
    return models


@dataclass(frozen=True)
class ClassifierTask:
    """One ``MLPClassifier`` fit: the training set it reads (by key), its hidden widths and its seed."""

    training_set: int
    widths: tuple[int, ...]
    seed: int


@dataclass(frozen=True)
class FittedClassifier:
    """A fitted classifier and what its fit took: wall and CPU seconds of the process that fitted it."""

    classifier: MLPClassifier
    seconds: float
    cpu_seconds: float


ClassifierData = tuple[dict[int, tuple[np.ndarray, np.ndarray]], ActivationName, SklearnParams]
"""What every fit of a sweep shares: training sets (features, labels) by key, activation, solver settings."""


def fit_on_sets(
    train_sets: dict[int, pd.DataFrame], sweep: SweepParams, sklearn_params: SklearnParams
) -> dict[int, dict[str, TrainedModule]]:
    """The sweep fitted on each training set: per key ``{"sklearn-<widths>": one member per seed}``.

    Sets × configurations × seeds are independent fits, handed to ``sklearn_params.executor``
    in one call (:func:`dlpipeline.executor.run_tasks`): ``processes`` fits ``workers`` at
    once. Each fit is seeded by its own ``random_state`` and runs on one BLAS thread wherever
    it runs (these products are far too small for more), so it gives the same network as a fit
    in this process, and two worker processes never oversubscribe the cores.
    """
    shared: ClassifierData = (
        {key: features_and_labels(points) for key, points in train_sets.items()},
        sweep.activation,
        sklearn_params,
    )
    tasks = {
        f"set {key} sklearn-{widths_text(widths)} seed {seed}": ClassifierTask(key, widths, seed)
        for key in train_sets
        for widths in sweep.architectures
        for seed in sweep.seeds
    }
    fitted = list(run_tasks(fit_classifier, shared, tasks, sklearn_params.executor).values())
    models: dict[int, dict[str, TrainedModule]] = {}
    per_set = len(sweep.architectures) * len(sweep.seeds)
    for position, key in enumerate(train_sets):
        models[key] = {}
        for index, widths in enumerate(sweep.architectures):
            first = position * per_set + index * len(sweep.seeds)
            fits = fitted[first : first + len(sweep.seeds)]
            models[key][model_name("sklearn", widths)] = _configuration_model(
                fits, widths, sweep, sklearn_params, len(train_sets[key])
            )
            logger.info(
                "[%d/%d] sklearn %s neurons%s: %d seeds in %.1f s (%d hit max_iter)",
                index + 1,
                len(sweep.architectures),
                widths_text(widths),
                f" (draw {key})" if key else "",
                len(sweep.seeds),
                sum(fit.seconds for fit in fits),
                models[key][model_name("sklearn", widths)].about.unconverged_seeds,
            )
    return models


def _configuration_model(
    fits: list[FittedClassifier],
    widths: tuple[int, ...],
    sweep: SweepParams,
    sklearn_params: SklearnParams,
    n_train: int,
) -> TrainedModule:
    """One configuration's fits (one per seed of ``sweep``) as its saved model, record and timing."""
    classifiers = [fit.classifier for fit in fits]
    return classifiers_as_module(classifiers, sweep).replace(
        record=training_record(classifiers, sweep, sklearn_params, n_train=n_train),
        about=MLPConfiguration(
            "sklearn",
            tuple(widths),
            unconverged_seeds=sum(int(c.n_iter_ >= sklearn_params.max_iter) for c in classifiers),
        ),
        timing=Timing(sum(fit.seconds for fit in fits), sum(fit.cpu_seconds for fit in fits)),
    )


def fit_classifier(shared: ClassifierData, task: ClassifierTask) -> FittedClassifier:
    """Fit one ``MLPClassifier`` on one BLAS thread; the convergence warning is counted, not shown."""
    sets, activation, sklearn_params = shared
    classifier = MLPClassifier(
        hidden_layer_sizes=task.widths,
        activation=SKLEARN_ACTIVATIONS[activation],
        random_state=task.seed,
        solver=sklearn_params.solver,
        max_iter=sklearn_params.max_iter,
    )
    started, cpu_started = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(*sets[task.training_set])
    return FittedClassifier(classifier, time.perf_counter() - started, time.process_time() - cpu_started)


def fit_classifiers(
    features: np.ndarray,
    labels: np.ndarray,
    widths: tuple[int, ...],
    sweep: SweepParams,
    sklearn_params: SklearnParams,
) -> list[MLPClassifier]:
    """One fitted ``MLPClassifier`` per seed of ``sweep``, fitted here one after another."""
    shared: ClassifierData = ({0: (features, labels)}, sweep.activation, sklearn_params)
    return [fit_classifier(shared, ClassifierTask(0, tuple(widths), seed)).classifier for seed in sweep.seeds]


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
