"""The model registry's champion: a pipeline's best configuration, registered and aliased ``champion``.

At the end of a pipeline (mlp, cnn; one task of sequence, one family of generative) a node picks,
among the child runs of this ``kedro run``, the configuration best by a validation metric named
in the pipeline's parameters (``<p>.registry.rank_by``; the test split never chooses): the
highest score, or the least error (a metric named ``*_mse``, ``*_loss``, ``*_nll``).
:class:`ChampionDataset` registers its logged model as ``<p>.registry.name``
(``dlpipeline-<p>``) and points the alias ``champion`` at it. A new version is created only
when the weights changed: every version carries the hash of its weights
(:data:`~dlpipeline.served.WEIGHTS_HASH_TAG`), and a champion whose weights a version already
holds gets that version back.

A registered model this project did not create (no :data:`PROJECT_TAG`) is never written to:
:class:`CheckRegistryNames` refuses the run in one line before any node runs.
"""

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import click
import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import AbstractDataset, DatasetError
from kedro.pipeline import Pipeline
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import (
    PERMISSION_DENIED,
    RESOURCE_ALREADY_EXISTS,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from dlpipeline.served import CONFIGURATION_TAG, WEIGHTS_HASH_TAG
from dlpipeline.tracking import LoggedRun

logger = logging.getLogger(__name__)

CHAMPION_ALIAS = "champion"
PROJECT_TAG = "dlpipeline.project"
"""Tag of a registered model this project created."""
PROJECT = "dlpipeline"
RANK_TAG = "dlpipeline.rank_by"
REGISTRY_PARAMS = "registry"
"""The parameter section of a pipeline that names its registered model (``params:<p>.registry``)."""
EX_CONFIG = 78  # sysexits' EX_CONFIG: the registry name is somebody else's, or read-only


class Named(Protocol):
    """A configuration's result: all the champion needs from it is its name."""

    name: str


@dataclass(frozen=True)
class Champion:
    """The configuration to register, the model it logged and why it was chosen."""

    registry_name: str
    configuration: str
    run_id: str
    model_id: str
    rank_by: str
    value: float


ERROR_SUFFIXES = ("_mse", "_loss", "_nll")
"""A metric named with one of these is an error: the champion has the least of it."""


def lower_is_better(metric: str) -> bool:
    """Whether ``metric`` is an error (``val_mse``: the least wins), not a score (``val_accuracy``)."""
    return metric.endswith(ERROR_SUFFIXES)


def choose_champion(child_runs: Sequence[LoggedRun], results: Sequence[Named], registry: Any) -> Champion:
    """The child run of one of ``results``' configurations best by ``registry.rank_by``."""
    return champion_among(child_runs, {result.name for result in results}, registry)


def champion_among(child_runs: Sequence[LoggedRun], names: Collection[str], registry: Any) -> Champion:
    """The child run named in ``names`` best by ``registry.rank_by``: the highest score, the least error.

    Only runs that logged a model compete; ties go to the run logged first.
    """
    candidates = [run for run in child_runs if run.name in names and run.model_id is not None]
    if not candidates:
        raise ValueError(f"no child run of {sorted(names)} logged a model to register")
    metric = registry.rank_by
    missing = [run.name for run in candidates if metric not in run.metrics]
    if missing:
        raise ValueError(f"child runs {missing} have no metric {metric!r} to rank by")
    pick = min if lower_is_better(metric) else max
    best = pick(candidates, key=lambda run: run.metrics[metric])
    assert best.model_id is not None
    return Champion(registry.name, best.name, best.run_id, best.model_id, metric, best.metrics[metric])


class RegistryNameError(click.ClickException):
    """The registry name belongs to another model, or this user may not write it; one line."""

    exit_code = EX_CONFIG


def check_owned(client: MlflowClient, name: str) -> bool:
    """Whether ``name`` is free (``False``) or this project's and writable (``True``); else raise.

    Writing is tried with a write that changes nothing (the project tag, set again), so a user
    of an authenticated server who may only read the model is told before training, not after.
    """
    try:
        model = client.get_registered_model(name)
    except MlflowException as error:
        if error.error_code == ErrorCode.Name(RESOURCE_DOES_NOT_EXIST):
            return False
        raise
    if PROJECT_TAG not in model.tags:
        raise RegistryNameError(
            f"Registered model '{name}' exists but was not registered by dlpipeline (no tag {PROJECT_TAG}): "
            f"choose another name with --params <pipeline>.registry.name=... Nothing was run."
        )
    try:
        client.set_registered_model_tag(name, PROJECT_TAG, model.tags[PROJECT_TAG])
    except MlflowException as error:
        if error.error_code != ErrorCode.Name(PERMISSION_DENIED):
            raise
        raise RegistryNameError(
            f"This MLflow user may not write registered model '{name}': ask its owner or the server's "
            f"admin for EDIT on it, or choose another --params <pipeline>.registry.name=... Nothing was run."
        ) from error
    return True


def register_champion(client: MlflowClient, champion: Champion) -> ModelVersion:
    """Register ``champion``'s model (a new version only for new weights) and alias it ``champion``."""
    name = champion.registry_name
    if not check_owned(client, name):
        try:
            client.create_registered_model(
                name,
                tags={PROJECT_TAG: PROJECT},
                description=f"dlpipeline's best configuration by {champion.rank_by}.",
            )
        except MlflowException as error:  # created by a run that finished in the meantime
            if error.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
                raise
            check_owned(client, name)
    weights = client.get_logged_model(champion.model_id).tags[WEIGHTS_HASH_TAG]
    same = client.search_model_versions(f"name = '{name}' AND tags.`{WEIGHTS_HASH_TAG}` = '{weights}'")
    if same:
        version = max(same, key=lambda found: int(found.version))
        logger.info("Registry: '%s' version %s already holds these weights", name, version.version)
    else:
        version = client.create_model_version(  # MLflow's register_model would print to the console
            name,
            source=f"models:/{champion.model_id}",
            run_id=champion.run_id,
            tags={
                WEIGHTS_HASH_TAG: weights,
                CONFIGURATION_TAG: champion.configuration,
                RANK_TAG: f"{champion.rank_by}={champion.value:.6g}",
            },
            model_id=champion.model_id,
        )
    client.set_registered_model_alias(name, CHAMPION_ALIAS, version.version)
    logger.info(
        "Registry: models:/%s@%s is version %s (%s, %s %.4f)",
        name,
        CHAMPION_ALIAS,
        version.version,
        champion.configuration,
        champion.rank_by,
        champion.value,
    )
    return version


class ChampionDataset(AbstractDataset[Champion, NoReturn]):
    """Write-only: saving a :class:`Champion` registers it in the tracking server's model registry."""

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset; ``metadata`` is kept for Kedro-Viz and ignored otherwise."""
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"registry_uri": mlflow.get_registry_uri()}

    def load(self) -> NoReturn:
        """The registry is read with MLflow (``models:/<name>@champion``), not through the catalog."""
        raise DatasetError("ChampionDataset is write-only: load models:/<name>@champion with MLflow")

    def save(self, data: Champion) -> None:
        """Register the champion; a refusal that came up during the run is a warning, not a failed run.

        Names are checked before training (:class:`CheckRegistryNames`); only another run that
        registered the same name meanwhile, as another user, can refuse here. The run's models
        stay logged, to be registered from the UI by someone who may.
        """
        try:
            register_champion(MlflowClient(), data)
        except RegistryNameError as refusal:
            logger.warning("Champion %s not registered: %s", data.configuration, refusal.message)


def registry_names(pipeline: Pipeline, catalog: Any) -> list[str]:
    """The registered model names the run's nodes will write (their ``params:<p>.registry`` inputs)."""
    names = []
    for dataset in sorted(pipeline.inputs()):
        if dataset.startswith("params:") and dataset.endswith(f".{REGISTRY_PARAMS}"):
            registry = catalog.load(dataset)  # validated by Kedro already, or a plain mapping
            names.append(str(registry["name"] if isinstance(registry, dict) else registry.name))
    return names


class CheckRegistryNames:
    """Before any node runs, refuse registry names that belong to a model this project did not register."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, pipeline: Pipeline, catalog: Any) -> None:
        """Called before kedro-mlflow opens the run (``tryfirst``): a refusal leaves no run behind."""
        names = registry_names(pipeline, catalog)
        if names:
            client = MlflowClient()
            for name in names:
                check_owned(client, name)
