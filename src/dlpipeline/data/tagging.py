"""Token labelling: the BIO tag scheme, word vocabularies, padded id tensors and entity-level F1.

A sentence is a list of word tokens, each with a tag: ``O`` (other) or ``B-<type>`` / ``I-<type>``
(the first / a following token of an entity of ``<type>``). Tag ids are fixed by the scheme:
``<pad>`` is 0 (padding, left out of the loss), ``O`` is 1, then ``B-`` and ``I-`` of each type in
:data:`ENTITY_TYPES` order, so entity spans can be read from id tensors alone (the shared loop
scores every epoch from outputs and targets).

An entity counts as found when a predicted span has the same first token, last token and type
as a true one (CoNLL's entity-level F1). Spans are read as ``conlleval`` reads them: an ``I-X``
that does not continue an ``X`` starts a new entity.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

ENTITY_TYPES = ("person", "place", "organisation", "date")
OUTSIDE = "O"
PAD_TAG = "<pad>"
TAGS = (PAD_TAG, OUTSIDE, *(f"{prefix}-{kind}" for kind in ENTITY_TYPES for prefix in ("B", "I")))
"""Every tag, indexed by its id."""
TAG_PAD_ID = 0
PAD_WORD, UNKNOWN_WORD = "<pad>", "<unk>"
WORD_PAD_ID, WORD_UNKNOWN_ID = 0, 1

Span = tuple[int, int, str]
"""An entity: its first and last token positions (inclusive) and its type."""


def tag_id(tag: str) -> int:
    """The id of ``tag`` in :data:`TAGS`."""
    return TAGS.index(tag)


def spans(tags: Sequence[str]) -> set[Span]:
    """The entities a sentence's tags mark (``<pad>`` and ``O`` end an entity)."""
    found: set[Span] = set()
    start, kind = -1, ""
    for position, tag in enumerate([*tags, OUTSIDE]):
        prefix, _, tag_kind = tag.partition("-")
        continues = prefix == "I" and tag_kind == kind and start >= 0
        if start >= 0 and not continues:
            found.add((start, position - 1, kind))
            start, kind = -1, ""
        if prefix in ("B", "I") and not continues:
            start, kind = position, tag_kind
    return found


@dataclass(frozen=True)
class EntityCounts:
    """True, predicted and correctly predicted entities, overall or of one type."""

    true: int
    predicted: int
    correct: int

    @property
    def f1(self) -> float:
        """Entity-level F1; 1.0 when there is nothing to find and nothing was predicted."""
        if self.true + self.predicted == 0:
            return 1.0
        return 2 * self.correct / (self.true + self.predicted)

    @property
    def precision(self) -> float:
        """Share of predicted entities that are right (0 when none is predicted)."""
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        """Share of true entities found (0 when there are none)."""
        return self.correct / self.true if self.true else 0.0


def entity_counts(
    true: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]], kind: str | None = None
) -> EntityCounts:
    """Entities of every sentence (of type ``kind``, or all) counted as true, predicted and correct."""
    counts = Counter[str]()
    for true_tags, predicted_tags in zip(true, predicted, strict=True):
        gold = {span for span in spans(true_tags) if kind in (None, span[2])}
        guess = {span for span in spans(predicted_tags) if kind in (None, span[2])}
        counts.update(true=len(gold), predicted=len(guess), correct=len(gold & guess))
    return EntityCounts(counts["true"], counts["predicted"], counts["correct"])


def entity_f1(true: Iterable[Sequence[str]], predicted: Iterable[Sequence[str]]) -> float:
    """Entity-level F1 over sentences: a predicted entity counts when its span and type are both right."""
    return entity_counts(true, predicted).f1


def tags_of(ids: torch.Tensor, lengths: Sequence[int]) -> list[list[str]]:
    """Each row of tag ids ``(n, T)`` as tag names, cut at its sentence's length."""
    return [[TAGS[i] for i in row[:length]] for row, length in zip(ids.tolist(), lengths, strict=True)]


def entity_f1_of_ids(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Entity-level F1 of the tags ``logits`` ``(n, T, tags)`` predict against ``targets`` ``(n, T)``.

    A sentence's length is its number of non-``<pad>`` targets; padded steps are not read.
    """
    lengths = (targets != TAG_PAD_ID).sum(dim=1).tolist()
    predicted = logits[..., TAG_PAD_ID + 1 :].argmax(dim=-1) + TAG_PAD_ID + 1  # never predict padding
    return entity_f1(tags_of(targets.cpu(), lengths), tags_of(predicted.cpu(), lengths))


@dataclass(frozen=True)
class WordVocabulary:
    """Words ↔ ids: ``<pad>`` (0), ``<unk>`` (1), then ``words`` in order."""

    words: tuple[str, ...]

    @classmethod
    def from_sentences(cls, sentences: Iterable[Sequence[str]], min_count: int) -> "WordVocabulary":
        """The sorted words seen at least ``min_count`` times (pass the training sentences only).

        Rarer words are read as ``<unk>`` in training too, so the models learn what an unknown
        word in a sentence is, as they meet one at test for every held-out entity.
        """
        counts = Counter(word for sentence in sentences for word in sentence)
        return cls(tuple(sorted(word for word, count in counts.items() if count >= min_count)))

    @property
    def size(self) -> int:
        """The number of ids, the two specials included."""
        return len(self.words) + 2

    def encode(self, sentence: Sequence[str]) -> list[int]:
        """The ids of a sentence's words (an unseen word is ``<unk>``)."""
        index = self._index
        return [index.get(word, WORD_UNKNOWN_ID) for word in sentence]

    @cached_property
    def _index(self) -> dict[str, int]:
        """Each word's id."""
        return {word: position + 2 for position, word in enumerate(self.words)}


def padded(rows: Sequence[Sequence[int]], max_len: int, pad_id: int) -> torch.Tensor:
    """``(n, max_len)`` ids, each row right-padded with ``pad_id`` (a longer row is refused)."""
    if any(len(row) > max_len for row in rows):
        raise ValueError(f"a sentence is longer than max_len={max_len}")
    tensor = torch.full((len(rows), max_len), pad_id, dtype=torch.long)
    for position, row in enumerate(rows):
        tensor[position, : len(row)] = torch.tensor(row, dtype=torch.long)
    return tensor
