"""The torch flavour of the sweep: every configuration × seed × restart trained by the shared loop.

All configurations of the same depth, with all their seeds and restarts, form one
:class:`MLPEnsemble` trained in a single call of the loop (narrower members are padded).
Per seed, the restart with the lowest final *training* loss is kept: a guard against
dead ReLUs and poor local minima that never looks at test data. Each configuration's
kept members are then copied out, padding trimmed, into an ensemble of their own (one
member per seed): that is the trained model the catalog saves as ``torch-<widths>``.
"""

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence

import pandas as pd
import torch
from torch import nn

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import ActivationName, MLPEnsemble, parameters_per_network
from dlpipeline.pipelines.mlp.configuration import DrawModels, MLPConfiguration
from dlpipeline.pipelines.mlp.data import draw_split
from dlpipeline.pipelines.mlp.params import SweepParams, TorchParams, model_name, widths_text
from dlpipeline.records import History, Timing
from dlpipeline.training import LossFunction, train_configuration

logger = logging.getLogger(__name__)

IN_FEATURES = 2  # the toy sets are points of the plane


def fit_torch_sweep(
    train_points: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams
) -> dict[str, TrainedModule]:
    """Train the sweep with the shared loop: ``{"torch-<widths>": one member per seed}``, in sweep order.

    Each model's record is its batch's (``restarts`` among its settings) with its own seeds
    and parameter count; its history holds the kept members' losses (epochs × seeds); its
    ``about`` is an :class:`MLPConfiguration` with the kept restarts. The batch's training
    time is shared out equally between its configurations.
    """
    features, labels = as_tensors(train_points)
    n_classes = int(labels.max()) + 1
    models: dict[tuple[int, ...], TrainedModule] = {}
    for architectures in _by_depth(sweep.architectures):
        batched = _train_as_one_batch(architectures, features, labels, sweep, torch_params)
        losses = batched.trained_history.loss
        for index, widths in enumerate(architectures):
            kept = kept_member_indices(losses[-1], index, len(sweep.seeds), torch_params.restarts)
            models[widths] = _configuration_model(
                batched, batched, kept, widths, n_classes, sweep, torch_params, len(architectures)
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
    sweep: SweepParams,
    torch_params: TorchParams,
) -> TrainedModule:
    """Train architectures (one depth) × seeds × restarts as one ensemble, with its record and losses.

    Members are ordered architecture, then seed, then restart; member seed ``seed * 1000 + restart``.
    """
    n_classes = int(labels.max()) + 1
    seeds, restarts = sweep.seeds, torch_params.restarts
    member_widths = [widths for widths in architectures for _ in seeds for _ in range(restarts)]
    member_seeds = [
        seed * 1000 + restart for _ in architectures for seed in seeds for restart in range(restarts)
    ]
    build = functools.partial(
        TrainedModule.build,
        MLPEnsemble,
        in_features=IN_FEATURES,
        member_widths=member_widths,
        out_features=n_classes,
        activation=sweep.activation,
        seeds=member_seeds,
    )
    what = f"{len(architectures)} configurations"
    return _trained_batch(
        build, features, labels, ensemble_cross_entropy, seeds, torch_params, what, len(member_seeds)
    )


def _trained_batch(
    build: Callable[[], TrainedModule],
    features: torch.Tensor,
    labels: torch.Tensor,
    loss: LossFunction,
    seeds: Sequence[int],
    torch_params: TorchParams,
    what: str,
    members: int,
) -> TrainedModule:
    """Train the ``members`` networks ``build`` makes (``what``, in words) as one batch; log its time."""
    batched = train_configuration(
        build,
        features,
        labels,
        loss,
        torch_params.train,
        seeds,
        f"torch {what}",
        members=members,
        settings={"restarts": torch_params.restarts},
    )
    logger.info(
        "torch: %s x %d seeds x %d restarts = %d networks trained as one batch in %.1f s (%d epochs)",
        what,
        len(seeds),
        torch_params.restarts,
        members,
        batched.timing.train_seconds,
        torch_params.train.epochs,
    )
    return batched


