"""Kedro project settings."""

from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project

from dlpipeline.hooks import (
    CheckTrackingServer,
    CloseMlflowRuns,
    PortableRunTags,
    RecordRunInDvc,
    RecordRunOwner,
    ShowRunsInMlflowUi,
)
from dlpipeline.report_io import ReportOnWhatExists

HOOKS = (
    CheckTrackingServer(),
    CloseMlflowRuns(),
    PortableRunTags(),
    RecordRunOwner(),
    ShowRunsInMlflowUi(),
    RecordRunInDvc(),
    ReportOnWhatExists(),
)


def sqlite_uri(filename: str) -> str:
    """Absolute ``sqlite:///`` URI of ``filename`` in the project root.

    Used as ``${sqlite_uri:mlflow.db}`` in mlflow.yml. The project root is found from the
    working directory (so a notebook in ``notebooks/`` shares the project's store), and an
    absolute URI keeps MLflow's cached store right when one process runs several projects.
    """
    root = find_kedro_project(Path.cwd()) or Path.cwd()
    return f"sqlite:///{(root / filename).as_posix()}"


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides single keys of conf/base (deep merge), not whole blocks: a catalog
    # entry's filepath moves to s3:// in an environment while its type and schema stay in base.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "catalog": "soft"},
    "custom_resolvers": {"sqlite_uri": sqlite_uri},
}
