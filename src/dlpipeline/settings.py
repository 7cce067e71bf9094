"""Kedro project settings."""

from dlpipeline import config
from dlpipeline.heap import FreezeStartUpObjects, freeze_long_lived_objects
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
    FreezeStartUpObjects(),
)

# Defined in dlpipeline.config, so code outside a session reads the configuration the same way.
CONFIG_LOADER_CLASS = config.CONFIG_LOADER_CLASS
CONFIG_LOADER_ARGS = config.CONFIG_LOADER_ARGS

freeze_long_lived_objects()  # Kedro, MLflow and pandas, imported above, live as long as the run