def _configuration_model(
    batched: TrainedModule,
    members: TrainedModule,
    kept: torch.Tensor,
    widths: tuple[int, ...],
    n_classes: int,
    sweep: SweepParams,
    torch_params: TorchParams,
    sharing: int,
) -> TrainedModule:
    """The ``kept`` members of ``members`` as one configuration of the batch ``batched``.

    It carries the batch's record with its own seeds and parameter count, its members' losses,
    and its share of the batch's time (split equally over ``sharing`` configurations).
    """
    losses = batched.trained_history.loss
    return _kept_members(members, kept, widths, sweep, torch_params.restarts).replace(
        record=dataclasses.replace(
            batched.trained_record,
            seeds=tuple(sweep.seeds),
            n_params=parameters_per_network([IN_FEATURES, *widths, n_classes], _has_bias(batched)),
        ),
        history=History(loss=losses[:, kept]),
        timing=Timing(batched.timing.train_seconds / sharing, batched.timing.cpu_seconds / sharing),
    )


def kept_member_indices(final_losses: torch.Tensor, index: int, n_seeds: int, restarts: int) -> torch.Tensor:
    """Members of the batch kept for its ``index``-th configuration: each seed's best restart."""
    offset = index * n_seeds * restarts
    return offset + _best_restarts(final_losses[offset : offset + n_seeds * restarts], n_seeds, restarts)


def _kept_members(
    batched: TrainedModule, kept: torch.Tensor, widths: tuple[int, ...], sweep: SweepParams, restarts: int
) -> TrainedModule:
    """The ``kept`` members of ``batched`` (one per seed, hidden widths ``widths``) as a model of their own.

    Its member seeds are the kept members' (``seed * 1000 + restart``), so rebuilding it
    from its arguments starts from the same weights the kept members started from.
    """
    kept_restarts = [int(member) % restarts for member in kept]
    trained = TrainedModule.build(
        MLPEnsemble,
        in_features=IN_FEATURES,
        member_widths=[list(widths)] * len(sweep.seeds),
        out_features=batched.module.weights[-1].shape[-1],
        activation=sweep.activation,
        seeds=[seed * 1000 + restart for seed, restart in zip(sweep.seeds, kept_restarts, strict=True)],
        **({} if _has_bias(batched) else {"bias": False}),
    )
    trained.module.load_layers(*batched.module.member_layers(kept, widths))
    return trained.replace(about=MLPConfiguration("torch", tuple(widths), tuple(kept_restarts)))


def _has_bias(model: TrainedModule) -> bool:
    """Whether the networks of ``model`` (a batch or its members) have biases."""
    return bool(model.kwargs.get("bias", True))


