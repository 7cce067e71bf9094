"""Networks for scenes (a digit somewhere on a larger canvas), many seeds trained as one module.

:class:`DetectorEnsemble` finds the digit: ``[conv 3×3 → ReLU → max-pool 2×2] × len(filters)``,
then two heads on the last feature maps: the class from each map's maximum over all positions
(the same answer wherever the digit sits: a dense layer on the flattened maps would have to
learn every class at every position anew), and the box's 4 coordinates from a dense layer on
the flattened maps (where the digit sits is exactly what it must keep).

:class:`FullyConvEnsemble` labels every pixel:
``[conv 3×3 (dilation d) → ReLU] × len(dilations) → conv 1×1``: one logit per pixel (the pixel
belongs to the object, or not), no dense layer, so it takes a canvas of any size and answers
for every pixel of it. Growing dilations widen what each pixel's answer sees (its receptive
field) without pooling away the resolution. As in :class:`~dlpipeline.models.cnn.ConvNetEnsemble`,
every convolution is one grouped convolution (group ``i`` = member ``i``) and member ``i`` draws
torch's default initial weights from a generator seeded with ``seeds[i]`` (both classes).
"""

import itertools
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional

from dlpipeline.models.cnn import _uniform_init


def member_copies(images: torch.Tensor, members: int) -> torch.Tensor:
    """One copy of one-channel ``images`` ``(n, 1, rows, cols)`` per member: ``(n, members, rows, cols)``.

    Channels-last memory: a grouped convolution of one input channel a group runs about twice as
    fast on a CPU in that layout (as in :class:`~dlpipeline.models.cnn.ConvNetEnsemble`).
    """
    return images.expand(-1, members, -1, -1).contiguous(memory_format=torch.channels_last)


class DetectorEnsemble(nn.Module):
    """``len(seeds)`` detectors: images ``(n, 1, rows, cols)`` → ``(members, n, n_classes + 4)``.

    The last 4 outputs are the box ``x0, y0, x1, y1`` as shares of the canvas side.
    """

    def __init__(
        self, in_shape: tuple[int, int, int], n_classes: int, filters: Sequence[int], seeds: Sequence[int]
    ) -> None:
        super().__init__()
        if not seeds or not filters or min(filters) < 1 or min(in_shape[1:]) >> len(filters) < 1:
            raise ValueError(f"{len(filters)} pooled blocks of {list(filters)} filters do not fit {in_shape}")
        self.members = len(seeds)
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for c_in, c_out in itertools.pairwise([in_shape[0], *filters]):
            weight, bias = _uniform_init((c_out, c_in, 3, 3), generators)
            self.weights.append(nn.Parameter(weight.flatten(0, 1)))
            self.biases.append(nn.Parameter(bias.flatten()))
        cells = (in_shape[1] >> len(filters)) * (in_shape[2] >> len(filters))
        class_weight, class_bias = _uniform_init((filters[-1], n_classes), generators)
        box_weight, box_bias = _uniform_init((filters[-1] * cells, 4), generators)
        self.class_weight, self.class_bias = nn.Parameter(class_weight), nn.Parameter(class_bias)
        self.box_weight, self.box_bias = nn.Parameter(box_weight), nn.Parameter(box_bias)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's class logits and box for ``images``."""
        maps = member_copies(images, self.members)
        for weight, bias in zip(self.weights, self.biases, strict=True):
            maps = functional.max_pool2d(
                functional.relu(functional.conv2d(maps, weight, bias, padding=1, groups=self.members)), 2
            )
        per_member = maps.unflatten(1, (self.members, -1)).transpose(0, 1)  # (members, n, c, rows, cols)
        strongest = per_member.amax(dim=(-2, -1))
        classes = torch.baddbmm(self.class_bias, strongest, self.class_weight)
        boxes = torch.baddbmm(self.box_bias, per_member.flatten(2), self.box_weight)
        return torch.cat([classes, boxes], dim=-1)


class FullyConvEnsemble(nn.Module):
    """``len(seeds)`` fully-convolutional pixel labellers.

    Images ``(n, 1, rows, cols)`` → logits ``(members, n, rows, cols)``.
    """

    def __init__(self, channels: int, dilations: Sequence[int], seeds: Sequence[int]) -> None:
        super().__init__()
        if not seeds or not dilations or channels < 1 or min(dilations) < 1:
            raise ValueError("a FullyConvEnsemble needs seeds, dilations (each >= 1) and channels >= 1")
        self.members = len(seeds)
        self.dilations = tuple(dilations)
        generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        widths = [1] + [channels] * len(dilations)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for c_in, c_out in itertools.pairwise(widths):
            weight, bias = _uniform_init((c_out, c_in, 3, 3), generators)
            self.weights.append(nn.Parameter(weight.flatten(0, 1)))
            self.biases.append(nn.Parameter(bias.flatten()))
        weight, bias = _uniform_init((1, channels, 1, 1), generators)
        self.weights.append(nn.Parameter(weight.flatten(0, 1)))
        self.biases.append(nn.Parameter(bias.flatten()))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Every member's logit for every pixel of ``images``."""
        maps = member_copies(images, self.members)
        for layer, dilation in enumerate(self.dilations):
            maps = functional.conv2d(
                maps,
                self.weights[layer],
                self.biases[layer],
                padding=dilation,
                dilation=dilation,
                groups=self.members,
            )
            maps = functional.relu(maps)
        logits = functional.conv2d(maps, self.weights[-1], self.biases[-1], groups=self.members)
        return logits.transpose(0, 1)


def ensemble_mask_loss(logits: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Each member's pixel loss: binary cross-entropy plus one minus the soft Dice overlap, ``(members,)``.

    The object covers a few per cent of a canvas; cross-entropy alone is content to call every
    pixel background, the Dice term counts the object's pixels as a whole.
    """
    targets = masks.to(logits.dtype).expand_as(logits)
    cross_entropy = functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probabilities = torch.sigmoid(logits)
    overlap = (probabilities * targets).sum(dim=(-2, -1))
    dice = (2 * overlap + 1) / (probabilities.sum(dim=(-2, -1)) + targets.sum(dim=(-2, -1)) + 1)
    return cross_entropy.mean(dim=(1, 2, 3)) + (1 - dice).mean(dim=1)
