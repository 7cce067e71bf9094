"""Wiring of the generative experiment: one namespace per part, and a summary across them.

- ``generative.autoencoders``: PCA, a linear and a ReLU autoencoder per code size, a denoiser;
- ``generative.digits``, ``generative.ring``, ``generative.moons``: each set's data, then a VAE,
  a GAN and a diffusion model trained on it, sampled, scored and drawn; the digits part also
  trains the classifier whose features the Fréchet distance compares.

Data nodes are tagged ``data`` (DVC's ``generative_data`` stage), the rest ``train``.
"""

from collections.abc import Callable

import pandas as pd
from kedro.pipeline import Node, Pipeline

from dlpipeline.pipelines.generative import (
    autoencoders,
    champion,
    data,
    evaluation,
    plots,
    report,
    text_to_image,
    training,
)
from dlpipeline.pipelines.wiring import part, step

EXECUTOR = "generative.executor"
REGISTRY = "params:generative.registry"
DIGITS_VAL = "generative.digits.val"


def _generator_nodes(score: Node) -> list[Node]:
    """Train, sample, score and draw the three generators of one dataset (``score`` is its scorer)."""
    return [
        step(training.train_generators, ["train", "params:generators", "params:executor"], "models"),
        step(training.draw_samples, ["models", "params:generators"], "samples"),
        score,
        step(plots.plot_samples, ["samples", "test"], "samples_plot"),
        step(plots.plot_gan_losses, "models", "gan_losses_plot"),
        step(plots.plot_trajectory, ["samples", "test"], "trajectory_plot"),
        step(
            report.generator_child_runs,
            ["models", "samples", "scores", "test"],
            "child_runs",
            name="child_runs",
        ),
    ]


def digits_pipeline() -> Pipeline:
    """The digits, split as the cnn experiment splits them, and the generators on them."""
    data_nodes = [
        step(data.load_digits, None, "digits"),
        step(data.split_digits, ["digits", "params:data"], ["train", "val", "test"]),
    ]
    score = step(
        evaluation.score_digits,
        ["samples", "models", "classifier", "train", "test", "params:classifier"],
        "scores",
    )
    train_nodes = [
        step(training.train_feature_classifier, ["train", "val", "params:classifier"], "classifier"),
        *_generator_nodes(score),
        step(plots.plot_latent_walk, ["models", "test"], "latent_walk_plot"),
    ]
    return part(data_nodes, train_nodes, "generative.digits", EXECUTOR)


def _points_pipeline(name: str, generate: Callable[..., pd.DataFrame], score: Node) -> Pipeline:
    """The 2-D set ``name`` drawn by ``generate``, split, and the generators on it (``score`` scores them)."""
    data_nodes = [
        step(generate, "params:data", "points"),
        step(data.split_points, ["points", "params:data"], ["train", "test"], name=f"split_{name}"),
    ]
    return part(data_nodes, _generator_nodes(score), f"generative.{name}", EXECUTOR)


def ring_pipeline() -> Pipeline:
    """The ring of 8 Gaussians (the mode-collapse benchmark) and the generators on it."""
    score = step(evaluation.score_ring, ["samples", "models", "train", "test", "params:data"], "scores")
    return _points_pipeline("ring", data.generate_ring, score)


def moons_pipeline() -> Pipeline:
    """Two moons and the generators on them."""
    score = step(evaluation.score_moons, ["samples", "models", "train", "test"], "scores")
    return _points_pipeline("moons", data.generate_moons, score)


def autoencoders_pipeline() -> Pipeline:
    """Autoencoders against PCA on the digits: reconstruction, features, codes, denoising."""
    digits_train, digits_test = "generative.digits.train", "generative.digits.test"
    evaluated = ["models", "pca", digits_train, digits_test, "params:model"]
    drawn = ["models", "pca", digits_test, "params:model"]
    train_nodes = [
        step(
            autoencoders.train_autoencoders,
            [digits_train, "params:model", "params:executor"],
            "models",
            name="train",
        ),
        step(
            autoencoders.fit_pca_baselines,
            [digits_train, "params:model"],
            ["pca", "pca_fit_seconds"],
            name="fit_pca",
        ),
        step(autoencoders.evaluate_autoencoders, evaluated, "scores", name="evaluate"),
        step(report.autoencoder_summary, "scores", "summary", name="summary"),
        step(report.autoencoder_units, "scores", "units", name="units"),
        step(plots.plot_autoencoder_comparison, "scores", "comparison_plot", name="plot_comparison"),
        step(plots.plot_codes, drawn, "codes_plot"),
        step(plots.plot_reconstructions, drawn, "reconstructions_plot"),
        step(plots.plot_denoising, ["models", digits_test, "params:model"], "denoising_plot"),
        step(
            report.autoencoder_child_runs,
            ["models", "scores", "pca", "pca_fit_seconds", digits_test, "params:model", "validation"],
            "child_runs",
            name="child_runs",
        ),
        *champion_nodes(),
    ]
    shared = (digits_train, DIGITS_VAL, digits_test)
    return part([], train_nodes, "generative.autoencoders", EXECUTOR, shared, (REGISTRY,))


def champion_nodes() -> list[Node]:
    """Every autoencoder scored on the validation digits; the best registered (``generative.registry``)."""
    return [
        step(champion.validation_reconstruction, ["models", DIGITS_VAL, "params:model"], "validation"),
        step(champion.generative_champion, ["child_runs", "validation", REGISTRY], "champion", "champion"),
    ]


def text_to_image_pipeline() -> Pipeline:
    """Digits drawn from their word against the same generator unprompted, named by the fixed classifier."""
    digits_train, classifier = "generative.digits.train", "generative.digits.classifier"
    train_nodes = [
        step(
            text_to_image.train_text_to_image,
            [digits_train, "params:model", "params:executor"],
            "models",
            name="train",
        ),
        step(text_to_image.draw_prompted, ["models", "params:model"], "samples"),
        step(text_to_image.share_table, ["samples", classifier], "shares"),
        step(text_to_image.unit_table, "shares", "units"),
        step(text_to_image.text_to_image_child_runs, ["models", "units", "params:model"], "child_runs"),
        step(text_to_image.plot_prompted_samples, ["samples", "units", "params:model"], "samples_plot"),
    ]
    return part([], train_nodes, "generative.text_to_image", EXECUTOR, (digits_train, classifier))


def create_pipeline() -> Pipeline:
    """Every part, then the generators' tables (the claims' units too), the comparison figure, metrics."""
    summary = Pipeline(
        [
            step(
                report.generator_scores, ["digits.scores", "ring.scores", "moons.scores"], "generator_scores"
            ),
            step(report.generator_summary, "generator_scores", "generator_summary"),
            step(report.generator_units, "generator_scores", "claim_units"),
            step(plots.plot_comparison, "generator_scores", "comparison_plot"),
            step(report.headline_metrics, ["generator_summary", "autoencoders.summary"], "metrics"),
        ],
        namespace="generative",
        tags="train",
    )
    parts = digits_pipeline() + ring_pipeline() + moons_pipeline() + autoencoders_pipeline()
    return parts + text_to_image_pipeline() + summary
