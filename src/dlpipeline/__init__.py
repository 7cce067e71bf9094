"""dlpipeline: reproducible deep-learning experiments with Kedro, MLflow and DVC."""

import logging
import os
import sys
import warnings

from dlpipeline.sqlite_store import commit_without_waiting_for_the_disk
from dlpipeline.threads import OPENMP_ENVIRONMENT, set_openmp_environment

# Idle OpenMP threads sleep instead of spinning: with spinning threads, torch on a CPU
# shared with another busy process runs up to ~30x slower. It only counts before torch loads.
if not set_openmp_environment():
    logging.getLogger(__name__).warning(
        "torch was imported before dlpipeline, so its idle threads spin on a busy CPU: import "
        "dlpipeline first, or set %s in the environment",
        " ".join(f"{name}={value}" for name, value in OPENMP_ENVIRONMENT.items()),
    )

# Nothing phones home: MLflow's usage telemetry is off, as MLflow documents it (its
# "Usage Tracking" page: MLFLOW_DISABLE_TELEMETRY=true). It is read when mlflow is imported,
# which Kedro's plugins may have done before this package loads, so a client MLflow already
# started is replaced. Processes started from here (`kedro mlflow ui`) inherit the setting.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Not a Databricks job: without this, MLflow looks for Databricks' notebook utilities at every
# run start (to resume a serverless GPU job's run), which imports IPython, ~0.3 s per `kedro run`.
os.environ.setdefault("MLFLOW_ENABLE_SGC_RUN_RESUMPTION_FOR_DATABRICKS_JOBS", "false")
# `kedro mlflow ui` starts no job queue: by default MLflow's server starts a job runner and
# seven huey consumers for GenAI jobs (scorers, trace roll-ups) that this project never submits,
# eight processes that each burn about 2 s of CPU on start-up.
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
if "mlflow" in sys.modules:
    from mlflow.telemetry import set_telemetry_client

    set_telemetry_client()  # re-reads the setting: no client when telemetry is off

# MLflow's local store (and an Optuna study's) commits without an fsync per write: see sqlite_store.
commit_without_waiting_for_the_disk()

# Third-party warnings a user of this project cannot act on, silenced one by one (Kedro
# imports this package before kedro-mlflow and before the pipelines are built):
# - Kedro, on the dotted dataset names its own nested namespaces (`sequence.adding`) create.
warnings.filterwarnings("ignore", message=r"One or more dataset names contain '\.'", module=r"kedro\.")


class _DropMessage(logging.Filter):
    """Drops the log records whose message contains ``text``; keeps every other one."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is the one to drop."""
        return self.text not in record.getMessage()


# - MLflow, when kedro-mlflow's model class is defined (the project logs no models): it warns
#   inside its own `simplefilter("once")`, which overrides any warnings filter, so it is
#   dropped from the `py.warnings` logger Kedro sends warnings to.
logging.getLogger("py.warnings").addFilter(_DropMessage("Add type hints to the `predict` method"))
# - Kedro's sequential runner, at every start: "Use the --async flag for potential performance
#   gains" (a deprecated flag, and no gain here); its per-node progress lines are kept.
logging.getLogger("kedro.runner.sequential_runner").addFilter(_DropMessage("Using synchronous mode"))
# - kedro-mlflow, on the claims report's rules (each experiment's `<name>.claims` and the
#   report's `report.notes`, long lists that it truncates to fit an MLflow parameter): the
#   report page, logged beside them, holds them in full.
_KEDRO_MLFLOW_HOOK = "kedro_mlflow.framework.hooks.mlflow_hook"
logging.getLogger(_KEDRO_MLFLOW_HOOK).addFilter(_DropMessage(".claims' (value length"))
logging.getLogger(_KEDRO_MLFLOW_HOOK).addFilter(_DropMessage("Parameter 'report.notes'"))

__version__ = "0.1.0"
