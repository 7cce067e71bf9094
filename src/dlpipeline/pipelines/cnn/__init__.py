"""The CNN experiment: convolution, ReLU, pooling, dense, dropout and softmax on digits, against an MLP."""

from dlpipeline.pipelines.cnn.pipeline import create_pipeline

__all__ = ["create_pipeline"]
