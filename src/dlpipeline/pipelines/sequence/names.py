"""Many-to-one text: which language a surname comes from, read one character per step.

Every cell reads a name as one-hot characters, right-padded with the padding masked (the
recurrent cells answer from the hidden state at each name's own last character, the
Transformer hides padded steps from attention and pools over the real ones), and answers
once: the language (cross-entropy). Each seed trains and is tested on its own stratified
split. The baseline, on the same split, is a logistic regression on counted character
1–3-grams, which sees which short pieces a name holds but not the name as one sequence.
The control of the claim is the same cell trained and tested on the same names with their
characters shuffled (task ``names-shuffled``): the letters without their sequence.
"""

import dataclasses
from collections.abc import Sequence

import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, f1_score
from sklearn.pipeline import Pipeline, make_pipeline
from threadpoolctl import threadpool_limits

from dlpipeline.data.surnames import name_features, shuffle_characters
from dlpipeline.data.text import CharTokenizer
from dlpipeline.figures.confusion import confusion_matrix_figure
from dlpipeline.pipelines.sequence.params import (
    ModelParams,
    NamesControlParams,
    NamesDataParams,
    NamesShownParams,
    NgramParams,
)
from dlpipeline.pipelines.sequence.report import PATTERNS, child_run_of
from dlpipeline.pipelines.sequence.task_tables import results_by_cell, units_beside_baseline
from dlpipeline.pipelines.sequence.training import TaskTensors, TrainedModels
from dlpipeline.tracking import ChildRun
from dlpipeline.training import predict

TASK = "names"
SHUFFLED = "names-shuffled"
"""The control's task: the same names, characters shuffled."""
NGRAM = "ngram"
NO_SEED = -1
"""The seed column of the n-gram baseline's rows: it is fitted once per split, deterministically."""
METRICS = ("test_accuracy", "macro_f1")
PREDICTION_COLUMNS = ["run", "cell", "draw", "seed", "name", "language", "predicted"]


def languages_of(data: NamesDataParams) -> list[str]:
    """The languages in the order of ``data.locales``: label ``i`` is the ``i``-th."""
    return list(data.locales)


def _draw(table: pd.DataFrame, draw: int) -> pd.DataFrame:
    """The rows of one split."""
    return table[table["draw"] == draw]


def _labels(table: pd.DataFrame, languages: Sequence[str]) -> torch.Tensor:
    """Each row's language as its index in ``languages``."""
    return torch.tensor([languages.index(language) for language in table["language"]], dtype=torch.long)


def names_tasks(train: pd.DataFrame, test: pd.DataFrame, data: NamesDataParams) -> list[TaskTensors]:
    """One padded classification task per split, its vocabulary the characters of its training names."""
    return _tasks(TASK, train, test, data)


def shuffled_tasks(train: pd.DataFrame, test: pd.DataFrame, data: NamesDataParams) -> list[TaskTensors]:
    """The control's tasks: :func:`names_tasks` of the names with shuffled characters."""
    return _tasks(SHUFFLED, train, test, data)


