"""Multilayer perceptrons, trained many at once.

:class:`MLPEnsemble` holds many independent MLPs (one per configuration, seed and
restart) as stacked weight tensors, so a whole sweep trains as one batched model: a few
large matrix products per step instead of many tiny ones. Members may differ in width:
each layer is stored at the widest member's size, a narrower member's extra weights
start at zero and its extra units are masked off, so they stay zero and the member
computes exactly the narrow net. Member ``i`` draws ``torch.nn.Linear``'s default
initial weights for its true shape from its own generator seeded with ``seeds[i]``, so
a member starts (and, with Adam, trains) the same alone or among others.

Trained members are copied out of a batched ensemble into an ensemble of their own
(:meth:`MLPEnsemble.member_layers`, :meth:`MLPEnsemble.load_layers`), and scikit-learn's
``MLPClassifier`` weights become an ensemble too (:func:`sklearn_layers`), so every trained
MLP of the project is saved, loaded and evaluated the same way.
"""

import itertools
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch
from torch import nn

ActivationName = Literal["relu", "tanh", "sigmoid", "identity"]
DTypeName = Literal["float32", "float64"]
DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}

ACTIVATIONS: dict[str, nn.Module] = {
    "relu": nn.ReLU(),
    "tanh": nn.Tanh(),
    "sigmoid": nn.Sigmoid(),
    "identity": nn.Identity(),  # no activation: the network is a linear map, whatever its widths
}


class MLPEnsemble(nn.Module):
    """Independent MLPs ``in_features → *member_widths[i] → out_features``, one per seed.

    ``member_widths[i]`` lists member ``i``'s hidden-layer widths; all members have the
    same depth. Input ``(n, in_features)`` (shared by all members) or
    ``(members, n, in_features)``; output ``(members, n, out_features)`` logits.
    With ``bias=False`` every bias stays zero (never trained): each layer is ``x ↦ xW``.
    """

    def __init__(
        self,
        in_features: int,
        member_widths: Sequence[Sequence[int]],
        out_features: int,
        activation: ActivationName,
        seeds: Sequence[int],
        dtype: DTypeName = "float32",
        bias: bool = True,
    ) -> None:
        super().__init__()
        _check_members(member_widths, seeds, activation, dtype)
        self.activation = ACTIVATIONS[activation]
        shapes = [[in_features, *widths, out_features] for widths in member_widths]
        padded = [max(column) for column in zip(*shapes, strict=True)]
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer in range(len(padded) - 1):
            weight, layer_bias = _padded_linear_init(
                [(shape[layer], shape[layer + 1]) for shape in shapes],
                (padded[layer], padded[layer + 1]),
                generators,
            )
            self.weights.append(nn.Parameter(weight))
            # Without bias the biases are zero and frozen: no gradient, so Adam never moves them.
            self.biases.append(nn.Parameter(layer_bias if bias else torch.zeros_like(layer_bias), bias))
        for layer, width in enumerate(padded[1:-1], start=1):
            mask = (
                _unit_mask([shape[layer] for shape in shapes], width)
                if _needs_mask(self.activation)
                else None
            )
            self.register_buffer(f"mask{layer}", mask)
        # Initial weights are drawn in float32 whatever the dtype, so a seed means the same start.
        self.to(DTYPES[dtype])

    @classmethod
    def uniform(
        cls,
        in_features: int,
        hidden_widths: Sequence[int],
        out_features: int,
        activation: ActivationName,
        seeds: Sequence[int],
        dtype: DTypeName = "float32",
    ) -> "MLPEnsemble":
        """An ensemble whose members all have the hidden widths ``hidden_widths``."""
        return cls(in_features, [hidden_widths] * len(seeds), out_features, activation, seeds, dtype)

    @property
    def members(self) -> int:
        """Number of independent networks in the ensemble."""
        return self.weights[0].shape[0]

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the weights (inputs must have it too)."""
        return self.weights[0].dtype

    def member_layers(
        self, members: Sequence[int] | torch.Tensor, hidden_widths: Sequence[int]
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Copies of the weights and biases of ``members``, trimmed of padding to ``hidden_widths``.

        ``members`` must all have the hidden widths ``hidden_widths``; the result loads into
        ``MLPEnsemble.uniform(.., hidden_widths, .., seeds=<one per member>)`` with
        :meth:`load_layers`, which then computes what those members compute here.
        """
        index = torch.as_tensor(members, dtype=torch.long, device=self.weights[0].device)
        sizes = [self.weights[0].shape[1], *hidden_widths, self.weights[-1].shape[2]]
        weights, biases = [], []
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            fan_in, fan_out = sizes[layer], sizes[layer + 1]
            weights.append(weight.detach()[index, :fan_in, :fan_out].cpu().clone())
            biases.append(bias.detach()[index, :, :fan_out].cpu().clone())
        return weights, biases

    @torch.no_grad()
    def load_layers(self, weights: Sequence[torch.Tensor], biases: Sequence[torch.Tensor]) -> "MLPEnsemble":
        """Overwrite every layer with ``weights`` and ``biases``, cast to the ensemble's dtype.

        ``weights[l]`` is ``(members, fan_in, fan_out)`` and ``biases[l]`` ``(members, fan_out)``
        (or ``(members, 1, fan_out)``); a tensor that does not fit raises ``ValueError``.
        """
        if len(weights) != len(self.weights) or len(biases) != len(self.biases):
            raise ValueError(
                f"{len(weights)} weights and {len(biases)} biases for {len(self.weights)} layers"
            )
        pairs = [*zip(self.weights, weights, strict=True), *zip(self.biases, biases, strict=True)]
        for parameter, value in pairs:
            if value.numel() != parameter.numel() or value.shape[:1] != parameter.shape[:1]:
                shapes = f"{tuple(value.shape)} does not fit {tuple(parameter.shape)}"
                raise ValueError(f"a layer of shape {shapes}")
            parameter.copy_(value.reshape(parameter.shape))
        return self

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return every member's logits for ``features`` (a transposed view of units-major storage).

        Each layer runs units-major: a member's activations are stored ``(units, n)``, rows
        last, and each layer computes ``aᵀ ↦ Wᵀ aᵀ + bᵀ`` from transposed views of the same
        parameters. Every small per-member product, forward and backward, then reads and writes
        long contiguous rows; rows-major ``(n, units)`` left the batched CPU matrix products
        with two- or eight-wide rows and made them four times slower (:func:`_first_layer`).
        """
        hidden = _first_layer(features, self.weights[0], self.biases[0])
        for layer, (weight, bias) in enumerate(zip(self.weights[1:], self.biases[1:], strict=True), start=1):
            hidden = self.activation(hidden)
            mask = getattr(self, f"mask{layer}")
            if mask is not None:
                hidden = hidden * mask.transpose(1, 2)
            hidden = torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2), hidden)
        return hidden.transpose(1, 2)


def _first_layer(features: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The first layer of every member, units-major ``(members, fan_out, n)``; shared inputs are not copied.

    Shared ``(n, d)`` inputs are transposed once to ``(d, n)`` and expanded over the members;
    ``(members, n, d)`` inputs are copied ``(members, d, n)``. Inputs stored rows-last make the
    backward product for the first weights (``gradᵀ (units, n) @ inputs (n, d)``) read its
    inputs transposed, which the CPU kernels do five times faster than plain ``(n, d)`` rows.
    """
    if features.dim() == 2:
        rows_last = features.t().contiguous().expand(weight.shape[0], *features.t().shape)
    else:
        rows_last = features.transpose(1, 2).contiguous()
    return torch.baddbmm(bias.transpose(1, 2), weight.transpose(1, 2), rows_last)


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


