"""What the champions of sequence and generative add to a base-size run of each pipeline.

    python benchmarks/champions.py            # writes nothing but a temporary MLflow store

The new nodes alone, at base size: scoring every adding model on its fresh validation draw
(``sequence.adding.validation_mse``: 3 cells x 2 lengths x 5 seeds on ``n_test`` sequences)
and every autoencoder ensemble on the validation digits
(``generative.autoencoders.validation_reconstruction``: 2 kinds x 4 code sizes, 5 seeds each),
on untrained networks of the base shapes (the cost depends on their size, not their values);
then the champion node as a run meets it: its parent's child runs listed with their logged
models (as many as a base run logs, estimated high), one of them with a logged model,
registered, and registered again (a rerun: the same weights, no new version). Prints wall
seconds of each and their share of the pipeline's base wall time (README).
"""

import json
import os
import tempfile
import time
from dataclasses import dataclass

import mlflow
import numpy as np
from mlflow.tracking import MlflowClient
from model_logging import (  # this folder's: run as a script
    BASE_WALL_S,
    PROJECT,
    generative_models,
    use_throwaway_store,
)

from dlpipeline.config import load_parameters
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.generative import champion as generative_champion
from dlpipeline.pipelines.generative import data as generative_data
from dlpipeline.pipelines.generative.params import AutoencoderParams, DigitsDataParams
from dlpipeline.pipelines.sequence import champion as sequence_champion
from dlpipeline.pipelines.sequence.params import AddingDataParams, ModelParams
from dlpipeline.registry import Champion, champion_among, register_champion
from dlpipeline.served import log_served_model, served_model
from dlpipeline.tracking import logged_children

CHILD_RUNS = {"sequence": 250, "generative": 30}
"""Child runs a base run's parent holds, rounded up (smoke runs: 102 and 17 with fewer seeds)."""


@dataclass(frozen=True)
class About:
    """What :func:`~dlpipeline.pipelines.sequence.champion.validation_mse` reads of a model's run."""

    seq_len: int


@dataclass(frozen=True)
class Adding:
    """An untrained adding model of the base shape, as the scoring node reads it."""

    module: object
    about: About


def adding_models() -> tuple[dict[str, Adding], AddingDataParams]:
    """Every base adding model (cell x length x seed), untrained, and the task's data parameters."""
    parameters = load_parameters("base", PROJECT)["sequence"]["adding"]
    data, model = AddingDataParams(**parameters["data"]), ModelParams(**parameters["model"])
    models = {}
    for cell in model.cells:
        for seq_len in data.seq_lens:
            for seed in model.seeds:
                network = build_model(
                    cell, SequenceShape(2, 1, seq_len), model.hidden_size, model.n_heads, model.n_layers
                )
                models[f"adding-{cell}-T{seq_len}-s{seed}"] = Adding(network.module, About(seq_len))
    return models, data


CPU_SECONDS: dict[str, float] = {}
"""This process's CPU seconds by what was timed (a shared machine's load inflates wall time more)."""


def timed(work, name: str) -> float:
    """Wall seconds ``work()`` took; its CPU seconds go to :data:`CPU_SECONDS` under ``name``."""
    started, cpu_started = time.perf_counter(), time.process_time()
    work()
    CPU_SECONDS[name] = CPU_SECONDS.get(name, 0.0) + time.process_time() - cpu_started
    return time.perf_counter() - started


def champion_seconds(client: MlflowClient, pipeline: str, network: TrainedModule, inputs: np.ndarray) -> dict:
    """The champion node's MLflow work: list a parent's child runs, register the best, then again."""
    with mlflow.start_run(run_name=pipeline) as parent:
        for index in range(CHILD_RUNS[pipeline]):
            with mlflow.start_run(run_name=f"{pipeline}-{index}", nested=True, log_system_metrics=False):
                mlflow.log_metric("val_mse", float(index))
                if index == 0:
                    log_served_model(served_model(network, inputs, "autoencoder"), f"{pipeline}-0")
    listed = {}

    def choose() -> None:
        runs = logged_children(client, parent.info.experiment_id, parent.info.run_id)
        listed["champion"] = champion_among(runs, {f"{pipeline}-0"}, Registry(f"dlpipeline-{pipeline}"))

    seconds = {"list_and_choose_s": timed(choose, pipeline)}
    champion: Champion = listed["champion"]
    seconds["register_first_s"] = timed(lambda: register_champion(client, champion), pipeline)
    seconds["register_again_s"] = timed(lambda: register_champion(client, champion), "again")
    return seconds


@dataclass(frozen=True)
class Registry:
    """The registry parameters the champion reads."""

    name: str
    rank_by: str = "val_mse"


def main() -> None:
    """Time the new nodes at base size and print their share of each pipeline's base run."""
    models, data = adding_models()
    figures: dict = {"sequence": {"models_scored": len(models)}, "generative": {}}
    figures["sequence"]["validation_s"] = timed(
        lambda: sequence_champion.validation_mse(models, data), "sequence"
    )
    parameters = load_parameters("base", PROJECT)["generative"]
    autoencoders = AutoencoderParams(**parameters["autoencoders"]["model"])
    _, val, _ = generative_data.split_digits(
        generative_data.load_digits(), DigitsDataParams(**parameters["digits"]["data"])
    )
    ensembles = {
        name.removesuffix("-digits"): network
        for name, (network, _, _) in generative_models().items()
        if name.startswith(("linear_ae", "autoencoder"))
    }
    figures["generative"]["models_scored"] = len(ensembles)
    figures["generative"]["validation_s"] = timed(
        lambda: generative_champion.validation_reconstruction(ensembles, val, autoencoders), "generative"
    )
    with tempfile.TemporaryDirectory() as folder:
        uri = use_throwaway_store(folder, "champions")
        client = MlflowClient(uri, registry_uri=uri)
        network = next(iter(ensembles.values()))
        images = np.random.default_rng(0).random((3, 64), dtype=np.float32)
        for pipeline in ("sequence", "generative"):
            figures[pipeline].update(champion_seconds(client, pipeline, network, images))
    for pipeline in ("sequence", "generative"):
        new = sum(
            value for key, value in figures[pipeline].items() if key.endswith("_s") and "again" not in key
        )
        figures[pipeline] = {key: round(value, 3) for key, value in figures[pipeline].items()}
        figures[pipeline]["new_nodes_s"] = round(new, 2)
        figures[pipeline]["share_of_base_run"] = round(new / BASE_WALL_S[pipeline], 4)
        figures[pipeline]["new_nodes_cpu_s"] = round(CPU_SECONDS[pipeline], 2)
        figures[pipeline]["cpu_share_of_base_run"] = round(CPU_SECONDS[pipeline] / BASE_WALL_S[pipeline], 4)
    figures["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
