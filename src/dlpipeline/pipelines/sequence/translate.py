"""Unaligned many-to-many: numbers written in words (English, Spanish) translated into digits.

An encoder–decoder reads the words one character per step and writes the digits one per
step: a recurrent one with or without attention over the encoder's states, and a
Transformer. Training uses teacher forcing (the decoder reads the true previous digit), the
test greedy decoding (it reads its own, until END or ``decode.max_len`` tokens). Scores:
``exact_match`` (the share of test numbers written exactly) and ``cer`` (character error
rate: edits per target character), on test numbers within the training lengths, and the
same on longer ones (``_longer``), beside the copy baseline (the source written as it is).
Each seed trains and is tested on its own data draw.
"""

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.text import END_ID, CharTokenizer, language_model_tensors
from dlpipeline.executor import IN_THIS_PROCESS, ExecutorParams, run_tasks
from dlpipeline.figures.over_seeds import SeedSpread, spread_over_seeds_figure
from dlpipeline.models.char_lm import masked_cross_entropy
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.seq2seq import RecurrentSeq2Seq, Seq2Seq, TransformerSeq2Seq, greedy_decode
from dlpipeline.pipelines.sequence.params import (
    Seq2SeqSpec,
    TranslateDataParams,
    TranslateDecodeParams,
    TranslateModelParams,
)
from dlpipeline.pipelines.sequence.report import child_run_of
from dlpipeline.pipelines.sequence.task_tables import results_by_cell, units_beside_baseline
from dlpipeline.pipelines.sequence.training import SequenceModel, SequenceRun, TrainedModels, seed_draws
from dlpipeline.tracking import ChildRun
from dlpipeline.training import TrainConfig, train_configuration, with_fixed_threads

logger = logging.getLogger(__name__)

TASK = "translate"
PATTERN = "many-to-many"
COPY = "copy"
NO_SEED = -1
"""The seed column of the copy baseline's rows: it trains nothing."""
METRICS = ("exact_match", "cer", "exact_match_longer", "cer_longer")
PREDICTION_COLUMNS = [
    "run", "cell", "draw", "seed", "language", "source", "target", "predicted", "length", "longer"
]  # fmt: skip


def source_ids(texts: Sequence[str], tokenizer: CharTokenizer, width: int) -> torch.Tensor:
    """Each text's token ids ``(n, width)``, right-padded with PAD; a longer text is refused."""
    longest = max(map(len, texts), default=0)
    if longest > width:
        raise ValueError(f"a source of {longest} characters does not fit in {width} steps")
    ids = torch.zeros(len(texts), width, dtype=torch.long)
    for row, text in enumerate(texts):
        ids[row, : len(text)] = torch.tensor(tokenizer.encode(text), dtype=torch.long)
    return ids


def exact_match(predicted: Sequence[str], targets: Sequence[str]) -> float:
    """The share of ``predicted`` equal to their target, character for character."""
    if len(predicted) != len(targets) or not targets:
        raise ValueError(f"{len(predicted)} predictions for {len(targets)} targets")
    return float(np.mean([guess == target for guess, target in zip(predicted, targets, strict=True)]))


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning one into the other."""
    previous = list(range(len(second) + 1))
    for row, character in enumerate(first, start=1):
        current = [row]
        for column, other in enumerate(second, start=1):
            current.append(
                min(
                    previous[column] + 1, current[column - 1] + 1, previous[column - 1] + (character != other)
                )
            )
        previous = current
    return previous[-1]


def character_error_rate(predicted: Sequence[str], targets: Sequence[str]) -> float:
    """Edits over all pairs divided by the targets' characters (0 = every one exact; may exceed 1)."""
    if len(predicted) != len(targets) or not targets:
        raise ValueError(f"{len(predicted)} predictions for {len(targets)} targets")
    edits = sum(edit_distance(guess, target) for guess, target in zip(predicted, targets, strict=True))
    return edits / max(sum(map(len, targets)), 1)


