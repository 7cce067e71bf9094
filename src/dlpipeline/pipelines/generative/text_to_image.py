"""Text to image, measured: a generator prompted by the digit's word, scored by the fixed digit classifier.

"Generative tasks: text-to-image". A conditional VAE of the digits reads the prompt as text
(the letters of ``"seven"``, :mod:`dlpipeline.models.text_to_image`), every seed in one
ensemble; the control is the same network trained and sampled with no prompt (an unconditional
generator), same seeds, same loop. For each prompt word, each seed draws ``n_samples`` digits;
the digit classifier the generative experiment already trains for its metrics
(``generative.digits.classifier``, fixed, never trained on samples) names each one. The
**prompted share** is the share it assigns to the prompted digit: about 0.1 for a generator that
ignores the prompt, 1 for one that always draws what it is asked.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.executor import IsolatedExecutorParams, run_tasks
from dlpipeline.figures.images import image_rows_figure
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.generative import own_objective
from dlpipeline.models.text_to_image import TextConditionedVAE, letter_counts
from dlpipeline.pipelines.common import RunContent, child_run, median_seed_index
from dlpipeline.pipelines.generative.params import TextToImageParams
from dlpipeline.pipelines.generative.training import (
    EnsembleJob,
    GeneratorRun,
    TrainedModels,
    data_matrix,
    standardisation,
    train_ensemble,
)
from dlpipeline.served import EXAMPLE_ROWS, latent_example, prompted_rows, served_model
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict, with_fixed_threads

MODELS = {"text_conditioned": True, "unconditional": False}
"""Model name → whether the prompt reaches it."""
PIXEL_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class PromptedSamples:
    """What each model drew for each prompt word, in pixel units, every seed."""

    words: tuple[str, ...]
    seeds: tuple[int, ...]
    by_model: dict[str, np.ndarray]
    """``model → (seeds, words, n_samples, pixels)``."""


def prompted_inputs(train: pd.DataFrame, words: list[str]) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Rows ``[standardised pixels, letter counts of the digit's word]``, and the shift and scale used."""
    pixels = data_matrix(train)
    shift, scale = standardisation(pixels, "global")
    prompts = letter_counts([words[int(label)] for label in train["label"]])
    standardised = torch.tensor((pixels - shift) / scale, dtype=torch.float32)
    return torch.cat([standardised, prompts], dim=1), shift, scale


def train_text_to_image(
    train: pd.DataFrame, model: TextToImageParams, executor: IsolatedExecutorParams
) -> TrainedModels:
    """The prompted generator and its unprompted control, every seed of each in one ensemble."""
    inputs, shift, scale = prompted_inputs(train, model.words)
    n_features = len(shift)
    jobs = {
        name: EnsembleJob(
            TextConditionedVAE,
            {
                "n_features": n_features,
                "latent_dim": model.latent_dim,
                "hidden": model.hidden,
                "embed_dim": model.embed_dim,
                "conditional": conditional,
            },
            own_objective,
            with_fixed_threads(model.train),
            tuple(model.seeds),
            f"text to image: {name}",
            GeneratorRun("digits", name, shift, scale),
        )
        for name, conditional in MODELS.items()
    }
    return run_tasks(train_ensemble, {"inputs": inputs}, jobs, executor)


def draw_prompted(models: TrainedModels, model: TextToImageParams) -> PromptedSamples:
    """``n_samples`` digits per prompt word from every seed of each model, in pixels (first seed's noise)."""
    by_model = {}
    for name, trained in models.items():
        generator = torch.Generator().manual_seed(model.seeds[0])
        drawn = trained.module.eval().sample(model.words, model.n_samples, generator).numpy()
        about = trained.about
        by_model[name] = np.clip(drawn.astype(np.float64) * about.scale + about.shift, *PIXEL_RANGE)
    seeds = next(iter(models.values())).trained_record.seeds
    return PromptedSamples(tuple(model.words), seeds, by_model)


