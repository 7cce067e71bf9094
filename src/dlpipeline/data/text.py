"""Text for character-level language models: a names corpus, a tokenizer, tensors and a bigram baseline.

The corpus is the English first-name list that ships inside the ``faker`` package (MIT
licence), so nothing is downloaded. Texts are modelled as in Karpathy's *makemore*: the
special token :data:`END` (``"."``) both starts and ends every text, so ``"emma"`` is read
as ``. e m m a .``; the model sees ``. e m m a`` and learns to predict ``e m m a .``.

Token ids: :data:`PAD` is 0 (right padding, ignored by the loss), :data:`UNKNOWN` is 1 (a
character the tokenizer never saw in training), :data:`END` is 2, then the training
characters in sorted order.

:func:`bigram_counts` and :func:`bigram_nll` give the count-based baseline that any neural
model of the same texts should beat: the negative log-likelihood per predicted token, in
nats, of predicting each token from the one before it.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

PAD, UNKNOWN, END = "<pad>", "<unk>", "."
"""The special tokens; END doubles as the start token."""
PAD_ID, UNKNOWN_ID, END_ID = 0, 1, 2
SPECIALS = (PAD, UNKNOWN, END)
UNKNOWN_GLYPH = "\N{REPLACEMENT CHARACTER}"
"""How :meth:`CharTokenizer.decode` renders :data:`UNKNOWN` ("�"), so a lost character stays visible."""


def load_first_names() -> list[str]:
    """Faker's English first names (``faker.providers.person.en``), lowercased, unique and sorted.

    About 6,800 names of the letters ``a``-``z`` only, at most 12 of them.
    """
    from faker.providers.person.en import Provider

    return sorted({name.lower() for name in Provider.first_names})


@dataclass(frozen=True)
class CharTokenizer:
    """Characters ↔ token ids: the specials (:data:`PAD`, :data:`UNKNOWN`, :data:`END`), then ``characters``.

    Each of ``characters`` is a single character, listed once; neither :data:`END` nor
    :data:`UNKNOWN_GLYPH` may be one of them (either would make :meth:`decode` ambiguous).
    """

    characters: tuple[str, ...]

    def __post_init__(self) -> None:
        if any(len(character) != 1 for character in self.characters):
            raise ValueError(f"each of characters must be a single character, got {self.characters!r}")
        if len(set(self.characters)) != len(self.characters):
            raise ValueError(f"characters must be unique, got {self.characters!r}")
        for reserved in (END, UNKNOWN_GLYPH):
            if reserved in self.characters:
                raise ValueError(f"{reserved!r} is reserved and cannot be a character of the texts")

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CharTokenizer":
        """The tokenizer of the sorted unique characters of ``texts`` (pass the training texts only)."""
        return cls(tuple(sorted(set().union(*texts))))

    @property
    def vocabulary(self) -> tuple[str, ...]:
        """Every token, indexed by its id: the specials, then the characters."""
        return SPECIALS + self.characters

    @property
    def vocab_size(self) -> int:
        """The number of token ids (specials included)."""
        return len(SPECIALS) + len(self.characters)

    @property
    def pad_id(self) -> int:
        """The id of :data:`PAD` (0)."""
        return PAD_ID

    @property
    def unknown_id(self) -> int:
        """The id of :data:`UNKNOWN` (1)."""
        return UNKNOWN_ID

    @property
    def end_id(self) -> int:
        """The id of :data:`END` (2), which also starts every text."""
        return END_ID

    def encode(self, text: str) -> list[int]:
        """The id of each character of ``text``; a character not in the vocabulary becomes :data:`UNKNOWN`.

        No :data:`END` is added (see :func:`language_model_tensors`).
        """
        ids = self._ids
        return [ids.get(character, UNKNOWN_ID) for character in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, up to (not including) the first :data:`END`.

        :data:`PAD` is skipped and :data:`UNKNOWN` is rendered as :data:`UNKNOWN_GLYPH`. A leading
        start token is not skipped: pass the ids after it. Raises ``ValueError`` on an id
        outside the vocabulary.
        """
        characters = []
        for token in map(int, ids):
            if not 0 <= token < self.vocab_size:
                raise ValueError(f"token id {token} is outside the vocabulary of {self.vocab_size}")
            if token == END_ID:
                break
            if token == UNKNOWN_ID:
                characters.append(UNKNOWN_GLYPH)
            elif token != PAD_ID:
                characters.append(self.characters[token - len(SPECIALS)])
        return "".join(characters)

    @cached_property
    def _ids(self) -> dict[str, int]:
        """Character → id."""
        return {character: index for index, character in enumerate(self.characters, start=len(SPECIALS))}


