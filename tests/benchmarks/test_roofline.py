"""A workload's operations are counted from what it runs, and its rate is set against the machine's peak."""

import importlib
from types import ModuleType

import pytest
import torch
from tests.helpers import PROJECT_ROOT
from torch import nn


@pytest.fixture
def roofline(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``benchmarks/roofline.py`` as ``python benchmarks/run.py`` imports it."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    return importlib.import_module("roofline")


def test_a_linear_layer_trained_one_step_counts_its_forward_product_and_the_two_of_its_backward(roofline):
    layer = nn.Linear(30, 20, bias=False)
    inputs = torch.randn(50, 30)

    def one_step() -> None:
        layer(inputs).sum().backward()

    # forward: 2·50·30·20; backward: the weight gradient only (the input needs none)
    assert roofline.counted_gflop(one_step) * 1e9 == pytest.approx(2 * 2 * 50 * 30 * 20)


@pytest.mark.parametrize(("cell", "gates"), [(nn.LSTM, 4), (nn.GRU, 3), (nn.RNN, 1)])
def test_every_recurrent_cell_is_counted_whether_or_not_the_counter_sees_its_kernel(roofline, cell, gates):
    module = cell(3, 16, batch_first=True)
    sequences = torch.randn(8, 25, 3)

    def forward_and_backward() -> None:
        outputs, _ = module(sequences)
        outputs.sum().backward()

    forward = 2 * 8 * 25 * (3 + 16) * gates * 16
    # The counter, where it sees the products, skips the input's gradient (none is needed)
    # and the first step's product with a zero state: a few percent under the hand count.
    assert roofline.counted_gflop(forward_and_backward) * 1e9 == pytest.approx(3 * forward, rel=0.1)
    with torch.no_grad():
        assert roofline.counted_gflop(lambda: module(sequences)) * 1e9 == pytest.approx(forward, rel=0.1)


def test_an_lstm_the_counter_cannot_see_on_the_cpu_is_counted_exactly_from_its_shapes(roofline):
    module = nn.LSTM(3, 16, batch_first=True)
    sequences = torch.randn(8, 25, 3)

    with torch.no_grad():
        counted = roofline.counted_gflop(lambda: module(sequences)) * 1e9

    assert counted == 2 * 8 * 25 * (3 + 16) * 4 * 16


def test_stacked_and_bidirectional_layers_each_count_their_own_input_width(roofline):
    module = nn.LSTM(3, 16, num_layers=2, bidirectional=True).eval()

    first = 2 * 2 * 5 * 7 * (3 + 16) * 4 * 16
    second = 2 * 2 * 5 * 7 * (32 + 16) * 4 * 16
    assert roofline.recurrent_flops(module, batch=5, steps=7, backward=False) == first + second


def test_the_share_of_peak_is_the_achieved_rate_over_the_peak(roofline):
    fields = roofline.roofline_fields(gflop=6.0, seconds=2.0, peak_gflops=100.0)

    assert fields == {"gflop": 6.0, "gflops": 3.0, "peak_gflops": 100.0, "share_of_peak": 0.03}


def test_the_machine_peak_is_measured_on_the_threads_asked_for_and_leaves_torch_as_it_was(roofline):
    threads_before = torch.get_num_threads()

    peak = roofline.matmul_peak_gflops(1, size=128, repeats=3)

    assert peak > 0
    assert torch.get_num_threads() == threads_before


def test_a_small_share_of_peak_keeps_its_significant_digits(roofline):
    # A smoke-size sweep under load: 0.37 GFLOP/s of a 200 GFLOP/s peak.
    fields = roofline.roofline_fields(gflop=0.0123456, seconds=0.0333, peak_gflops=201.234)

    assert fields["share_of_peak"] == pytest.approx(fields["gflops"] / fields["peak_gflops"], rel=1e-3)
    assert fields["gflop"] == 0.01235
