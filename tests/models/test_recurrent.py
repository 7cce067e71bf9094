"""One recurrent module for rnn, lstm and gru: shapes, padding masks, and the step-by-step unroll."""

import pytest
import torch
from torch import nn

from dlpipeline.models.recurrent import (
    RecurrentModel,
    hidden_gradient_norms,
    last_valid_step,
    split_mask,
    unroll,
)

CELLS = ["rnn", "lstm", "gru"]


def with_mask(inputs: torch.Tensor, lengths: list[int], padded_len: int) -> torch.Tensor:
    """Right-pad ``inputs`` (n, T, d) to ``padded_len`` with junk, adding the mask channel last."""
    n, _, d = inputs.shape
    features = torch.randn(n, padded_len, d + 1) * 5
    for row, length in enumerate(lengths):
        features[row, :length, :d] = inputs[row, :length]
        features[row, :, d] = (torch.arange(padded_len) < length).float()
    return features


@pytest.mark.parametrize("cell", CELLS)
def test_many_to_one_gives_one_output_per_sequence_and_many_to_many_one_per_step(cell):
    torch.manual_seed(0)
    inputs = torch.randn(5, 7, 3)
    assert RecurrentModel(cell, 3, 4, 2, readout="last")(inputs).shape == (5, 2)
    assert RecurrentModel(cell, 3, 4, 2, readout="every")(inputs).shape == (5, 7, 2)


@pytest.mark.parametrize("cell", CELLS)
def test_padding_after_a_sequence_never_changes_its_outputs(cell):
    torch.manual_seed(0)
    model = RecurrentModel(cell, 3, 6, 2, readout="last", masked=True)
    every = RecurrentModel(cell, 3, 6, 2, readout="every", masked=True)
    inputs, lengths = torch.randn(3, 9, 3), [4, 9, 1]
    padded = model(with_mask(inputs, lengths, 12))
    steps = every(with_mask(inputs, lengths, 12))
    for row, length in enumerate(lengths):
        alone = model(with_mask(inputs[row : row + 1], [length], length))
        torch.testing.assert_close(padded[row], alone[0])
        alone_steps = every(with_mask(inputs[row : row + 1], [length], length))
        torch.testing.assert_close(steps[row, :length], alone_steps[0])


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("readout", ["last", "every"])
@pytest.mark.parametrize("masked", [False, True])
def test_outputs_and_gradients_are_exactly_those_of_the_batch_first_cell(cell, readout, masked):
    torch.manual_seed(2)
    model = RecurrentModel(cell, 3, 8, 2, readout=readout, masked=masked)
    batch_first = getattr(nn, cell.upper())(3, 8, batch_first=True)
    batch_first.load_state_dict(model.recurrent.state_dict())
    inputs = torch.randn(6, 11, 3)
    features = with_mask(inputs, [11, 4, 1, 7, 11, 9], 11) if masked else inputs
    ours = model(features)
    ours.square().sum().backward()
    cell_inputs, mask = split_mask(features, masked)
    outputs, _ = batch_first(cell_inputs)
    expected = model.head(outputs) if readout == "every" else model.head(last_valid_step(outputs, mask))
    model.head.zero_grad()
    expected.square().sum().backward()
    assert torch.equal(ours, expected)
    for name, parameter in batch_first.named_parameters():
        assert torch.equal(model.recurrent.get_parameter(name).grad, parameter.grad), name


def test_the_mask_is_the_last_channel_and_selects_each_last_valid_step():
    features = torch.zeros(2, 4, 3)
    features[0, :2, 2] = 1
    features[1, :, 2] = 1
    inputs, mask = split_mask(features, masked=True)
    assert inputs.shape == (2, 4, 2)
    outputs = torch.arange(8.0).reshape(2, 4, 1)
    assert last_valid_step(outputs, mask).flatten().tolist() == [1.0, 7.0]
    assert split_mask(features, masked=False) == (features, None)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("readout", ["last", "every"])
def test_the_step_by_step_unroll_computes_exactly_what_the_module_does(cell, readout):
    torch.manual_seed(1)
    model = RecurrentModel(cell, 2, 5, 1, readout=readout)
    inputs = torch.rand(4, 10, 2)
    unrolled = unroll(model, inputs)
    torch.testing.assert_close(unrolled.output, model(inputs), atol=1e-5, rtol=1e-5)
    assert len(unrolled.hidden) == 10


def test_the_lstm_exposes_its_gates_in_0_1_and_starts_with_forget_gates_open():
    torch.manual_seed(0)
    model = RecurrentModel("lstm", 2, 5, 1)
    gates = unroll(model, torch.zeros(1, 6, 2)).gates
    assert set(gates) == {"input", "forget", "output", "cell"}
    for name in ("input", "forget", "output"):
        assert gates[name].shape == (1, 6, 5)
        assert ((gates[name] >= 0) & (gates[name] <= 1)).all()
    assert gates["forget"].mean() > gates["input"].mean()  # forget bias starts at 1


def test_gradient_norms_give_one_value_per_step():
    torch.manual_seed(0)
    model = RecurrentModel("rnn", 2, 4, 1)
    norms = hidden_gradient_norms(model, torch.rand(8, 15, 2), torch.rand(8, 1), torch.nn.functional.mse_loss)
    assert norms.shape == (15,)
    assert (norms > 0).all()


def test_an_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="unknown cell"):
        RecurrentModel("transformer", 2, 4, 1)
