"""Project pipelines: one per architecture, and ``__default__`` = all of them."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from dlpipeline.heap import freeze_long_lived_objects


def register_pipelines() -> dict[str, Pipeline]:
    """Register every ``pipelines/<name>/pipeline.py`` under ``<name>``; ``kedro run`` runs all."""
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    freeze_long_lived_objects()  # the node modules and what they import live as long as the run
    return pipelines