def _by_depth(architectures: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """Group distinct architectures by number of hidden layers, keeping their order."""
    groups: dict[int, list[tuple[int, ...]]] = {}
    for widths in dict.fromkeys(architectures):
        groups.setdefault(len(widths), []).append(widths)
    return list(groups.values())


def as_tensors(points: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Features as float32 and labels as int64 tensors."""
    features, labels = features_and_labels(points)
    return torch.tensor(features, dtype=torch.float32), torch.tensor(labels)


def _best_restarts(final_losses: torch.Tensor, n_seeds: int, restarts: int) -> torch.Tensor:
    """Indices of the ensemble member with the lowest final loss within each seed's restarts."""
    best_restart = final_losses.reshape(n_seeds, restarts).argmin(dim=1)
    return torch.arange(n_seeds) * restarts + best_restart


class DrawEnsemble(nn.Module):
    """An :class:`MLPEnsemble` whose member ``i`` learns the points of draw ``member_draws[i]``.

    Its input is ``(n, draws, in_features)``: rows first, so the shared loop batches rows as
    it does for one set, and every draw must hold the same number of training points. Each
    member sees its own draw's rows and computes what it would compute alone.
    """

    def __init__(
        self,
        in_features: int,
        member_widths: list[list[int]],
        out_features: int,
        activation: ActivationName,
        seeds: list[int],
        member_draws: list[int],
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.ensemble = MLPEnsemble(in_features, member_widths, out_features, activation, seeds, bias=bias)
        self.register_buffer("member_draws", torch.tensor(member_draws, dtype=torch.long))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Every member's logits ``(members, n, out_features)`` for its own draw's rows."""
        return self.ensemble(features.transpose(0, 1)[self.member_draws])


def draw_cross_entropy(
    member_draws: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Each member's cross-entropy on its own draw's labels: labels ``(n, draws)`` → ``(members,)``."""
    return ensemble_cross_entropy(logits, labels.transpose(0, 1)[member_draws.to(labels.device)])


def fit_torch_draws(
    torch_models: dict[str, TrainedModule], draws: pd.DataFrame, sweep: SweepParams, torch_params: TorchParams
) -> DrawModels:
    """The sweep trained on every draw: draw 0 is ``torch_models`` as saved, the others train now.

    Draws 1, 2, … train as ONE batched model (:func:`fit_on_sets`), with the same seeds, restarts
    and loop as draw 0, and keep each seed's restart the same way (lowest final training loss).
    """
    extra = sorted(int(draw) for draw in draws["draw"].unique() if draw != 0)
    models: DrawModels = {0: torch_models}
    if not extra:
        return models
    trained = fit_on_sets([as_tensors(draw_split(draws, draw)[0]) for draw in extra], sweep, torch_params)
    models.update(zip(extra, trained, strict=True))
    return {draw: {name: models[draw][name] for name in torch_models} for draw in sorted(models)}


def fit_on_sets(
    train_sets: Sequence[tuple[torch.Tensor, torch.Tensor]],
    sweep: SweepParams,
    torch_params: TorchParams,
    bias: bool = True,
) -> list[dict[str, TrainedModule]]:
    """The sweep trained on each training set (features, labels), all sets in ONE batched model.

    Sets × configurations × seeds × restarts train together (any depth grouped as
    :func:`fit_torch_sweep` groups them; every set must hold the same number of points); each
    seed keeps its restart of lowest final training loss. Per set ``{"torch-<widths>": one member
    per seed}``; each model carries its kept members' loss history; the batch's time is shared
    equally. ``bias=False`` trains networks without biases (:class:`MLPEnsemble`).
    """
    features = torch.stack([features for features, _ in train_sets], dim=1)
    labels = torch.stack([labels for _, labels in train_sets], dim=1)
    n_classes = int(labels.max()) + 1
    models: list[dict[str, TrainedModule]] = [{} for _ in train_sets]
    for architectures in _by_depth(sweep.architectures):
        batched = _train_draws_as_one_batch(
            architectures, len(train_sets), features, labels, sweep, torch_params, bias
        )
        losses = batched.trained_history.loss
        per_set = len(architectures) * len(sweep.seeds) * torch_params.restarts
        for position in range(len(train_sets)):
            for index, widths in enumerate(architectures):
                kept = position * per_set + kept_member_indices(
                    losses[-1, position * per_set : (position + 1) * per_set],
                    index,
                    len(sweep.seeds),
                    torch_params.restarts,
                )
                members = batched.replace(module=batched.module.ensemble)
                models[position][model_name("torch", widths)] = _configuration_model(
                    batched,
                    members,
                    kept,
                    widths,
                    n_classes,
                    sweep,
                    torch_params,
                    len(train_sets) * len(architectures),
                )
    return [
        {model_name("torch", widths): trained[model_name("torch", widths)] for widths in sweep.architectures}
        for trained in models
    ]


def _train_draws_as_one_batch(
    architectures: list[tuple[int, ...]],
    n_draws: int,
    features: torch.Tensor,
    labels: torch.Tensor,
    sweep: SweepParams,
    torch_params: TorchParams,
    bias: bool = True,
) -> TrainedModule:
    """Train draws × architectures (one depth) × seeds × restarts as one ensemble.

    Members are ordered draw, architecture, seed, restart; member seed ``seed * 1000 + restart``
    as on draw 0, so a seed starts from the same weights on every draw.
    """
    n_classes = int(labels.max()) + 1
    seeds, restarts = sweep.seeds, torch_params.restarts
    per_draw = [
        (widths, seed * 1000 + restart)
        for widths in architectures
        for seed in seeds
        for restart in range(restarts)
    ]
    member_draws = [draw for draw in range(n_draws) for _ in per_draw]
    build = functools.partial(
        TrainedModule.build,
        DrawEnsemble,
        in_features=IN_FEATURES,
        member_widths=[list(widths) for _ in range(n_draws) for widths, _ in per_draw],
        out_features=n_classes,
        activation=sweep.activation,
        seeds=[seed for _ in range(n_draws) for _, seed in per_draw],
        member_draws=member_draws,
        bias=bias,
    )
    loss = functools.partial(draw_cross_entropy, torch.tensor(member_draws))
    what = f"{n_draws} more draws x {len(architectures)} configurations"
    return _trained_batch(build, features, labels, loss, seeds, torch_params, what, len(member_draws))
