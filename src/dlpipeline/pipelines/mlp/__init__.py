"""The MLP experiment: circles (and friends) against hidden neurons."""

from dlpipeline.pipelines.mlp.pipeline import create_pipeline

__all__ = ["create_pipeline"]
