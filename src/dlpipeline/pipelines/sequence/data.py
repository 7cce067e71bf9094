"""The ``data`` nodes of the sequence experiment: each task's tables, generated and split.

Nothing here imports model or training code, so the DVC stage that runs these nodes
depends on the data code and the parameters only.
"""

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from dlpipeline.data.digits import LABEL_COLUMN, load_digits_table
from dlpipeline.data.entities import faker_pools, sentence_table, split_pools
from dlpipeline.data.music import chorale_melodies, corpus_files
from dlpipeline.data.sequences import adding_problem, forecast_windows, mackey_glass, sine_waves
from dlpipeline.data.surnames import load_surnames
from dlpipeline.data.text import load_first_names
from dlpipeline.pipelines.sequence.params import (
    AddingDataParams,
    DigitsRowsDataParams,
    ForecastDataParams,
    GenerateDataParams,
    MusicDataParams,
    NamesDataParams,
    TaggingDataParams,
    TextDataParams,
)

# --- many-to-one: the adding problem --------------------------------------------------


def generate_adding(data: AddingDataParams) -> pd.DataFrame:
    """Every draw's and length's adding-problem sequences (train and test) in one long table.

    Draw ``d`` is generated from ``random_state + d`` (draw 0 from ``random_state``), in a
    ``draw`` column first.
    """
    return pd.concat(
        [
            with_draw(adding_problem(data.n_train + data.n_test, seq_len, data.random_state + draw), draw)
            for draw in range(data.n_draws)
            for seq_len in data.seq_lens
        ],
        ignore_index=True,
    )


def with_draw(table: pd.DataFrame, draw: int) -> pd.DataFrame:
    """``table`` with a first column ``draw``: which data draw its rows belong to."""
    return table.assign(draw=draw)[["draw", *table.columns]]


