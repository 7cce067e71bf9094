"""Wiring of the generative experiment: one namespace per part, and a summary across them.

- ``generative.autoencoders``: PCA, a linear and a ReLU autoencoder per code size, a denoiser;
- ``generative.digits``, ``generative.ring``, ``generative.moons``: each set's data, then a VAE,
  a GAN and a diffusion model trained on it, sampled, scored and drawn; the digits part also
  trains the classifier whose features the Fréchet distance compares.

Data nodes are tagged ``data`` (DVC's ``generative_data`` stage), the rest ``train``.
"""

from kedro.pipeline import Node, Pipeline, node

from dlpipeline.pipelines.generative import autoencoders, data, evaluation, plots, report, training


def _part(
    data_nodes: list[Node],
    train_nodes: list[Node],
    namespace: str,
    shared: frozenset[str] = frozenset(),
) -> Pipeline:
    """One part's nodes under ``namespace``: ``data_nodes`` tagged ``data``, ``train_nodes`` ``train``.

    ``shared`` names datasets of other parts that this part reads as they are; every part
    trains where ``generative.executor`` says (``params:executor`` in its nodes).
    """
    return Pipeline(
        [Pipeline(data_nodes, tags="data"), Pipeline(train_nodes, tags="train")],
        namespace=namespace,
        inputs=set(shared) or None,
        parameters={"params:executor": "params:generative.executor"},
    )


def _generator_nodes(score: Node) -> list[Node]:
    """Train, sample, score and draw the three generators of one dataset (``score`` is its scorer)."""
    return [
        node(
            training.train_generators,
            ["train", "params:generators", "params:executor"],
            "models",
            name="train_generators",
        ),
        node(training.draw_samples, ["models", "params:generators"], "samples", name="draw_samples"),
        score,
        node(plots.plot_samples, ["samples", "test"], "samples_plot", name="plot_samples"),
        node(plots.plot_gan_losses, "models", "gan_losses_plot", name="plot_gan_losses"),
        node(plots.plot_trajectory, ["samples", "test"], "trajectory_plot", name="plot_trajectory"),
        node(
            report.generator_child_runs,
            ["models", "samples", "scores", "test"],
            "child_runs",
            name="child_runs",
        ),
    ]


def digits_pipeline() -> Pipeline:
    """The digits, split as the cnn experiment splits them, and the generators on them."""
    data_nodes = [
        node(data.load_digits, None, "digits", name="load_digits"),
        node(data.split_digits, ["digits", "params:data"], ["train", "val", "test"], name="split_digits"),
    ]
    score = node(
        evaluation.score_digits,
        ["samples", "models", "classifier", "train", "test", "params:classifier"],
        "scores",
        name="score_digits",
    )
    train_nodes = [
        node(
            training.train_feature_classifier,
            ["train", "val", "params:classifier"],
            "classifier",
            name="train_feature_classifier",
        ),
        *_generator_nodes(score),
        node(plots.plot_latent_walk, ["models", "test"], "latent_walk_plot", name="plot_latent_walk"),
    ]
    return _part(data_nodes, train_nodes, "generative.digits")


def ring_pipeline() -> Pipeline:
    """The ring of 8 Gaussians (the mode-collapse benchmark) and the generators on it."""
    data_nodes = [
        node(data.generate_ring, "params:data", "points", name="generate_ring"),
        node(data.split_points, ["points", "params:data"], ["train", "test"], name="split_ring"),
    ]
    score = node(
        evaluation.score_ring, ["samples", "models", "test", "params:data"], "scores", name="score_ring"
    )
    return _part(data_nodes, _generator_nodes(score), "generative.ring")


def moons_pipeline() -> Pipeline:
    """Two moons and the generators on them."""
    data_nodes = [
        node(data.generate_moons, "params:data", "points", name="generate_moons"),
        node(data.split_points, ["points", "params:data"], ["train", "test"], name="split_moons"),
    ]
    score = node(evaluation.score_moons, ["samples", "models", "train", "test"], "scores", name="score_moons")
    return _part(data_nodes, _generator_nodes(score), "generative.moons")


def autoencoders_pipeline() -> Pipeline:
    """Autoencoders against PCA on the digits: reconstruction, features, codes, denoising."""
    digits_train, digits_test = "generative.digits.train", "generative.digits.test"
    evaluated = ["models", "pca", digits_train, digits_test, "params:model"]
    drawn = ["models", "pca", digits_test, "params:model"]
    train_nodes = [
        node(
            autoencoders.train_autoencoders,
            [digits_train, "params:model", "params:executor"],
            "models",
            name="train",
        ),
        node(
            autoencoders.fit_pca_baselines,
            [digits_train, "params:model"],
            ["pca", "pca_fit_seconds"],
            name="fit_pca",
        ),
        node(autoencoders.evaluate_autoencoders, evaluated, "scores", name="evaluate"),
        node(report.autoencoder_summary, "scores", "summary", name="summary"),
        node(plots.plot_autoencoder_comparison, "scores", "comparison_plot", name="plot_comparison"),
        node(plots.plot_codes, drawn, "codes_plot", name="plot_codes"),
        node(plots.plot_reconstructions, drawn, "reconstructions_plot", name="plot_reconstructions"),
        node(
            plots.plot_denoising,
            ["models", digits_test, "params:model"],
            "denoising_plot",
            name="plot_denoising",
        ),
        node(
            report.autoencoder_child_runs,
            ["models", "scores", "pca", "pca_fit_seconds", digits_test, "params:model"],
            "child_runs",
            name="child_runs",
        ),
    ]
    return _part([], train_nodes, "generative.autoencoders", frozenset({digits_train, digits_test}))


def create_pipeline() -> Pipeline:
    """Every part, then the generators' tables, the comparison figure and DVC's metrics."""
    summary = Pipeline(
        [
            node(
                report.generator_scores,
                ["digits.scores", "ring.scores", "moons.scores"],
                "generator_scores",
                name="generator_scores",
            ),
            node(report.generator_summary, "generator_scores", "generator_summary", name="generator_summary"),
            node(plots.plot_comparison, "generator_scores", "comparison_plot", name="plot_comparison"),
            node(
                report.headline_metrics,
                ["generator_summary", "autoencoders.summary"],
                "metrics",
                name="headline_metrics",
            ),
        ],
        namespace="generative",
        tags="train",
    )
    return digits_pipeline() + ring_pipeline() + moons_pipeline() + autoencoders_pipeline() + summary
