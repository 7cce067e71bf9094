"""The translation task's data nodes: numbers written in words, paired with their digits, and split.

No torch model code here, so the data stage does not re-run when training code changes.
"""

import numpy as np
import pandas as pd

from dlpipeline.data.number_words import WRITERS
from dlpipeline.pipelines.sequence.params import TranslateDataParams

PAIR_COLUMNS = ["draw", "language", "number", "source", "target", "length"]


def draw_numbers(max_digits: int, n_numbers: int, rng: np.random.Generator) -> np.ndarray:
    """``n_numbers`` distinct numbers below ``10**max_digits``, each count of digits equally likely."""
    numbers = np.arange(10**max_digits)
    digits = np.array([len(str(number)) for number in numbers])
    weights = 1.0 / np.bincount(digits)[digits]
    return rng.choice(numbers, size=n_numbers, replace=False, p=weights / weights.sum())


def generate_translation_pairs(data: TranslateDataParams) -> pd.DataFrame:
    """Every draw's pairs: a number in words (``source``) and in digits (``target``), per language.

    Draw ``d`` comes from ``random_state + d``; each language draws its own numbers.
    """
    tables = []
    for draw in range(data.n_draws):
        rng = np.random.default_rng([data.random_state + draw])
        for language in data.languages:
            numbers = draw_numbers(data.max_digits, data.n_numbers, rng)
            sources = [WRITERS[language](int(number)) for number in numbers]
            tables.append(
                pd.DataFrame(
                    {
                        "draw": draw,
                        "language": language,
                        "number": numbers.astype(int),
                        "source": sources,
                        "target": [str(number) for number in numbers],
                        "length": [len(source) for source in sources],
                    }
                )
            )
    return pd.concat(tables, ignore_index=True)[PAIR_COLUMNS]


def split_translation_pairs(
    pairs: pd.DataFrame, data: TranslateDataParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training pairs, and test pairs marked ``longer`` where the source is longer than any trained on.

    Within ``train_max_len`` characters a seeded ``test_size`` share of each draw and language is
    held out; of the longer pairs, ``max_longer`` per draw (a seeded sample) are kept for the test.
    """
    train_parts, test_parts = [], []
    for (draw, _language), group in pairs.groupby(["draw", "language"], sort=True):
        rng = np.random.default_rng([data.random_state, int(draw), 1])
        within = group[group["length"] <= data.train_max_len]
        held_out = rng.random(len(within)) < data.test_size
        train_parts.append(within[~held_out])
        test_parts.append(within[held_out].assign(longer=0))
    for draw, group in pairs[pairs["length"] > data.train_max_len].groupby("draw", sort=True):
        rng = np.random.default_rng([data.random_state, int(draw), 2])
        kept = rng.permutation(len(group))[: data.max_longer]
        test_parts.append(group.iloc[np.sort(kept)].assign(longer=1))
    train = pd.concat(train_parts, ignore_index=True)
    test = pd.concat(test_parts, ignore_index=True).sort_values(["draw", "longer"], kind="stable")
    return train, test.reset_index(drop=True)
