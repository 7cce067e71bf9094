"""Project hooks: MLflow runs are closed however they end, carry no paths, and name their process.

A run for the team's MLflow server is refused before any node runs when the server would
refuse it (:class:`CheckTrackingServer`).
"""

import logging
import os
from pathlib import Path
from typing import Any

import mlflow
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines as registered_pipelines
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

from dlpipeline import mlflow_ui, team
from dlpipeline.dvc_sync import record_in_dvc
from dlpipeline.run_owner import process_tags
from dlpipeline.tracking import end_open_runs

logger = logging.getLogger(__name__)
MLFLOW_CONFIG_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]  # kedro-mlflow's own


class CloseMlflowRuns:
    """Close the runs kedro-mlflow leaves active, after its own hooks have logged and ended them.

    Kedro calls plugin hooks before project hooks, so this runs last: a finished run stays
    ``FINISHED`` and a failed one ``FAILED``, and the next session in the same process
    (a notebook, the tests) starts without an active run.
    """

    @hook_impl
    def after_pipeline_run(self) -> None:
        """The pipeline finished: close what is still open as finished."""
        end_open_runs(RunStatus.FINISHED)

    @hook_impl
    def on_pipeline_error(self) -> None:
        """A node raised: close what is still open as failed."""
        end_open_runs(RunStatus.FAILED)


class LogSystemMetrics:
    """Record what a run used: MLflow's system metrics (CPU, memory, disk, network; GPU when present).

    kedro-mlflow opens the parent run with ``mlflow.start_run`` and offers no option for it, so
    MLflow's own switch is turned on before that run starts; child runs opt out (they are
    written in a moment, after their training). One sample every :data:`SAMPLING_INTERVAL_S`
    seconds, logged as it is taken, so a smoke run of a few seconds still gets one while a
    base run of twenty minutes adds a few hundred rows of six numbers.
    """

    SAMPLING_INTERVAL_S = 2.0

    @hook_impl
    def after_context_created(self) -> None:
        """Before kedro-mlflow opens the run in ``before_pipeline_run``."""
        mlflow.enable_system_metrics_logging()
        mlflow.set_system_metrics_sampling_interval(self.SAMPLING_INTERVAL_S)
        mlflow.set_system_metrics_samples_before_logging(1)


