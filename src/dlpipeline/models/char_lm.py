"""A character-level language model: token embedding, then a causal recurrent or Transformer body.

:class:`CharLanguageModel` reads token ids ``(n, T)`` (see :mod:`dlpipeline.data.text`) and
gives next-token logits at every step ``(n, T, vocab_size)``. Every body is causal (the
recurrent cells by construction, the Transformer through its causal mask), so the logits
at step ``t`` depend on tokens ``≤ t`` only and right padding never changes a text's own
predictions; :func:`masked_cross_entropy` then leaves the padded targets out of the loss.
:func:`sample_texts` generates new texts one character at a time.
"""

from collections.abc import Collection, Iterable
from typing import Literal, Protocol

import torch
from torch import nn

from dlpipeline.data.text import END_ID, PAD_ID, UNKNOWN_ID
from dlpipeline.models.recurrent import CELLS, RecurrentModel
from dlpipeline.models.transformer import TransformerModel

CharCellName = Literal["rnn", "lstm", "gru", "transformer"]


class Decoder(Protocol):
    """What turns token ids back into a text (a character or a bigram tokenizer)."""

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, up to its end."""
        ...


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the non-PAD targets: logits ``(n, T, V)``, targets ``(n, T)`` long.

    Steps whose target is PAD (id 0) count neither in the sum nor in the number it is
    divided by; a batch of padding only gives ``nan``.
    """
    return nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD_ID
    )


class CharLanguageModel(nn.Module):
    """Token ids ``(n, T)`` → next-token logits ``(n, T, vocab_size)``, causal for every ``cell``.

    An ``nn.Embedding(vocab_size, embedding_dim)`` feeds either a one-layer ``rnn`` /
    ``lstm`` / ``gru`` of ``hidden_size`` units (:class:`RecurrentModel`) or a causal
    :class:`TransformerModel` with ``d_model = hidden_size``, ``n_heads`` and ``n_layers``
    (these two apply to the Transformer only). Sequences may be at most ``max_len`` steps
    (the Transformer's position table), for every cell alike.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        cell: CharCellName,
        hidden_size: int,
        max_len: int,
        n_heads: int = 2,
        n_layers: int = 2,
    ) -> None:
        super().__init__()
        if cell != "transformer" and cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}; choose one of {[*sorted(CELLS), 'transformer']}")
        self.vocab_size = vocab_size
        self.cell = cell
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.body: nn.Module
        if cell == "transformer":
            self.body = TransformerModel(
                embedding_dim,
                hidden_size,
                vocab_size,
                max_len,
                n_heads,
                n_layers,
                readout="every",
                causal=True,
            )
        else:
            self.body = RecurrentModel(cell, embedding_dim, hidden_size, vocab_size, readout="every")

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, T, vocab_size)`` for the token after each step of ``tokens`` ``(n, T)``."""
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"sequences of {tokens.shape[1]} steps exceed max_len={self.max_len}")
        return self.body(self.embedding(tokens))


@torch.no_grad()
def sample_texts(
    model: nn.Module,
    tokenizer: Decoder,
    n_samples: int,
    max_len: int,
    temperature: float,
    generator: torch.Generator,
    end_ids: Collection[int] = (END_ID,),
) -> list[str]:
    """``n_samples`` texts drawn from ``model`` one character at a time, decoded.

    Every sample starts from END; at each step the model reads the whole prefix so far and
    the next token is drawn from ``softmax(logits[:, -1] / temperature)`` with PAD and
    UNKNOWN excluded, using ``generator`` (the same seed gives the same samples). A sample
    ends at a token of ``end_ids`` (END; for bigram tokens, every pair that holds it) or after
    ``max_len - 1`` tokens (its prefix then fills ``max_len`` steps). The model runs in eval
    mode and is put back in its previous mode afterwards.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    was_training = model.training
    model.eval()
    ends = torch.tensor(sorted(end_ids), dtype=torch.long, device=device)
    try:
        tokens = torch.full((n_samples, 1), END_ID, dtype=torch.long, device=device)
        finished = torch.zeros(n_samples, dtype=torch.bool, device=device)
        for _ in range(max_len - 1):
            if finished.all():
                break
            logits = model(tokens)[:, -1].float() / temperature
            logits[:, [PAD_ID, UNKNOWN_ID]] = -torch.inf
            probabilities = torch.softmax(logits, dim=-1).to(generator.device)
            following = torch.multinomial(probabilities, 1, generator=generator).to(device)
            following[finished] = PAD_ID  # decode skips it; a finished text stays as it was
            tokens = torch.cat([tokens, following], dim=1)
            finished |= torch.isin(following[:, 0], ends)
    finally:
        model.train(was_training)
    return [tokenizer.decode(row[1:].tolist()) for row in tokens.cpu()]