def shuffle_names(
    train: pd.DataFrame, test: pd.DataFrame, data: NamesDataParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both parts of every split, each name's characters shuffled (seeded by random_state, draw, part)."""
    shuffled = []
    for part, table in enumerate((train, test)):
        names = table["name"].copy()
        for draw in sorted(table["draw"].unique()):
            rows = table["draw"] == draw
            names[rows] = shuffle_characters(
                list(table.loc[rows, "name"]), [data.random_state, int(draw), part]
            )
        shuffled.append(table.assign(name=names))
    return shuffled[0], shuffled[1]


def control_model(model: ModelParams, control: NamesControlParams) -> ModelParams:
    """The control's models: ``model`` (sizes, seeds) for the control's cell only."""
    return model.model_copy(update={"cells": [control.cell]})


def _tasks(task: str, train: pd.DataFrame, test: pd.DataFrame, data: NamesDataParams) -> list[TaskTensors]:
    """One padded classification task named ``task`` per split of ``train`` and ``test``."""
    languages = languages_of(data)
    tasks = []
    for draw in sorted(train["draw"].unique()):
        train_draw, test_draw = _draw(train, draw), _draw(test, draw)
        tokenizer = CharTokenizer.from_texts(train_draw["name"])
        tasks.append(
            TaskTensors(
                task,
                name_features(list(train_draw["name"]), tokenizer, data.max_len),
                _labels(train_draw, languages),
                name_features(list(test_draw["name"]), tokenizer, data.max_len),
                _labels(test_draw, languages),
                kind="classification",
                output_size=len(languages),
                readout="last",
                padded=True,
                characters=tokenizer.characters,
                draw=int(draw),
            )
        )
    return tasks


def model_predictions(models: TrainedModels, test: pd.DataFrame, data: NamesDataParams) -> pd.DataFrame:
    """Every model's language for each test name of its own split (encoded with its own vocabulary).

    A control model's cell is ``<cell> shuffled`` (pass it the shuffled test names).
    """
    languages = languages_of(data)
    tables = []
    for label, trained in models.items():
        run = trained.about
        names = _draw(test, run.draw)
        features = name_features(list(names["name"]), CharTokenizer(run.characters), data.max_len)
        predicted = predict(trained.module, features, "cpu").argmax(dim=-1).numpy()
        cell = run.cell if run.task == TASK else f"{run.cell} shuffled"
        tables.append(_predictions(label, cell, run.draw, run.seed, names, [languages[i] for i in predicted]))
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def _predictions(
    label: str, cell: str, draw: int, seed: int, names: pd.DataFrame, predicted: Sequence[str]
) -> pd.DataFrame:
    """One run's rows of the predictions table."""
    return pd.DataFrame(
        {
            "run": label,
            "cell": cell,
            "draw": draw,
            "seed": seed,
            "name": names["name"].to_numpy(),
            "language": names["language"].to_numpy(),
            "predicted": list(predicted),
        }
    )


def fit_ngram(names: Sequence[str], languages: Sequence[str], baseline: NgramParams) -> Pipeline:
    """Logistic regression on the counts of each name's character 1- to ``max_n``-grams.

    ``char_wb`` n-grams pad each word with a space, so a name's first and last letters count
    as such (``" mc"``, ``"ić "``), as a recurrent cell knows where a name starts and ends.
    It fits on one BLAS thread: threads that spin waiting for a busy core made one fit take a
    minute of CPU on 2 shared cores instead of a second.
    """
    model = make_pipeline(
        CountVectorizer(analyzer="char_wb", ngram_range=(1, baseline.max_n)),
        LogisticRegression(C=baseline.inverse_l2, max_iter=baseline.max_iter),
    )
    with threadpool_limits(limits=1):
        return model.fit(list(names), list(languages))


def ngram_predictions(train: pd.DataFrame, test: pd.DataFrame, baseline: NgramParams) -> pd.DataFrame:
    """The n-gram baseline's language for each test name, fitted on the training names of the same split."""
    tables = []
    for draw in sorted(train["draw"].unique()):
        train_draw, test_draw = _draw(train, draw), _draw(test, draw)
        model = fit_ngram(train_draw["name"], train_draw["language"], baseline)
        predicted = model.predict(list(test_draw["name"]))
        tables.append(_predictions(ngram_run(int(draw)), NGRAM, int(draw), NO_SEED, test_draw, predicted))
    return pd.concat(tables, ignore_index=True)[PREDICTION_COLUMNS]


def ngram_run(draw: int) -> str:
    """The n-gram baseline's run label on split ``draw``, e.g. ``names-ngram-d0``."""
    return f"{TASK}-{NGRAM}-d{draw}"


def names_scores(models: pd.DataFrame, control: pd.DataFrame, ngram: pd.DataFrame) -> pd.DataFrame:
    """``test_accuracy`` and ``macro_f1`` of every run: models, control models, the n-gram on each split."""
    rows = []
    for (run, cell, draw, seed), group in pd.concat([models, control, ngram]).groupby(
        ["run", "cell", "draw", "seed"], sort=False
    ):
        rows.append(
            {
                "run": run,
                "cell": cell,
                "draw": draw,
                "seed": seed,
                "test_accuracy": float((group["language"] == group["predicted"]).mean()),
                "macro_f1": float(f1_score(group["language"], group["predicted"], average="macro")),
            }
        )
    return pd.DataFrame(rows)


def names_units(scores: pd.DataFrame, data: NamesDataParams) -> pd.DataFrame:
    """One row per model (control models too) and metric, beside the n-gram's on the same split."""
    return units_beside_baseline(
        scores, TASK, METRICS, data.max_len, NGRAM, "character n-gram logistic regression"
    )


def names_results(scores: pd.DataFrame) -> pd.DataFrame:
    """Per cell (the n-gram last) and metric: median, spread, mean and std over its runs."""
    return results_by_cell(scores, TASK, METRICS)


def plot_confusion(predictions: pd.DataFrame, scores: pd.DataFrame, data: NamesDataParams) -> Figure:
    """The confusion matrix of the model cell with the best median test accuracy, summed over its runs."""
    models = scores[scores["cell"] != NGRAM]
    medians = models.groupby("cell")["test_accuracy"].median()
    best = str(medians.idxmax())
    rows = predictions[predictions["cell"] == best]
    languages = languages_of(data)
    matrix = confusion_matrix(rows["language"], rows["predicted"], labels=languages)
    figure = confusion_matrix_figure(
        matrix,
        languages,
        f"{best}, the best median test accuracy ({medians[best]:.3f}): test names of "
        f"{rows['run'].nunique()} runs, each on its own split",
    )
    figure.axes[0].tick_params(axis="x", labelrotation=90)
    return figure


def wrong_names(predictions: pd.DataFrame, ngram: pd.DataFrame, shown: NamesShownParams) -> pd.DataFrame:
    """The first ``n_wrong`` misclassified test names (in name order) of every model's run and n-gram fit."""
    every = pd.concat([predictions, ngram], ignore_index=True)
    wrong = every[every["language"] != every["predicted"]]
    return (
        wrong.sort_values(["run", "name"], kind="stable")
        .groupby("run", sort=False)
        .head(shown.n_wrong)
        .reset_index(drop=True)
    )


def names_outputs(
    predictions: pd.DataFrame, ngram: pd.DataFrame, data: NamesDataParams, shown: NamesShownParams
) -> pd.DataFrame:
    """What each cell (first seed; the n-gram on split 0) answers for the same ``n_outputs`` test names.

    The names are the first test name of split 0 in each of the first ``n_outputs`` languages
    (cycling through the languages when more are asked for), so every cell labels the same ones.
    """
    every = pd.concat([predictions, ngram], ignore_index=True)
    first = every[every["draw"] == every["draw"].min()]
    firsts = first[first["seed"] == first.groupby("cell")["seed"].transform("min")]
    names = firsts.drop_duplicates("name").sort_values("name", kind="stable")
    picked = []
    languages = languages_of(data)
    for index in range(min(shown.n_outputs, len(names))):
        language = languages[index % len(languages)]
        candidates = names[(names["language"] == language) & ~names["name"].isin(picked)]
        if len(candidates):
            picked.append(candidates["name"].iloc[0])
    rows = firsts[firsts["name"].isin(picked)].assign(
        correct=lambda t: (t["language"] == t["predicted"]).astype(int)
    )
    return rows[["cell", "seed", "name", "language", "predicted", "correct"]].reset_index(drop=True)


def names_child_runs(
    models: TrainedModels,
    control_models: TrainedModels,
    predictions: pd.DataFrame,
    control: pd.DataFrame,
    ngram: pd.DataFrame,
    scores: pd.DataFrame,
) -> list[ChildRun]:
    """A child run per model and control model (with ``macro_f1`` and its wrong names), one per n-gram fit."""
    by_run = scores.set_index("run")
    every = pd.concat([predictions, control, ngram])
    runs = [
        child_run_of(
            label,
            trained,
            {"macro_f1": float(by_run.loc[label, "macro_f1"])},
            {"wrong.txt": _wrong_text(every[every["run"] == label])},
        )
        for label, trained in {**models, **control_models}.items()
    ]
    # Every network of the task reads its names masked: the masking study's runs say "off".
    runs = [dataclasses.replace(run, params={**run.params, "masking": "on"}) for run in runs]
    for label, row in by_run[by_run["cell"] == NGRAM].iterrows():
        runs.append(
            ChildRun(
                name=str(label),
                params={"task": TASK, "pattern": PATTERNS[TASK], "cell": NGRAM, "draw": int(row["draw"])},
                metrics={metric: float(row[metric]) for metric in METRICS},
                texts={"wrong.txt": _wrong_text(every[every["run"] == label])},
            )
        )
    return runs


def _wrong_text(predictions: pd.DataFrame) -> str:
    """Every misclassified test name of one run, one a line: ``name  language → predicted``."""
    wrong = predictions[predictions["language"] != predictions["predicted"]].sort_values("name")
    return "".join(f"{row.name}\t{row.language} → {row.predicted}\n" for row in wrong.itertuples())