def language_model_tensors(
    texts: Sequence[str], tokenizer: CharTokenizer, max_len: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token training pairs: inputs and targets, both ``(n, max_len)`` long, right-padded with PAD.

    Inputs are ``[END] + characters``, targets ``characters + [END]``, so ``targets[:, t]``
    is the token that follows ``inputs[:, :t + 1]``. A text needs ``len(text) + 1`` steps:
    a longer one raises ``ValueError`` (cutting it would silently drop its END target, so
    the model would never learn where such texts stop); choose ``max_len`` as the longest
    text plus one.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    too_long = [text for text in texts if len(text) + 1 > max_len]
    if too_long:
        raise ValueError(
            f"{len(too_long)} text(s) longer than max_len - 1 = {max_len - 1} characters, "
            f"e.g. {too_long[0]!r}; raise max_len to at least {max(map(len, too_long)) + 1}"
        )
    inputs = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
    targets = torch.full((len(texts), max_len), PAD_ID, dtype=torch.long)
    for row, text in enumerate(texts):
        ids = tokenizer.encode(text)
        inputs[row, : len(ids) + 1] = torch.tensor([END_ID, *ids], dtype=torch.long)
        targets[row, : len(ids) + 1] = torch.tensor([*ids, END_ID], dtype=torch.long)
    return inputs, targets


def _bigrams(texts: Iterable[str], tokenizer: CharTokenizer) -> tuple[np.ndarray, np.ndarray]:
    """(previous, next) token ids of every bigram of ``[END] + characters + [END]`` of each text."""
    previous: list[int] = []
    following: list[int] = []
    for text in texts:
        ids = [END_ID, *tokenizer.encode(text), END_ID]
        previous.extend(ids[:-1])
        following.extend(ids[1:])
    return np.asarray(previous, dtype=np.int64), np.asarray(following, dtype=np.int64)


@dataclass(frozen=True)
class CountBigram:
    """A count bigram: its vocabulary and how often each token follows each in the texts it counted."""

    tokenizer: CharTokenizer
    counts: np.ndarray
    """``(V, V)`` counts, unsmoothed (see :func:`bigram_counts`)."""


def bigram_counts(texts: Iterable[str], tokenizer: CharTokenizer) -> np.ndarray:
    """``(V, V)`` int64 counts: ``[a, b]`` is how often token ``b`` follows token ``a``.

    Each text is read as ``[END] + characters + [END]``, so it contributes ``len(text) + 1``
    bigrams; characters the tokenizer does not know count as :data:`UNKNOWN`.
    """
    size = tokenizer.vocab_size
    previous, following = _bigrams(texts, tokenizer)
    counts = np.zeros((size, size), dtype=np.int64)
    np.add.at(counts, (previous, following), 1)
    return counts


def bigram_nll(counts: np.ndarray, texts: Sequence[str], tokenizer: CharTokenizer, smoothing: float) -> float:
    """Mean negative log-likelihood (nats) per predicted token of ``texts`` under the bigram model ``counts``.

    The predicted tokens are every character and the final END of each text (``len(text) +
    1`` per text), each from the token before it. ``P(b | a) = (counts[a, b] + smoothing) /
    sum_c (counts[a, c] + smoothing)``, over the whole vocabulary (PAD and UNKNOWN
    included, as a neural model's softmax is). Rows never used as a context may be all
    zero. With ``smoothing=0`` a bigram never counted (or a context never seen) has
    probability 0, and the result is ``inf``.
    """
    if smoothing < 0:
        raise ValueError(f"smoothing must be non-negative, got {smoothing}")
    size = tokenizer.vocab_size
    if counts.shape != (size, size):
        raise ValueError(f"counts must be ({size}, {size}) for this tokenizer, got {counts.shape}")
    previous, following = _bigrams(texts, tokenizer)
    if len(previous) == 0:
        raise ValueError("no texts to score")
    numerators = counts[previous, following].astype(np.float64) + smoothing
    denominators = counts.sum(axis=1, dtype=np.float64)[previous] + smoothing * size
    if (numerators == 0).any():
        return float("inf")
    return float(np.mean(np.log(denominators) - np.log(numerators)))
