"""The registry's champion of the generative experiment: the best autoencoder on the validation digits.

One family is registered (``generative.registry.family``): the autoencoders, which can be
scored on digits none of them trained on and no claim reads, the digits' validation split
(``generative.digits.val``, until now read only by the feature classifier). Every linear and
ReLU autoencoder is scored there (``val_reconstruction_mse``, logged on its child run); the
champion is the configuration, model and code size with every seed in one ensemble, with the
least of it. The generators are not ranked: their only scores compare samples with test data.
"""

import numpy as np
import pandas as pd

from dlpipeline.pipelines.generative.autoencoders import (
    AUTOENCODERS,
    autoencoder_codes,
    model_key,
)
from dlpipeline.pipelines.generative.params import AutoencoderParams, GenerativeRegistryParams
from dlpipeline.pipelines.generative.training import TrainedModels, data_matrix
from dlpipeline.registry import Champion, champion_among
from dlpipeline.tracking import LoggedRun


def run_name(model: str, code_size: int) -> str:
    """The child run of one autoencoder, such as ``autoencoder-8-digits``."""
    return f"{model_key(model, code_size)}-digits"


def validation_reconstruction(
    models: TrainedModels, val: pd.DataFrame, autoencoders: AutoencoderParams
) -> dict[str, float]:
    """Per autoencoder child run: the mean over seeds of the squared error per pixel on ``val``'s digits.

    Every seed of an ensemble reconstructs the validation digits in one pass; the models are
    only read, so nothing the claims read changes.
    """
    images = data_matrix(val)
    scores = {}
    for code_size in autoencoders.code_sizes:
        for model in AUTOENCODERS:
            _, reconstructions = autoencoder_codes(models[model_key(model, code_size)], images)
            per_seed = ((reconstructions - images) ** 2).mean(axis=(1, 2))
            scores[run_name(model, code_size)] = float(np.mean(per_seed))
    return scores


def generative_champion(
    child_runs: list[LoggedRun], validation: dict[str, float], registry: GenerativeRegistryParams
) -> Champion:
    """The autoencoder to register as ``generative.registry.name``: the least ``rank_by``."""
    return champion_among(child_runs, set(validation), registry)
