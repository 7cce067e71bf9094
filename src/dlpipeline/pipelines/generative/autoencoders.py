"""The notes' claim "autoencoders: feature extraction & dimensionality reduction", tested against PCA.

On the digits, for every code size: a linear autoencoder and a ReLU autoencoder (every seed in
one ensemble, through the shared loop, each one task of the executor) against PCA, by test
reconstruction error and by how well a logistic regression reads the digit from the codes. A
denoising autoencoder learns to undo Gaussian noise on the pixels.
"""

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dlpipeline.executor import IsolatedExecutorParams
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.generative import Autoencoder, reconstruction_loss
from dlpipeline.pipelines.generative.params import AutoencoderParams
from dlpipeline.pipelines.generative.training import EnsembleJob, TrainedModels, data_matrix, train_ensembles
from dlpipeline.training import with_fixed_threads

AUTOENCODERS = {"linear_ae": ([], "linear"), "autoencoder": (None, "relu")}
"""Model name → (hidden widths, or ``None`` for the configured ones; activation)."""
DENOISING = "denoising"
NOISY_COPIES = 4  # noisy versions of each training image the denoiser sees


def model_key(model: str, code_size: int) -> str:
    """The name a trained autoencoder has in the model file, e.g. ``autoencoder-8``."""
    return f"{model}-{code_size}"


@dataclass(frozen=True)
class AutoencoderRun:
    """The ``about`` of a trained autoencoder: which kind, and its code size."""

    model: str
    latent_dim: int


def _job(
    model: str,
    code_size: int,
    hidden: list[int],
    activation: str,
    autoencoders: AutoencoderParams,
    n_features: int,
    noisy: bool = False,
) -> EnsembleJob:
    """One autoencoder, every seed in one ensemble: clean images to themselves, or noisy ones to clean.

    The denoiser (``noisy``) trains the first seed only: its one reader, the denoising figure,
    draws that seed, and no table or claim reads it.
    """
    seeds = autoencoders.seeds[:1] if noisy else autoencoders.seeds
    return EnsembleJob(
        Autoencoder,
        {"n_features": n_features, "code_size": code_size, "hidden": hidden, "activation": activation},
        reconstruction_loss,
        with_fixed_threads(autoencoders.train),
        tuple(seeds),
        model_key(model, code_size),
        AutoencoderRun(model, code_size),
        inputs="noisy" if noisy else "clean",
        targets="noisy_targets" if noisy else "clean",
    )


def train_autoencoders(
    train: pd.DataFrame, autoencoders: AutoencoderParams, executor: IsolatedExecutorParams
) -> TrainedModels:
    """A linear and a ReLU autoencoder per code size, and a denoising autoencoder."""
    images = torch.tensor(data_matrix(train), dtype=torch.float32)
    n_features = images.shape[1]
    jobs = {
        model_key(model, code_size): _job(
            model,
            code_size,
            autoencoders.hidden if hidden is None else hidden,
            activation,
            autoencoders,
            n_features,
        )
        for code_size in autoencoders.code_sizes
        for model, (hidden, activation) in AUTOENCODERS.items()
    }
    denoiser = _job(
        DENOISING,
        autoencoders.denoising_code_size,
        autoencoders.hidden,
        "relu",
        autoencoders,
        n_features,
        True,
    )
    jobs[model_key(DENOISING, autoencoders.denoising_code_size)] = denoiser
    noise = torch.Generator().manual_seed(autoencoders.seeds[0])
    clean = images.repeat(NOISY_COPIES, 1)
    noisy = clean + autoencoders.denoising_noise * torch.randn(clean.shape, generator=noise)
    tensors = {"clean": images, "noisy": noisy, "noisy_targets": clean}
    return train_ensembles(tensors, jobs, executor)


PcaBaselines = dict[int, PCA]
"""Code size → PCA fitted on the training images at that size: what the autoencoders must beat."""


