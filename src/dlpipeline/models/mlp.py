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
        self.activation_name = activation
        shapes = [[in_features, *widths, out_features] for widths in member_widths]
        padded = [max(column) for column in zip(*shapes, strict=True)]
        self.groups = width_groups(shapes)
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
        with two- or eight-wide rows and made them four times slower (:func:`_rows_last`).
        Consecutive members of the same widths compute together on their true widths, not the
        padded ones (:func:`width_groups`), and the whole network is one autograd node whose
        backward is written out (:class:`_EnsembleFunction`).
        """
        masks = [getattr(self, f"mask{layer}") for layer in range(1, len(self.weights))]
        return _EnsembleFunction.apply(
            features,
            self.activation_name,
            self.groups,
            masks,
            len(self.weights),
            *self.weights,
            *self.biases,
        )


Group = tuple[int, int, tuple[int, ...]]
"""Members ``start:stop`` of an ensemble and the layer sizes they all have (inputs, widths…, outputs)."""


def width_groups(shapes: Sequence[Sequence[int]]) -> list[Group]:
    """Runs of consecutive members with the same layer sizes, in member order.

    A sweep's members come architecture by architecture, so its groups are its architectures:
    each computes on its own widths, and the padding (up to half of a sweep's units) is never
    read or written.
    """
    groups: list[Group] = []
    for member, sizes in enumerate(map(tuple, shapes)):
        if groups and groups[-1][2] == sizes:
            groups[-1] = (groups[-1][0], member + 1, sizes)
        else:
            groups.append((member, member + 1, sizes))
    return groups


def units_major_forward(
    features: torch.Tensor,
    activation: ActivationName,
    groups: Sequence[Group],
    masks: Sequence[torch.Tensor | None],
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
) -> tuple[torch.Tensor, list[list[torch.Tensor]]]:
    """The ensemble's forward pass in plain torch operations, group by group (:func:`width_groups`).

    Returns the logits ``(members, out_features, n)`` and, for each group, the inputs of each
    of its layers, units-major (the first as :func:`_rows_last` stores it). Run under autograd
    it is the reference the written-out backward of :class:`_EnsembleFunction` is held to.
    """
    rows_last = _rows_last(features, weights[0].shape[0])
    # Without autograd each group writes its logits into its slice of one tensor: no copy after.
    logits = (
        None
        if torch.is_grad_enabled()
        else rows_last.new_empty(weights[0].shape[0], weights[-1].shape[2], rows_last.shape[2])
    )
    pieces, inputs = [], []
    for start, stop, sizes in groups:
        group_logits, group_inputs = _group_forward(
            rows_last[start:stop],
            activation,
            *_group_layers(start, stop, sizes, weights, biases),
            [
                None if mask is None else mask[start:stop, :, : sizes[1 + index]]
                for index, mask in enumerate(masks)
            ],
            None if logits is None else logits[start:stop],
        )
        pieces.append(group_logits)
        inputs.append(group_inputs)
    if logits is not None:
        return logits, inputs
    return torch.cat(pieces) if len(pieces) > 1 else pieces[0], inputs


def _group_layers(
    start: int,
    stop: int,
    sizes: Sequence[int],
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Views of the weights and biases of members ``start:stop`` trimmed to their true ``sizes``."""
    return (
        [weight[start:stop, : sizes[layer], : sizes[layer + 1]] for layer, weight in enumerate(weights)],
        [bias[start:stop, :, : sizes[layer + 1]] for layer, bias in enumerate(biases)],
    )


def _group_forward(
    inputs: torch.Tensor,
    activation: ActivationName,
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    masks: Sequence[torch.Tensor | None],
    out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One group's units-major logits (into ``out`` if given) and its layers' inputs (``inputs`` first)."""
    function = ACTIVATIONS[activation]
    # In place only where nothing records the pre-activation for a backward pass of its own.
    in_place = activation == "relu" and not torch.is_grad_enabled()
    layer_inputs = [inputs]
    last = len(weights) - 1
    hidden = torch.baddbmm(
        biases[0].transpose(1, 2), weights[0].transpose(1, 2), inputs, out=out if last == 0 else None
    )
    for layer, (weight, bias, mask) in enumerate(zip(weights[1:], biases[1:], masks, strict=True), start=1):
        hidden = hidden.clamp_min_(0) if in_place else function(hidden)
        if mask is not None:
            hidden = hidden * mask.transpose(1, 2)
        layer_inputs.append(hidden)
        hidden = torch.baddbmm(
            bias.transpose(1, 2), weight.transpose(1, 2), hidden, out=out if layer == last else None
        )
    return hidden, layer_inputs


class _EnsembleFunction(torch.autograd.Function):
    """The ensemble as one autograd node: :func:`units_major_forward`, then its gradients written out.

    Autograd would record about ten nodes per layer and group and run each backward step
    through its engine; at the sweep's sizes (hundreds of members of a few units) that
    bookkeeping costs as much as the products. The backward below runs, group by group, the
    products autograd runs, in the same layouts: for a layer ``z = Wᵀ a + bᵀ`` with upstream
    gradient ``g`` (units-major), ``∂Wᵀ = g aᵀ``, ``∂b = Σ_rows g`` and ``∂a = W g``, then
    through the activation (:func:`_activation_backward`). Padding gets a zero gradient.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        features: torch.Tensor,
        activation: ActivationName,
        groups: Sequence[Group],
        masks: Sequence[torch.Tensor | None],
        layers: int,
        *parameters: torch.Tensor,
    ) -> torch.Tensor:
        weights, biases = parameters[:layers], parameters[layers:]
        logits, inputs = units_major_forward(features, activation, groups, masks, weights, biases)
        ctx.save_for_backward(*weights, *(tensor for group in inputs for tensor in group))
        ctx.activation, ctx.groups, ctx.layers = activation, groups, layers
        ctx.shared_inputs, ctx.bias_shapes = features.dim() == 2, [bias.shape for bias in biases]
        return logits.transpose(1, 2)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_logits: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        layers, saved = ctx.layers, ctx.saved_tensors
        weights, inputs = saved[:layers], saved[layers:]
        wants = ctx.needs_input_grad[5:]
        weight_grads = [
            torch.zeros_like(weight) if wants[layer] else None for layer, weight in enumerate(weights)
        ]
        bias_grads = [
            torch.zeros(shape, dtype=grad_logits.dtype, device=grad_logits.device)
            if wants[layers + layer]
            else None
            for layer, shape in enumerate(ctx.bias_shapes)
        ]
        units_major = grad_logits.transpose(1, 2)
        features_grads = []
        for index, (start, stop, sizes) in enumerate(ctx.groups):
            grad = units_major[start:stop]
            group_inputs = inputs[index * layers : (index + 1) * layers]
            for layer in reversed(range(layers)):
                fan_in, fan_out = sizes[layer], sizes[layer + 1]
                if weight_grads[layer] is not None:
                    product = torch.bmm(grad, group_inputs[layer].transpose(1, 2))
                    weight_grads[layer][start:stop, :fan_in, :fan_out] = product.transpose(1, 2)
                if bias_grads[layer] is not None:
                    bias_grads[layer][start:stop, 0, :fan_out] = grad.sum(dim=2)
                weight = weights[layer][start:stop, :fan_in, :fan_out]
                if layer > 0:
                    grad = _activation_backward(ctx.activation, torch.bmm(weight, grad), group_inputs[layer])
                elif ctx.needs_input_grad[0]:
                    features_grads.append(torch.bmm(weight, grad).transpose(1, 2))
        features_grad = _features_grad(features_grads, ctx.shared_inputs) if features_grads else None
        return features_grad, None, None, None, None, *weight_grads, *bias_grads


def _activation_backward(
    activation: ActivationName, grad: torch.Tensor, output: torch.Tensor
) -> torch.Tensor:
    """``grad`` through the activation, from the (masked) activation's ``output``.

    Each derivative is read from the output, so a masked unit (output 0) passes nothing back:
    relu's ``output > 0``, tanh's ``1 − output²`` (tanh needs no mask), sigmoid's
    ``output (1 − output)``, which is 0 where the mask zeroed the output.
    """
    if activation == "relu":  # ``grad`` is the backward's own buffer: overwritten, not copied
        return torch.ops.aten.threshold_backward.grad_input(grad, output, 0, grad_input=grad)
    if activation == "tanh":
        return grad * (1 - output * output)
    if activation == "sigmoid":
        return grad * output * (1 - output)
    return grad


def _features_grad(group_grads: Sequence[torch.Tensor], shared_inputs: bool) -> torch.Tensor:
    """The inputs' gradient from each group's ``(group members, n, in_features)``: summed if shared."""
    if shared_inputs:
        return torch.stack([grad.sum(dim=0) for grad in group_grads]).sum(dim=0)
    return torch.cat(list(group_grads))


def _rows_last(features: torch.Tensor, members: int) -> torch.Tensor:
    """Every member's first-layer inputs, rows last ``(members, in_features, n)``; shared ones are not copied.

    Shared ``(n, d)`` inputs are transposed once to ``(d, n)`` and expanded over the members;
    ``(members, n, d)`` inputs are copied ``(members, d, n)``. Inputs stored rows-last make the
    backward product for the first weights (``gradᵀ (units, n) @ inputs (n, d)``) read its
    inputs transposed, which the CPU kernels do five times faster than plain ``(n, d)`` rows.
    """
    if features.dim() == 2:
        return features.t().contiguous().expand(members, *features.t().shape)
    return features.transpose(1, 2).contiguous()


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
