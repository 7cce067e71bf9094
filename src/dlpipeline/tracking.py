"""MLflow child runs as a Kedro dataset.

A node returns a list of :class:`ChildRun` records; saving them through
:class:`MlflowChildRunsDataset` writes one nested MLflow run per record under the run
that kedro-mlflow opened for the ``kedro run`` (or a top-level run if none is active).
Nodes therefore never open MLflow runs themselves. A record that carries a trained network
(:class:`LoggableModel`, e.g. :class:`~dlpipeline.served.ServedModel`) logs it as the child
run's MLflow model. Loading the dataset reads back the child runs of the active run
(:class:`LoggedRun`), e.g. to choose the registry's champion among them.
"""

import itertools
import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import mlflow
from kedro.io import AbstractDataset, DatasetError
from matplotlib.figure import Figure
from mlflow.entities import Metric, Param, Run, RunStatus
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_SOURCE_NAME

from dlpipeline.records import ParamValue

logger = logging.getLogger(__name__)

MLFLOW_BATCH_LIMIT = 1000  # MLflow's maximum number of metrics in one log_batch call

CHILD_RUN_FIGURE_DPI = 80
"""Resolution of the figures a child run logs: a run logs one per trained configuration (a hundred in
a sequence run), each looked at one by one in the MLflow UI, where 80 dpi still reads clearly and
renders in about two thirds of the pixels of matplotlib's 100."""


class LoggableModel(Protocol):
    """A trained network that logs itself as the active run's MLflow model (``served.ServedModel``)."""

    def log(self, name: str) -> str:
        """Log the model in the active run under configuration ``name``; return its MLflow model id."""
        ...


@dataclass
class ChildRun:
    """Everything one trained configuration logs: params, metrics, histories, figures, texts."""

    name: str
    params: Mapping[str, ParamValue]
    metrics: Mapping[str, float]
    metric_histories: Mapping[str, Sequence[float]] = field(default_factory=dict)
    figures: Mapping[str, Figure] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)
    """Text artifacts by file name, e.g. the names a language model wrote."""
    model: LoggableModel | None = None
    """The trained network, logged as the run's MLflow model; ``None`` when nothing was trained."""
    files: Mapping[str, bytes] = field(default_factory=dict)
    """Binary artifacts by path in the run (``melodies/00.mid``), e.g. what a generator wrote."""

    def with_artifacts(
        self,
        figures: Mapping[str, Figure] | None = None,
        texts: Mapping[str, str] | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> "ChildRun":
        """The same run with more figures, texts and files (same names replace its own)."""
        return replace(
            self,
            figures={**self.figures, **(figures or {})},
            texts={**self.texts, **(texts or {})},
            files={**self.files, **(files or {})},
        )


@dataclass(frozen=True)
class LoggedRun:
    """A child run as MLflow holds it: its name, id, metrics and the id of its logged model."""

    name: str
    run_id: str
    metrics: Mapping[str, float]
    model_id: str | None


class MlflowChildRunsDataset(AbstractDataset[list[ChildRun], list[LoggedRun]]):
    """Each saved :class:`ChildRun` becomes a nested MLflow run; loading lists the active run's children."""

    def __init__(self, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset; ``metadata`` is kept for Kedro-Viz and ignored otherwise."""
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"tracking_uri": mlflow.get_tracking_uri()}

    def load(self) -> list[LoggedRun]:
        """The child runs of the active MLflow run, oldest first, each with its logged model's id."""
        parent = mlflow.active_run()
        if parent is None:
            raise DatasetError("No active MLflow run: child runs are read from the run of a `kedro run`")
        return logged_children(MlflowClient(), parent.info.experiment_id, parent.info.run_id)

    def save(self, data: list[ChildRun]) -> None:
        """Log every record as a finished child run of the active run (system metrics: the parent's only)."""
        client = MlflowClient()
        started = time.perf_counter()
        for run in data:
            with mlflow.start_run(
                run_name=run.name, nested=True, tags=_portable_source(), log_system_metrics=False
            ) as active:
                _log_record(client, active.info.run_id, run)
                if run.model is not None:
                    run.model.log(run.name)
        models = sum(run.model is not None for run in data)
        logger.info(
            "Logged %d MLflow child runs (%d with a model) in %.1f s",
            len(data),
            models,
            time.perf_counter() - started,
        )


def logged_children(client: MlflowClient, experiment_id: str, parent_run_id: str) -> list[LoggedRun]:
    """The finished child runs of ``parent_run_id`` with their metrics and logged model ids."""
    children = client.search_runs(
        [experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'",
        order_by=["attributes.start_time ASC"],
    )
    return [
        LoggedRun(run.info.run_name, run.info.run_id, dict(run.data.metrics), _model_id(client, run))
        for run in children
    ]


def _model_id(client: MlflowClient, run: Run) -> str | None:
    """The id of the model ``run`` logged (the last one, if several), else ``None``."""
    models = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        order_by=[{"field_name": "creation_time", "ascending": False}],
        max_results=1,
    )
    return models[0].model_id if models else None


def end_open_runs(status: int) -> int:
    """End the active MLflow run, and any run still open under it, with ``status``.

    Returns how many distinct runs were ended. kedro-mlflow re-enters its run at every
    node and ends it once, so without this a finished ``kedro run`` leaves the run active
    in its process, and the next session there would log into it.
    """
    ended = set()
    while (active := mlflow.active_run()) is not None:
        ended.add(active.info.run_id)
        mlflow.end_run(RunStatus.to_string(status))
    return len(ended)


def _portable_source() -> dict[str, str]:
    """MLflow's source tag as the script's bare name (MLflow would record its absolute path)."""
    return {MLFLOW_SOURCE_NAME: Path(sys.argv[0]).name}


def _log_record(client: MlflowClient, run_id: str, run: ChildRun) -> None:
    """Send one record's params, metrics, histories and figures to run ``run_id``."""
    timestamp = int(time.time() * 1000)
    params = [Param(key, str(value)) for key, value in run.params.items()]
    metrics = [Metric(key, float(value), timestamp, 0) for key, value in run.metrics.items()]
    histories = (
        Metric(key, float(value), timestamp, step)
        for key, values in run.metric_histories.items()
        for step, value in enumerate(values)
    )
    client.log_batch(run_id, params=params, metrics=metrics)
    for chunk in _chunks(histories, MLFLOW_BATCH_LIMIT):
        client.log_batch(run_id, metrics=chunk)
    for artifact_name, figure in run.figures.items():
        client.log_figure(run_id, figure, artifact_name, save_kwargs={"dpi": CHILD_RUN_FIGURE_DPI})
    for artifact_name, text in run.texts.items():
        client.log_text(run_id, text, artifact_name)
    if run.files:
        _log_files(client, run_id, run.files)


def _log_files(client: MlflowClient, run_id: str, files: Mapping[str, bytes]) -> None:
    """Write ``files`` into one temporary folder (their paths kept) and log it as the run's artifacts."""
    with tempfile.TemporaryDirectory() as folder:
        for artifact_name, data in files.items():
            path = Path(folder, artifact_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        client.log_artifacts(run_id, folder)


def _chunks(items: Iterator[Metric], size: int) -> Iterator[list[Metric]]:
    """Yield consecutive lists of at most ``size`` items."""
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
