"""How far a workload is from what the machine can do: its operations against the matmul peak.

A workload's floating-point operations are counted while it runs once (untimed) by
``torch.utils.flop_counter``, which sees the matrix products and convolutions of the forward
and backward passes. It cannot see inside PyTorch's fused recurrent kernels (on the CPU,
``nn.LSTM`` counts as zero), so a recurrent pass it misses is counted by hand from the
module's shapes (:func:`recurrent_flops`). The machine's limit is the best matrix-multiply rate
measured on the same number of threads (:func:`matmul_peak_gflops`); a workload's share of
peak is its achieved rate over that limit.
"""

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}
"""Matrix products per step of each recurrent cell: one per gate (and candidate)."""
BACKWARD_FACTOR = 2
"""A backward pass through a matrix product costs two of its forward products (input and weight grads)."""
PEAK_MATRIX_SIZE = 1024
PEAK_REPEATS = 10


def recurrent_flops(module: nn.RNNBase, batch: int, steps: int, backward: bool) -> int:
    """Floating-point operations of ``module`` over ``(batch, steps)`` inputs, counted from its shapes.

    Each layer (and direction) multiplies its input and its previous hidden state by one
    matrix per gate at every step: ``2 · batch · steps · (input + hidden) · gates · hidden``.
    With ``backward`` the two products of the backward pass are added.
    """
    gates = next(count for kind, count in GATES.items() if isinstance(module, kind))
    directions = 2 if module.bidirectional else 1
    hidden = module.hidden_size
    total = 0
    for layer in range(module.num_layers):
        layer_input = module.input_size if layer == 0 else hidden * directions
        total += directions * 2 * batch * steps * (layer_input + hidden) * gates * hidden
    return total * (1 + BACKWARD_FACTOR) if backward else total


@contextlib.contextmanager
def counting_unseen_recurrent_flops(counter: FlopCounterMode, counted: list[int]) -> Iterator[None]:
    """Within the block, a recurrent module's pass that ``counter`` did not see adds its hand count.

    Which cells PyTorch runs as one fused kernel (invisible to the counter) and which as
    matrix products (counted) depends on the cell and the build, so each pass is checked: a
    pass the counter saw nothing of is counted from the module's shapes, with its backward
    when it runs with gradients on a module in training mode (when the loops here take one).
    """
    seen_before: dict[int, int] = {}

    def before(module: nn.Module, _: tuple[Any, ...]) -> None:
        if isinstance(module, tuple(GATES)):
            seen_before[id(module)] = counter.get_total_flops()

    def after(module: nn.Module, inputs: tuple[Any, ...], _: Any) -> None:
        if not isinstance(module, tuple(GATES)) or counter.get_total_flops() > seen_before.pop(id(module)):
            return
        sequences = inputs[0]
        batch, steps = sequences.shape[:2] if module.batch_first else sequences.shape[1::-1]
        backward = torch.is_grad_enabled() and module.training
        counted.append(recurrent_flops(module, batch, steps, backward))

    handles = [
        nn.modules.module.register_module_forward_pre_hook(before),
        nn.modules.module.register_module_forward_hook(after),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def counted_gflop(work: Callable[[], Any]) -> float:
    """Billions of floating-point operations ``work`` performs, forward and backward, counted as it runs."""
    recurrent: list[int] = []
    with FlopCounterMode(display=False) as counter, counting_unseen_recurrent_flops(counter, recurrent):
        work()
    return (counter.get_total_flops() + sum(recurrent)) / 1e9


def matmul_peak_gflops(threads: int, size: int = PEAK_MATRIX_SIZE, repeats: int = PEAK_REPEATS) -> float:
    """The best rate of a float32 ``size × size`` matrix product on ``threads`` threads, in GFLOP/s."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        left, right = torch.randn(size, size), torch.randn(size, size)
        torch.mm(left, right)  # the first product pays for allocation and thread start-up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            torch.mm(left, right)
            best = min(best, time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous)
    return 2 * size**3 / best / 1e9


def roofline_fields(gflop: float, seconds: float, peak_gflops: float) -> dict[str, float]:
    """``gflop``, the rate achieved in ``seconds`` (``gflops``), ``peak_gflops`` and ``share_of_peak``.

    Each to four significant digits: a smoke-size workload's share of the peak can be a few
    thousandths, where a fixed count of decimals would keep only one or two of its digits.
    """
    achieved = gflop / seconds
    return {
        "gflop": significant(gflop),
        "gflops": significant(achieved),
        "peak_gflops": significant(peak_gflops),
        "share_of_peak": significant(achieved / peak_gflops),
    }


def significant(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    return float(f"{value:.{digits}g}")
