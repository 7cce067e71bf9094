"""The sequence models by name: the right network for each name and shape, rebuildable from its arguments."""

import pytest
import torch

from dlpipeline.models.checkpoint import from_payload, to_payload
from dlpipeline.models.recurrent import RecurrentModel
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.models.transformer import TransformerModel

MASKED_EVERY_STEP = SequenceShape(
    input_size=1, output_size=1, max_len=7, readout="every", masked=True, causal=True
)


@pytest.mark.parametrize(
    ("cell", "kind"), [("rnn", RecurrentModel), ("gru", RecurrentModel), ("transformer", TransformerModel)]
)
def test_each_name_builds_its_network_with_the_shapes_inputs_and_outputs(cell, kind):
    trained = build_model(cell, MASKED_EVERY_STEP, hidden_size=8, n_heads=2, n_layers=1)
    assert isinstance(trained.module, kind)
    features = torch.rand(3, 7, 2)  # one input channel and the mask
    features[..., -1] = 1.0
    assert trained.module(features).shape == (3, 7, 1)


@pytest.mark.parametrize("cell", ["lstm", "transformer"])
def test_the_same_seed_builds_the_same_weights_and_a_saved_model_rebuilds_exactly(cell):
    torch.manual_seed(3)
    first = build_model(cell, MASKED_EVERY_STEP, hidden_size=8)
    torch.manual_seed(3)
    second = build_model(cell, MASKED_EVERY_STEP, hidden_size=8)
    rebuilt = from_payload(to_payload({"model": first}))["model"]
    assert rebuilt.kwargs == first.kwargs
    for state in (second.module.state_dict(), rebuilt.module.state_dict()):
        for name, weights in first.module.state_dict().items():
            torch.testing.assert_close(state[name], weights, rtol=0, atol=0)
