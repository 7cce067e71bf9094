"""Music generation: a note-level language model of Bach chorale melodies per cell, and what it writes.

Each melody (see :mod:`dlpipeline.data.music`) is a sequence of ``pitch:duration`` tokens;
every cell reads it through an embedding and predicts the next token at every step (the
shared character language model, trained by the shared loop), and is scored by its test
negative log-likelihood per note (nats; the final END counts as one more prediction), on
chorales it never saw (split by chorale; seed ``i`` on split ``i``). The baseline on the
same split is a count n-gram of the training melodies' tokens (add-k smoothing), with the
same metric; the claim's control is the unigram (the notes' frequencies without their
order), which any model of melodies as sequences must beat. Generation is one-to-many:
from the start token alone, the first seed's model of each cell writes ``n_melodies``
melodies, kept as tokens, MIDI and a short WAV, and drawn as piano rolls.
"""

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlpipeline.data.music import (
    REST,
    NoteVocabulary,
    melody_tensors,
    midi_bytes,
    ngram_counts,
    ngram_nll,
    parse_token,
    token_midi,
    wav_bytes,
)
from dlpipeline.models.char_lm import sample_texts
from dlpipeline.pipelines.sequence.params import MusicBaselineParams, MusicDataParams, MusicSamplingParams
from dlpipeline.pipelines.sequence.report import PATTERNS, child_run_of, first_seeds
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.pipelines.sequence.units import COLUMNS
from dlpipeline.tracking import ChildRun

TASK = "music"
NGRAM = "ngram"
UNIGRAM = "unigram"
"""The claim's control: how often each token occurs, with no order (an n-gram of order 1)."""
BASELINES = (NGRAM, UNIGRAM)
WORST = "worst of rnn/lstm/gru/transformer"
"""The unit row the claim reads: on each unit, the cell with the highest test NLL (every cell must hold)."""
NO_SEED = -1
"""The seed column of the n-gram's rows: it is counted once per split, deterministically."""
METRIC = "test_nll"
SHOWN_IN_FIGURE = 3
"""Melodies of each cell drawn one after another in the report's piano roll."""


def melodies_of(table: pd.DataFrame, draw: int) -> list[list[str]]:
    """The melodies (token lists) of split ``draw``, one per chorale, in chorale order."""
    rows = table[table["draw"] == draw].sort_values(["chorale", "position"], kind="stable")
    return [list(group["token"]) for _, group in rows.groupby("chorale", sort=True)]


def music_tasks(train: pd.DataFrame, test: pd.DataFrame, data: MusicDataParams) -> list[TaskTensors]:
    """One next-token task per split, its vocabulary the tokens of its training melodies."""
    tasks = []
    for draw in sorted(train["draw"].unique()):
        train_melodies, test_melodies = melodies_of(train, draw), melodies_of(test, draw)
        vocabulary = NoteVocabulary.from_melodies(train_melodies)
        max_len = data.max_notes + 1
        tasks.append(
            TaskTensors(
                TASK,
                *melody_tensors(train_melodies, vocabulary, max_len),
                *melody_tensors(test_melodies, vocabulary, max_len),
                kind="language_model",
                output_size=vocabulary.vocab_size,
                readout="every",
                causal=True,
                characters=vocabulary.tokens,
                draw=int(draw),
            )
        )
    return tasks


def ngram_run(cell: str, draw: int) -> str:
    """A count baseline's run label on split ``draw``, e.g. ``music-ngram-d0``."""
    return f"{TASK}-{cell}-d{draw}"


def ngram_scores(train: pd.DataFrame, test: pd.DataFrame, baseline: MusicBaselineParams) -> pd.DataFrame:
    """Test NLL per note on each split of the count n-gram (``ngram``) and of the unigram (``unigram``).

    Both are counted on the split's training melodies, with the same add-k smoothing.
    """
    rows = []
    for draw in sorted(train["draw"].unique()):
        train_melodies = melodies_of(train, draw)
        vocabulary = NoteVocabulary.from_melodies(train_melodies)
        train_ids = [vocabulary.encode(melody) for melody in train_melodies]
        test_ids = [vocabulary.encode(melody) for melody in melodies_of(test, draw)]
        for cell, order in ((NGRAM, baseline.order), (UNIGRAM, 1)):
            nll = ngram_nll(
                ngram_counts(train_ids, order), test_ids, vocabulary.vocab_size, baseline.smoothing
            )
            rows.append(
                {
                    "run": ngram_run(cell, int(draw)),
                    "cell": cell,
                    "draw": int(draw),
                    "seed": NO_SEED,
                    METRIC: nll,
                }
            )
    return pd.DataFrame(rows)


