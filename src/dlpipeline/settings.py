"""Kedro project settings."""

from dlpipeline.heap import FreezeStartUpObjects, long_lived_objects_made

with long_lived_objects_made():  # Kedro, MLflow and pandas live as long as the run
    from dlpipeline import config
    from dlpipeline.hooks import (
        CheckTrackingServer,
        CloseMlflowRuns,
        LogSystemMetrics,
        PortableRunTags,
        RecordRunInDvc,
        RecordRunOwner,
        ShowRunsInMlflowUi,
    )
    from dlpipeline.registry import CheckRegistryNames
    from dlpipeline.report_io import ReportOnWhatExists

HOOKS = (
    CheckTrackingServer(),
    CheckRegistryNames(),
    LogSystemMetrics(),
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
