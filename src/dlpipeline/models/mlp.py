"""Multilayer perceptrons, trained many at once.

:class:`MLPEnsemble` holds many independent MLPs (one per configuration, seed and
restart) as stacked weight tensors, so a whole sweep trains as one batched model: a few
large matrix products per step instead of many tiny ones. Members may differ in width:
each layer is stored at the widest member's size, a narrower member's extra weights
start at zero and its extra units are masked off, so they stay zero and the member
computes exactly the narrow net. Member ``i`` draws ``torch.nn.Linear``'s default
initial weights for its true shape from its own generator seeded with ``seeds[i]``, so
a member starts (and, with Adam, trains) the same alone or among others.
"""

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

ActivationName = Literal["relu", "tanh", "sigmoid"]

ACTIVATIONS: dict[str, nn.Module] = {
    "relu": nn.ReLU(),
    "tanh": nn.Tanh(),
    "sigmoid": nn.Sigmoid(),
}


class MLPEnsemble(nn.Module):
    """Independent MLPs ``in_features → *member_widths[i] → out_features``, one per seed.

    ``member_widths[i]`` lists member ``i``'s hidden-layer widths; all members have the
    same depth. Input ``(n, in_features)`` (shared by all members) or
    ``(members, n, in_features)``; output ``(members, n, out_features)`` logits.
    """

    def __init__(
        self,
        in_features: int,
        member_widths: Sequence[Sequence[int]],
        out_features: int,
        activation: ActivationName,
        seeds: Sequence[int],
    ) -> None:
        super().__init__()
        _check_members(member_widths, seeds, activation)
        self.activation = ACTIVATIONS[activation]
        shapes = [[in_features, *widths, out_features] for widths in member_widths]
        padded = [max(column) for column in zip(*shapes, strict=True)]
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer in range(len(padded) - 1):
            weight, bias = _padded_linear_init(
                [(shape[layer], shape[layer + 1]) for shape in shapes],
                (padded[layer], padded[layer + 1]),
                generators,
            )
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))
        for layer, width in enumerate(padded[1:-1], start=1):
            mask = (
                _unit_mask([shape[layer] for shape in shapes], width)
                if _needs_mask(self.activation)
                else None
            )
            self.register_buffer(f"mask{layer}", mask)

    @classmethod
    def uniform(
        cls,
        in_features: int,
        hidden_widths: Sequence[int],
        out_features: int,
        activation: ActivationName,
        seeds: Sequence[int],
    ) -> "MLPEnsemble":
        """An ensemble whose members all have the hidden widths ``hidden_widths``."""
        return cls(in_features, [hidden_widths] * len(seeds), out_features, activation, seeds)

    @property
    def members(self) -> int:
        """Number of independent networks in the ensemble."""
        return self.weights[0].shape[0]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return every member's logits for ``features``."""
        hidden = _first_layer(features, self.weights[0], self.biases[0])
        for layer, (weight, bias) in enumerate(zip(self.weights[1:], self.biases[1:], strict=True), start=1):
            hidden = self.activation(hidden)
            mask = getattr(self, f"mask{layer}")
            if mask is not None:
                hidden = hidden * mask
            hidden = torch.baddbmm(bias, hidden, weight)
        return hidden


def _first_layer(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The first layer of every member; shared ``(n, d)`` inputs take one matrix product for all."""
    if features.dim() == 3:
        return torch.baddbmm(bias, features, weight)
    members, fan_in, fan_out = weight.shape
    stacked = features @ weight.permute(1, 0, 2).reshape(fan_in, members * fan_out)
    return stacked.reshape(len(features), members, fan_out).transpose(0, 1) + bias


def _needs_mask(activation: nn.Module) -> bool:
    """Whether padded units must be masked: only if the activation of 0 is not 0 (sigmoid).

    A padded unit has zero incoming weights and bias, so its pre-activation is 0; when
    the activation maps 0 to 0 (relu, tanh) the unit outputs 0 and every gradient that
    reaches its padded weights is 0, so Adam never moves them.
    """
    return bool(activation(torch.zeros(1)).abs().item() > 0)


def _unit_mask(true_widths: list[int], padded_width: int) -> torch.Tensor:
    """``(members, 1, padded_width)``: 1 for each member's real units, 0 for its padding."""
    units = torch.arange(padded_width)
    return (units < torch.tensor(true_widths)[:, None]).float().unsqueeze(1)


def _check_members(member_widths: Sequence[Sequence[int]], seeds: Sequence[int], activation: str) -> None:
    """Refuse empty ensembles, mismatched lengths, mixed depths, widths < 1 and unknown activations."""
    if not seeds:
        raise ValueError("an MLPEnsemble needs at least one seed")
    if len(member_widths) != len(seeds):
        raise ValueError(f"{len(member_widths)} member widths for {len(seeds)} seeds")
    if len({len(widths) for widths in member_widths}) != 1:
        raise ValueError("all members of an MLPEnsemble need the same number of hidden layers")
    if any(width < 1 for widths in member_widths for width in widths):
        raise ValueError(f"hidden layer widths must be >= 1, got {sorted(set(map(tuple, member_widths)))}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")


def _padded_linear_init(
    member_shapes: Sequence[tuple[int, int]],
    padded_shape: tuple[int, int],
    generators: Sequence[torch.Generator],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``nn.Linear``'s default init, U(±1/√fan_in), for each member's true shape.

    Returns zero-padded weights ``(members, *padded_shape)`` and biases
    ``(members, 1, padded_fan_out)``.
    """
    members = len(member_shapes)
    weights = torch.zeros(members, *padded_shape)
    biases = torch.zeros(members, 1, padded_shape[1])
    for member, ((fan_in, fan_out), generator) in enumerate(zip(member_shapes, generators, strict=True)):
        bound = 1.0 / math.sqrt(fan_in)
        weights[member, :fan_in, :fan_out].uniform_(-bound, bound, generator=generator)
        biases[member, :, :fan_out].uniform_(-bound, bound, generator=generator)
    return weights, biases
