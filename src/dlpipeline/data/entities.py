"""Templated sentences whose entities come from the lists that ship inside ``faker``, tagged in BIO.

The corpus of the tagging task (aligned many-to-many: one tag per word). Nothing is downloaded
and nothing is drawn from faker's own random generator: the lists are read from its providers
(faker is MIT-licensed) and every choice is made by numpy's generator from the seed:

- **person**: ``faker.providers.person.en_US`` first and last names, as ``given family`` or
  ``family`` alone;
- **place**: the city lists of the ``place_locales`` address providers (e.g. ``de_DE``);
- **organisation**: the ``en_US`` company provider's formats (``{last} {suffix}``,
  ``{last}-{last}``, ``{last}, {last} and {last}``) and suffixes (``Inc``, ``and Sons``, ...);
- **date**: a day, an English month name and a year, in three orders (or month and year).

**Held out.** Per draw, the name words (first and last names together), the places and the
years are each split at random into a training and a test part; training sentences use only
the first, test sentences only the second. So a test sentence's people, places,
organisations and dates never occur in training, and their name and year words never do;
the models must tell an entity by its context and form, where a dictionary of the training
entities (the baseline) knows none of them.
"""

import calendar
import importlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dlpipeline.data.surnames import MissingCorpusError

TEMPLATES = (
    "{person} was born in {place} on {date} .",
    "{person} moved from {place} to {place} in {date} .",
    "{agent} signed a contract with {agent} on {date} .",
    "{org} opened an office in {place} .",
    "{person} has worked for {org} since {date} .",
    "on {date} , {agent} met {person} in {place} .",
    "{agent} hired {person} last year .",
    "the report by {agent} was published on {date} .",
    "{person} and {person} visited {place} .",
    "{org} is based in {place} , near {place} .",
    "yesterday {agent} announced a deal with {org} .",
    "{person} lives in {place} and works at {org} .",
    "shares of {org} fell after {date} .",
    "{agent} thanked {agent} for the help .",
    "a letter from {place} reached {person} .",
    "the meeting in {place} ended early .",
)
"""The sentence frames; ``{agent}`` is a person or an organisation, so its slot does not tell which."""
SLOT_TYPES = {"person": "person", "place": "place", "org": "organisation", "date": "date"}
YEARS = range(1900, 2030)
COLUMNS = ["draw", "sentence", "position", "token", "tag"]


@dataclass(frozen=True)
class EntityPools:
    """The words and names entities are made of (one part of a split, or all of them)."""

    given: tuple[str, ...]
    family: tuple[str, ...]
    places: tuple[str, ...]
    years: tuple[int, ...]
    suffixes: tuple[str, ...]
    """Company suffixes: closed words, shared by both parts (as ``Inc`` is in any real text)."""


def _provider(kind: str, locale: str) -> type:
    """Faker's ``kind`` provider class of ``locale``; one line naming it where faker has none."""
    module = f"faker.providers.{kind}.{locale}"
    try:
        return importlib.import_module(module).Provider
    except ModuleNotFoundError:
        raise MissingCorpusError(f"faker has no {kind} provider for locale {locale!r} ({module})") from None


def faker_pools(place_locales: Sequence[str]) -> EntityPools:
    """Every name, place, year and company suffix the tagging corpus draws from, sorted and unique."""
    person = _provider("person", "en_US")
    places: set[str] = set()
    for locale in place_locales:
        cities = getattr(_provider("address", locale), "cities", None)
        if not cities:
            raise MissingCorpusError(f"faker's faker.providers.address.{locale} lists no cities")
        places |= {str(city) for city in cities}
    return EntityPools(
        given=tuple(sorted(set(person.first_names))),
        family=tuple(sorted(set(person.last_names))),
        places=tuple(sorted(places)),
        years=tuple(YEARS),
        suffixes=tuple(_provider("company", "en_US").company_suffixes),
    )


