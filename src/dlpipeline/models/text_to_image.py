"""Text to image: a variational autoencoder whose encoder and decoder read a prompt word's characters.

The prompt is text, not a class id: a word (``"seven"``) becomes the counts of its letters,
and each member embeds it as the mean of its own learned letter vectors (an embedding bag
over characters), which joins the image at the encoder's input and the code at the
decoder's. To draw a picture of a word, codes from the standard-normal prior go through the
decoder with that word's embedding. With ``conditional=False`` the same network sees an empty
prompt everywhere (embedding 0): the unconditional generator, the control.

Inputs to the shared loop are one tensor per image, ``[pixels, letter counts]``; every seed is
a member of one ensemble (:class:`~dlpipeline.models.generative.EnsembleMLP`), as the other
generators train.
"""

import math
from collections.abc import Sequence

import torch
from torch import nn

from dlpipeline.models.generative import MIN_LOG_SCALE, EnsembleMLP, member_batch, member_generators

ALPHABET = "abcdefghijklmnopqrstuvwxyz"
"""The letters a prompt may use; its characters are counted over these."""


def letter_counts(words: Sequence[str]) -> torch.Tensor:
    """How often each letter of :data:`ALPHABET` occurs in each word: ``(len(words), 26)``."""
    unknown = sorted({char for word in words for char in word if char not in ALPHABET})
    if unknown:
        raise ValueError(f"prompts may use the letters a-z only, got {unknown} in {list(words)}")
    counts = torch.zeros(len(words), len(ALPHABET))
    for row, word in enumerate(words):
        for char in word:
            counts[row, ALPHABET.index(char)] += 1
    return counts


class TextConditionedVAE(nn.Module):
    """A conditional VAE ``[image, prompt] → code → image``, one member per seed.

    ``forward`` takes ``(n, n_features + 26)`` rows (pixels, then letter counts) and returns the
    negative ELBO per member, averaged over the batch; ``sample`` draws pictures of words.
    """

    def __init__(
        self,
        n_features: int,
        latent_dim: int,
        hidden: Sequence[int],
        embed_dim: int,
        seeds: Sequence[int],
        conditional: bool = True,
    ) -> None:
        super().__init__()
        generators = member_generators(seeds)
        self.n_features, self.latent_dim, self.conditional = n_features, latent_dim, conditional
        self.letters = nn.Parameter(
            torch.stack([torch.randn(len(ALPHABET), embed_dim, generator=g) for g in generators])
        )
        self.encoder = EnsembleMLP([n_features + embed_dim, *hidden, 2 * latent_dim], generators, "relu")
        decoder_sizes = [latent_dim + embed_dim, *reversed(hidden), n_features]
        self.decoder = EnsembleMLP(decoder_sizes, generators, "relu")
        self.log_scale = nn.Parameter(torch.zeros(len(generators), 1, n_features))

    def embed(self, counts: torch.Tensor) -> torch.Tensor:
        """Each member's prompt embedding ``(members, n, embed_dim)``: the mean of the word's letter vectors.

        The unconditional network (and an empty word) gives zeros: no prompt reaches it.
        """
        bag = counts / counts.sum(dim=-1, keepdim=True).clamp(min=1)
        embedded = torch.matmul(bag, self.letters)
        return embedded if self.conditional else torch.zeros_like(embedded)

    def negative_elbo(self, pixels: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """Gaussian reconstruction NLL plus KL to the prior, per member and example ``(members, n)``."""
        prompt = self.embed(counts)
        members = prompt.shape[0]
        shared = pixels.expand(members, *pixels.shape) if pixels.dim() == 2 else pixels
        mean, log_variance = self.encoder(torch.cat([shared, prompt], dim=-1)).chunk(2, dim=-1)
        codes = mean + (0.5 * log_variance).exp() * torch.randn_like(mean)
        log_scale = self.log_scale.clamp(min=MIN_LOG_SCALE)
        error = (shared - self.decoder(torch.cat([codes, prompt], dim=-1))) * (-log_scale).exp()
        nll = (0.5 * error.pow(2) + log_scale + 0.5 * math.log(2 * math.pi)).sum(dim=-1)
        return nll + 0.5 * (mean.pow(2) + log_variance.exp() - 1 - log_variance).sum(dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The negative ELBO per member, averaged over the batch of ``[pixels, letter counts]`` rows."""
        rows = member_batch(inputs)
        return self.negative_elbo(rows[..., : self.n_features], rows[..., self.n_features :]).mean(dim=-1)

    def decode(self, rows: torch.Tensor) -> torch.Tensor:
        """Every member's picture ``(members, n, features)`` of rows ``[code, letter counts]``.

        Each row is a code ``(latent_dim,)`` then its prompt word's letter counts (26): what
        :meth:`sample` decodes, with the code given rather than drawn (the served model's input).
        """
        codes, counts = rows[:, : self.latent_dim], rows[:, self.latent_dim :]
        prompt = self.embed(counts)
        shared = codes.expand(prompt.shape[0], *codes.shape)
        return self.decoder(torch.cat([shared, prompt], dim=-1))

    @torch.no_grad()
    def sample(self, words: Sequence[str], n_per_word: int, generator: torch.Generator) -> torch.Tensor:
        """Decoder means of ``n_per_word`` prior codes a word: ``(members, words, n_per_word, features)``."""
        counts = letter_counts(words).repeat_interleave(n_per_word, dim=0)
        prompt = self.embed(counts)
        codes = torch.randn(prompt.shape[0], len(counts), self.latent_dim, generator=generator)
        means = self.decoder(torch.cat([codes, prompt], dim=-1))
        return means.unflatten(1, (len(words), n_per_word))
