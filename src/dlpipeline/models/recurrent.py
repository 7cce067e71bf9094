"""Recurrent sequence models: one module serves the vanilla tanh RNN, the LSTM and the GRU.

:class:`RecurrentModel` picks its cell by name (as pytorch/examples' ``RNNModel`` does) and
reads out either the last step (many-to-one) or every step (many-to-many). For the
vanishing-gradient evidence, :func:`unroll` recomputes the same network one step at a
time from the module's own weights, exposing every hidden state (to take the gradient
of the loss with respect to it) and, for the LSTM, every gate activation.

Variable-length batches are right-padded and carry a **validity mask as their last
feature channel** (1 for a real step, 0 for padding), so that the shared training loop,
which indexes one features tensor by row, batches them unchanged; see
:func:`split_mask`. The cells are causal, so padding after a sequence's last step never
changes its outputs: the many-to-one readout takes the hidden state at each sequence's
own last valid step.
"""

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

CellName = Literal["rnn", "lstm", "gru"]
Readout = Literal["last", "every"]

CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
LSTM_GATES = ("input", "forget", "output")


def split_mask(features: torch.Tensor, masked: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Split ``(n, T, d + 1)`` masked features into inputs ``(n, T, d)`` and mask ``(n, T)``.

    Unmasked features ``(n, T, d)`` are returned as they are, with no mask.
    """
    if not masked:
        return features, None
    return features[..., :-1], features[..., -1]


def last_valid_step(outputs: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Each sequence's output ``(n, T, h)`` at its last valid step → ``(n, h)``."""
    if mask is None:
        return outputs[:, -1]
    last = mask.sum(dim=1).long().clamp(min=1) - 1
    return outputs[torch.arange(len(outputs), device=outputs.device), last]


class RecurrentModel(nn.Module):
    """A one-layer ``rnn`` (tanh), ``lstm`` or ``gru`` with a linear head.

    Input ``(n, T, input_size)``, or ``(n, T, input_size + 1)`` with the validity mask
    last when ``masked``. Output ``(n, output_size)`` for ``readout="last"`` or
    ``(n, T, output_size)`` for ``readout="every"``. The LSTM's forget-gate bias starts
    at 1 (Gers et al. 2000; Jozefowicz et al. 2015), so it remembers by default.
    """

    def __init__(
        self,
        cell: CellName,
        input_size: int,
        hidden_size: int,
        output_size: int,
        readout: Readout = "last",
        masked: bool = False,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(CELLS)}")
        self.cell = cell
        self.readout = readout
        self.masked = masked
        self.recurrent = CELLS[cell](input_size, hidden_size)
        self.head = nn.Linear(hidden_size, output_size)
        if cell == "lstm":
            with torch.no_grad():
                self.recurrent.bias_ih_l0[hidden_size : 2 * hidden_size].fill_(1.0)
                self.recurrent.bias_hh_l0[hidden_size : 2 * hidden_size].fill_(0.0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Outputs at the last valid step, or at every step."""
        inputs, mask = split_mask(features, self.masked)
        # Time-major, the layout the cell's kernels work in: a batch-first cell returns a
        # transposed view, and the gradient of a last-step readout (zeros at every other
        # step) is then copied back into that layout on each backward pass.
        steps_first, _ = self.recurrent(inputs.transpose(0, 1))
        if self.readout == "last" and mask is None:
            return self.head(steps_first[-1])
        outputs = steps_first.transpose(0, 1)
        if self.readout == "every":
            return self.head(outputs)
        return self.head(last_valid_step(outputs, mask))


@dataclass(frozen=True)
class Unrolled:
    """The network recomputed step by step: its output, every hidden state and LSTM gate."""

    output: torch.Tensor
    """What :meth:`RecurrentModel.forward` returns for the same (unmasked) input."""
    hidden: list[torch.Tensor]
    """``T`` hidden states ``(n, hidden_size)``, part of the graph of ``output``."""
    gates: dict[str, torch.Tensor]
    """LSTM only: ``input``/``forget``/``output`` gates and the ``cell`` state, each ``(n, T, h)``."""


def unroll(model: RecurrentModel, inputs: torch.Tensor, zero_cell_state: bool = False) -> Unrolled:
    """Run ``model`` on unmasked ``inputs`` ``(n, T, d)`` one step at a time with its own weights.

    ``zero_cell_state`` (LSTM only) is an ablation: the cell state is zeroed after every step,
    so nothing but the hidden state carries information from one step to the next.
    """
    layer = model.recurrent
    weight_ih, weight_hh = layer.weight_ih_l0, layer.weight_hh_l0
    bias_ih, bias_hh = layer.bias_ih_l0, layer.bias_hh_l0
    hidden = inputs.new_zeros(len(inputs), layer.hidden_size)
    cell_state = torch.zeros_like(hidden)
    states: list[torch.Tensor] = []
    gates: dict[str, list[torch.Tensor]] = {}
    for step in range(inputs.shape[1]):
        from_input = inputs[:, step] @ weight_ih.T + bias_ih
        from_hidden = hidden @ weight_hh.T + bias_hh
        if model.cell == "rnn":
            hidden = torch.tanh(from_input + from_hidden)
        elif model.cell == "lstm":
            hidden, cell_state, activations = _lstm_step(from_input + from_hidden, cell_state)
            if zero_cell_state:
                cell_state = torch.zeros_like(cell_state)
            for name, value in activations.items():
                gates.setdefault(name, []).append(value)
        else:
            hidden = _gru_step(from_input, from_hidden, hidden)
        states.append(hidden)
    outputs = torch.stack(states, dim=1)
    output = model.head(outputs if model.readout == "every" else outputs[:, -1])
    return Unrolled(output, states, {name: torch.stack(values, dim=1) for name, values in gates.items()})


def _lstm_step(
    pre_activations: torch.Tensor, cell_state: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
    """One LSTM step from its gate pre-activations (PyTorch order: input, forget, cell, output)."""
    input_gate, forget_gate, candidate, output_gate = pre_activations.chunk(4, dim=-1)
    input_gate, forget_gate = torch.sigmoid(input_gate), torch.sigmoid(forget_gate)
    output_gate = torch.sigmoid(output_gate)
    cell_state = forget_gate * cell_state + input_gate * torch.tanh(candidate)
    hidden = output_gate * torch.tanh(cell_state)
    activations = {"input": input_gate, "forget": forget_gate, "output": output_gate, "cell": cell_state}
    return hidden, cell_state, activations


def _gru_step(from_input: torch.Tensor, from_hidden: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """One GRU step (PyTorch order: reset, update, new)."""
    input_reset, input_update, input_new = from_input.chunk(3, dim=-1)
    hidden_reset, hidden_update, hidden_new = from_hidden.chunk(3, dim=-1)
    reset = torch.sigmoid(input_reset + hidden_reset)
    update = torch.sigmoid(input_update + hidden_update)
    new = torch.tanh(input_new + reset * hidden_new)
    return (1 - update) * new + update * hidden


def hidden_gradient_norms(
    model: RecurrentModel, inputs: torch.Tensor, targets: torch.Tensor, loss_fn: nn.Module
) -> torch.Tensor:
    """``(T,)``: the mean over sequences of ‖∂loss/∂h_t‖ at every step ``t``.

    The loss is summed over sequences, so each sequence's gradient is its own.
    """
    unrolled = unroll(model, inputs)
    loss = loss_fn(unrolled.output, targets) * len(inputs)
    gradients = torch.autograd.grad(loss, unrolled.hidden)
    return torch.stack([gradient.norm(dim=-1).mean() for gradient in gradients]).detach()
