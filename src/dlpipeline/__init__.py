"""dlpipeline: reproducible deep-learning experiments with Kedro, MLflow and DVC."""

__version__ = "0.1.0"
