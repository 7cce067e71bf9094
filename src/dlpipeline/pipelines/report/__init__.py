"""The claims report: every claim of the notes that an experiment tests, with a computed verdict."""

from dlpipeline.pipelines.report.pipeline import create_pipeline

__all__ = ["create_pipeline"]
