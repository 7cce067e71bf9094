"""Characters or character bigrams as tokens? The text task's cell on bigram tokens, scored per character.

The notes' "text → tokens" leaves the token a choice. The study trains the task's ``tokens.cell``
(seeds, embedding size and training as the task's own, on the same split) on the first names cut
into pairs of characters (:mod:`dlpipeline.data.text_bigrams`), its hidden size chosen so that its
parameter count is nearest the character model's (a bigram vocabulary costs parameters in the
embedding and the read-out). The task's own models of that cell, on characters, are the control:
they are read, not retrained. Both are scored in nats per character of the test names (the bigram
model's NLL summed over a name, over the name's characters and its end), so one number compares them.
"""

import dataclasses
import math

import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.text import UNKNOWN_ID
from dlpipeline.data.text_bigrams import (
    PAIR,
    BigramTokenizer,
    bigram_tensors,
    nats_per_character,
    token_nll,
    unknown_cost,
)
from dlpipeline.figures.over_seeds import seed_strip_figure
from dlpipeline.models.char_lm import CharLanguageModel
from dlpipeline.models.checkpoint import count_parameters
from dlpipeline.pipelines.sequence.params import (
    ModelParams,
    TextDataParams,
    TextSamplingParams,
    TokensParams,
)
from dlpipeline.pipelines.sequence.report import child_run_of
from dlpipeline.pipelines.sequence.text import written_names
from dlpipeline.pipelines.sequence.training import SequenceModel, TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun

TOKENS_STUDY = "tokens"
BIGRAMS = "-bigrams"
"""The bigram models' task is the text task's name with this suffix (``text-bigrams``)."""


def bigram_tokenizer(train: pd.DataFrame, tokens: TokensParams) -> BigramTokenizer:
    """The bigram vocabulary of the training names (the test names never add a token)."""
    return BigramTokenizer.from_texts(train["name"], tokens.min_count)


def bigram_task(
    train: pd.DataFrame, test: pd.DataFrame, data: TextDataParams, tokens: TokensParams
) -> TaskTensors:
    """Next-bigram prediction on the training names: as many steps as the text task's, in pairs."""
    tokenizer = bigram_tokenizer(train, tokens)
    max_len = math.ceil(data.max_len / PAIR)
    return TaskTensors(
        "text" + BIGRAMS,
        *bigram_tensors(list(train["name"]), tokenizer, max_len),
        *bigram_tensors(list(test["name"]), tokenizer, max_len),
        kind="language_model",
        output_size=tokenizer.vocab_size,
        readout="every",
        causal=True,
        characters=tokenizer.bigrams,
    )


def cell_models(models: TrainedModels, cell: str) -> dict[int, SequenceModel]:
    """The text task's models of ``cell`` by seed (the control: trained on characters)."""
    chosen = {trained.about.seed: trained for trained in models.values() if trained.about.cell == cell}
    if not chosen:
        raise ValueError(f"tokens.cell {cell!r} is not a cell of the text task's models")
    return chosen


def matched_hidden_size(
    budget: int, vocab_size: int, model: ModelParams, cell: str, max_len: int, most: int
) -> int:
    """The hidden size (at most ``most``) giving a model of ``vocab_size`` tokens about ``budget`` parameters.

    The nearest count, the smaller size on a tie; a Transformer's width stays a multiple of its heads.
    """
    step = model.n_heads if cell == "transformer" else 1
    sizes = range(step, max(most, step) + 1, step)

    def distance(hidden_size: int) -> int:
        built = CharLanguageModel(
            vocab_size, model.embedding_dim, cell, hidden_size, max_len, model.n_heads, model.n_layers
        )
        return abs(count_parameters(built) - budget)

    return min(sizes, key=distance)


def bigram_model(
    model: ModelParams, tokens: TokensParams, tensors: TaskTensors, models: TrainedModels
) -> ModelParams:
    """The task's ``model`` (seeds, embedding) for ``tokens.cell`` only, sized by ``tokens.hidden_size``."""
    hidden_size = tokens.hidden_size
    if hidden_size is None:
        characters = next(iter(cell_models(models, tokens.cell).values()))
        budget = count_parameters(characters.module)
        most = 4 * model.hidden_size_of(tokens.cell)
        hidden_size = matched_hidden_size(
            budget, tensors.output_size, model, tokens.cell, tensors.seq_len, most
        )
    return model.model_copy(update={"cells": [tokens.cell], "cell_hidden_sizes": {tokens.cell: hidden_size}})


