"""The sequence models by name: a recurrent cell (``rnn``, ``lstm``, ``gru``) or a ``transformer``.

:func:`build_model` returns the network wrapped in a :class:`TrainedModule`, so it can be
saved by the catalog and rebuilt from its constructor arguments.
"""

from dataclasses import dataclass
from typing import Literal

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.recurrent import Readout, RecurrentModel
from dlpipeline.models.transformer import TransformerModel

ModelName = Literal["rnn", "lstm", "gru", "transformer"]


@dataclass(frozen=True)
class SequenceShape:
    """What a task asks of its model: input and output sizes, length, readout, padding, causality."""

    input_size: int
    output_size: int
    max_len: int
    readout: Readout = "last"
    masked: bool = False
    causal: bool = False


def build_model(
    cell: ModelName, shape: SequenceShape, hidden_size: int, n_heads: int = 2, n_layers: int = 2
) -> TrainedModule:
    """A fresh recurrent model or Transformer that fits ``shape``.

    ``n_heads`` and ``n_layers`` apply to the Transformer only. It draws its initial weights
    from torch's global generator, so seed it first.
    """
    if cell == "transformer":
        return TrainedModule.build(
            TransformerModel,
            input_size=shape.input_size,
            d_model=hidden_size,
            output_size=shape.output_size,
            max_len=shape.max_len,
            n_heads=n_heads,
            n_layers=n_layers,
            readout=shape.readout,
            masked=shape.masked,
            causal=shape.causal,
        )
    return TrainedModule.build(
        RecurrentModel,
        cell=cell,
        input_size=shape.input_size,
        hidden_size=hidden_size,
        output_size=shape.output_size,
        readout=shape.readout,
        masked=shape.masked,
    )