def music_scores(models: TrainedModels, ngram: pd.DataFrame) -> pd.DataFrame:
    """``run, cell, draw, seed, test_nll`` of every model, then of the n-gram on each split."""
    rows = [
        {
            "run": label,
            "cell": trained.about.cell,
            "draw": trained.about.draw,
            "seed": trained.about.seed,
            METRIC: trained.about.test_metrics[METRIC],
        }
        for label, trained in models.items()
    ]
    return pd.concat([pd.DataFrame(rows), ngram], ignore_index=True)


def music_units(scores: pd.DataFrame, data: MusicDataParams) -> pd.DataFrame:
    """A row per model, then the worst cell per unit: test NLL per note beside the unigram's on its split."""
    unigram = scores[scores["cell"] == UNIGRAM].set_index("draw")[METRIC]
    models = scores[~scores["cell"].isin(BASELINES)]
    worst = models.loc[models.groupby(["draw", "seed"], sort=False)[METRIC].idxmax()].assign(cell=WORST)
    rows = pd.concat([models, worst], ignore_index=True)
    return pd.DataFrame(
        {
            "task": TASK,
            "cell": rows["cell"],
            "seq_len": data.max_notes + 1,
            "draw": rows["draw"],
            "seed": rows["seed"],
            "metric": METRIC,
            "value": rows[METRIC],
            "baseline": unigram.loc[rows["draw"]].to_numpy(),
            "baseline_name": "count unigram (token frequencies, no order)",
        },
        columns=COLUMNS,
    )


def music_results(scores: pd.DataFrame) -> pd.DataFrame:
    """Per cell (the count baselines last): test NLL per note, median, spread, mean and std over its runs."""
    summary = scores.groupby("cell", sort=False)[METRIC].agg(["count", "median", "min", "max", "mean"])
    summary["std"] = scores.groupby("cell", sort=False)[METRIC].std(ddof=0).fillna(0.0)
    summary = summary.round(6).rename(columns={"count": "runs"}).reset_index()
    return summary.assign(task=TASK, pattern=PATTERNS[TASK], metric=METRIC)[
        ["task", "pattern", "cell", "metric", "runs", "median", "min", "max", "mean", "std"]
    ]


def music_samples(models: TrainedModels, sampling: MusicSamplingParams) -> pd.DataFrame:
    """``n_melodies`` melodies written by the first seed's model of each cell, from the start token alone."""
    rows = []
    for trained in first_seeds(models):
        vocabulary = NoteVocabulary(trained.about.characters)
        generator = torch.Generator().manual_seed(sampling.seed)
        written = sample_texts(
            trained.module,
            vocabulary,
            sampling.n_melodies,
            int(trained.kwargs["max_len"]),
            sampling.temperature,
            generator,
        )
        rows += [
            {
                "cell": trained.about.cell,
                "seed": trained.about.seed,
                "melody": index,
                "n_notes": len(text.split()),
                "tokens": text,
            }
            for index, text in enumerate(written)
        ]
    return pd.DataFrame(rows, columns=["cell", "seed", "melody", "n_notes", "tokens"])


def note_names(tokens: str) -> str:
    """A melody's pitches only, as note names (``C5 D5 R E5``): how the docs show it."""
    return " ".join(parse_token(token)[0] for token in tokens.split())


def music_outputs(samples: pd.DataFrame, sampling: MusicSamplingParams) -> pd.DataFrame:
    """The first ``n_shown`` melodies of every cell, as note names and as tokens."""
    shown = samples[samples["melody"] < sampling.n_shown]
    return shown.assign(notes=shown["tokens"].map(note_names))[["cell", "seed", "melody", "notes", "tokens"]]