def split_pools(
    pools: EntityPools, test_share: float, rng: np.random.Generator
) -> tuple[EntityPools, EntityPools]:
    """Training and test parts: name words, places and years each split at random, no item in both.

    First and last names are split as one set of words, so a word that is both (e.g. *James*)
    is on one side only.
    """
    words = sorted(set(pools.given) | set(pools.family))
    test_words = set(_held_out(words, test_share, rng))
    test_places = set(_held_out(pools.places, test_share, rng))
    test_years = set(_held_out(pools.years, test_share, rng))

    def part(test: bool) -> EntityPools:
        return EntityPools(
            given=tuple(word for word in pools.given if (word in test_words) == test),
            family=tuple(word for word in pools.family if (word in test_words) == test),
            places=tuple(place for place in pools.places if (place in test_places) == test),
            years=tuple(year for year in pools.years if (year in test_years) == test),
            suffixes=pools.suffixes,
        )

    return part(False), part(True)


def _held_out(items: Sequence, share: float, rng: np.random.Generator) -> list:
    """A random ``share`` of ``items`` (at least one, never all)."""
    count = min(max(1, round(len(items) * share)), len(items) - 1)
    return [items[i] for i in rng.choice(len(items), size=count, replace=False)]


def _pick(items: Sequence, rng: np.random.Generator):
    """One item of ``items``, uniformly."""
    return items[int(rng.integers(len(items)))]


def make_entity(kind: str, pools: EntityPools, rng: np.random.Generator) -> list[str]:
    """The tokens of one entity of ``kind`` (``person``, ``place``, ``organisation`` or ``date``)."""
    if kind == "person":
        family = _pick(pools.family, rng)
        return [_pick(pools.given, rng), family] if rng.random() < 0.7 else [family]
    if kind == "place":
        return _pick(pools.places, rng).split()
    if kind == "organisation":
        form = int(rng.integers(3))
        if form == 0:
            return [_pick(pools.family, rng), *_pick(pools.suffixes, rng).split()]
        if form == 1:
            return [f"{_pick(pools.family, rng)}-{_pick(pools.family, rng)}"]
        return [_pick(pools.family, rng), ",", _pick(pools.family, rng), "and", _pick(pools.family, rng)]
    day, month, year = (
        str(int(rng.integers(1, 29))),
        calendar.month_name[int(rng.integers(1, 13))],
        str(_pick(pools.years, rng)),
    )
    return [[day, month, year], [month, day, ",", year], [month, year]][int(rng.integers(3))]


def tagged_sentence(template: str, pools: EntityPools, rng: np.random.Generator) -> list[tuple[str, str]]:
    """``(token, tag)`` of one sentence of ``template``, each slot filled with a fresh entity."""
    tagged: list[tuple[str, str]] = []
    for word in template.split():
        if not (word.startswith("{") and word.endswith("}")):
            tagged.append((word, "O"))
            continue
        slot = word[1:-1]
        kind = SLOT_TYPES[slot] if slot != "agent" else ("person", "organisation")[int(rng.integers(2))]
        tokens = make_entity(kind, pools, rng)
        tagged += [(token, f"{'B' if i == 0 else 'I'}-{kind}") for i, token in enumerate(tokens)]
    return tagged


def sentence_table(draw: int, n_sentences: int, pools: EntityPools, rng: np.random.Generator) -> pd.DataFrame:
    """``n_sentences`` tagged sentences of random templates, one row per token (:data:`COLUMNS`)."""
    rows = []
    for sentence in range(n_sentences):
        template = _pick(TEMPLATES, rng)
        for position, (token, tag) in enumerate(tagged_sentence(template, pools, rng)):
            rows.append((draw, sentence, position, token, tag))
    return pd.DataFrame(rows, columns=COLUMNS)


def sentences_of(table: pd.DataFrame) -> list[tuple[list[str], list[str]]]:
    """Each sentence of a table (in order) as its tokens and its tags."""
    ordered = table.sort_values(["draw", "sentence", "position"], kind="stable")
    return [
        (list(group["token"]), list(group["tag"]))
        for _, group in ordered.groupby(["draw", "sentence"], sort=False)
    ]
