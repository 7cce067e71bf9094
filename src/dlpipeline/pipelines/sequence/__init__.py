"""The sequence experiment: RNN, LSTM, GRU and Transformer across the input–output patterns."""

from dlpipeline.pipelines.sequence.pipeline import create_pipeline

__all__ = ["create_pipeline"]
