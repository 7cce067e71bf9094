"""A small Transformer encoder for sequences, with the same interface as the recurrent models.

Inputs are projected to ``d_model``, a learned position embedding is added, and
``n_layers`` pre-norm encoder layers attend over the sequence. Where the model generates
or forecasts step by step (``causal=True``), a causal mask lets step ``t`` see only
steps ``≤ t``; padded steps (mask channel last, see
:func:`dlpipeline.models.recurrent.split_mask`) are hidden from attention as keys.
"""

import torch
from torch import nn

from dlpipeline.models.recurrent import Readout, last_valid_step, split_mask


class TransformerModel(nn.Module):
    """Transformer encoder ``(n, T, input_size[+1]) → (n, output_size)`` or ``(n, T, output_size)``.

    ``readout="last"`` pools a non-causal encoder by the mean over valid steps, and a
    causal one by its last valid step (the only step that has seen the whole sequence).
    """

    def __init__(
        self,
        input_size: int,
        d_model: int,
        output_size: int,
        max_len: int,
        n_heads: int = 2,
        n_layers: int = 2,
        readout: Readout = "last",
        masked: bool = False,
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.readout = readout
        self.masked = masked
        self.causal = causal
        self.embed = nn.Linear(input_size, d_model)
        self.position = nn.Parameter(torch.randn(max_len, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=2 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, output_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Outputs pooled over the sequence, or at every step."""
        inputs, mask = split_mask(features, self.masked)
        steps = inputs.shape[1]
        hidden = self.embed(inputs) + self.position[:steps]
        attention_mask = causal_mask(steps, inputs.device) if self.causal else None
        padding = None if mask is None else mask == 0
        hidden = self.norm(
            self.encoder(hidden, mask=attention_mask, src_key_padding_mask=padding, is_causal=self.causal)
        )
        if self.readout == "every":
            return self.head(hidden)
        if self.causal:
            return self.head(last_valid_step(hidden, mask))
        return self.head(_masked_mean(hidden, mask))


def causal_mask(steps: int, device: torch.device | None = None) -> torch.Tensor:
    """``(T, T)`` boolean mask, True where step ``t`` may *not* attend (the future)."""
    return torch.ones(steps, steps, dtype=torch.bool, device=device).triu(diagonal=1)


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``(n, T, h)`` over the valid steps of each sequence → ``(n, h)``."""
    if mask is None:
        return hidden.mean(dim=1)
    weights = mask.unsqueeze(-1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)
