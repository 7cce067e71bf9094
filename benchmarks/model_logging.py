"""What logging the trained networks as MLflow models costs a base-size run of each pipeline.

    python benchmarks/model_logging.py            # writes nothing but a temporary MLflow store

Builds every network a base run's child runs log, at its base size (untrained: what logging
costs depends on the weights' size, not their values): the cnn's 9 ensembles of 5 seeds and
its studies' 9 (permutation: cnn and mlp; saliency: the linear control; detection; segmentation;
the cost study's 4 one-seed timed networks); the mlp's 8 widths x 2 flavours of 20 seeds and
the neurons study's 28 (16 variants, 12 noise x factor settings);
every sequence model (task x cell x length x seed, 108; the exploding-gradients study's 5
configurations x 5 seeds, 25) and every generative ensemble (9
generators, 8 autoencoders, the 2 text-to-image generators). The search trials (not in a base
run: ``trials: 0``) are timed apart, one model per trial (``cnn.search``: the baseline at its
largest drawn width; ``sequence.adding.search``: the searched cell). Each is logged as a child
run's model the way :class:`~dlpipeline.tracking.MlflowChildRunsDataset` does; per pipeline it
prints the seconds of the first model (MLflow's imports), of the others each, and in all, with
their share of the pipeline's base wall time (README).
"""

import json
import os
import tempfile
import time
from pathlib import Path

import mlflow
import numpy as np

from dlpipeline.config import load_parameters
from dlpipeline.models.char_lm import CharLanguageModel
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, LinearEnsemble
from dlpipeline.models.generative import (
    Autoencoder,
    DiffusionModel,
    GenerativeAdversarialNetwork,
    VariationalAutoencoder,
)
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.models.scenes import DetectorEnsemble, FullyConvEnsemble
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.models.text_to_image import TextConditionedVAE
from dlpipeline.pipelines.cnn.cost import cost_specs, network_builders
from dlpipeline.pipelines.cnn.params import CostParams, ExperimentParams
from dlpipeline.pipelines.cnn.train import network_spec
from dlpipeline.pipelines.mlp.params import SweepParams, model_name
from dlpipeline.pipelines.sequence.gradients import GradientRecordingModel
from dlpipeline.served import ModelKind, latent_example, log_served_model, prompted_rows, served_model

PROJECT = Path(__file__).resolve().parents[1]
BASE_WALL_S = {"mlp": 92.0, "cnn": 204.0, "sequence": 496.0, "generative": 223.0}
"""Each pipeline's base run on 2 cores, as the README states it."""
Logged = tuple[TrainedModule, np.ndarray, ModelKind]
"""A network, its input example and its kind."""


def cnn_models() -> dict[str, Logged]:
    """Every base cnn configuration at its base size, with 8x8 images as inputs, and the studies' three."""
    experiments = ExperimentParams.model_validate(load_parameters("base", PROJECT)["cnn"]["experiments"])
    images = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    models: dict[str, Logged] = {
        name: (
            TrainedModule.build(
                ConvNetEnsemble, spec=network_spec(architecture, (1, 8, 8), 10), seeds=experiments.seeds
            ),
            images,
            "classifier",
        )
        for name, architecture in experiments.architectures.items()
    }
    studies = {f"permutation-{name}": models[name] for name in ("cnn", "mlp")}
    linear = TrainedModule.build(LinearEnsemble, in_shape=(1, 8, 8), n_classes=10, seeds=experiments.seeds)
    return {**models, **studies, "saliency-linear": (linear, images, "classifier"), **cnn_study_models()}