def fit_pca_baselines(
    train: pd.DataFrame, autoencoders: AutoencoderParams
) -> tuple[PcaBaselines, dict[int, float]]:
    """PCA at every code size (deterministic: full SVD), and the seconds each fit took.

    The times come back apart from the fits: the child runs log them as ``train_seconds``.
    """
    images = data_matrix(train)
    baselines, fit_seconds = {}, {}
    for code_size in autoencoders.code_sizes:
        started = time.perf_counter()
        baselines[code_size] = PCA(n_components=code_size, svd_solver="full").fit(images)
        fit_seconds[code_size] = time.perf_counter() - started
    return baselines, fit_seconds


def autoencoder_codes(trained: TrainedModule, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every seed's codes and reconstructions of ``images``: ``(seeds, n, code)``, ``(seeds, n, 64)``."""
    with torch.no_grad():
        inputs = torch.tensor(images, dtype=torch.float32)
        codes = trained.module.eval().encode(inputs)
        return codes.numpy().astype(np.float64), trained.module.decoder(codes).numpy().astype(np.float64)


def probe_accuracy(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    test_codes: np.ndarray,
    test_labels: np.ndarray,
    max_iter: int,
) -> float:
    """Test accuracy of a logistic regression (on standardised codes) trained on the training codes."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(train_codes, train_labels)
    return float(probe.score(test_codes, test_labels))


def evaluate_autoencoders(
    models: TrainedModels,
    pca_baselines: PcaBaselines,
    train: pd.DataFrame,
    test: pd.DataFrame,
    autoencoders: AutoencoderParams,
) -> pd.DataFrame:
    """``model, latent_dim, seed, reconstruction_mse, downstream_accuracy``: PCA, both autoencoders, pixels.

    The ``pixels`` row is the logistic regression on all 64 raw pixels: the baseline the codes
    are read against.
    """
    train_images, test_images = data_matrix(train), data_matrix(test)
    train_labels, test_labels = train["label"].to_numpy(), test["label"].to_numpy()
    max_iter, first_seed = autoencoders.probe_max_iter, autoencoders.seeds[0]
    rows = [
        {
            "model": "pixels",
            "latent_dim": train_images.shape[1],
            "seed": first_seed,
            "reconstruction_mse": 0.0,
            "downstream_accuracy": probe_accuracy(
                train_images, train_labels, test_images, test_labels, max_iter
            ),
        }
    ]
    for code_size in autoencoders.code_sizes:
        pca = pca_baselines[code_size]
        test_codes = pca.transform(test_images)
        rows.append(
            {
                "model": "pca",
                "latent_dim": code_size,
                "seed": first_seed,
                "reconstruction_mse": float(((pca.inverse_transform(test_codes) - test_images) ** 2).mean()),
                "downstream_accuracy": probe_accuracy(
                    pca.transform(train_images), train_labels, test_codes, test_labels, max_iter
                ),
            }
        )
        for model in AUTOENCODERS:
            trained = models[model_key(model, code_size)]
            train_codes, _ = autoencoder_codes(trained, train_images)
            codes, reconstructions = autoencoder_codes(trained, test_images)
            for index, seed in enumerate(trained.trained_record.seeds):
                rows.append(
                    {
                        "model": model,
                        "latent_dim": code_size,
                        "seed": seed,
                        "reconstruction_mse": float(((reconstructions[index] - test_images) ** 2).mean()),
                        "downstream_accuracy": probe_accuracy(
                            train_codes[index], train_labels, codes[index], test_labels, max_iter
                        ),
                    }
                )
    return pd.DataFrame(rows)


def denoising_examples(
    models: TrainedModels, test: pd.DataFrame, autoencoders: AutoencoderParams
) -> dict[str, np.ndarray]:
    """Test images, their noisy versions and the first seed's denoised outputs (``(n, 64)`` each)."""
    clean = data_matrix(test)[: autoencoders.grid_images]
    rng = np.random.default_rng(autoencoders.seeds[0])
    noisy = clean + autoencoders.denoising_noise * rng.standard_normal(clean.shape)
    _, denoised = autoencoder_codes(models[model_key(DENOISING, autoencoders.denoising_code_size)], noisy)
    return {"clean": clean, "noisy": noisy, "denoised": denoised[0]}
