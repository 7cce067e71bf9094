"""Project hooks: MLflow runs are closed however a pipeline ends, and carry no machine paths."""

from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from mlflow.entities import RunStatus

from dlpipeline.tracking import end_open_runs


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


def portable_path(path: Path, project: Path) -> str:
    """``path`` relative to ``project`` ("." for the project itself), else its file name."""
    try:
        return str(path.relative_to(project))
    except ValueError:
        return path.name
