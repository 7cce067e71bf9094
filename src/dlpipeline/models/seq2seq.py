"""Encoder–decoders turning one token sequence into another: recurrent (attention or not), or Transformer.

Both read the source and the decoder's input side by side in one ``(n, source_len +
target_len)`` tensor of token ids (so the shared training loop passes them as one batch of
features): the first ``source_len`` columns are the source, right-padded with PAD (id 0),
the rest the target shifted right behind the start token (teacher forcing). They return
next-token logits at every target step, ``(n, target_len, vocab_size)``; padded source
steps are hidden from the decoder (the recurrent encoder's summary is its state at the
last real token, attention gives padded steps weight 0), and the decoder is causal, so right
padding changes no output. :func:`greedy_decode` writes a translation token by token,
reading the model's own previous tokens, until END or a maximum length.
"""

import torch
from torch import nn

from dlpipeline.data.text import END_ID, PAD_ID, UNKNOWN_ID
from dlpipeline.models.recurrent import CELLS
from dlpipeline.models.transformer import causal_mask


class Seq2Seq(nn.Module):
    """The interface every encoder–decoder shares: split the features, then :meth:`logits`."""

    source_len: int

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, T, V)`` for ``features = [source | decoder input]`` of ``source_len + T`` columns."""
        return self.logits(features[:, : self.source_len], features[:, self.source_len :])

    def logits(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor:
        """Next-token logits ``(n, T, V)`` at every step of ``target_input`` ``(n, T)`` given ``source``."""
        raise NotImplementedError

    def attention(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor | None:
        """Weights ``(n, T, S)`` each target step gives each source step, or ``None`` without attention."""
        return None


def _recurrent(cell: str, input_size: int, hidden_size: int) -> nn.RNNBase:
    """A batch-first recurrent layer of ``cell`` (rnn, lstm or gru); another name is refused."""
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose one of {sorted(CELLS)}")
    return CELLS[cell](input_size, hidden_size, batch_first=True)


class RecurrentSeq2Seq(Seq2Seq):
    """A recurrent encoder and decoder of ``hidden_size`` units (``cell``: rnn, lstm or gru).

    The decoder starts from the encoder's state at each source's last real token. With
    ``attention`` (Luong's, multiplicative), each decoder step also reads a weighted mean of
    the encoder's states (padded steps weigh 0) and answers from both; without it, the
    encoder's final state is all the decoder knows of the source.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        source_len: int,
        cell: str,
        attention: bool,
    ) -> None:
        super().__init__()
        self.source_len, self.has_attention = source_len, attention
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.encoder = _recurrent(cell, embedding_dim, hidden_size)
        self.decoder = _recurrent(cell, embedding_dim, hidden_size)
        self.score = nn.Linear(hidden_size, hidden_size, bias=False) if attention else None
        self.combine = nn.Linear(2 * hidden_size, hidden_size) if attention else None
        self.head = nn.Linear(hidden_size, vocab_size)

    def _encode(self, source: torch.Tensor) -> tuple[torch.Tensor, object]:
        """Encoder states ``(n, S, h)`` and the decoder's initial state (the state at the last real token)."""
        states, _ = self.encoder(self.embedding(source))
        last = (source != PAD_ID).sum(dim=1).clamp(min=1) - 1
        rows = torch.arange(len(source), device=source.device)
        if isinstance(self.encoder, nn.LSTM):
            # the LSTM's cell state is not among its outputs: run the encoder once more over each real prefix
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embedding(source), (last + 1).cpu(), batch_first=True, enforce_sorted=False
            )
            _, initial = self.encoder(packed)
            return states, initial
        return states, states[rows, last].unsqueeze(0).contiguous()

    def _weights(self, decoded: torch.Tensor, states: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        """Attention weights ``(n, T, S)``: softmax of ``decoded · W states`` over the real source steps."""
        assert self.score is not None
        scores = decoded @ self.score(states).transpose(1, 2)
        scores = scores.masked_fill((source == PAD_ID).unsqueeze(1), -torch.inf)
        return torch.softmax(scores, dim=-1)

    def _decode(
        self, source: torch.Tensor, target_input: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decoder outputs ``(n, T, h)`` before the head, and the attention weights (``None`` without)."""
        states, initial = self._encode(source)
        decoded, _ = self.decoder(self.embedding(target_input), initial)
        if not self.has_attention:
            return decoded, None
        assert self.combine is not None
        weights = self._weights(decoded, states, source)
        return torch.tanh(self.combine(torch.cat([decoded, weights @ states], dim=-1))), weights

    def logits(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor:
        """See :meth:`Seq2Seq.logits`."""
        return self.head(self._decode(source, target_input)[0])

    def attention(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor | None:
        """See :meth:`Seq2Seq.attention`."""
        return self._decode(source, target_input)[1]


class TransformerSeq2Seq(Seq2Seq):
    """A pre-norm Transformer encoder–decoder of width ``d_model`` with learned positions.

    ``max_len`` bounds both sides (the position table); source padding is hidden from the
    encoder's self-attention and the decoder's cross-attention, and the decoder is causal.
    """

    def __init__(
        self, vocab_size: int, d_model: int, source_len: int, max_len: int, n_heads: int, n_layers: int
    ) -> None:
        super().__init__()
        self.source_len = source_len
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        self.position = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        options = {"dim_feedforward": 2 * d_model, "dropout": 0.0, "batch_first": True, "norm_first": True}
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d_model, n_heads, **options),
            n_layers,
            norm=nn.LayerNorm(d_model),
            enable_nested_tensor=False,
        )
        self.decoder = nn.TransformerDecoder(
            nn.TransformerDecoderLayer(d_model, n_heads, **options), n_layers, norm=nn.LayerNorm(d_model)
        )
        self.head = nn.Linear(d_model, vocab_size)

    def _embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token and position embeddings; a sequence longer than ``max_len`` is refused."""
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"sequences of {tokens.shape[1]} steps exceed max_len={self.max_len}")
        return self.embedding(tokens) + self.position[: tokens.shape[1]]

    def logits(self, source: torch.Tensor, target_input: torch.Tensor) -> torch.Tensor:
        """See :meth:`Seq2Seq.logits`."""
        padding = source == PAD_ID
        memory = self.encoder(self._embed(source), src_key_padding_mask=padding)
        steps = target_input.shape[1]
        decoded = self.decoder(
            self._embed(target_input),
            memory,
            tgt_mask=causal_mask(steps, source.device),
            tgt_is_causal=True,
            memory_key_padding_mask=padding,
        )
        return self.head(decoded)


@torch.no_grad()
def greedy_decode(model: Seq2Seq, source: torch.Tensor, max_len: int) -> torch.Tensor:
    """Each source's translation as token ids ``(n, ≤ max_len)``, the most likely token at every step.

    Decoding starts from END (the start token) and feeds back the model's own tokens; a row
    stops at its first END (kept; everything after it is PAD) and every row after ``max_len``
    tokens, END or not. The model runs in eval mode and is put back in its previous mode.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    was_training = model.training
    model.eval()
    try:
        written = torch.full((len(source), 1), END_ID, dtype=torch.long, device=source.device)
        finished = torch.zeros(len(source), dtype=torch.bool, device=source.device)
        for _ in range(max_len):
            logits = model.logits(source, written)[:, -1]
            logits[:, [PAD_ID, UNKNOWN_ID]] = -torch.inf  # never written: padding, or a character unseen
            following = logits.argmax(dim=-1)
            following[finished] = PAD_ID
            written = torch.cat([written, following.unsqueeze(1)], dim=1)
            finished |= following == END_ID
            if finished.all():
                break
    finally:
        model.train(was_training)
    return written[:, 1:]
