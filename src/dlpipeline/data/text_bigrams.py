"""Character bigrams as tokens: each text cut into pairs of characters, and scored per character.

A text is read as its characters followed by :data:`~dlpipeline.data.text.END` (as the character
language model reads it), cut into consecutive pairs: ``"anna"`` → ``anna.`` → ``an na ._`` and
``"ann"`` → ``ann.`` → ``an n.``. Where the characters and the END make an odd number, the last pair
is completed with :data:`FILLER`, so every text is a whole number of pairs and the token holding the
END says where the text stops. A pair a model writes after the END (``._``, ``.a``) is never read.

Token ids: PAD 0, UNKNOWN 1 and the start token END 2 (as :class:`~dlpipeline.data.text.CharTokenizer`),
then the bigrams of the training texts seen at least ``min_count`` times, sorted. A rarer pair (in
training or at test) is UNKNOWN, so a model learns how often a pair it has no token for occurs.

Per character, so that bigram tokens and character tokens are on one scale:
:func:`nats_per_character` sums each text's token negative log-likelihoods and divides by its
characters plus its END (what a character model predicts). An UNKNOWN pair is scored as the
unknown token's probability spread evenly over every pair of symbols the vocabulary does not hold
(:attr:`BigramTokenizer.unknown_pairs`), never as the probability of the unknown token alone, so the
pairs' probabilities add up to one and an unknown pair is no cheaper than a known one would be.
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

from dlpipeline.data.text import END, END_ID, PAD_ID, SPECIALS, UNKNOWN_GLYPH, UNKNOWN_ID

FILLER = "_"
"""Completes the last pair of a text whose characters and END make an odd number; never in a text."""
PAIR = 2


def pieces(text: str) -> list[str]:
    """``text`` and its END cut into pairs of characters, the last completed with :data:`FILLER`."""
    for reserved in (END, FILLER):
        if reserved in text:
            raise ValueError(f"{reserved!r} is reserved and cannot be in a text, got {text!r}")
    closed = text + END
    if len(closed) % PAIR:
        closed += FILLER
    return [closed[start : start + PAIR] for start in range(0, len(closed), PAIR)]


@dataclass(frozen=True)
class BigramTokenizer:
    """Pairs of characters ↔ token ids: the specials (PAD, UNKNOWN, END as the start), then ``bigrams``.

    ``characters`` are the single characters of the training texts: with END, FILLER and one class
    for any other character they are the symbols a pair is made of (see :attr:`unknown_pairs`).
    """

    bigrams: tuple[str, ...]
    characters: tuple[str, ...]

    def __post_init__(self) -> None:
        if any(len(bigram) != PAIR for bigram in self.bigrams):
            raise ValueError(f"each of bigrams must be two characters, got {self.bigrams!r}")
        if len(set(self.bigrams)) != len(self.bigrams):
            raise ValueError("bigrams must be unique")
        if any(len(character) != 1 for character in self.characters):
            raise ValueError(f"each of characters must be a single character, got {self.characters!r}")

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 1) -> "BigramTokenizer":
        """The bigrams of ``texts`` (the training texts only) seen at least ``min_count`` times, sorted."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        texts = list(texts)
        counts = Counter(pair for text in texts for pair in pieces(text))
        kept = tuple(sorted(pair for pair, count in counts.items() if count >= min_count))
        return cls(kept, tuple(sorted(set().union(*texts))))

    @property
    def vocab_size(self) -> int:
        """The number of token ids (specials included)."""
        return len(SPECIALS) + len(self.bigrams)

    @property
    def unknown_pairs(self) -> int:
        """How many pairs of symbols the vocabulary has no token for (the unknown token stands for them).

        The unknown token's probability is shared evenly among them. A symbol is a training
        character, END, FILLER or any other character (one class, as the character tokenizer's
        UNKNOWN), first or second in the pair.
        """
        symbols = len(self.characters) + 3
        return symbols**PAIR - len(self.bigrams)

    @cached_property
    def end_ids(self) -> tuple[int, ...]:
        """The ids whose token holds END (a text stops there): the start token and every pair with END."""
        return (END_ID, *(self._ids[bigram] for bigram in self.bigrams if END in bigram))

    def encode(self, text: str) -> list[int]:
        """The id of each pair of ``text`` (:func:`pieces`, END included); an unknown pair is UNKNOWN."""
        ids = self._ids
        return [ids.get(pair, UNKNOWN_ID) for pair in pieces(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, up to (not including) the first END; PAD is skipped.

        An UNKNOWN pair is rendered as two :data:`~dlpipeline.data.text.UNKNOWN_GLYPH`, so the text
        keeps its length. Raises ``ValueError`` on an id outside the vocabulary.
        """
        pieces_of = self._pieces
        tokens = list(map(int, ids))
        outside = [token for token in tokens if not 0 <= token < len(pieces_of)]
        if outside:
            raise ValueError(f"token id {outside[0]} is outside the vocabulary of {self.vocab_size}")
        return "".join(pieces_of[token] for token in tokens).split(END, 1)[0]

    @cached_property
    def _ids(self) -> dict[str, int]:
        """Bigram → id (after the specials)."""
        return dict(zip(self.bigrams, range(len(SPECIALS), self.vocab_size), strict=True))

    @cached_property
    def _pieces(self) -> tuple[str, ...]:
        """What each id reads as: nothing for PAD, two glyphs for UNKNOWN, END for the start, each bigram."""
        return ("", UNKNOWN_GLYPH * PAIR, END, *self.bigrams)


def bigram_tensors(
    texts: Sequence[str], tokenizer: BigramTokenizer, max_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token pairs of bigram tokens: inputs ``[END] + pairs[:-1]``, targets ``pairs``, ``(n, max_len)``.

    Right-padded with PAD. A text needs ``ceil((len(text) + 1) / 2)`` steps; a longer one raises
    ``ValueError`` (cutting it would drop the token that ends it).
    """
    encoded = [tokenizer.encode(text) for text in texts]
    too_long = [text for text, ids in zip(texts, encoded, strict=True) if len(ids) > max_len]
    if too_long:
        raise ValueError(
            f"{len(too_long)} text(s) need more than max_len = {max_len} pairs, e.g. {too_long[0]!r}"
        )
    inputs = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
    targets = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(encoded):
        inputs[row, : len(ids)] = torch.tensor([END_ID, *ids[:-1]], dtype=torch.long)
        targets[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return inputs, targets


def token_nll(logits: torch.Tensor, targets: torch.Tensor, unknown_cost: float = 0.0) -> torch.Tensor:
    """Each text's summed negative log-likelihood (nats): targets ``(n, T)`` under logits ``(n, T, V)``.

    PAD targets count nothing; an UNKNOWN target costs ``unknown_cost`` more (``log`` of the number of
    pairs it stands for: see :attr:`BigramTokenizer.unknown_pairs`).
    """
    log_probabilities = torch.log_softmax(logits.double(), dim=-1)
    nll = -log_probabilities.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    nll = nll + unknown_cost * (targets == UNKNOWN_ID)
    return (nll * (targets != PAD_ID)).sum(dim=1)


def nats_per_character(text_nll: torch.Tensor, texts: Sequence[str]) -> float:
    """Negative log-likelihood per character: every text's NLL summed, over all its characters and ENDs.

    This is the character language model's ``test_nll`` (a mean over every predicted character of
    the test set), whatever the tokens the NLL was summed over.
    """
    if len(text_nll) != len(texts) or not texts:
        raise ValueError(f"one NLL per text is needed, got {len(text_nll)} for {len(texts)} texts")
    characters = sum(len(text) + 1 for text in texts)
    return float(text_nll.sum()) / characters


def unknown_cost(tokenizer: BigramTokenizer) -> float:
    """What an UNKNOWN pair costs on top of the unknown token's NLL: ``log`` of the pairs it stands for."""
    return math.log(tokenizer.unknown_pairs)