@dataclass(frozen=True)
class TranslateRun(SequenceRun):
    """A trained encoder–decoder's ``about``: ``architecture`` says whether it attends."""

    @property
    def label(self) -> str:
        """The configuration's name (``gru``, ``gru+attention``, ``transformer``): one line of a figure."""
        return Seq2SeqSpec(cell=self.cell, attention=bool(self.architecture["attention"])).name


@dataclass(frozen=True)
class TranslateTensors:
    """One draw's training pairs as one tensor each, and what a model needs to fit them.

    ``characters`` is the vocabulary (the training pairs' characters, both sides); ``draw`` the
    data draw the pairs come from.
    """

    draw: int
    characters: tuple[str, ...]
    features: torch.Tensor
    """``(n, source_len + target_len)``: the source ids, then ``END`` + the target's (teacher forcing)."""
    targets: torch.Tensor
    """``(n, target_len)``: the target's ids + ``END``, right-padded (padding is left out of the loss)."""
    source_len: int
    max_len: int
    """The longest sequence a model meets, test sources and decoding included (Transformer positions)."""
    test_sources: tuple[str, ...]
    test_targets: tuple[str, ...]
    """The test pairs within the training lengths: what ``exact_match`` and ``cer`` are measured on."""


def translate_tasks(
    train: pd.DataFrame, test: pd.DataFrame, data: TranslateDataParams, decode: TranslateDecodeParams
) -> list[TranslateTensors]:
    """One task per draw, its vocabulary the characters of its training pairs (both sides)."""
    tasks = []
    for draw in sorted(train["draw"].unique()):
        train_draw, test_draw = train[train["draw"] == draw], test[test["draw"] == draw]
        tokenizer = CharTokenizer.from_texts([*train_draw["source"], *train_draw["target"]])
        target_len = int(train_draw["target"].str.len().max()) + 1
        inputs, targets = language_model_tensors(list(train_draw["target"]), tokenizer, target_len)
        within = test_draw[test_draw["longer"] == 0]
        tasks.append(
            TranslateTensors(
                draw=int(draw),
                characters=tokenizer.characters,
                features=torch.cat(
                    [source_ids(list(train_draw["source"]), tokenizer, data.train_max_len), inputs], 1
                ),
                targets=targets,
                source_len=data.train_max_len,
                max_len=max(int(test_draw["length"].max()), data.train_max_len, decode.max_len + 1),
                test_sources=tuple(within["source"]),
                test_targets=tuple(within["target"]),
            )
        )
    return tasks


def new_translator(spec: Seq2SeqSpec, task: TranslateTensors, model: TranslateModelParams) -> TrainedModule:
    """A fresh encoder–decoder of ``spec`` sized by ``model`` for ``task``'s vocabulary and lengths."""
    module: type[Seq2Seq]
    if spec.cell == "transformer":
        module = TransformerSeq2Seq
        options = {"d_model": model.hidden_size, "max_len": task.max_len}
        options |= {"n_heads": model.n_heads, "n_layers": model.n_layers}
    else:
        module = RecurrentSeq2Seq
        options = {"embedding_dim": model.embedding_dim, "hidden_size": model.hidden_size}
        options |= {"cell": spec.cell, "attention": spec.attention}
    vocab_size = CharTokenizer(task.characters).vocab_size
    return TrainedModule.build(module, vocab_size=vocab_size, source_len=task.source_len, **options)


@dataclass(frozen=True)
class TranslatorJob:
    """One encoder–decoder and seed of the sweep."""

    task_index: int
    spec: Seq2SeqSpec
    seed: int
    model: TranslateModelParams
    train: TrainConfig
    decode: TranslateDecodeParams


def run_label(spec: Seq2SeqSpec, seed: int) -> str:
    """A model's run label, e.g. ``translate-gru+attention-s0``."""
    return f"{TASK}-{spec.name}-s{seed}"