@torch.no_grad()
def bigram_nats_per_character(
    trained: SequenceModel, test: pd.DataFrame, tokenizer: BigramTokenizer
) -> float:
    """A bigram model's test NLL per character of the names (unknown pairs spread, see the data module)."""
    module = trained.module.eval()
    inputs, targets = bigram_tensors(list(test["name"]), tokenizer, int(trained.kwargs["max_len"]))
    nll = token_nll(module(inputs), targets, unknown_cost(tokenizer))
    return nats_per_character(nll, list(test["name"]))


def tokens_units(
    models: TrainedModels,
    bigram_models: TrainedModels,
    train: pd.DataFrame,
    test: pd.DataFrame,
    tokens: TokensParams,
) -> pd.DataFrame:
    """Per seed: the cell's test NLL per character on character tokens (the task's model) and on bigrams."""
    tokenizer = bigram_tokenizer(train, tokens)
    characters = cell_models(models, tokens.cell)
    unknown = sum(tokenizer.encode(name).count(UNKNOWN_ID) for name in test["name"])
    rows = []
    for trained in bigram_models.values():
        run = trained.about
        control = characters[run.seed]  # the same seeds: the study's models are the task's, re-tokenised
        rows.append(
            {
                "task": "text",
                "study": TOKENS_STUDY,
                "cell": run.cell,
                "seed": run.seed,
                "characters": float(control.about.test_metrics["test_nll"]),
                "bigrams": bigram_nats_per_character(trained, test, tokenizer),
                "bigrams_per_token": float(run.test_metrics["test_nll"]),
                "parameters_characters": count_parameters(control.module),
                "parameters_bigrams": count_parameters(trained.module),
                "hidden_size_characters": control.about.hidden_size,
                "hidden_size_bigrams": run.hidden_size,
                "vocab_bigrams": tokenizer.vocab_size,
                "unknown_test_tokens": unknown,
            }
        )
    return pd.DataFrame(rows)


def token_samples(
    bigram_models: TrainedModels, train: pd.DataFrame, sampling: TextSamplingParams, tokens: TokensParams
) -> pd.DataFrame:
    """``n_samples`` names written by every bigram model (the text task's sampling), training names marked."""
    tokenizer = bigram_tokenizer(train, tokens)
    rows = written_names(bigram_models, tokenizer, sampling, set(train["name"]), tokenizer.end_ids)
    return pd.DataFrame(rows)


def tokens_child_runs(
    bigram_models: TrainedModels, units: pd.DataFrame, samples: pd.DataFrame
) -> list[ChildRun]:
    """A child run per bigram model (``study=tokens``, ``tokens=bigrams``): NLL per character, names."""
    runs = []
    for label, trained in bigram_models.items():
        seed = trained.about.seed
        nats = float(units.loc[units["seed"] == seed, "bigrams"].iloc[0])
        written = samples[samples["seed"] == seed]
        extra = {"test_nll_per_char": nats, "test_bits_per_char": nats / math.log(2)}
        run = child_run_of(label, trained, extra, {"samples.txt": "\n".join(written["text"]) + "\n"})
        params = {**run.params, "study": TOKENS_STUDY, "tokens": "bigrams"}
        runs.append(dataclasses.replace(run, params=params))
    return runs


def plot_tokens(units: pd.DataFrame) -> Figure:
    """Every seed's test NLL per character on character tokens and on bigram tokens, per cell."""
    series = {
        f"{cell} ({int(rows['parameters_bigrams'].iloc[0])} parameters on bigrams)": [
            rows["characters"].to_numpy(),
            rows["bigrams"].to_numpy(),
        ]
        for cell, rows in units.groupby("cell", sort=False)
    }
    return seed_strip_figure(
        ["characters", "character bigrams"],
        series,
        "test NLL per character (nats)",
        "first names: one network, two kinds of token",
    )
