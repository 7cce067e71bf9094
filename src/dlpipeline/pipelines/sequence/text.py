"""Text: a character language model of first names, per cell, and the names each one writes.

The notes' "text → tokens": names are split into characters, mapped to ids by a vocabulary
built from the training names (with padding, unknown and end tokens), embedded, and read by
each cell, which predicts the next character at every step (many-to-many; cross-entropy
over the real characters only). Generation is one-to-many: from the start token alone, one
sampled character after another until the end token. A count bigram is the baseline.
"""

from collections.abc import Collection

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.text import (
    END_ID,
    CharTokenizer,
    CountBigram,
    bigram_counts,
    bigram_nll,
    language_model_tensors,
)
from dlpipeline.models.char_lm import Decoder, sample_texts
from dlpipeline.pipelines.sequence.params import TextDataParams, TextSamplingParams
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import unit_rows

BIGRAM_SMOOTHING = 1.0
"""Add-one smoothing, as makemore's count bigram: every pair seen once more than it was."""


def tokenizer_of(models: TrainedModels) -> CharTokenizer:
    """The vocabulary the language models were trained with (kept in what each one is about)."""
    return CharTokenizer(next(iter(models.values())).about.characters)


def text_task(train: pd.DataFrame, test: pd.DataFrame, data: TextDataParams) -> TaskTensors:
    """Next-character prediction on the training names, with the vocabulary built from them."""
    tokenizer = CharTokenizer.from_texts(train["name"])
    return TaskTensors(
        "text",
        *language_model_tensors(list(train["name"]), tokenizer, data.max_len),
        *language_model_tensors(list(test["name"]), tokenizer, data.max_len),
        kind="language_model",
        output_size=tokenizer.vocab_size,
        readout="every",
        causal=True,
        characters=tokenizer.characters,
    )


def fit_bigram(train: pd.DataFrame) -> CountBigram:
    """The count bigram of the training names, its vocabulary built from them as the models' is."""
    tokenizer = CharTokenizer.from_texts(train["name"])
    return CountBigram(tokenizer, bigram_counts(list(train["name"]), tokenizer))


def bigram_test_nll(bigram: CountBigram, test: pd.DataFrame) -> float:
    """The count bigram's test negative log-likelihood per character (nats), with add-one smoothing."""
    return bigram_nll(bigram.counts, list(test["name"]), bigram.tokenizer, BIGRAM_SMOOTHING)


def text_rows(models: TrainedModels, bigram: CountBigram, test: pd.DataFrame) -> pd.DataFrame:
    """The text task's result rows (test NLL per character), beside the count bigram."""
    return result_rows(models, bigram_test_nll(bigram, test), "count bigram")


def text_units(models: TrainedModels, bigram: CountBigram, test: pd.DataFrame) -> pd.DataFrame:
    """The language models' unit rows (one split: seeds only), beside the count bigram's test NLL."""
    return unit_rows(models, bigram_test_nll(bigram, test), "count bigram")


def text_samples(
    models: TrainedModels, bigram: CountBigram, train: pd.DataFrame, sampling: TextSamplingParams
) -> pd.DataFrame:
    """``n_samples`` names written by every trained model and by the bigram, and which are training names."""
    tokenizer = tokenizer_of(models)
    known = set(train["name"])
    rows = written_names(models, tokenizer, sampling, known)
    rows += _bigram_samples(bigram, train, sampling, known)
    return pd.DataFrame(rows)


def written_names(
    models: TrainedModels,
    tokenizer: Decoder,
    sampling: TextSamplingParams,
    known: set[str],
    end_ids: Collection[int] = (END_ID,),
) -> list[dict]:
    """``n_samples`` names each model writes (ending at a token of ``end_ids``), training names marked."""
    rows = []
    for trained in models.values():
        generator = torch.Generator().manual_seed(sampling.seed)
        max_len = int(trained.kwargs["max_len"])
        texts = sample_texts(
            trained.module, tokenizer, sampling.n_samples, max_len, sampling.temperature, generator, end_ids
        )
        rows += [
            {
                "cell": trained.about.cell,
                "seed": trained.about.seed,
                "sample": index,
                "text": text,
                "in_training": int(text in known),
            }
            for index, text in enumerate(texts)
        ]
    return rows


def _bigram_samples(
    bigram: CountBigram, train: pd.DataFrame, sampling: TextSamplingParams, known: set[str]
) -> list[dict]:
    """What the count bigram writes, for comparison (cell ``bigram``), no name longer than a training one."""
    tokenizer = bigram.tokenizer
    counts = bigram.counts + BIGRAM_SMOOTHING
    counts[:, [tokenizer.pad_id, tokenizer.unknown_id]] = 0  # never written
    probabilities = counts / counts.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(sampling.seed)
    max_characters = int(train["name"].str.len().max())
    rows = []
    for index in range(sampling.n_samples):
        token, characters = tokenizer.end_id, []
        while len(characters) < max_characters:
            token = int(rng.choice(len(probabilities), p=probabilities[token]))
            if token == tokenizer.end_id:
                break
            characters.append(token)
        text = tokenizer.decode(characters)
        rows.append(
            {
                "cell": "bigram",
                "seed": sampling.seed,
                "sample": index,
                "text": text,
                "in_training": int(text in known),
            }
        )
    return rows
