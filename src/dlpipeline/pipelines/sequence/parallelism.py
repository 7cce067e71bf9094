"""What "parallelizable" means, counted: the operations a forward pass must run one after another.

A forward pass is a graph of operations; those on one path from the input to the output
must run in turn, while operations on different paths may run at the same time. The longest
such path (the critical path) is the number of sequential steps no amount of hardware
removes. A recurrent cell's path runs through every time step, so it grows with the sequence;
a Transformer's runs through its layers, each of which attends to every position at once.

The count is read from the autograd graph of one forward pass on a freshly built model
(nothing is trained or timed, so it is the same on every machine). A recurrent cell is
written out step by step (:func:`dlpipeline.models.recurrent.unroll`, the network's own
weights): PyTorch's fused LSTM kernel is one node of the graph, which would hide the loop
over time that it runs inside.
"""

import pandas as pd
import torch
from matplotlib.figure import Figure
from torch import nn

from dlpipeline.models.recurrent import RecurrentModel, unroll
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.sequence.params import ModelName, ParallelismParams

INPUT_SIZE = 2
"""Channels of the probe input (the adding problem's value and marker)."""


def critical_path(output: torch.Tensor, inputs: torch.Tensor) -> int:
    """The most operations on one path from ``inputs`` to ``output`` in ``output``'s autograd graph.

    ``inputs`` must be a leaf that requires gradients; paths that do not reach it (from the
    weights) are not counted.
    """
    if output.grad_fn is None:
        raise ValueError("output has no autograd graph: run the forward pass with gradients enabled")
    longest: dict[object, int] = {}
    pending: list[tuple[object, bool]] = [(output.grad_fn, False)]
    unreachable = -1
    while pending:
        node, expanded = pending.pop()
        if node in longest:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if not expanded:
            pending.append((node, True))
            pending.extend((child, False) for child in children if child not in longest)
            continue
        if getattr(node, "variable", None) is inputs:
            longest[node] = 0
            continue
        below = [longest[child] for child in children if longest[child] != unreachable]
        longest[node] = 1 + max(below) if below else unreachable
    if longest[output.grad_fn] == unreachable:
        raise ValueError("the output does not depend on the inputs")
    return longest[output.grad_fn]


def sequential_steps(model: nn.Module, seq_len: int) -> int:
    """The critical path of one forward pass of ``model`` over a sequence of ``seq_len`` steps."""
    inputs = torch.zeros(1, seq_len, INPUT_SIZE, requires_grad=True)
    with torch.enable_grad():
        output = unroll(model, inputs).output if isinstance(model, RecurrentModel) else model(inputs)
    return critical_path(output, inputs)


def sequential_steps_table(parallelism: ParallelismParams) -> pd.DataFrame:
    """Per cell and length: sequential steps of one forward pass, and their growth since the shortest length.

    ``growth`` is the count divided by the same cell's count at the shortest length: 1 for a
    model whose sequential steps do not depend on the length, ``T / T_0`` for one that takes
    a constant number of steps per position.
    """
    rows = []
    for cell in parallelism.cells:
        counts = {seq_len: _count(cell, seq_len, parallelism) for seq_len in parallelism.seq_lens}
        shortest = counts[parallelism.seq_lens[0]]
        rows.extend(
            {"cell": cell, "seq_len": seq_len, "sequential_steps": count, "growth": count / shortest}
            for seq_len, count in counts.items()
        )
    return pd.DataFrame(rows)


def _count(cell: ModelName, seq_len: int, parallelism: ParallelismParams) -> int:
    """Sequential steps of a fresh ``cell`` (weights from seed 0) at ``seq_len``."""
    torch.manual_seed(0)
    shape = SequenceShape(input_size=INPUT_SIZE, output_size=1, max_len=seq_len)
    model = build_model(cell, shape, parallelism.hidden_size, parallelism.n_heads, parallelism.n_layers)
    return sequential_steps(model.module, seq_len)


def plot_sequential_steps(table: pd.DataFrame) -> Figure:
    """Sequential steps of one forward pass against the sequence length, one line per cell (log-log)."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    ax = figure.subplots()
    for cell, rows in table.groupby("cell", sort=False):
        ax.plot(rows["seq_len"], rows["sequential_steps"], marker="o", label=str(cell))
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel("operations run one after another")
    ax.set_title("one forward pass: sequential steps against sequence length")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return figure
