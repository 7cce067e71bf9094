"""What logging the trained networks as MLflow models costs a base-size run of mlp and cnn.

    python benchmarks/model_logging.py            # writes nothing but a temporary MLflow store

Builds every configuration of ``conf/base`` at its base size (the cnn's 9 ensembles of 5
seeds, the mlp's 8 widths x 2 flavours of 20 seeds; untrained: what logging costs depends on
the weights' size, not their values), logs each as a child run's model the way
:class:`~dlpipeline.tracking.MlflowChildRunsDataset` does, and prints per pipeline the seconds
of the first model (MLflow's imports and the first load), of the others each, and in all,
with their share of the pipeline's base wall time (README: mlp 2, cnn 3 minutes on 2 cores).
"""

import json
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np

from dlpipeline.config import load_parameters
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.cnn.params import ExperimentParams
from dlpipeline.pipelines.cnn.train import network_spec
from dlpipeline.pipelines.mlp.params import SweepParams, model_name
from dlpipeline.served import log_served_model, served_model

PROJECT = Path(__file__).resolve().parents[1]
BASE_WALL_S = {"mlp": 120.0, "cnn": 180.0}
"""Each pipeline's base run on 2 cores, as the README states it."""


def cnn_models() -> dict[str, tuple[TrainedModule, np.ndarray]]:
    """Every base cnn configuration at its base size, with 8x8 images as inputs."""
    experiments = ExperimentParams.model_validate(load_parameters("base", PROJECT)["cnn"]["experiments"])
    images = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    return {
        name: (
            TrainedModule.build(
                ConvNetEnsemble, spec=network_spec(architecture, (1, 8, 8), 10), seeds=experiments.seeds
            ),
            images,
        )
        for name, architecture in experiments.architectures.items()
    }


def mlp_models() -> dict[str, tuple[TrainedModule, np.ndarray]]:
    """Every base mlp configuration of both flavours at its base size, with 2-D points as inputs."""
    sweep = SweepParams.model_validate(load_parameters("base", PROJECT)["mlp"]["sweep"])
    points = np.random.default_rng(0).random((3, 2), dtype=np.float32)
    return {
        model_name(flavour, widths): (
            TrainedModule.build(
                MLPEnsemble,
                in_features=2,
                member_widths=[list(widths)] * sweep.n_seeds,
                out_features=2,
                activation=sweep.activation,
                seeds=sweep.seeds,
            ),
            points,
        )
        for flavour in ("torch", "sklearn")
        for widths in sweep.architectures
    }


def time_logging(models: dict[str, tuple[TrainedModule, np.ndarray]]) -> list[float]:
    """Seconds each model took to log, in a child run of its own under one parent."""
    seconds = []
    with mlflow.start_run(run_name="parent"):
        for name, (trained, inputs) in models.items():
            with mlflow.start_run(run_name=name, nested=True, log_system_metrics=False):
                started = time.perf_counter()
                log_served_model(served_model(trained, inputs), name)
                seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    """Log both pipelines' base models into a temporary store and print what it cost."""
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
        mlflow.set_experiment("model_logging")
        for pipeline, models in (("mlp", mlp_models()), ("cnn", cnn_models())):
            seconds = time_logging(models)
            figures[pipeline] = {
                "models": len(seconds),
                "first_s": round(seconds[0], 2),
                "each_after_s": round(float(np.median(seconds[1:])), 3),
                "total_s": round(sum(seconds), 2),
                "share_of_base_run": round(sum(seconds) / BASE_WALL_S[pipeline], 4),
            }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