def cnn_study_models() -> dict[str, Logged]:
    """The detector and the pixel labeller on base scenes, and the cost study's timed networks (one seed)."""
    parameters = load_parameters("base", PROJECT)["cnn"]
    experiments = ExperimentParams.model_validate(parameters["experiments"])
    side = parameters["scenes"]["canvas"]
    scenes = np.random.default_rng(0).random((3, 1, side, side), dtype=np.float32)
    detector = TrainedModule.build(
        DetectorEnsemble,
        in_shape=(1, side, side),
        n_classes=10,
        filters=parameters["detection"]["filters"],
        seeds=experiments.seeds,
    )
    segmentation = parameters["segmentation"]
    segmenter = TrainedModule.build(
        FullyConvEnsemble,
        channels=segmentation["channels"],
        dilations=segmentation["dilations"],
        seeds=experiments.seeds,
    )
    models: dict[str, Logged] = {
        "detection-cnn": (detector, scenes, "detector"),
        "segmentation-fcn": (segmenter, scenes, "segmenter"),
    }
    specs = cost_specs(experiments, CostParams.model_validate(parameters["cost"]), (1, 8, 8), 10)
    images = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    for name, build in network_builders(specs, (1, 8, 8), 10).items():
        models[f"cost-{name}"] = (build(experiments.first_seed), images, "classifier")
    return models


def search_models() -> dict[str, dict[str, Logged]]:
    """One trial's network of each search at base size, the largest it may draw (dense / hidden units)."""
    cnn = load_parameters("base", PROJECT)["cnn"]
    experiments = ExperimentParams.model_validate(cnn["experiments"])
    widest = cnn["search"]["space"]["dense_units"]["high"]
    baseline = experiments.baseline.model_copy(update={"dense_units": widest})
    seeds = list(range(experiments.first_seed, experiments.first_seed + cnn["search"]["n_seeds"]))
    images = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    trial = TrainedModule.build(ConvNetEnsemble, spec=network_spec(baseline, (1, 8, 8), 10), seeds=seeds)
    adding = load_parameters("base", PROJECT)["sequence"]["adding"]
    cell = adding["search"]["cell"]
    seq_len = adding["search"]["seq_len"] or max(adding["data"]["seq_lens"])
    hidden = adding["search"]["space"]["hidden_size"]["high"]
    network = build_model(cell, SequenceShape(2, 1, seq_len), hidden)
    sequences = np.random.default_rng(0).standard_normal((3, seq_len, 2)).astype(np.float32)
    return {
        "cnn-search": {f"trial-{number}": (trial, images, "classifier") for number in range(10)},
        "sequence-search": {f"trial-{number}": (network, sequences, "sequence") for number in range(10)},
    }


def _mlp(widths: list[int], seeds: list[int], activation: str) -> TrainedModule:
    """An ensemble of one MLP of ``widths`` per seed on 2-D points."""
    return TrainedModule.build(
        MLPEnsemble,
        in_features=2,
        member_widths=[widths] * len(seeds),
        out_features=2,
        activation=activation,
        seeds=seeds,
    )


def mlp_models() -> dict[str, Logged]:
    """Every base mlp configuration of both flavours and of the neurons study, with 2-D points as inputs."""
    parameters = load_parameters("base", PROJECT)["mlp"]
    sweep = SweepParams.model_validate(parameters["sweep"])
    study = parameters["neurons"]["study"]
    points = np.random.default_rng(0).random((3, 2), dtype=np.float32)
    models: dict[str, Logged] = {
        model_name(flavour, widths): (_mlp(list(widths), sweep.seeds, sweep.activation), points, "classifier")
        for flavour in ("torch", "sklearn")
        for widths in sweep.architectures
    }
    seeds = sweep.seeds[: study["n_seeds"]]
    for width in study["hidden_neurons"]:
        for variant in (study["activation"], "nobias"):
            activation = sweep.activation if variant == "nobias" else variant
            models[f"neurons-{variant}-{width}"] = (_mlp([width], seeds, activation), points, "classifier")
    grid = study["noise_factor"]
    for noise in grid["noise"]:
        for factor in grid["factor"]:
            network = _mlp([grid["hidden_neurons"]], seeds, sweep.activation)
            models[f"neurons-noise{noise}-factor{factor}"] = (network, points, "classifier")
    return models


