"""Multilayer perceptrons, trained many at once.

:class:`MLPEnsemble` holds ``members`` independent MLPs of the same shape (one per
seed or restart) as stacked weight tensors, so a whole sweep of seeds trains as one
batched model: a few large matrix products per step instead of many tiny ones.
Member ``i`` draws ``torch.nn.Linear``'s default initial weights from its own
generator seeded with ``seeds[i]``, so a member starts (and, with Adam, trains) the
same whether it is trained alone or among others.
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
    """``len(seeds)`` independent MLPs ``in_features → *hidden_widths → out_features``.

    Input ``(n, in_features)`` (shared by all members) or ``(members, n, in_features)``;
    output ``(members, n, out_features)`` logits.
    """

    def __init__(
        self,
        in_features: int,
        hidden_widths: Sequence[int],
        out_features: int,
        activation: ActivationName,
        seeds: Sequence[int],
    ) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("an MLPEnsemble needs at least one seed")
        if any(width < 1 for width in hidden_widths):
            raise ValueError(f"hidden layer widths must be >= 1, got {list(hidden_widths)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        self.widths = [in_features, *hidden_widths, out_features]
        self.activation = ACTIVATIONS[activation]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        for fan_in, fan_out in zip(self.widths[:-1], self.widths[1:], strict=True):
            weight, bias = _linear_init(fan_in, fan_out, generators)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))

    @property
    def members(self) -> int:
        """Number of independent networks in the ensemble."""
        return self.weights[0].shape[0]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return every member's logits for ``features``."""
        hidden = features
        last_layer = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            hidden = torch.baddbmm(bias, _expand(hidden, self.members), weight)
            if layer < last_layer:
                hidden = self.activation(hidden)
        return hidden


def _expand(features: torch.Tensor, members: int) -> torch.Tensor:
    """View shared ``(n, d)`` features as ``(members, n, d)`` without copying."""
    if features.dim() == 2:
        return features.unsqueeze(0).expand(members, -1, -1)
    return features


def _linear_init(
    fan_in: int, fan_out: int, generators: Sequence[torch.Generator]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``nn.Linear``'s default init, U(±1/√fan_in), once per member generator.

    Returns weights ``(members, fan_in, fan_out)`` and biases ``(members, 1, fan_out)``.
    """
    bound = 1.0 / math.sqrt(fan_in)
    weights = [
        torch.empty(fan_in, fan_out).uniform_(-bound, bound, generator=generator) for generator in generators
    ]
    biases = [
        torch.empty(1, fan_out).uniform_(-bound, bound, generator=generator) for generator in generators
    ]
    return torch.stack(weights), torch.stack(biases)


def ensemble_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each member: logits ``(members, n, classes)`` → ``(members,)``."""
    members, rows, classes = logits.shape
    per_row = nn.functional.cross_entropy(
        logits.reshape(members * rows, classes), labels.repeat(members), reduction="none"
    )
    return per_row.reshape(members, rows).mean(dim=1)
