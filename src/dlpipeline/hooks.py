"""Project hooks: every MLflow run a pipeline opened is closed when it ends, however it ends."""

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
