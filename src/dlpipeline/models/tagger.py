"""A token tagger: word embedding, a bidirectional recurrent cell or a Transformer encoder, a tag per word.

:class:`TokenTagger` reads word ids ``(n, T)``, right-padded with id 0, and gives tag logits at
every step ``(n, T, n_tags)``. Labelling a word may need the words after it (*Smith* in
*Smith LLC* is an organisation), so every body reads both ways: the recurrent cells are
bidirectional, the Transformer is not causal. Padding never reaches a real word: the
recurrent cells run on packed sequences (the backward direction starts at each sentence's own
last word), the Transformer hides padded steps from attention. Padded steps' logits are
computed but left out of the loss by their ``<pad>`` target.
"""

from typing import Literal

import torch
from torch import nn

from dlpipeline.models.recurrent import CELLS

TaggerCell = Literal["rnn", "lstm", "gru", "transformer"]


class TokenTagger(nn.Module):
    """Word ids ``(n, T)`` → tag logits ``(n, T, n_tags)``; id 0 is padding (``vocab_size`` ids in all).

    A recurrent ``cell`` has ``hidden_size`` units per direction; the Transformer has
    ``d_model = hidden_size``, ``n_heads``, ``n_layers`` and a learned position table of
    ``max_len`` steps.
    """

    def __init__(self, vocab_size: int, n_tags: int, max_len: int, cell: TaggerCell, **sizes: int) -> None:
        """The embedding (row 0, padding, stays zero), the body of ``cell`` and the per-word head.

        ``sizes``: ``embedding_dim`` and ``hidden_size`` (required), ``n_heads`` (2) and ``n_layers`` (1).
        """
        super().__init__()
        embedding_dim, hidden_size = sizes["embedding_dim"], sizes["hidden_size"]
        n_heads, n_layers = sizes.get("n_heads", 2), sizes.get("n_layers", 1)
        if cell not in (*CELLS, "transformer"):
            raise ValueError(f"unknown cell {cell!r}; choose one of {[*sorted(CELLS), 'transformer']}")
        self.cell = cell
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        if cell == "transformer":
            self.project = nn.Linear(embedding_dim, hidden_size)
            self.position = nn.Parameter(torch.randn(max_len, hidden_size) * 0.02)
            layer = nn.TransformerEncoderLayer(
                hidden_size, n_heads, 2 * hidden_size, dropout=0.0, batch_first=True, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(hidden_size)
            self.head = nn.Linear(hidden_size, n_tags)
        else:
            self.recurrent = CELLS[cell](embedding_dim, hidden_size, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden_size, n_tags)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tag logits at every step; a padded step's logits depend on nothing a real step reads."""
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"sentences of {tokens.shape[1]} steps exceed max_len={self.max_len}")
        valid = tokens != 0
        embedded = self.embedding(tokens)
        if self.cell == "transformer":
            hidden = self.project(embedded) + self.position[: tokens.shape[1]]
            return self.head(self.norm(self.encoder(hidden, src_key_padding_mask=~valid)))
        lengths = valid.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        outputs, _ = self.recurrent(packed)
        unpacked, _ = nn.utils.rnn.pad_packed_sequence(
            outputs, batch_first=True, total_length=tokens.shape[1]
        )
        return self.head(unpacked)
