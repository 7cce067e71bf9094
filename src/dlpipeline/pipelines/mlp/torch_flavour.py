"""The torch flavour of the sweep: every configuration × seed × restart trained by the shared loop.

All configurations of the same depth, with all their seeds and restarts, form one
:class:`MLPEnsemble` trained in a single call of the loop (narrower members are padded).
Per seed, the restart with the lowest final *training* loss is kept: a guard against
dead ReLUs and poor local minima that never looks at test data. Each configuration's
kept members are then copied out, padding trimmed, into an ensemble of their own (one
member per seed): that is the trained model the catalog saves as ``torch-<widths>``.
"""

import logging
import time

import pandas as pd
import torch

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import MLPEnsemble, parameters_per_network
from dlpipeline.pipelines.mlp.params import SweepParams, TorchParams, model_name, widths_text
from dlpipeline.training import fit, seed_everything

logger = logging.getLogger(__name__)

IN_FEATURES = 2  # the toy sets are points of the plane


def fit_torch_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams
) -> dict[str, TrainedModule]:
    """Train the sweep with the shared loop: ``{"torch-<widths>": one member per seed}``, in sweep order.

    Each model's info holds ``seeds``, ``hidden_layers``, ``loss_history`` (epochs × seeds,
    of the kept members), ``train_seconds`` and how it was trained (``epochs``,
    ``learning_rate``, ``batch_size``, ``optimizer``, ``n_params``, ``weight_decay``,
    ``restarts``, ``kept_restarts``).
    """
    seed_everything(sweep.first_seed)
    features, labels = _as_tensors(train_points)
    n_classes = int(labels.max()) + 1
    models: dict[tuple[int, ...], TrainedModule] = {}
    for architectures in _by_depth(sweep.architectures):
        batched, losses, seconds = _train_as_one_batch(
            architectures, features, labels, n_classes, sweep, torch_params
        )
        for index, widths in enumerate(architectures):
            kept = kept_member_indices(losses[-1], index, len(sweep.seeds), torch_params.restarts)
            models[widths] = _kept_members(batched, kept, widths, sweep, torch_params.restarts).with_info(
                loss_history=losses[:, kept].numpy(),
                train_seconds=seconds / len(architectures),
                n_params=parameters_per_network([IN_FEATURES, *widths, n_classes]),
                **_how_trained(torch_params, n_train=len(features)),
            )
            logger.info(
                "torch %s neurons: final training loss %.3f (mean over seeds, best restart)",
                widths_text(widths),
                float(losses[-1, kept].mean()),
            )
    return {model_name("torch", widths): models[widths] for widths in sweep.architectures}


def _train_as_one_batch(
    architectures: list[tuple[int, ...]],
    features: torch.Tensor,
    labels: torch.Tensor,
    n_classes: int,
    sweep: SweepParams,
    torch_params: TorchParams,
) -> tuple[MLPEnsemble, torch.Tensor, float]:
    """Train architectures (one depth) × seeds × restarts as one ensemble: the model, its losses, seconds.

    Members are ordered architecture, then seed, then restart; member seed ``seed * 1000 + restart``.
    """
    seeds, restarts = sweep.seeds, torch_params.restarts
    member_widths = [widths for widths in architectures for _ in seeds for _ in range(restarts)]
    member_seeds = [
        seed * 1000 + restart for _ in architectures for seed in seeds for restart in range(restarts)
    ]
    started = time.perf_counter()
    model = MLPEnsemble(IN_FEATURES, member_widths, n_classes, sweep.activation, member_seeds)
    losses = fit(
        model,
        features,
        labels,
        ensemble_cross_entropy,
        torch_params.train,
        seed=sweep.first_seed,
        description=f"torch {len(architectures)} configurations",
    ).loss
    seconds = time.perf_counter() - started
    logger.info(
        "torch: %d configurations x %d seeds x %d restarts = %d networks trained as one batch "
        "in %.1f s (%d epochs)",
        len(architectures),
        len(seeds),
        restarts,
        len(member_seeds),
        seconds,
        torch_params.train.epochs,
    )
    return model, losses, seconds


def kept_member_indices(final_losses: torch.Tensor, index: int, n_seeds: int, restarts: int) -> torch.Tensor:
    """Members of the batch kept for its ``index``-th configuration: each seed's best restart."""
    offset = index * n_seeds * restarts
    return offset + _best_restarts(final_losses[offset : offset + n_seeds * restarts], n_seeds, restarts)


def _kept_members(
    batched: MLPEnsemble, kept: torch.Tensor, widths: tuple[int, ...], sweep: SweepParams, restarts: int
) -> TrainedModule:
    """The ``kept`` members of ``batched`` (one per seed, hidden widths ``widths``) as a model of their own.

    Its member seeds are the kept members' (``seed * 1000 + restart``), so rebuilding it
    from its arguments starts from the same weights the kept members started from.
    """
    kept_restarts = [int(member) % restarts for member in kept]
    trained = TrainedModule.build(
        MLPEnsemble,
        info={"seeds": sweep.seeds, "hidden_layers": list(widths), "kept_restarts": kept_restarts},
        in_features=IN_FEATURES,
        member_widths=[list(widths)] * len(sweep.seeds),
        out_features=batched.weights[-1].shape[-1],
        activation=sweep.activation,
        seeds=[seed * 1000 + restart for seed, restart in zip(sweep.seeds, kept_restarts, strict=True)],
    )
    trained.module.load_layers(*batched.member_layers(kept, widths))
    return trained


def _how_trained(torch_params: TorchParams, n_train: int) -> dict[str, str | int | float]:
    """The loop's settings under the shared names, plus the torch flavour's own (decay, restarts)."""
    train = torch_params.train
    return {
        "epochs": train.epochs,
        "learning_rate": train.learning_rate,
        "batch_size": min(train.batch_size or n_train, n_train),
        "optimizer": "adam",
        "weight_decay": train.weight_decay,
        "restarts": torch_params.restarts,
    }


def _by_depth(architectures: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """Group distinct architectures by number of hidden layers, keeping their order."""
    groups: dict[int, list[tuple[int, ...]]] = {}
    for widths in dict.fromkeys(architectures):
        groups.setdefault(len(widths), []).append(widths)
    return list(groups.values())


def _as_tensors(points: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Features as float32 and labels as int64 tensors."""
    features, labels = features_and_labels(points)
    return torch.tensor(features, dtype=torch.float32), torch.tensor(labels)


def _best_restarts(final_losses: torch.Tensor, n_seeds: int, restarts: int) -> torch.Tensor:
    """Indices of the ensemble member with the lowest final loss within each seed's restarts."""
    best_restart = final_losses.reshape(n_seeds, restarts).argmin(dim=1)
    return torch.arange(n_seeds) * restarts + best_restart
