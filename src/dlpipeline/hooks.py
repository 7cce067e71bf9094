"""Project hooks: MLflow runs are closed however they end, carry no paths, and name their process."""

import logging
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from mlflow.entities import RunStatus

from dlpipeline.run_owner import process_tags
from dlpipeline.tracking import end_open_runs

logger = logging.getLogger(__name__)


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


def portable_path(path: Path, project: Path) -> str:
    """``path`` relative to ``project`` ("." for the project itself), else its file name."""
    try:
        return str(path.relative_to(project))
    except ValueError:
        return path.name
