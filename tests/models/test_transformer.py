"""The small Transformer encoder: shapes, the causal mask and padding masks."""

import pytest
import torch

from dlpipeline.models.transformer import TransformerModel, causal_mask


def masked(inputs: torch.Tensor, length: int, padded_len: int) -> torch.Tensor:
    """One sequence ``(1, T, d)`` cut to ``length``, right-padded with junk, mask channel last."""
    features = torch.randn(1, padded_len, inputs.shape[-1] + 1) * 5
    features[0, :length, :-1] = inputs[0, :length]
    features[0, :, -1] = (torch.arange(padded_len) < length).float()
    return features


def test_outputs_are_pooled_per_sequence_or_given_per_step():
    torch.manual_seed(0)
    inputs = torch.randn(3, 8, 4)
    assert TransformerModel(4, 8, 10, max_len=8)(inputs).shape == (3, 10)
    assert TransformerModel(4, 8, 1, max_len=8, readout="every", causal=True)(inputs).shape == (3, 8, 1)


def test_the_causal_mask_hides_the_future_only():
    assert causal_mask(3).tolist() == [[False, True, True], [False, False, True], [False, False, False]]


def test_with_the_causal_mask_a_step_never_sees_later_steps():
    torch.manual_seed(0)
    model = TransformerModel(2, 8, 1, max_len=10, readout="every", causal=True).eval()
    inputs = torch.randn(1, 10, 2)
    changed = inputs.clone()
    changed[0, 6:] = torch.randn(4, 2)
    torch.testing.assert_close(model(inputs)[0, :6], model(changed)[0, :6])
    assert not torch.allclose(model(inputs)[0, 6:], model(changed)[0, 6:])


@pytest.mark.parametrize(("readout", "causal"), [("last", False), ("last", True), ("every", True)])
def test_padding_never_changes_the_outputs_of_the_valid_steps(readout, causal):
    torch.manual_seed(0)
    model = TransformerModel(2, 8, 3, max_len=12, readout=readout, masked=True, causal=causal).eval()
    inputs = torch.randn(1, 5, 2)
    alone, padded = model(masked(inputs, 5, 5)), model(masked(inputs, 5, 12))
    if readout == "every":
        alone, padded = alone[:, :5], padded[:, :5]
    torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-5)