def _check_members(
    member_widths: Sequence[Sequence[int]], seeds: Sequence[int], activation: str, dtype: str
) -> None:
    """Refuse empty ensembles, mismatched lengths, mixed depths, widths < 1, unknown names."""
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
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {list(DTYPES)}")


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


def parameters_per_network(layer_sizes: Sequence[int], bias: bool = True) -> int:
    """Weights and biases (none when ``bias`` is false) of one MLP with these layer sizes.

    ``layer_sizes``: inputs, hidden widths…, outputs.
    """
    return sum((fan_in + bias) * fan_out for fan_in, fan_out in itertools.pairwise(layer_sizes))


def sklearn_layers(
    coefs: Sequence[Sequence[np.ndarray]], intercepts: Sequence[Sequence[np.ndarray]]
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Float64 layers for :meth:`MLPEnsemble.load_layers` from scikit-learn MLPs, one per member.

    ``coefs[m]`` and ``intercepts[m]`` are member ``m``'s ``MLPClassifier.coefs_`` and
    ``intercepts_`` (same architecture for all). A binary classifier has one logistic output
    unit ``z`` and predicts class 1 where ``z > 0``: it becomes the two logits ``[0, z]``, whose
    argmax is that prediction. With more classes the softmax inputs are the logits as they are.
    """
    weights = [torch.from_numpy(np.stack(layer)).double() for layer in zip(*coefs, strict=True)]
    biases = [torch.from_numpy(np.stack(layer)).double() for layer in zip(*intercepts, strict=True)]
    if weights[-1].shape[-1] == 1:
        weights[-1] = torch.cat([torch.zeros_like(weights[-1]), weights[-1]], dim=-1)
        biases[-1] = torch.cat([torch.zeros_like(biases[-1]), biases[-1]], dim=-1)
    return weights, biases
