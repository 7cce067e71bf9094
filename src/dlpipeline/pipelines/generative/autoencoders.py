"""The notes' claim "autoencoders: feature extraction & dimensionality reduction", tested against PCA.

On the digits, for every code size: a linear autoencoder and a ReLU autoencoder (every seed in
one ensemble, through the shared loop) against PCA, by test reconstruction error and by how
well a logistic regression reads the digit from the codes. A denoising autoencoder learns to
undo Gaussian noise on the pixels.
"""

import time

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from dlpipeline.models.checkpoint import TrainedModule, count_parameters
from dlpipeline.models.generative import Autoencoder, reconstruction_loss
from dlpipeline.pipelines.generative.params import AutoencoderParams
from dlpipeline.pipelines.generative.training import TrainedModels, data_matrix
from dlpipeline.training import fit, seed_everything

AUTOENCODERS = {"linear_ae": ([], "linear"), "autoencoder": (None, "relu")}
"""Model name → (hidden widths, or ``None`` for the configured ones; activation)."""
DENOISING = "denoising"
NOISY_COPIES = 4  # noisy versions of each training image the denoiser sees


def model_key(model: str, code_size: int) -> str:
    """The name a trained autoencoder has in the model file, e.g. ``autoencoder-8``."""
    return f"{model}-{code_size}"


def _train_one(
    model: str,
    code_size: int,
    hidden: list[int],
    activation: str,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    autoencoders: AutoencoderParams,
) -> TrainedModule:
    """One autoencoder, every seed in one ensemble, trained to map ``inputs`` to ``targets``."""
    seeds = autoencoders.seeds
    seed_everything(seeds[0])
    network = TrainedModule.build(
        Autoencoder,
        n_features=inputs.shape[1],
        code_size=code_size,
        hidden=hidden,
        activation=activation,
        seeds=seeds,
    )
    started = time.perf_counter()
    history = fit(
        network.module,
        inputs,
        targets,
        reconstruction_loss,
        autoencoders.train,
        seeds[0],
        model_key(model, code_size),
    )
    return network.with_info(
        model=model,
        latent_dim=code_size,
        seeds=list(seeds),
        loss=history.loss.numpy(),
        n_train=len(inputs),
        train_config=autoencoders.train.model_dump(),
        n_params=count_parameters(network.module, members=len(seeds)),
        train_seconds=time.perf_counter() - started,
    )


def train_autoencoders(train: pd.DataFrame, autoencoders: AutoencoderParams) -> TrainedModels:
    """A linear and a ReLU autoencoder per code size, and a denoising autoencoder."""
    images = torch.tensor(data_matrix(train), dtype=torch.float32)
    trained = {}
    for code_size in autoencoders.code_sizes:
        for model, (hidden, activation) in AUTOENCODERS.items():
            widths = autoencoders.hidden if hidden is None else hidden
            trained[model_key(model, code_size)] = _train_one(
                model, code_size, widths, activation, images, images, autoencoders
            )
    noise = torch.Generator().manual_seed(autoencoders.seeds[0])
    clean = images.repeat(NOISY_COPIES, 1)
    noisy = clean + autoencoders.denoising_noise * torch.randn(clean.shape, generator=noise)
    trained[model_key(DENOISING, autoencoders.denoising_code_size)] = _train_one(
        DENOISING, autoencoders.denoising_code_size, autoencoders.hidden, "relu", noisy, clean, autoencoders
    )
    return trained


PcaBaselines = dict[int, PCA]
"""Code size → PCA fitted on the training images at that size: what the autoencoders must beat."""


def fit_pca_baselines(
    train: pd.DataFrame, autoencoders: AutoencoderParams
) -> tuple[PcaBaselines, dict[int, float]]:
    """PCA at every code size (deterministic: full SVD), and the seconds each fit took.

    The times are kept apart from the fits so the saved fits are the same bytes on every run.
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
            for index, seed in enumerate(trained.info["seeds"]):
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