def split_adding(table: pd.DataFrame, data: AddingDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``n_train`` sequences of each draw and length for training, the rest for testing."""
    is_train = table["sequence"] < data.n_train
    return table[is_train].reset_index(drop=True), table[~is_train].reset_index(drop=True)


# --- many-to-one: digits row by row ---------------------------------------------------


def load_digits() -> pd.DataFrame:
    """scikit-learn's 8×8 digits as a table (label, px_0_0, …)."""
    return load_digits_table()


def split_digits(table: pd.DataFrame, data: DigitsRowsDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split of the digits."""
    train, test = train_test_split(
        table, test_size=data.test_size, random_state=data.random_state, stratify=table[LABEL_COLUMN]
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


# --- many-to-many: Mackey–Glass forecasting -------------------------------------------


def generate_series(data: ForecastDataParams) -> pd.DataFrame:
    """The Mackey–Glass series (τ = 17) as a ``step, value`` table."""
    return pd.DataFrame({"step": np.arange(data.n_steps), "value": mackey_glass(data.n_steps)})


def make_windows(series: pd.DataFrame, data: ForecastDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train windows from the first ``train_share`` of the series, test windows from the rest.

    Values are standardised by the training part's mean and std, so an MSE of 1 is the
    variance of the series.
    """
    values = series["value"].to_numpy()
    cut = int(len(values) * data.train_share)
    standard = (values - values[:cut].mean()) / values[:cut].std()
    windows = [
        forecast_windows(part, n, data.min_len, data.max_len, data.horizon, data.random_state + offset)
        for offset, (part, n) in enumerate(((standard[:cut], data.n_train), (standard[cut:], data.n_test)))
    ]
    return windows[0], windows[1]


# --- one-to-many: sine generation ----------------------------------------------------


def generate_waves(data: GenerateDataParams) -> pd.DataFrame:
    """Every draw's train and test sine waves in one table (the first ``n_train`` of each draw train).

    Draw ``d`` is generated from ``random_state + d``.
    """
    n_waves, omegas = data.n_train + data.n_test, (data.omega_min, data.omega_max)
    return pd.concat(
        [
            with_draw(sine_waves(n_waves, data.seq_len, *omegas, data.random_state + draw), draw)
            for draw in range(data.n_draws)
        ],
        ignore_index=True,
    )


def split_waves(table: pd.DataFrame, data: GenerateDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first ``n_train`` waves of each draw for training, the rest for testing."""
    is_train = table["sequence"] < data.n_train
    return table[is_train].reset_index(drop=True), table[~is_train].reset_index(drop=True)


# --- text: a character language model on first names -------------------------------------


def load_names() -> pd.DataFrame:
    """The corpus: English first names shipped with the ``faker`` package, one per row."""
    return pd.DataFrame({"name": load_first_names()})


def split_names(names: pd.DataFrame, data: TextDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random train / test split of the names (the vocabulary comes from the training part)."""
    train, test = train_test_split(names, test_size=data.test_size, random_state=data.random_state)
    return train.reset_index(drop=True), test.reset_index(drop=True)


# --- many-to-one text: the language of a surname ----------------------------------------


def load_names_by_language(data: NamesDataParams) -> pd.DataFrame:
    """``max_per_language`` surnames of each language (a sample seeded by ``random_state``), by language.

    Names found in two of the locales are gone already (see
    :func:`~dlpipeline.data.surnames.load_surnames`); a language with fewer names keeps them all.
    """
    names = load_surnames(data.locales)
    kept = [
        group.sample(n=min(len(group), data.max_per_language), random_state=data.random_state)
        for _, group in names.groupby("language", sort=False)
    ]
    return pd.concat(kept).sort_values(["language", "name"]).reset_index(drop=True)


def split_names_by_language(names: pd.DataFrame, data: NamesDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n_draws`` stratified train / test splits, split ``d`` from ``random_state + d`` (column ``draw``)."""
    splits = [
        train_test_split(
            names, test_size=data.test_size, random_state=data.random_state + draw, stratify=names["language"]
        )
        for draw in range(data.n_draws)
    ]
    train, test = (
        pd.concat([with_draw(split[part], draw) for draw, split in enumerate(splits)], ignore_index=True)
        for part in (0, 1)
    )
    return train, test


# --- aligned many-to-many: tagging entities -----------------------------------------------


def generate_tagged_sentences(data: TaggingDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and test sentences of every draw, one row per token, the test ones from held-out entities.

    Draw ``d`` splits faker's entity lists and writes its sentences with numpy's generator of
    ``random_state + d``; sentences are numbered per draw and part.
    """
    pools = faker_pools(data.place_locales)
    train, test = [], []
    for draw in range(data.n_draws):
        rng = np.random.default_rng(data.random_state + draw)
        train_pools, test_pools = split_pools(pools, data.test_share, rng)
        train.append(sentence_table(draw, data.n_train, train_pools, rng))
        test.append(sentence_table(draw, data.n_test, test_pools, rng))
    return pd.concat(train, ignore_index=True), pd.concat(test, ignore_index=True)


# --- music: melodies of the chorales in music21's corpus ---------------------------------


def load_chorales(data: MusicDataParams) -> pd.DataFrame:
    """``chorale, position, token``: the melody of each of ``max_chorales`` corpus files (a seeded sample).

    Files are sampled before they are parsed (parsing is the cost); those without a soprano
    part give no rows (see :func:`~dlpipeline.data.music.chorale_melodies`).
    """
    files = corpus_files(data.corpus, data.pattern)
    rng = np.random.default_rng(data.random_state)
    chosen = sorted(rng.choice(len(files), size=min(data.max_chorales, len(files)), replace=False))
    melodies = chorale_melodies([files[index] for index in chosen], data.max_notes)
    rows = [
        {"chorale": chorale, "position": position, "token": token}
        for chorale, tokens in melodies.items()
        for position, token in enumerate(tokens)
    ]
    return pd.DataFrame(rows, columns=["chorale", "position", "token"])


def split_chorales(chorales: pd.DataFrame, data: MusicDataParams) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n_draws`` splits by chorale (all its notes train, or all test); split ``d`` from random_state + d."""
    names = sorted(chorales["chorale"].unique())
    parts: tuple[list[pd.DataFrame], list[pd.DataFrame]] = ([], [])
    for draw in range(data.n_draws):
        train_names, _ = train_test_split(
            names, test_size=data.test_size, random_state=data.random_state + draw
        )
        is_train = chorales["chorale"].isin(train_names)
        parts[0].append(with_draw(chorales[is_train], draw))
        parts[1].append(with_draw(chorales[~is_train], draw))
    train, test = (pd.concat(part, ignore_index=True) for part in parts)
    return train, test