class PortableRunTags:
    """Rewrite the absolute paths kedro-mlflow and MLflow put in a run's tags.

    ``project_path`` and ``mlflow.source.name`` would otherwise record the user's home
    directory (or a CI runner's) in a store that is meant to be shared and compared; they
    become paths relative to the project root, or bare file names outside it.
    """

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Called after kedro-mlflow opened the run and tagged it."""
        active = mlflow.active_run()
        if active is None:
            return
        project = Path(run_params["project_path"])
        for key, value in mlflow.get_run(active.info.run_id).data.tags.items():
            if value.startswith("/"):
                mlflow.set_tag(key, portable_path(Path(value), project))


class RecordRunOwner:
    """Tag the run with the process that owns it (host, PID, process start time).

    A run whose process was killed hard stays ``RUNNING``; with these tags the next
    ``kedro run`` on this machine can tell that its process is gone and mark it ``KILLED``
    (``dlpipeline.run_owner``). The host name is the machine's name, not a path.
    """

    @hook_impl
    def before_pipeline_run(self) -> None:
        """Called after kedro-mlflow opened the run."""
        active = mlflow.active_run()
        if active is None:
            return
        mlflow.set_tags(process_tags())
        logger.info("MLflow run '%s' (%s) started", active.info.run_name, active.info.run_id)


class ShowRunsInMlflowUi:
    """Make the MLflow UI open on this project's runs (see :mod:`dlpipeline.mlflow_ui`).

    Tags the experiment as model training, names a run of every pipeline after them rather
    than ``__default__``, and ends a successful run with the link to its runs table.
    """

    def __init__(self) -> None:
        self.ui_url = ""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        """Where the UI is: the tracking server itself, or ``kedro mlflow ui``'s host and port."""
        mlflow_config = getattr(context, "mlflow", None)  # set by kedro-mlflow's hook, which runs first
        if mlflow_config is None:
            return
        uri = mlflow_config.server.mlflow_tracking_uri
        self.ui_url = (
            team.redact(uri)
            if team.is_remote(uri)
            else f"http://{mlflow_config.ui.host}:{mlflow_config.ui.port}"
        )

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Called after kedro-mlflow opened the run, named it and made its experiment active."""
        active = mlflow.active_run()
        if active is None:
            return
        client = MlflowClient()
        mlflow_ui.mark_model_training(client, active.info.experiment_id)
        requested = run_params.get("pipeline_names") or [mlflow_ui.ALL_PIPELINES]
        if active.info.run_name == "+".join(
            requested
        ):  # kedro-mlflow's default name, not one from mlflow.yml
            client.update_run(active.info.run_id, name=mlflow_ui.run_name(requested, registered_pipelines))

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self) -> None:
        """Called first, before kedro-mlflow or :class:`CloseMlflowRuns` end the run: it is still active."""
        active = mlflow.active_run()
        if active is None or not self.ui_url:
            return
        logger.info(
            "MLflow runs: %s (start the UI with `kedro mlflow ui`)",
            mlflow_ui.runs_page_url(self.ui_url, active.info.experiment_id),
        )


class RecordRunInDvc:
    """After a ``kedro run`` that did what DVC stages do, record it in ``dvc.lock`` (see ``dvc_sync``)."""

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        """Called only when every node succeeded."""
        record_in_dvc(run_params)


def portable_path(path: Path, project: Path) -> str:
    """``path`` relative to ``project`` ("." for the project itself), else its file name."""
    try:
        return str(path.relative_to(project))
    except ValueError:
        return path.name


class CheckTrackingServer:
    """Before kedro-mlflow sets MLflow up, make sure a tracking server will take the run.

    Runs first among the ``after_context_created`` hooks (``tryfirst``; kedro-mlflow's own
    hook creates the experiment there, and opens the run in ``before_pipeline_run``).
    For an ``http(s)`` tracking URI it exports the user's credentials (environment first,
    then ``conf/local/credentials.yml``) and calls :func:`dlpipeline.team.check_tracking_server`,
    which raises a one-line :class:`dlpipeline.team.TeamServerError` on a refusal. Local
    stores (``sqlite:///mlflow.db``) are not touched.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        """Check the server named by mlflow.yml, or by ``MLFLOW_TRACKING_URI`` when that is null."""
        if mlflow.active_run() is not None:  # an orchestrator opened the run: kedro-mlflow reuses it
            return
        loader = context.config_loader
        loader.config_patterns.setdefault("mlflow", MLFLOW_CONFIG_PATTERNS)
        try:
            config = loader["mlflow"] or {}
        except MissingConfigException:  # no mlflow.yml: kedro-mlflow's defaults
            config = {}
        uri = (config.get("server") or {}).get("mlflow_tracking_uri")
        if uri and not team.is_remote(uri):  # a local store (sqlite:///mlflow.db): nothing to check
            return
        credentials = team.export_credentials(Path(loader.conf_source))
        uri = uri or os.environ.get(team.URI_VARIABLE)
        if not uri:
            raise team.TeamServerError(
                f"No MLflow tracking URI: environment '{context.env}' takes it from {team.URI_VARIABLE} "
                f"(e.g. export {team.URI_VARIABLE}=http://mlflow.example.org:5000). Nothing was run."
            )
        if not team.is_remote(uri):
            return
        experiment = (config.get("tracking") or {}).get("experiment", {}).get("name") or "dlpipeline"
        experiment_id = team.check_tracking_server(uri, credentials, experiment)
        who = f"user '{credentials.username}'" if credentials else "anonymous"
        logger.info(
            "MLflow server %s: %s may log into experiment '%s' (id %s)",
            team.redact(uri),
            who,
            experiment,
            experiment_id,
        )