def _draw_roll(axis: Axes, melodies: list[str]) -> None:
    """Each melody's notes as bars (pitch against time in quarters), one melody after another."""
    start = 0.0
    for index, tokens in enumerate(melodies):
        colour = f"C{index % 10}"
        for token in tokens.split():
            _, quarters = parse_token(token)
            midi_pitch = token_midi(token) if not token.startswith(f"{REST}:") else None
            if midi_pitch is not None:
                axis.broken_barh([(start, float(quarters))], (midi_pitch - 0.4, 0.8), color=colour)
            start += float(quarters)
        start += 2.0  # a gap between melodies
        axis.axvline(start - 1.0, color="0.8", linewidth=0.8)


def piano_roll_figure(melodies: dict[str, list[str]], title: str) -> Figure:
    """One piano roll per row (its label, its melodies one after another)."""
    figure = Figure(figsize=(10, 1.8 * len(melodies) + 0.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(melodies), 1, squeeze=False)[:, 0])
    for axis, (label, written) in zip(axes, melodies.items(), strict=True):
        _draw_roll(axis, written)
        axis.set_ylabel(f"{label}\nMIDI pitch")
    axes[-1].set_xlabel("time (quarter notes)")
    figure.suptitle(title)
    return figure


def plot_piano_rolls(samples: pd.DataFrame) -> Figure:
    """The first melodies each cell wrote (first seed), as piano rolls one under another."""
    melodies = {
        str(cell): list(group.sort_values("melody")["tokens"].head(SHOWN_IN_FIGURE))
        for cell, group in samples.groupby("cell", sort=False)
    }
    title = f"music: the first {SHOWN_IN_FIGURE} melodies each cell wrote (first seed)"
    return piano_roll_figure(melodies, title)


def melody_files(samples: pd.DataFrame, sampling: MusicSamplingParams, folder: str) -> dict[str, bytes]:
    """Each melody of ``samples`` as ``<folder>/<n>.mid`` (music21) and ``<folder>/<n>.wav``."""
    files = {}
    for row in samples.itertuples():
        melody = row.tokens.split()
        files[f"{folder}/{row.melody:02d}.mid"] = midi_bytes(melody)
        files[f"{folder}/{row.melody:02d}.wav"] = wav_bytes(
            melody, sampling.sample_rate, sampling.seconds_per_quarter, sampling.max_seconds
        )
    return files


def music_files(samples: pd.DataFrame, sampling: MusicSamplingParams) -> dict[str, bytes]:
    """Every cell's melodies as files, ``<cell>/<n>.mid`` and ``<cell>/<n>.wav`` (the catalog's folder)."""
    return {
        name: content
        for cell, written in samples.groupby("cell", sort=False)
        for name, content in melody_files(written, sampling, str(cell)).items()
    }


def music_child_runs(
    models: TrainedModels, scores: pd.DataFrame, samples: pd.DataFrame, sampling: MusicSamplingParams
) -> list[ChildRun]:
    """A child run per model, one per count baseline and split.

    Each cell's first seed's run carries its melodies: tokens, MIDI, WAV and a piano roll.
    """
    runs = []
    for label, trained in models.items():
        written = samples[(samples["cell"] == trained.about.cell) & (samples["seed"] == trained.about.seed)]
        nats = trained.about.test_metrics[METRIC]
        run = child_run_of(label, trained, {"test_bits_per_note": nats / np.log(2)})
        if len(written):
            run = run.with_artifacts(
                figures={"piano_roll.png": piano_roll_figure({label: list(written["tokens"])}, label)},
                texts={"melodies.txt": "\n".join(written["tokens"]) + "\n"},
                files=melody_files(written, sampling, "melodies"),
            )
        runs.append(run)
    for row in scores[scores["cell"].isin(BASELINES)].itertuples():
        runs.append(
            ChildRun(
                name=row.run,
                params={"task": TASK, "pattern": PATTERNS[TASK], "cell": row.cell, "draw": int(row.draw)},
                metrics={METRIC: float(getattr(row, METRIC)), "test_bits_per_note": row.test_nll / np.log(2)},
            )
        )
    return runs
