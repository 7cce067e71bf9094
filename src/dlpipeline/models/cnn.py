"""Convolutional networks assembled from the notes' blocks, trained many at once.

One network is ``[conv → ReLU → pool] × N → flatten → dense → ReLU → dropout → linear``,
and softmax turns its logits into class probabilities (the loss applies it). The notes'
robot inspector: the convolution finds features, ReLU highlights them, pooling summarises
them, the dense layer is the expert, softmax the guess maker and dropout the quality
checker. With no blocks (``filters=()``) it is the MLP baseline: one dense hidden layer
with dropout.

:class:`ConvNetEnsemble` holds ``len(seeds)`` independent networks of one shape: each
convolution is a single grouped convolution (group ``i`` = member ``i``) and each dense
layer a batched matrix product, so all seeds of a configuration train as one module.
Member ``i`` draws torch's default initial weights (``nn.Conv2d`` / ``nn.Linear``:
U(±1/√fan_in)) from a generator seeded with ``seeds[i]``, so a member starts the same
whether it is trained alone or among others.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional

PoolingName = Literal["max", "avg", "none"]
POOL_SIZE = 2
"""Pooling windows are 2×2 with stride 2: each pooled block halves the height and width."""


@dataclass(frozen=True)
class ConvNetSpec:
    """The shape of one network: input, blocks, classifier head."""

    in_shape: tuple[int, int, int]
    """``(channels, rows, cols)`` of an input image."""
    n_classes: int
    filters: tuple[int, ...] = (16, 32)
    """Output channels of each [conv → ReLU → pool] block; empty for the MLP baseline."""
    kernel_size: int = 3
    pooling: PoolingName = "max"
    dense_units: int = 64
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (same padding), got {self.kernel_size}")
        if any(count < 1 for count in self.filters) or self.dense_units < 1 or self.n_classes < 2:
            raise ValueError(f"filters and dense_units must be positive and n_classes at least 2: {self}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.filters and min(self.block_shapes[-1][1:]) < 1:
            size = f"{self.in_shape[1]}x{self.in_shape[2]}"
            raise ValueError(f"{len(self.filters)} pooled blocks shrink {size} images to nothing")

    @property
    def model(self) -> Literal["cnn", "mlp"]:
        """``cnn`` with convolution blocks, ``mlp`` without."""
        return "cnn" if self.filters else "mlp"

    @property
    def block_shapes(self) -> list[tuple[int, int, int]]:
        """``(channels, rows, cols)`` of the feature maps after each block."""
        _, rows, cols = self.in_shape
        shapes = []
        for channels in self.filters:
            if self.pooling != "none":
                rows, cols = rows // POOL_SIZE, cols // POOL_SIZE
            shapes.append((channels, rows, cols))
        return shapes

    @property
    def flat_features(self) -> int:
        """Inputs of the dense layer: the last feature maps (or the image) flattened."""
        return math.prod(self.block_shapes[-1] if self.filters else self.in_shape)

    @property
    def n_params(self) -> int:
        """Trainable parameters of one network."""
        channels = [self.in_shape[0], *self.filters]
        conv = sum(c_out * (c_in * self.kernel_size**2 + 1) for c_in, c_out in itertools.pairwise(channels))
        dense = self.dense_units * (self.flat_features + 1)
        return conv + dense + self.n_classes * (self.dense_units + 1)


class ConvNetEnsemble(nn.Module):
    """``len(seeds)`` independent networks of shape ``spec``, trained as one module.

    Input images ``(n, channels, rows, cols)`` (shared by all members), or
    ``(members, n, channels, rows, cols)`` (each member its own, e.g. images attacked through
    that member's gradients); output logits ``(members, n, n_classes)``.
    """

    def __init__(self, spec: ConvNetSpec, seeds: Sequence[int]) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("a ConvNetEnsemble needs at least one seed")
        self.spec = spec
        self.members = len(seeds)
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.conv_weights = nn.ParameterList()
        self.conv_biases = nn.ParameterList()
        channels = [spec.in_shape[0], *spec.filters]
        for c_in, c_out in itertools.pairwise(channels):
            weight, bias = _uniform_init((c_out, c_in, spec.kernel_size, spec.kernel_size), generators)
            self.conv_weights.append(nn.Parameter(weight.flatten(0, 1)))  # (members * c_out, c_in, k, k)
            self.conv_biases.append(nn.Parameter(bias.flatten()))
        dense_weight, dense_bias = _uniform_init((spec.flat_features, spec.dense_units), generators)
        out_weight, out_bias = _uniform_init((spec.dense_units, spec.n_classes), generators)
        self.dense_weight, self.dense_bias = nn.Parameter(dense_weight), nn.Parameter(dense_bias)
        self.out_weight, self.out_bias = nn.Parameter(out_weight), nn.Parameter(out_bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's logits for ``images``."""
        hidden = functional.dropout(self.penultimate(images), self.spec.dropout, self.training)
        return torch.baddbmm(self.out_bias, hidden, self.out_weight)

    def penultimate(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's learned features of ``images``: the dense layer after ReLU, before dropout.

        ``(members, n, dense_units)``: what the output layer classifies, so a classifier fitted
        on them measures the features the network learned from the raw pixels.
        """
        maps = self._member_channels(images)
        for weight, bias in zip(self.conv_weights, self.conv_biases, strict=True):
            maps = self._pool(functional.relu(self._convolve(maps, weight, bias)))
        flat = maps.reshape(len(maps), self.members, -1).transpose(0, 1)
        return functional.relu(torch.baddbmm(self.dense_bias, flat, self.dense_weight))

    def trace(self, images: torch.Tensor) -> list[tuple[str, torch.Tensor]]:
        """Each block's conv, ReLU and pool outputs by name, as ``(members, n, channels, rows, cols)``."""
        stages = []
        maps = self._member_channels(images)
        for block, (weight, bias) in enumerate(
            zip(self.conv_weights, self.conv_biases, strict=True), start=1
        ):
            maps = self._convolve(maps, weight, bias)
            stages.append((f"block {block} conv", maps))
            maps = functional.relu(maps)
            stages.append((f"block {block} ReLU", maps))
            if self.spec.pooling != "none":
                maps = self._pool(maps)
                stages.append((f"block {block} {self.spec.pooling} pool", maps))
        return [(name, self._per_member(stage)) for name, stage in stages]

    def first_layer_filters(self) -> torch.Tensor:
        """The learned first-layer kernels ``(members, filters, in_channels, k, k)``."""
        if not self.spec.filters:
            raise ValueError("an MLP (no convolution blocks) has no filters")
        return self.conv_weights[0].detach().unflatten(0, (self.members, -1))

    def _member_channels(self, images: torch.Tensor) -> torch.Tensor:
        """Each member's copy of the input (or its own images): ``(n, members * channels, rows, cols)``.

        Channels-last memory makes the grouped convolutions and pooling of tiny images about
        twice as fast on a CPU as the default layout (max pooling alone, ten times). The
        copies are written straight into a new channels-last tensor: with one member and one
        channel the input's strides fit both layouts, and torch then keeps the default
        layout for every later layer.
        """
        own_images = images.dim() == 5  # (members, n, channels, rows, cols): one batch per member
        n, channels, rows, cols = images.shape[-4:]
        member_maps = torch.empty(
            (n, self.members * channels, rows, cols),
            dtype=images.dtype,
            device=images.device,
            memory_format=torch.channels_last,
        )
        member_maps.unflatten(1, (self.members, channels)).copy_(
            images.transpose(0, 1)
            if own_images
            else images.unsqueeze(1).expand(n, self.members, channels, rows, cols)
        )
        return member_maps

    def _convolve(self, maps: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """One grouped convolution with same padding: member ``i`` sees only its own channels."""
        return functional.conv2d(maps, weight, bias, padding=self.spec.kernel_size // 2, groups=self.members)

    def _pool(self, maps: torch.Tensor) -> torch.Tensor:
        """2×2 max or average pooling, or nothing."""
        if self.spec.pooling == "max":
            return functional.max_pool2d(maps, POOL_SIZE)
        if self.spec.pooling == "avg":
            return functional.avg_pool2d(maps, POOL_SIZE)
        return maps

    def _per_member(self, maps: torch.Tensor) -> torch.Tensor:
        """``(n, members * c, rows, cols)`` → ``(members, n, c, rows, cols)``."""
        return maps.unflatten(1, (self.members, -1)).transpose(0, 1)


class LinearEnsemble(nn.Module):
    """``len(seeds)`` softmax regressions on the raw pixels, trained as one module: the linear control.

    Takes images as :class:`ConvNetEnsemble` does (shared, or one batch per member) and gives
    logits ``(members, n, n_classes)``; each member starts from torch's default init drawn
    from its own seed, so it trains through the same loop, seeds and batches as the networks.
    """

    def __init__(self, in_shape: tuple[int, int, int], n_classes: int, seeds: Sequence[int]) -> None:
        super().__init__()
        if not seeds:
            raise ValueError("an ensemble needs at least one seed")
        self.members = len(seeds)
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        weight, bias = _uniform_init((math.prod(in_shape), n_classes), generators)
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's logits for ``images`` ``(n, c, rows, cols)`` or ``(members, n, c, rows, cols)``."""
        pixels = images.flatten(-3)
        if pixels.dim() == 2:
            pixels = pixels.expand(self.members, *pixels.shape)
        return torch.baddbmm(self.bias, pixels, self.weight)


def _uniform_init(
    shape: tuple[int, ...], generators: Sequence[torch.Generator]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw torch's default init U(±1/√fan_in) per member, from the member's own generator.

    ``shape`` is a conv weight ``(c_out, c_in, k, k)`` or a dense weight ``(fan_in, fan_out)``.
    Returns weights ``(members, *shape)`` and biases: ``(members, c_out)`` for a conv,
    ``(members, 1, fan_out)`` for a dense layer (ready for ``baddbmm``).
    """
    is_conv = len(shape) == 4
    fan_in = math.prod(shape[1:]) if is_conv else shape[0]
    bias_shape = (shape[0],) if is_conv else (1, shape[1])
    bound = 1.0 / math.sqrt(fan_in)
    weights, biases = [], []
    for generator in generators:
        weights.append(torch.empty(shape).uniform_(-bound, bound, generator=generator))
        biases.append(torch.empty(bias_shape).uniform_(-bound, bound, generator=generator))
    return torch.stack(weights), torch.stack(biases)
