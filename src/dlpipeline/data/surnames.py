"""Surnames by language, from the per-locale lists that ship inside ``faker``, and their padded tensors.

The corpus of the many-to-one text task ("which language does a surname come from", the task
of PyTorch's *classifying names with a character-level RNN* tutorial): each language's names
are ``faker.providers.person.<locale>.Provider.last_names`` (faker is MIT-licensed), so
nothing is downloaded. Names are lowercased (the capital letter says nothing); a name found
in more than one of the chosen locales is dropped, since its language is not one answer.

A name becomes one step per character: the one-hot vector of its token id (see
:class:`~dlpipeline.data.text.CharTokenizer`; a character the training names never had
becomes ``<unk>``), right-padded with all-zero steps to ``max_len`` (longer names are cut
there), and a validity mask as the last channel (1 for a character, 0 for padding), the
layout :func:`dlpipeline.models.recurrent.split_mask` reads.
"""

import importlib
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.text import PAD_ID, CharTokenizer


class MissingCorpusError(LookupError):
    """A locale's surname list is not in the installed ``faker``."""


def locale_surnames(locale: str) -> list[str]:
    """The surnames faker ships for ``locale`` (e.g. ``"de_DE"``), as written there.

    Raises :class:`MissingCorpusError`, in one line naming the locale, where the installed
    faker has no surname list for it.
    """
    module = f"faker.providers.person.{locale}"
    try:
        provider = importlib.import_module(module).Provider
    except ModuleNotFoundError:
        raise MissingCorpusError(
            f"faker has no person provider for locale {locale!r} ({module}): no surname corpus to read"
        ) from None
    names = getattr(provider, "last_names", None)
    if not names:
        raise MissingCorpusError(f"faker's {module} lists no last_names: no surname corpus to read")
    return list(names)  # some locales weight their names in a dict: its keys are the names


def load_surnames(locales: Mapping[str, str]) -> pd.DataFrame:
    """``name, language`` of every lowercased surname of each ``language: locale``, sorted.

    A name listed by more than one of the locales is dropped; each language's names are unique.
    """
    by_language = {
        language: {name.lower() for name in locale_surnames(locale)} for language, locale in locales.items()
    }
    shared = Counter(name for names in by_language.values() for name in names)
    rows = [
        {"name": name, "language": language}
        for language, names in by_language.items()
        for name in sorted(names)
        if shared[name] == 1
    ]
    return pd.DataFrame(rows, columns=["name", "language"])


def padded_ids(names: Sequence[str], tokenizer: CharTokenizer, max_len: int) -> torch.Tensor:
    """``(n, max_len)`` token ids of each name's characters, cut at ``max_len``, right-padded with PAD."""
    ids = torch.full((len(names), max_len), PAD_ID, dtype=torch.long)
    for row, name in enumerate(names):
        encoded = tokenizer.encode(name)[:max_len]
        ids[row, : len(encoded)] = torch.tensor(encoded, dtype=torch.long)
    return ids


def name_features(names: Sequence[str], tokenizer: CharTokenizer, max_len: int) -> torch.Tensor:
    """``(n, max_len, vocab_size)`` inputs: the one-hot token of every character, then the mask channel.

    The PAD token has no channel of its own (a padded step is all zeros but for its mask 0);
    the mask channel replaces it, last. A name must have at least one character.
    """
    if any(not name for name in names):
        raise ValueError("every name needs at least one character")
    ids = padded_ids(names, tokenizer, max_len)
    one_hot = torch.nn.functional.one_hot(ids, tokenizer.vocab_size).float()
    mask = (ids != PAD_ID).float().unsqueeze(-1)
    return torch.cat([one_hot[..., PAD_ID + 1 :], mask], dim=-1)


def decode_features(features: torch.Tensor, tokenizer: CharTokenizer) -> list[str]:
    """The names of :func:`name_features`' rows (unknown characters as ``�``): its inverse, up to the cut."""
    mask = features[..., -1] > 0
    ids = features[..., :-1].argmax(dim=-1) + PAD_ID + 1
    return [tokenizer.decode(row[valid].tolist()) for row, valid in zip(ids, mask, strict=True)]


def shuffle_characters(names: Sequence[str], seed: int | Sequence[int]) -> list[str]:
    """Each name with its characters in a random order (numpy's generator from ``seed``).

    Its letters are kept, their sequence is lost: a bag of characters read one at a time.
    """
    rng = np.random.default_rng(seed)
    return ["".join(rng.permutation(list(name))) for name in names]
