"""Aligned many-to-many: a tag for every word of a sentence (person, place, organisation, date, other).

Every cell reads a sentence as word ids (word-level tokens; a word seen fewer than
``min_count`` times in training is ``<unk>``), right-padded, and tags every word in BIO
(:mod:`dlpipeline.data.tagging`); padded steps have the ``<pad>`` target, so they add nothing to
the loss. The recurrent cells are bidirectional, the Transformer is not causal (see
:class:`~dlpipeline.models.tagger.TokenTagger`). Each seed trains and is tested on its own draw,
whose test sentences hold only entities no training sentence has.

The baseline, on the same draw, is a dictionary of the training sentences' entities (cell
``lookup``): it tags the longest known entity at each position and nothing else. It is what
memorising the entities gives; the models must recognise an entity they never saw by its
context and form. The claim's control (cell ``unigram``) tags each word alone, with the tag it
had most often in training (a word seen fewer than ``min_count`` times counts as ``<unk>``, as
the models read it): the same words without the sentence around them.
"""

from collections import Counter
from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from dlpipeline.data.entities import sentences_of
from dlpipeline.data.tagging import (
    ENTITY_TYPES,
    OUTSIDE,
    TAG_PAD_ID,
    TAGS,
    UNKNOWN_WORD,
    WORD_PAD_ID,
    WordVocabulary,
    entity_counts,
    padded,
    spans,
    tag_id,
)
from dlpipeline.figures.over_seeds import seed_strip_figure
from dlpipeline.pipelines.sequence.params import TaggingDataParams, TaggingShownParams
from dlpipeline.pipelines.sequence.report import PATTERNS, child_run_of
from dlpipeline.pipelines.sequence.task_tables import results_by_cell, units_beside_baseline
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict

TASK = "tagging"
LOOKUP = "lookup"
UNIGRAM = "unigram"
BASELINES = (LOOKUP, UNIGRAM)
NO_SEED = -1
"""The seed column of the baselines' rows: each is built once per draw, deterministically."""
TYPE_METRICS = tuple(f"f1_{kind}" for kind in ENTITY_TYPES)
METRICS = ("entity_f1", "precision", "recall", *TYPE_METRICS)
PREDICTION_COLUMNS = ["run", "cell", "draw", "seed", "sentence", "position", "token", "tag", "predicted"]
Lexicon = Mapping[tuple[str, ...], str]
"""Entity tokens → type: what the lookup baseline knows."""


def _draw(table: pd.DataFrame, draw: int) -> pd.DataFrame:
    """The rows of one draw."""
    return table[table["draw"] == draw]


def tagging_tasks(train: pd.DataFrame, test: pd.DataFrame, data: TaggingDataParams) -> list[TaskTensors]:
    """One padded tagging task per draw, its vocabulary the words of its training sentences."""
    tasks = []
    for draw in sorted(train["draw"].unique()):
        train_sentences = sentences_of(_draw(train, draw))
        vocabulary = WordVocabulary.from_sentences([tokens for tokens, _ in train_sentences], data.min_count)
        train_words, train_tags = _tensors(train_sentences, vocabulary, data.max_len)
        test_words, test_tags = _tensors(sentences_of(_draw(test, draw)), vocabulary, data.max_len)
        tasks.append(
            TaskTensors(
                TASK,
                train_words,
                train_tags,
                test_words,
                test_tags,
                kind="tagging",
                output_size=len(TAGS),
                readout="every",
                characters=vocabulary.words,
                draw=int(draw),
            )
        )
    return tasks


def _tensors(
    sentences: Sequence[tuple[list[str], list[str]]], vocabulary: WordVocabulary, max_len: int
) -> tuple:
    """Word ids and tag ids ``(n, max_len)`` of ``sentences``, right-padded (``<pad>`` is 0 in both)."""
    words = padded([vocabulary.encode(tokens) for tokens, _ in sentences], max_len, WORD_PAD_ID)
    tags = padded([[tag_id(tag) for tag in tags] for _, tags in sentences], max_len, TAG_PAD_ID)
    return words, tags


def model_tags(models: TrainedModels, test: pd.DataFrame, data: TaggingDataParams) -> pd.DataFrame:
    """Every model's tag for each word of its own draw's test sentences (encoded with its own vocabulary)."""
    tables = []
    for label, trained in models.items():
        run = trained.about
        words = _draw(test, run.draw).sort_values(["sentence", "position"], kind="stable")
        sentences = sentences_of(words)
        ids, _ = _tensors(sentences, WordVocabulary(run.characters), data.max_len)
        logits = predict(trained.module, ids, "cpu")
        best = (logits[..., TAG_PAD_ID + 1 :].argmax(dim=-1) + TAG_PAD_ID + 1).numpy()
        predicted = [
            TAGS[best[row, step]] for row, (tokens, _) in enumerate(sentences) for step in range(len(tokens))
        ]
        tables.append(_predictions(label, run.cell, run.draw, run.seed, words, predicted))
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def _predictions(
    label: str, cell: str, draw: int, seed: int, words: pd.DataFrame, predicted: Sequence[str]
) -> pd.DataFrame:
    """One run's rows of the predictions table (``words`` in sentence and position order)."""
    return words[["sentence", "position", "token", "tag"]].assign(
        run=label, cell=cell, draw=draw, seed=seed, predicted=list(predicted)
    )