def train_translators(
    tasks: Sequence[TranslateTensors],
    model: TranslateModelParams,
    train: TrainConfig,
    decode: TranslateDecodeParams,
    executor: ExecutorParams = IN_THIS_PROCESS,
) -> TrainedModels:
    """Every configured encoder–decoder × seed (seed ``i`` on draw ``i``), each a task of ``executor``."""
    fixed = with_fixed_threads(train)
    index_of = {task.draw: index for index, task in enumerate(tasks)}
    jobs = {}
    for spec in model.models:
        seeds = model.seeds_of(spec)
        draw_of = seed_draws(seeds, [task.draw for task in tasks])
        for seed in seeds:
            jobs[run_label(spec, seed)] = TranslatorJob(
                index_of[draw_of[seed]], spec, seed, model, fixed, decode
            )
    costs = {label: translator_cost(job.spec) for label, job in jobs.items()}
    return run_tasks(train_translator, tuple(tasks), jobs, executor, costs)


TRANSLATOR_COSTS = {"transformer": 1.8, "attention": 1.2, "plain": 1.0}
"""Relative training costs of an encoder–decoder at base size (CPU seconds per epoch measured at
0.37 for a plain GRU, 0.44 with attention, 0.68 for the Transformer), to start the costliest first."""


def translator_cost(spec: Seq2SeqSpec) -> float:
    """What training ``spec`` costs relative to a plain recurrent encoder–decoder (ordering only)."""
    if spec.cell == "transformer":
        return TRANSLATOR_COSTS["transformer"]
    return TRANSLATOR_COSTS["attention" if spec.attention else "plain"]


def translate(module: Seq2Seq, sources: Sequence[str], tokenizer: CharTokenizer, max_len: int) -> list[str]:
    """Greedy translations of ``sources`` (see :func:`~dlpipeline.models.seq2seq.greedy_decode`)."""
    ids = source_ids(sources, tokenizer, max(map(len, sources)))
    return [tokenizer.decode(row.tolist()) for row in greedy_decode(module, ids, max_len)]


def train_translator(tasks: Sequence[TranslateTensors], job: TranslatorJob) -> SequenceModel:
    """Train one encoder–decoder with teacher forcing; score its greedy translations of the test pairs."""
    task = tasks[job.task_index]
    description = f"{TASK} {job.spec.name} seed {job.seed}"
    trained = train_configuration(
        functools.partial(new_translator, job.spec, task, job.model),
        task.features,
        task.targets,
        masked_cross_entropy,
        job.train,
        [job.seed],
        description,
    )
    predicted = translate(
        trained.module, task.test_sources, CharTokenizer(task.characters), job.decode.max_len
    )
    metrics = {
        "exact_match": exact_match(predicted, task.test_targets),
        "cer": character_error_rate(predicted, task.test_targets),
    }
    logger.info("%s: exact match %.3f, cer %.3f", description, metrics["exact_match"], metrics["cer"])
    architecture = {"attention": job.spec.attention}
    if job.spec.cell == "transformer":
        architecture.update(n_heads=job.model.n_heads, n_layers=job.model.n_layers)
    return trained.replace(
        about=TranslateRun(
            task=TASK,
            cell=job.spec.cell,
            seq_len=task.source_len,
            seed=job.seed,
            hidden_size=job.model.hidden_size,
            architecture=architecture,
            test_metrics=metrics,
            characters=task.characters,
            draw=task.draw,
        )
    )


def model_translations(
    models: TrainedModels, test: pd.DataFrame, decode: TranslateDecodeParams
) -> pd.DataFrame:
    """Every model's greedy translation of every test pair of its draw, longer sources included."""
    tables = []
    for label, trained in models.items():
        run = trained.about
        pairs = test[test["draw"] == run.draw]
        predicted = translate(
            trained.module, list(pairs["source"]), CharTokenizer(run.characters), decode.max_len
        )
        tables.append(_translations(label, run.label, run.draw, run.seed, pairs, predicted))
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def copy_translations(test: pd.DataFrame) -> pd.DataFrame:
    """The copy baseline: each source written as it is, one run per draw."""
    tables = [
        _translations(copy_run(int(draw)), COPY, int(draw), NO_SEED, pairs, list(pairs["source"]))
        for draw, pairs in test.groupby("draw", sort=True)
    ]
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def copy_run(draw: int) -> str:
    """The copy baseline's run label on draw ``draw``, e.g. ``translate-copy-d0``."""
    return f"{TASK}-{COPY}-d{draw}"