def prompted_shares(labels: np.ndarray, n_words: int) -> np.ndarray:
    """Per prompt, the share of its samples classified as its own digit: ``labels`` is ``(words, n)``."""
    return (labels == np.arange(n_words)[:, None]).mean(axis=1)


def share_table(samples: PromptedSamples, classifier: TrainedModels) -> pd.DataFrame:
    """One row per model, seed and prompt word: the share of its samples the classifier calls that digit."""
    network = classifier["feature_classifier"].module
    rows = []
    for name, drawn in samples.by_model.items():
        flat = torch.tensor(drawn.reshape(-1, drawn.shape[-1]), dtype=torch.float32)
        labels = predict(network, flat, "cpu").argmax(-1).numpy().reshape(drawn.shape[:3])
        for member, seed in enumerate(samples.seeds):
            shares = prompted_shares(labels[member], len(samples.words))
            rows += [
                {"model": name, "seed": seed, "prompt": word, "digit": digit, "prompted_share": float(share)}
                for digit, (word, share) in enumerate(zip(samples.words, shares, strict=True))
            ]
    return pd.DataFrame(rows)


def unit_table(shares: pd.DataFrame) -> pd.DataFrame:
    """One row per model and seed (the claim's units): the prompted share, mean and worst over the words."""
    grouped = shares.groupby(["model", "seed"], sort=False).prompted_share
    table = pd.DataFrame({"prompted_share": grouped.mean(), "worst_word_share": grouped.min()}).reset_index()
    return table.round({"prompted_share": 6, "worst_word_share": 6})


def prompted_example(trained: TrainedModule, words: list[str]) -> np.ndarray:
    """A prompted generator's input example: standard-normal codes, each beside a prompt word's letter counts.

    The first :data:`~dlpipeline.served.EXAMPLE_ROWS` prompt words (``"zero"``, ``"one"``, …).
    """
    shown = words[:EXAMPLE_ROWS]
    return prompted_rows(latent_example(int(trained.kwargs["latent_dim"]))[: len(shown)], shown)


def text_to_image_child_runs(
    models: TrainedModels, units: pd.DataFrame, model: TextToImageParams
) -> list[ChildRun]:
    """One MLflow child run per model (param ``study``: ``text_to_image``), its network the run's model.

    The logged model (kind ``prompted_generator``) draws every seed's picture of a code and a
    prompt word's letter counts; the control ignores the counts.
    """
    runs = []
    for name, rows in units.groupby("model", sort=False):
        trained = models[name]
        content = RunContent(
            params={"study": "text_to_image", "model": str(name), "conditional": MODELS[str(name)]},
            metrics={
                "prompted_share": float(rows.prompted_share.mean()),
                "worst_word_share": float(rows.worst_word_share.mean()),
            },
            histories={"loss": trained.trained_history.loss.numpy()[:, 0].tolist()},
            model=served_model(trained, prompted_example(trained, model.words), "prompted_generator"),
        )
        runs.append(child_run(f"text_to_image-{name}", trained.trained_record, trained.timing, content))
    return runs


def plot_prompted_samples(samples: PromptedSamples, units: pd.DataFrame, model: TextToImageParams) -> Figure:
    """A row of samples per prompt word from the prompted generator, then the control's (median seed)."""
    shown = model.shown_samples
    prompted = samples.by_model["text_conditioned"]
    own = units[units.model == "text_conditioned"].prompted_share.to_numpy()
    member = median_seed_index(own)
    side = round(np.sqrt(prompted.shape[-1]))
    rows = {
        f'"{word}"': list(prompted[member, index, :shown].reshape(-1, side, side))
        for index, word in enumerate(samples.words)
    }
    control = samples.by_model["unconditional"][member, 0, :shown]
    rows["no prompt\n(control)"] = list(control.reshape(-1, side, side))
    return image_rows_figure(
        rows,
        f"Digits drawn from the prompt word\n(text-conditioned VAE, seed {samples.seeds[member]}; "
        f"named as the prompted digit: {own[member]:.2f})",
        ink_range=PIXEL_RANGE,
    )