def fit_lookup(train: pd.DataFrame) -> dict[tuple[str, ...], str]:
    """Every entity of the training sentences (its tokens) with its type, the most frequent where several."""
    seen: dict[tuple[str, ...], dict[str, int]] = {}
    for tokens, tags in sentences_of(train):
        for start, end, kind in spans(tags):
            types = seen.setdefault(tuple(tokens[start : end + 1]), {})
            types[kind] = types.get(kind, 0) + 1
    return {entity: max(sorted(types), key=types.__getitem__) for entity, types in seen.items()}


def lookup_sentence(tokens: Sequence[str], lexicon: Lexicon) -> list[str]:
    """BIO tags of the longest known entity starting at each position, left to right; ``O`` elsewhere."""
    longest = max((len(entity) for entity in lexicon), default=0)
    tags, position = [], 0
    while position < len(tokens):
        for length in range(min(longest, len(tokens) - position), 0, -1):
            kind = lexicon.get(tuple(tokens[position : position + length]))
            if kind is not None:
                tags += [f"B-{kind}"] + [f"I-{kind}"] * (length - 1)
                position += length
                break
        else:
            tags.append("O")
            position += 1
    return tags


def lookup_tags(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The lookup baseline's tag for each test word, from the entities of its draw's training sentences."""
    tables = []
    for draw in sorted(train["draw"].unique()):
        lexicon = fit_lookup(_draw(train, draw))
        words = _draw(test, draw).sort_values(["sentence", "position"], kind="stable")
        predicted = [tag for tokens, _ in sentences_of(words) for tag in lookup_sentence(tokens, lexicon)]
        tables.append(
            _predictions(baseline_run(LOOKUP, int(draw)), LOOKUP, int(draw), NO_SEED, words, predicted)
        )
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def baseline_run(cell: str, draw: int) -> str:
    """A baseline's run label on draw ``draw``, e.g. ``tagging-lookup-d0``."""
    return f"{TASK}-{cell}-d{draw}"


def fit_unigram(train: pd.DataFrame, min_count: int) -> dict[str, str]:
    """Each training word's most frequent tag; words seen under ``min_count`` times pooled as ``<unk>``."""
    seen = Counter(train["token"])
    counts: dict[str, Counter[str]] = {}
    for token, tag in zip(train["token"], train["tag"], strict=True):
        word = token if seen[token] >= min_count else UNKNOWN_WORD
        counts.setdefault(word, Counter())[tag] += 1
    return {word: max(sorted(tags), key=tags.__getitem__) for word, tags in counts.items()}


def unigram_tags(train: pd.DataFrame, test: pd.DataFrame, data: TaggingDataParams) -> pd.DataFrame:
    """The control's tag for each test word: its own most frequent training tag, read without its sentence."""
    tables = []
    for draw in sorted(train["draw"].unique()):
        tagger = fit_unigram(_draw(train, draw), data.min_count)
        fallback = tagger.get(UNKNOWN_WORD, OUTSIDE)
        words = _draw(test, draw).sort_values(["sentence", "position"], kind="stable")
        predicted = [tagger.get(token, fallback) for token in words["token"]]
        tables.append(
            _predictions(baseline_run(UNIGRAM, int(draw)), UNIGRAM, int(draw), NO_SEED, words, predicted)
        )
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def run_scores(predictions: pd.DataFrame) -> dict[str, float]:
    """Entity-level F1, precision and recall of one run's tags, and F1 per entity type."""
    ordered = predictions.sort_values(["sentence", "position"], kind="stable")
    grouped = ordered.groupby("sentence", sort=False)
    true, predicted = list(grouped["tag"].apply(list)), list(grouped["predicted"].apply(list))
    counts = entity_counts(true, predicted)
    scores = {"entity_f1": counts.f1, "precision": counts.precision, "recall": counts.recall}
    for kind, metric in zip(ENTITY_TYPES, TYPE_METRICS, strict=True):
        scores[metric] = entity_counts(true, predicted, kind).f1
    return scores


def tagging_scores(predictions: pd.DataFrame, lookup: pd.DataFrame, unigram: pd.DataFrame) -> pd.DataFrame:
    """:func:`run_scores` of every model's run and of the lookup and the unigram control on each draw."""
    rows = [
        {"run": run, "cell": cell, "draw": draw, "seed": seed, **run_scores(group)}
        for (run, cell, draw, seed), group in pd.concat([predictions, lookup, unigram]).groupby(
            ["run", "cell", "draw", "seed"], sort=False
        )
    ]
    return pd.DataFrame(rows, columns=["run", "cell", "draw", "seed", *METRICS])


def tagging_units(scores: pd.DataFrame, data: TaggingDataParams) -> pd.DataFrame:
    """One row per model and per unigram control and metric, beside the lookup's on the same draw.

    The claim reads a cell's rows against the unigram's, unit by draw (seed ``i`` is on draw ``i``;
    the unigram's seed column is -1).
    """
    return units_beside_baseline(
        scores, TASK, METRICS, data.max_len, LOOKUP, "lookup of the training entities"
    )


def tagging_results(scores: pd.DataFrame) -> pd.DataFrame:
    """Per cell (the baselines last) and metric: median, spread, mean and std over its runs."""
    return results_by_cell(scores, TASK, METRICS)


def plot_type_f1(scores: pd.DataFrame) -> Figure:
    """Entity F1 per type and overall: every run of each cell (dots) and its median (bar)."""
    categories = [*ENTITY_TYPES, "all"]
    metrics = [*TYPE_METRICS, "entity_f1"]
    series = {
        str(cell): [runs[metric].to_numpy(dtype=float) for metric in metrics]
        for cell, runs in scores.groupby("cell", sort=False)
    }
    return seed_strip_figure(
        categories,
        series,
        "entity-level F1 on held-out entities",
        "tagging: F1 per entity type, every seed and draw (lookup and unigram: every draw)",
    )


def render(tokens: Sequence[str], tags: Sequence[str]) -> str:
    """A sentence with each entity bracketed and typed: ``[Pam Browning](person) lives in [Erode](place)``."""
    words = list(tokens)
    for start, end, kind in sorted(spans(tags), reverse=True):
        words[start : end + 1] = [f"[{' '.join(words[start : end + 1])}]({kind})"]
    return " ".join(words)


def tagged_outputs(
    predictions: pd.DataFrame, lookup: pd.DataFrame, unigram: pd.DataFrame, shown: TaggingShownParams
) -> pd.DataFrame:
    """The first ``n_outputs`` test sentences of draw 0, tagged by each cell's first seed and the lookup.

    Each comes with its true tagging and how many of its entities the cell got right.
    """
    every = pd.concat([predictions, lookup, unigram], ignore_index=True)
    first = every[every["draw"] == every["draw"].min()]
    firsts = first[first["seed"] == first.groupby("cell")["seed"].transform("min")]
    picked = sorted(firsts["sentence"].unique())[: shown.n_outputs]
    rows = []
    for (cell, seed, sentence), words in firsts[firsts["sentence"].isin(picked)].groupby(
        ["cell", "seed", "sentence"], sort=False
    ):
        ordered = words.sort_values("position")
        tokens, true, guess = list(ordered["token"]), list(ordered["tag"]), list(ordered["predicted"])
        rows.append(
            {
                "cell": cell,
                "seed": seed,
                "sentence": sentence,
                "tagged": render(tokens, guess),
                "truth": render(tokens, true),
                "entities": len(spans(true)),
                "correct": len(spans(true) & spans(guess)),
            }
        )
    return pd.DataFrame(rows)


def tagging_child_runs(
    models: TrainedModels,
    predictions: pd.DataFrame,
    lookup: pd.DataFrame,
    unigram: pd.DataFrame,
    scores: pd.DataFrame,
) -> list[ChildRun]:
    """A child run per model and per baseline and draw (``cell: lookup``, ``unigram``).

    Each logs every metric of :data:`METRICS` and its tagged test sentences (``tagged.txt``).
    """
    by_run = scores.set_index("run")
    every = pd.concat([predictions, lookup, unigram])
    texts = {label: {"tagged.txt": tagged_text(rows)} for label, rows in every.groupby("run", sort=False)}
    measured = {label: {metric: float(row[metric]) for metric in METRICS} for label, row in by_run.iterrows()}
    models_runs = [
        child_run_of(label, trained, measured[label], texts[label]) for label, trained in models.items()
    ]
    baseline_runs = [
        ChildRun(str(label), _baseline_params(row), measured[label], texts=texts[label])
        for label, row in by_run[by_run["cell"].isin(BASELINES)].iterrows()
    ]
    return models_runs + baseline_runs


def _baseline_params(row: pd.Series) -> dict[str, str | int]:
    """A baseline's child-run params: the task, its cell and its draw."""
    return {"task": TASK, "pattern": PATTERNS[TASK], "cell": str(row["cell"]), "draw": int(row["draw"])}


def tagged_text(predictions: pd.DataFrame, limit: int = 200) -> str:
    """The first ``limit`` test sentences of one run, tagged, each above its truth where they differ."""
    lines = []
    ordered = predictions.sort_values(["sentence", "position"], kind="stable")
    for _, words in list(ordered.groupby("sentence", sort=False))[:limit]:
        tokens = list(words["token"])
        tagged, truth = render(tokens, list(words["predicted"])), render(tokens, list(words["tag"]))
        lines.append(tagged if tagged == truth else f"{tagged}\n  truth: {truth}")
    return "\n".join(lines) + "\n"