def _translations(
    label: str, cell: str, draw: int, seed: int, pairs: pd.DataFrame, predicted: Sequence[str]
) -> pd.DataFrame:
    """One run's rows of the translations table."""
    return pairs.assign(run=label, cell=cell, draw=draw, seed=seed, predicted=list(predicted))


def translate_scores(models: pd.DataFrame, copy: pd.DataFrame) -> pd.DataFrame:
    """Per run: ``exact_match`` and ``cer`` within the training lengths, and on longer sources."""
    rows = []
    for (run, cell, draw, seed), group in pd.concat([models, copy]).groupby(
        ["run", "cell", "draw", "seed"], sort=False
    ):
        row = {"run": run, "cell": cell, "draw": draw, "seed": seed}
        for suffix, part in (("", group[group["longer"] == 0]), ("_longer", group[group["longer"] == 1])):
            predicted, targets = list(part["predicted"]), list(part["target"])
            row[f"exact_match{suffix}"] = exact_match(predicted, targets)
            row[f"cer{suffix}"] = character_error_rate(predicted, targets)
        rows.append(row)
    return pd.DataFrame(rows)


def translate_units(scores: pd.DataFrame, data: TranslateDataParams) -> pd.DataFrame:
    """One row per model and metric, beside the copy baseline's on the same draw (what the claims read)."""
    return units_beside_baseline(scores, TASK, METRICS, data.train_max_len, COPY, "copy the source")


def translate_results(scores: pd.DataFrame) -> pd.DataFrame:
    """Per configuration (the copy last) and metric: median, spread, mean and std over its runs."""
    return results_by_cell(scores, TASK, METRICS)


def length_table(models: pd.DataFrame, copy: pd.DataFrame, data: TranslateDataParams) -> pd.DataFrame:
    """Exact match per configuration and source length (bins of 8 characters), per run.

    ``beyond`` marks the bins past ``train_max_len``: lengths no training pair had.
    """
    every = pd.concat([models, copy], ignore_index=True)
    start = (every["length"] - 1) // 8 * 8 + 1
    every = every.assign(
        length_from=start, length_to=start + 7, correct=every["predicted"] == every["target"]
    )
    table = (
        every.groupby(["cell", "run", "draw", "seed", "length_from", "length_to"], sort=False)
        .agg(pairs=("correct", "size"), exact_match=("correct", "mean"))
        .reset_index()
    )
    table["beyond"] = (table["length_from"] > data.train_max_len).astype(int)
    return table.sort_values(["cell", "length_from", "seed"], kind="stable").reset_index(drop=True)


def plot_length(lengths: pd.DataFrame, data: TranslateDataParams) -> Figure:
    """Exact match against source length, every run a dot, per configuration; the training lengths marked."""
    series = []
    for cell, rows in lengths.groupby("cell", sort=False):
        bins = sorted(rows["length_from"].unique())
        per_bin = [rows[rows["length_from"] == start]["exact_match"].to_numpy() for start in bins]
        series.append(SeedSpread(str(cell), [start + 3.5 for start in bins], per_bin))
    figure = spread_over_seeds_figure(
        series,
        "source length (characters; bins of 8)",
        "exact match",
        f"{TASK}: exact match against source length (trained on ≤ {data.train_max_len} characters)",
    )
    figure.axes[0].axvline(data.train_max_len + 0.5, color="grey", linestyle=":", label="longest trained on")
    figure.axes[0].legend(fontsize=8, ncols=2)
    return figure


