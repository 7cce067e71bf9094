"""Text: a character language model of first names, per cell, and the names each one writes.

The notes' "text → tokens": names are split into characters, mapped to ids by a vocabulary
built from the training names (with padding, unknown and end tokens), embedded, and read by
each cell, which predicts the next character at every step (many-to-many; cross-entropy
over the real characters only). Generation is one-to-many: from the start token alone, one
sampled character after another until the end token. A count bigram is the baseline.
"""

import numpy as np
import pandas as pd
import torch

from dlpipeline.data.text import (
    CharTokenizer,
    bigram_counts,
    bigram_nll,
    language_model_tensors,
)
from dlpipeline.models.char_lm import sample_texts
from dlpipeline.pipelines.sequence.params import TextDataParams, TextSamplingParams
from dlpipeline.pipelines.sequence.report import result_rows
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels

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
        data.max_len,
        *language_model_tensors(list(train["name"]), tokenizer, data.max_len),
        *language_model_tensors(list(test["name"]), tokenizer, data.max_len),
        kind="language_model",
        output_size=tokenizer.vocab_size,
        readout="every",
        causal=True,
        characters=tokenizer.characters,
    )


def bigram_test_nll(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """The count bigram's test negative log-likelihood per character (nats), vocabulary from training."""
    tokenizer = CharTokenizer.from_texts(train["name"])
    counts = bigram_counts(list(train["name"]), tokenizer)
    return bigram_nll(counts, list(test["name"]), tokenizer, BIGRAM_SMOOTHING)


def text_rows(models: TrainedModels, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The text task's result rows (test NLL per character), beside the count bigram."""
    return result_rows(models, bigram_test_nll(train, test), "count bigram")


def text_samples(models: TrainedModels, train: pd.DataFrame, sampling: TextSamplingParams) -> pd.DataFrame:
    """``n_samples`` names written by every trained model, and whether each is a training name."""
    tokenizer = tokenizer_of(models)
    known = set(train["name"])
    rows = []
    for trained in models.values():
        generator = torch.Generator().manual_seed(sampling.seed)
        max_len = int(trained.kwargs["max_len"])
        texts = sample_texts(
            trained.module, tokenizer, sampling.n_samples, max_len, sampling.temperature, generator
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
    rows += _bigram_samples(train, tokenizer, sampling, known)
    return pd.DataFrame(rows)


def _bigram_samples(
    train: pd.DataFrame, tokenizer: CharTokenizer, sampling: TextSamplingParams, known: set[str]
) -> list[dict]:
    """What the count bigram writes, for comparison (cell ``bigram``)."""
    counts = bigram_counts(list(train["name"]), tokenizer) + BIGRAM_SMOOTHING
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
