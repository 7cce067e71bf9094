"""Losses shared by the models: per-member cross-entropy for ensembles, MSE over valid steps.

A loss takes ``(outputs, targets)`` and returns a scalar, or one loss per ensemble member
(the shared loop minimises their sum, see :mod:`dlpipeline.training`).
"""

import torch
from torch import nn


def ensemble_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each member: logits ``(members, n, classes)`` → ``(members,)``.

    For two classes it is computed as ``softplus(±(z1 - z0))``, the same value as the
    softmax form in a third of the memory passes (these tiny nets are bandwidth-bound). The
    two logits are taken from the ``(members, classes, n)`` view, so the gradient reaches a
    units-major network (:class:`~dlpipeline.models.mlp.MLPEnsemble`) stored as it computes,
    ``(members, classes, n)``, and its backward products read contiguous rows.
    """
    members, rows, classes = logits.shape
    if classes == 2:
        return _TwoClassCrossEntropy.apply(logits, labels)
    per_row = nn.functional.cross_entropy(
        logits.reshape(members * rows, classes), labels.repeat(members), reduction="none"
    )
    return per_row.reshape(members, rows).mean(dim=1)


class _TwoClassCrossEntropy(torch.autograd.Function):
    """Each member's mean two-class cross-entropy ``softplus(m)`` of the margins ``m = ±(z1 − z0)``.

    Its gradient is written out, ``∂z1 = −∂z0 = ± sigmoid(m) / n`` per row: one node where
    autograd recorded seven, each a pass over every member's rows, and a sweep's loss costs
    as much as a layer of its networks.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, logits: torch.Tensor, labels: torch.Tensor
    ) -> torch.Tensor:
        sign = 1.0 - 2.0 * labels.to(logits.dtype)  # +1 for class 0, -1 for class 1
        by_class = logits.transpose(1, 2)
        margins = torch.sub(by_class[:, 1], by_class[:, 0]).mul_(sign)
        ctx.save_for_backward(margins, sign)
        return nn.functional.softplus(margins).mean(dim=1)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor
    ) -> tuple[torch.Tensor, None]:
        margins, sign = ctx.saved_tensors
        slopes = torch.sigmoid(margins).mul_(sign).mul_(grad[:, None] / margins.shape[1])
        # Written into one buffer: stacking ``-slopes`` and ``slopes`` copied both once more.
        by_class = margins.new_empty(margins.shape[0], 2, margins.shape[1])
        by_class[:, 1] = slopes
        torch.neg(slopes, out=by_class[:, 0])
        return by_class.transpose(1, 2), None


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """MSE over valid steps only: outputs ``(n, T, 1)``, targets ``(n, T, 2)`` (value, mask)."""
    mask = targets[..., 1]
    return (((outputs[..., 0] - targets[..., 0]) ** 2) * mask).sum() / mask.sum()


def softmax_mse(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """MSE between the softmax of ``logits`` ``(n, classes)`` and the one-hot ``labels`` ``(n,)``.

    The mean over every row and class (the Brier score divided by the number of classes): a
    classifier trained as a regression on one-hot targets, read out as probabilities like the
    cross-entropy's, so that only the loss differs.
    """
    targets = nn.functional.one_hot(labels, logits.shape[-1]).to(logits.dtype)
    return nn.functional.mse_loss(torch.softmax(logits, dim=-1), targets)
