"""Project pipelines: one per architecture, and ``__default__`` = all of them."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from dlpipeline.heap import long_lived_objects_made


def register_pipelines() -> dict[str, Pipeline]:
    """Register every ``pipelines/<name>/pipeline.py`` under ``<name>``; ``kedro run`` runs all."""
    with long_lived_objects_made():  # the node modules and what they import live as long as the run
        pipelines = find_pipelines(raise_errors=True)
        pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