def plot_attention(models: TrainedModels, test: pd.DataFrame, decode: TranslateDecodeParams) -> Figure:
    """The attention weights of the first attending recurrent model: each written digit over the source.

    One panel per language, the first test pair of the model's draw in that language with a
    source longer than any trained on when there is one. Nothing but a note when no model attends.
    """
    attending = [
        t for t in models.values() if t.about.cell != "transformer" and t.about.architecture["attention"]
    ]
    if not attending:
        figure = Figure(figsize=(6, 2), layout="constrained")
        figure.text(0.5, 0.5, "no recurrent model with attention was trained", ha="center")
        return figure
    trained = min(attending, key=lambda t: t.about.seed)
    tokenizer = CharTokenizer(trained.about.characters)
    pairs = test[test["draw"] == trained.about.draw].sort_values("longer", ascending=False, kind="stable")
    shown = pairs.groupby("language", sort=True).head(1)
    figure = Figure(figsize=(11, 2.2 * len(shown) + 0.5), layout="constrained")
    for ax, row in zip(figure.subplots(len(shown), 1, squeeze=False)[:, 0], shown.itertuples(), strict=True):
        source = source_ids([row.source], tokenizer, len(row.source))
        written = greedy_decode(trained.module, source, decode.max_len)
        text = tokenizer.decode(written[0].tolist())
        inputs = torch.cat([torch.full((1, 1), END_ID, dtype=torch.long), written[:, : len(text)]], dim=1)
        with torch.no_grad():
            weights = trained.module.attention(source, inputs)
        assert weights is not None
        ax.imshow(weights[0].numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=1)
        ax.set_xticks(range(len(row.source)), list(row.source), fontsize=7)
        ax.set_yticks(range(len(text) + 1), [*text, "END"], fontsize=8)
        ax.set_title(f"{row.language}: {row.source!r} → {text!r} (true {row.target})", fontsize=9)
    figure.suptitle(f"{trained.about.label}, seed {trained.about.seed}: attention of each written token")
    return figure


def translate_outputs(
    models: pd.DataFrame, copy: pd.DataFrame, decode: TranslateDecodeParams
) -> pd.DataFrame:
    """The same ``n_outputs`` test sources translated by every configuration (first seed) and the copy.

    Draw 0's test pairs, alternating languages and from within to longer sources, so every
    configuration translates the same ones.
    """
    every = pd.concat([models, copy], ignore_index=True)
    first = every[every["draw"] == every["draw"].min()]
    firsts = first[first["seed"] == first.groupby("cell")["seed"].transform("min")]
    pairs = firsts.drop_duplicates("source")
    ordered = pairs.assign(rank=pairs.groupby(["longer", "language"]).cumcount()).sort_values(
        ["rank", "longer", "language"], kind="stable"
    )
    picked = list(ordered["source"].head(decode.n_outputs))
    rows = firsts[firsts["source"].isin(picked)].assign(
        correct=lambda t: (t["predicted"] == t["target"]).astype(int)
    )
    columns = ["cell", "seed", "language", "source", "target", "predicted", "longer", "correct"]
    return rows[columns].reset_index(drop=True)


def translate_child_runs(
    models: TrainedModels, translations: pd.DataFrame, copy: pd.DataFrame, scores: pd.DataFrame
) -> list[ChildRun]:
    """A child run per model (its longer-source scores and translations) and one per copy baseline."""
    by_run = scores.set_index("run")
    every = pd.concat([translations, copy])
    runs = [
        child_run_of(
            label,
            trained,
            {metric: float(by_run.loc[label, metric]) for metric in METRICS[2:]},
            {"translations.txt": _translations_text(every[every["run"] == label])},
        )
        for label, trained in models.items()
    ]
    for label, row in by_run[by_run["cell"] == COPY].iterrows():
        runs.append(
            ChildRun(
                name=str(label),
                params={"task": TASK, "pattern": PATTERN, "cell": COPY, "draw": int(row["draw"])},
                metrics={metric: float(row[metric]) for metric in METRICS},
                texts={"translations.txt": _translations_text(every[every["run"] == label])},
            )
        )
    return runs


def _translations_text(rows: pd.DataFrame) -> str:
    """One run's translations, one a line: ``source → predicted`` and the target where it differs."""
    return "".join(
        f"{row.source}\t→ {row.predicted}"
        + ("" if row.predicted == row.target else f"\t✗ {row.target}")
        + "\n"
        for row in rows.itertuples()
    )