SEQUENCE_SHAPES = {
    "adding": (SequenceShape(2, 1, 100), (10, 100)),
    "digits_rows": (SequenceShape(8, 10, 8), (8,)),
    "forecast": (SequenceShape(1, 1, 60, readout="every", masked=True), (60,)),
    "generate": (SequenceShape(1, 1, 40, readout="every", causal=True), (40,)),
    "names": (SequenceShape(60, 18, 16, masked=True), (16,)),
}
"""Each numeric sequence task's shape at base size (inputs, outputs, the longest length) and lengths."""


def sequence_models() -> dict[str, Logged]:
    """Every base sequence model (task x cell x length x seed, the names' control), the explosion study's."""
    parameters = load_parameters("base", PROJECT)["sequence"]
    rng = np.random.default_rng(0)
    models: dict[str, Logged] = {}
    for task, (shape, lengths) in SEQUENCE_SHAPES.items():
        model = parameters[task]["model"]
        control = parameters[task].get("control")
        cells = model["cells"] + ([control["cell"]] if control else [])
        for index, cell in enumerate(cells):
            hidden = model.get("cell_hidden_sizes", {}).get(cell, model["hidden_size"])
            for length in model.get("cell_seq_lens", {}).get(cell, lengths):
                network = build_model(cell, shape, hidden, model.get("n_heads", 2), model.get("n_layers", 2))
                features = rng.standard_normal((3, length, shape.input_size + shape.masked)).astype(
                    np.float32
                )
                for seed in range(model["n_seeds"]):
                    models[f"{task}-{cell}{index}-T{length}-s{seed}"] = (network, features, "sequence")
    text = parameters["text"]["model"]
    tokens = rng.integers(0, 30, (3, 16), dtype=np.int64)
    for cell in text["cells"]:
        network = TrainedModule.build(
            CharLanguageModel,
            vocab_size=30,
            embedding_dim=text["embedding_dim"],
            cell=cell,
            hidden_size=text.get("cell_hidden_sizes", {}).get(cell, text["hidden_size"]),
            max_len=16,
            n_heads=text.get("n_heads", 2),
            n_layers=text.get("n_layers", 2),
        )
        for seed in range(text["n_seeds"]):
            models[f"text-{cell}-T16-s{seed}"] = (network, tokens, "sequence")
    return {**models, **explosion_models(parameters["adding"]["explosion"])}


def explosion_models(explosion: dict) -> dict[str, Logged]:
    """The exploding-gradients study's networks: the RNN at each gain and each gated cell, every seed."""
    sequences = np.random.default_rng(0).random((3, explosion["seq_len"], 2), dtype=np.float32)
    configurations = [("rnn", gain) for gain in explosion["rnn_gains"]]
    configurations += [(cell, None) for cell in explosion["cells"]]
    models: dict[str, Logged] = {}
    for cell, gain in configurations:
        network = TrainedModule.build(
            GradientRecordingModel,
            cell=cell,
            input_size=2,
            hidden_size=explosion["hidden_size"],
            output_size=1,
            gain=gain,
        )
        for seed in range(explosion["n_seeds"]):
            models[f"explosion-{cell}-{gain}-s{seed}"] = (network, sequences, "sequence")
    return models


def generative_models() -> dict[str, Logged]:
    """Every base generator (3 datasets x VAE, GAN, diffusion) and autoencoder (2 kinds x code sizes)."""
    parameters = load_parameters("base", PROJECT)["generative"]
    models: dict[str, Logged] = {}
    for dataset, n_features in (("digits", 64), ("ring", 2), ("moons", 2)):
        generators = parameters[dataset]["generators"]
        seeds = list(range(generators["n_seeds"]))
        vae, gan, diffusion = (generators[name] for name in ("vae", "gan", "diffusion"))
        built = {
            "vae": TrainedModule.build(
                VariationalAutoencoder,
                n_features=n_features,
                latent_dim=vae["latent_dim"],
                hidden=vae["hidden"],
                seeds=seeds,
            ),
            "gan": TrainedModule.build(
                GenerativeAdversarialNetwork,
                n_features=n_features,
                latent_dim=gan["latent_dim"],
                hidden=gan["hidden"],
                seeds=seeds,
            ),
            "diffusion": TrainedModule.build(
                DiffusionModel,
                n_features=n_features,
                hidden=diffusion["hidden"],
                n_steps=diffusion["n_steps"],
                seeds=seeds,
            ),
        }
        for name, network in built.items():
            size = network.kwargs.get("latent_dim", n_features)
            models[f"{name}-{dataset}"] = (network, latent_example(size), "generator")
    prompted = parameters["text_to_image"]["model"]
    for name, conditional in (("text_conditioned", True), ("unconditional", False)):
        network = TrainedModule.build(
            TextConditionedVAE,
            n_features=64,
            latent_dim=prompted["latent_dim"],
            hidden=prompted["hidden"],
            embed_dim=prompted["embed_dim"],
            seeds=list(range(prompted["n_seeds"])),
            conditional=conditional,
        )
        rows = prompted_rows(latent_example(prompted["latent_dim"]), prompted["words"][:3])
        models[f"text_to_image-{name}"] = (network, rows, "prompted_generator")
    autoencoders = parameters["autoencoders"]["model"]
    images = np.random.default_rng(0).random((3, 64), dtype=np.float32)
    for code_size in autoencoders["code_sizes"]:
        for name, hidden, activation in (
            ("linear_ae", [], "linear"),
            ("autoencoder", autoencoders["hidden"], "relu"),
        ):
            network = TrainedModule.build(
                Autoencoder,
                n_features=64,
                code_size=code_size,
                hidden=hidden,
                activation=activation,
                seeds=list(range(autoencoders["n_seeds"])),
            )
            models[f"{name}-{code_size}-digits"] = (network, images, "autoencoder")
    return models


def time_logging(models: dict[str, Logged]) -> tuple[list[float], float]:
    """Wall seconds each model took to log, in a child run of its own under one parent; CPU seconds in all.

    On a shared machine the wall time grows with the load; this process's CPU time much less.
    """
    seconds = []
    cpu_started = time.process_time()
    with mlflow.start_run(run_name="parent"):
        for name, (trained, inputs, kind) in models.items():
            with mlflow.start_run(run_name=name, nested=True, log_system_metrics=False):
                started = time.perf_counter()
                log_served_model(served_model(trained, inputs, kind), name)
                seconds.append(time.perf_counter() - started)
    return seconds, time.process_time() - cpu_started


def use_throwaway_store(folder: str, experiment: str) -> str:
    """Track into a new store in ``folder``, artifacts included, under ``experiment``; returns its URI.

    An experiment made without an artifact location keeps its artifacts in ``./mlruns`` of the
    working directory: the project's own, for a benchmark run from its root.
    """
    uri = f"sqlite:///{folder}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    artifacts = Path(folder, "artifacts").as_uri()
    mlflow.set_experiment(experiment_id=mlflow.create_experiment(experiment, artifact_location=artifacts))
    return uri


def main() -> None:
    """Log both pipelines' base models into a temporary store and print what it cost."""
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        use_throwaway_store(folder, "model_logging")
        builders = {
            "mlp": mlp_models,
            "cnn": cnn_models,
            "sequence": sequence_models,
            "generative": generative_models,
        }
        for pipeline, models in builders.items():
            seconds, cpu_seconds = time_logging(models())
            figures[pipeline] = {
                "models": len(seconds),
                "first_s": round(seconds[0], 2),
                "each_after_s": round(float(np.median(seconds[1:])), 3),
                "total_s": round(sum(seconds), 2),
                "share_of_base_run": round(sum(seconds) / BASE_WALL_S[pipeline], 4),
                "cpu_s": round(cpu_seconds, 2),
                "cpu_share_of_base_run": round(cpu_seconds / BASE_WALL_S[pipeline], 4),
            }
        for search, models in search_models().items():  # not in a base run: seconds per trial
            seconds, _ = time_logging(models)
            figures[search] = {"models": len(seconds), "each_s": round(float(np.median(seconds)), 3)}
    figures["load_average"] = [round(value, 2) for value in os.getloadavg()]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
