"""Wiring of the sequence experiment: one namespace per task, and a shared results table.

Each task lives under ``sequence.<task>`` (so kedro-viz groups it, and its datasets and
parameters are ``sequence.<task>.<name>`` / ``params:sequence.<task>.<section>``). Each
task turns its tables into tensors (``tensors``); the one training node every task shares
(:func:`~dlpipeline.pipelines.sequence.training.train_models`) writes its trained models to
``sequence.<task>.models`` (one file, ``data/06_models/sequence/<task>.pt``), which every
analysis, plot and report node reads.
The results of every task but ``names`` meet in ``sequence.results_table`` and
``sequence.metrics``, and every trained model's unit row (with its baseline on the same test set) in
``sequence.claim_units``, the table the claims read; ``sequence.sequential_steps`` counts the
steps a forward pass runs one after another, per cell and length (no training). The surname
task (``sequence.names``), the tagging (``sequence.tagging``), translation (``sequence.translate``)
and music (``sequence.music``) tasks write their own results and units tables, so each runs and is
judged alone.
"""

from collections.abc import Callable

from kedro.pipeline import Node, Pipeline

from dlpipeline.pipelines.sequence import (
    adding,
    champion,
    data,
    digits_rows,
    forecast,
    gates,
    generate,
    gradients,
    loss_choice,
    masking,
    music,
    names,
    order,
    parallelism,
    report,
    search,
    tagging,
    text,
    tokens,
    training,
    translate,
    translate_data,
    units,
)
from dlpipeline.pipelines.wiring import part, step

EXECUTOR = "sequence.executor"
REGISTRY = "params:sequence.registry"
TASKS = ["adding", "digits_rows", "forecast", "generate", "text"]
TASK_ROWS = [f"{task}.rows" for task in TASKS]
TASK_UNITS = [f"{task}.units" for task in TASKS]


def _task(
    name: str,
    data_nodes: list[Node],
    tensors: Node,
    analyses: list[Node],
    child_runs: Node | None = None,
    trained: str = "models",
    shared_parameters: tuple[str, ...] = (),
) -> Pipeline:
    """Task ``name``: its data, its ``tensors``, the models trained on them, its analyses, shared plots.

    The models are trained into ``trained`` (a task that scores them further names its
    ``models`` itself); ``child_runs`` replaces the shared child-run node where a task logs more;
    ``shared_parameters`` are read under their own names (``params:sequence.registry``).
    """
    train_nodes = [
        tensors,
        step(
            training.train_models,
            ["tensors", "params:model", "params:train", "params:executor"],
            trained,
            name="train",
        ),
        *analyses,
        step(report.plot_losses, "models", "loss_plot"),
        step(report.plot_test_curves, "models", "test_curves_plot"),
        child_runs or step(report.build_child_runs, "models", "child_runs"),
    ]
    return part(data_nodes, train_nodes, f"sequence.{name}", EXECUTOR, shared_parameters=shared_parameters)


def adding_pipeline() -> Pipeline:
    """Many-to-one regression over a sweep of lengths, and the vanishing-gradient evidence."""
    data_nodes = [
        step(data.generate_adding, "params:data", "sequences"),
        step(data.split_adding, ["sequences", "params:data"], ["train", "test"]),
    ]
    gradient_inputs = ["models", "test", "params:data", "params:analysis"]
    analyses = [
        step(adding.adding_gradient_norms, gradient_inputs, "gradient_norms", name="gradient_norms"),
        step(adding.plot_gradient_norms, "gradient_norms", "gradient_norms_plot"),
        step(adding.plot_lstm_gates, ["models", "test"], "lstm_gates_plot"),
        step(adding.plot_mse_vs_length, "models", "mse_vs_length_plot"),
        step(adding.adding_rows, "models", "rows", name="rows"),
        step(adding.adding_units, ["models", "train", "test"], "units", name="units"),
        *gradient_studies(),
        *order_study(),
        *champion_nodes(),
    ]
    tensors = step(adding.adding_tasks, ["train", "test"], "tensors", name="tensors")
    # Not a DVC stage's node (no `train` tag): a search is asked for, with adding.search.trials
    search_nodes = Pipeline(
        [
            step(
                search.search_adding,
                ["train", "params:model", "params:train", "params:search", "params:executor"],
                ["search_trials", "search_best", "search_child_runs"],
            )
        ],
        tags="search",
        namespace="sequence.adding",
        parameters={"params:executor": f"params:{EXECUTOR}"},
    )
    child_runs = step(
        champion.adding_child_runs, ["models", "validation"], "child_runs", name="build_child_runs"
    )
    adding_task = _task("adding", data_nodes, tensors, analyses, child_runs, shared_parameters=(REGISTRY,))
    return adding_task + search_nodes


def champion_nodes() -> list[Node]:
    """Every adding model scored on a fresh validation draw; the best registered (``sequence.registry``)."""
    return [
        step(champion.validation_mse, ["models", "params:data"], "validation"),
        step(champion.sequence_champion, ["child_runs", "models", REGISTRY], "champion", "champion"),
    ]


def gradient_studies() -> list[Node]:
    """Exploding gradients (new unclipped models), vanishing ones and the LSTM's gates (the adding models)."""
    explosion = ["train", "test", "params:explosion", "params:executor"]
    ratios = ["models", "test", "params:data", "params:analysis"]
    return [
        step(gradients.gradient_explosion, explosion, ["gradient_explosion", "explosion_child_runs"]),
        step(gradients.plot_gradient_explosion, "gradient_explosion", "gradient_explosion_plot"),
        step(gradients.gradient_ratios, ratios, ["gradient_ratios", "gradient_ratio_child_runs"]),
        step(gradients.plot_gradient_ratios, "gradient_ratios", "gradient_ratios_plot"),
        step(gates.lstm_gate_scores, ["models", "test", "params:data"], "gate_scores"),
        step(gates.gate_child_runs, "gate_scores", "gate_child_runs"),
        step(gates.plot_gate_scores, "gate_scores", "gate_scores_plot"),
    ]


def order_study() -> list[Node]:
    """The task's ``order.cell`` trained and tested on shuffled steps, beside its own models in order."""
    training_inputs = ["shuffled_tensors", "order_model", "params:train", "params:executor"]
    return [
        step(order.shuffled_tasks, ["tensors", "params:order"], "shuffled_tensors"),
        step(order.order_model, ["params:model", "params:order"], "order_model"),
        step(training.train_models, training_inputs, "shuffled_models", name="train_shuffled"),
        step(order.order_units, ["units", "shuffled_models"], "order_units"),
        step(order.order_child_runs, "shuffled_models", "order_child_runs"),
        step(order.plot_order, "order_units", "order_plot"),
    ]


def digits_rows_pipeline() -> Pipeline:
    """Many-to-one classification: digits read row by row."""
    data_nodes = [
        step(data.load_digits, None, "digits"),
        step(data.split_digits, ["digits", "params:data"], ["train", "test"]),
    ]
    tensors = step(digits_rows.digits_rows_task, ["train", "test"], "tensors", name="tensors")
    return _task(
        "digits_rows",
        data_nodes,
        tensors,
        [
            step(digits_rows.digits_rows, ["models", "test"], "rows", name="rows"),
            step(digits_rows.digits_rows_units, ["models", "test"], "units", name="units"),
            *order_study(),
            *loss_choice_study(),
        ],
        step(loss_choice.cross_entropy_child_runs, "models", "child_runs", name="build_child_runs"),
    )


def retrained(variant_tasks: Callable, variant_model: Callable, study: str, variant: str) -> list[Node]:
    """The task's models trained again on a variant of its tensors, as parameters ``params:<study>`` say.

    ``variant_tasks`` turns the task's ``tensors`` into ``<variant>_tensors``; ``variant_model``
    reads the task's model parameters and the study's into ``<study>_model``; the models trained
    on them are ``<variant>_models`` (node ``train_<variant>``), seed for seed beside the task's own.
    """
    training_inputs = [f"{variant}_tensors", f"{study}_model", "params:train", "params:executor"]
    return [
        step(variant_tasks, "tensors", f"{variant}_tensors"),
        step(variant_model, ["params:model", f"params:{study}"], f"{study}_model"),
        step(training.train_models, training_inputs, f"{variant}_models", name=f"train_{variant}"),
    ]


def loss_choice_study() -> list[Node]:
    """The task's ``loss_choice.cell`` trained with MSE on one-hot targets, beside its cross-entropy ones."""
    return [
        *retrained(loss_choice.mse_task, loss_choice.loss_choice_model, "loss_choice", "mse"),
        step(
            loss_choice.loss_choice_units,
            ["models", "mse_models", "tensors", "params:loss_choice"],
            "loss_choice_units",
        ),
        step(loss_choice.mse_child_runs, "mse_models", "loss_choice_child_runs"),
        step(loss_choice.plot_loss_choice, "loss_choice_units", "loss_choice_plot"),
    ]


def forecast_pipeline() -> Pipeline:
    """Many-to-many: forecast at every step of variable-length (padded, masked) windows."""
    data_nodes = [
        step(data.generate_series, "params:data", "series"),
        step(data.make_windows, ["series", "params:data"], ["train", "test"]),
    ]
    analyses = [
        step(forecast.plot_forecast, ["models", "test", "params:data"], "forecast_plot"),
        step(forecast.forecast_rows, ["models", "test"], "rows", name="rows"),
        step(forecast.forecast_units, ["models", "test"], "units", name="units"),
    ]
    tensors = step(forecast.forecast_task, ["train", "test", "params:data"], "tensors", name="tensors")
    return _task("forecast", data_nodes, tensors, analyses)


def generate_pipeline() -> Pipeline:
    """One-to-many: a sine wave generated from its frequency alone."""
    data_nodes = [
        step(data.generate_waves, "params:data", "waves"),
        step(data.split_waves, ["waves", "params:data"], ["train", "test"]),
    ]
    analyses = [
        step(generate.score_free_running, ["trained", "test"], "models"),
        step(generate.plot_generated, ["models", "test"], "generated_plot"),
        step(generate.generate_rows, ["models", "train", "test"], "rows", name="rows"),
        step(generate.generate_units, ["models", "train", "test"], "units", name="units"),
    ]
    tensors = step(generate.generate_task, ["train", "test"], "tensors", name="tensors")
    return _task("generate", data_nodes, tensors, analyses, trained="trained")


def text_pipeline() -> Pipeline:
    """Tokens: a character language model of first names per cell, and the names it writes."""
    data_nodes = [
        step(data.load_names, None, "names"),
        step(data.split_names, ["names", "params:data"], ["train", "test"]),
    ]
    analyses = [
        step(text.fit_bigram, "train", "bigram"),
        step(text.text_rows, ["models", "bigram", "test"], "rows", name="rows"),
        step(text.text_units, ["models", "bigram", "test"], "units", name="units"),
        step(text.text_samples, ["models", "bigram", "train", "params:sampling"], "samples", name="samples"),
        *tokens_study(),
    ]
    tensors = step(text.text_task, ["train", "test", "params:data"], "tensors", name="tensors")
    child_runs = step(
        report.build_text_child_runs, ["models", "samples"], "child_runs", name="build_child_runs"
    )
    return _task("text", data_nodes, tensors, analyses, child_runs)


def tokens_study() -> list[Node]:
    """The text task's ``tokens.cell`` trained on character bigrams, beside its own models on characters."""
    training_inputs = ["bigram_tensors", "bigram_model", "params:train", "params:executor"]
    units_inputs = ["models", "bigram_models", "train", "test", "params:tokens"]
    return [
        step(tokens.bigram_task, ["train", "test", "params:data", "params:tokens"], "bigram_tensors"),
        step(
            tokens.bigram_model, ["params:model", "params:tokens", "bigram_tensors", "models"], "bigram_model"
        ),
        step(training.train_models, training_inputs, "bigram_models", name="train_bigrams"),
        step(tokens.tokens_units, units_inputs, "tokens_units"),
        step(
            tokens.token_samples,
            ["bigram_models", "train", "params:sampling", "params:tokens"],
            "token_samples",
        ),
        step(
            tokens.tokens_child_runs, ["bigram_models", "tokens_units", "token_samples"], "tokens_child_runs"
        ),
        step(tokens.plot_tokens, "tokens_units", "tokens_plot"),
    ]


def names_pipeline() -> Pipeline:
    """Many-to-one text: the language of a surname, per cell, beside a character n-gram classifier.

    Its tables are its own (``sequence.names.results``, ``.units``), not rows of the shared
    ones, so the task runs and is reported alone (``--namespaces sequence.names``).
    """
    data_nodes = [
        step(data.load_names_by_language, "params:data", "surnames"),
        step(data.split_names_by_language, ["surnames", "params:data"], ["train", "test"]),
    ]
    control_training = ["shuffled_tensors", "control_model", "params:train", "params:executor"]
    control_predictions = ["control_models", "shuffled_test", "params:data"]
    shown = ["predictions", "ngram_predictions", "params:data", "params:shown"]
    analyses = [
        step(names.shuffle_names, ["train", "test", "params:data"], ["shuffled_train", "shuffled_test"]),
        step(names.shuffled_tasks, ["shuffled_train", "shuffled_test", "params:data"], "shuffled_tensors"),
        step(names.control_model, ["params:model", "params:control"], "control_model"),
        step(training.train_models, control_training, "control_models", name="train_control"),
        step(names.model_predictions, ["models", "test", "params:data"], "predictions"),
        step(names.model_predictions, control_predictions, "control_predictions", name="control_predictions"),
        step(names.ngram_predictions, ["train", "test", "params:baseline"], "ngram_predictions"),
        step(names.names_scores, ["predictions", "control_predictions", "ngram_predictions"], "scores"),
        step(names.names_units, ["scores", "params:data"], "units"),
        step(names.names_results, "scores", "results"),
        step(names.plot_confusion, ["predictions", "scores", "params:data"], "confusion_plot"),
        step(names.wrong_names, ["predictions", "ngram_predictions", "params:shown"], "wrong"),
        step(names.names_outputs, shown, "outputs"),
        *masking_study(),
    ]
    tensors = step(names.names_tasks, ["train", "test", "params:data"], "tensors", name="tensors")
    child_inputs = ["models", "control_models", "predictions", "control_predictions", "ngram_predictions"]
    child_runs = step(
        names.names_child_runs, [*child_inputs, "scores"], "child_runs", name="build_child_runs"
    )
    return _task("names", data_nodes, tensors, analyses, child_runs)


def masking_study() -> list[Node]:
    """The task's ``masking.cells`` trained on the padded names read as they are, beside its masked models."""
    return [
        *retrained(masking.unmasked_tasks, masking.masking_model, "masking", "unmasked"),
        step(masking.masking_units, ["models", "unmasked_models"], "masking_units"),
        step(masking.accuracy_by_length, ["tensors", "models", "unmasked_models"], "masking_lengths"),
        step(masking.plot_accuracy_by_length, "masking_lengths", "masking_by_length_plot"),
        step(masking.masking_child_runs, "unmasked_models", "masking_child_runs"),
    ]


def tagging_pipeline() -> Pipeline:
    """Aligned many-to-many text: a tag per word, per cell, beside a lookup of the training entities.

    Like the surname task, its tables are its own (``sequence.tagging.results``, ``.units``); the
    claim's control tags each word alone (``unigram``).
    """
    data_nodes = [step(data.generate_tagged_sentences, "params:data", ["train", "test"])]
    baselines = ["predictions", "lookup_predictions", "unigram_predictions"]
    analyses = [
        step(tagging.model_tags, ["models", "test", "params:data"], "predictions"),
        step(tagging.lookup_tags, ["train", "test"], "lookup_predictions"),
        step(tagging.unigram_tags, ["train", "test", "params:data"], "unigram_predictions"),
        step(tagging.tagging_scores, [*baselines[:2], "unigram_predictions"], "scores"),
        step(tagging.tagging_units, ["scores", "params:data"], "units"),
        step(tagging.tagging_results, "scores", "results"),
        step(tagging.plot_type_f1, "scores", "type_f1_plot"),
        step(tagging.tagged_outputs, [*baselines, "params:shown"], "outputs"),
    ]
    tensors = step(tagging.tagging_tasks, ["train", "test", "params:data"], "tensors", name="tensors")
    child_runs = step(
        tagging.tagging_child_runs,
        ["models", *baselines, "scores"],
        "child_runs",
        name="build_child_runs",
    )
    return _task("tagging", data_nodes, tensors, analyses, child_runs)


def translate_pipeline() -> Pipeline:
    """Unaligned many-to-many: numbers in words translated into digits by encoder–decoders, beside copying.

    Its tables are its own (``sequence.translate.results``, ``.units``, ``.lengths``), so the
    task runs and is reported alone (``--namespaces sequence.translate``).
    """
    data_nodes = [
        step(translate_data.generate_translation_pairs, "params:data", "pairs"),
        step(translate_data.split_translation_pairs, ["pairs", "params:data"], ["train", "test"]),
    ]
    both = ["translations", "copy_translations"]
    training_inputs = ["tensors", "params:model", "params:train", "params:decode", "params:executor"]
    train_nodes = [
        step(translate.translate_tasks, ["train", "test", "params:data", "params:decode"], "tensors"),
        step(translate.train_translators, training_inputs, "models"),
        step(translate.model_translations, ["models", "test", "params:decode"], "translations"),
        step(translate.copy_translations, "test", "copy_translations"),
        step(translate.translate_scores, both, "scores"),
        step(translate.translate_units, ["scores", "params:data"], "units"),
        step(translate.translate_results, "scores", "results"),
        step(translate.length_table, [*both, "params:data"], "lengths"),
        step(translate.plot_length, ["lengths", "params:data"], "length_plot"),
        step(translate.plot_attention, ["models", "test", "params:decode"], "attention_plot"),
        step(translate.translate_outputs, [*both, "params:decode"], "outputs"),
        step(report.plot_losses, "models", "loss_plot"),
        step(translate.translate_child_runs, ["models", *both, "scores"], "child_runs"),
    ]
    return part(data_nodes, train_nodes, "sequence.translate", EXECUTOR)


def music_pipeline() -> Pipeline:
    """Music generation: a note-level language model of chorale melodies per cell, beside a count n-gram.

    Its tables are its own (``sequence.music.results``, ``.units``), as the surname task's are.
    """
    data_nodes = [
        step(data.load_chorales, "params:data", "chorales"),
        step(data.split_chorales, ["chorales", "params:data"], ["train", "test"]),
    ]
    analyses = [
        step(music.ngram_scores, ["train", "test", "params:baseline"], "ngram_scores"),
        step(music.music_scores, ["models", "ngram_scores"], "scores"),
        step(music.music_units, ["scores", "params:data"], "units"),
        step(music.music_results, "scores", "results"),
        step(music.music_samples, ["models", "params:sampling"], "samples"),
        step(music.music_outputs, ["samples", "params:sampling"], "outputs"),
        step(music.music_files, ["samples", "params:sampling"], "melody_files"),
        step(music.plot_piano_rolls, "samples", "piano_rolls_plot"),
    ]
    tensors = step(music.music_tasks, ["train", "test", "params:data"], "tensors", name="tensors")
    child_runs = step(
        music.music_child_runs,
        ["models", "scores", "samples", "params:sampling"],
        "child_runs",
        name="build_child_runs",
    )
    return _task("music", data_nodes, tensors, analyses, child_runs)


def create_pipeline() -> Pipeline:
    """The tasks, then the results table, the units table and DVC metrics across the first five.

    The surname task keeps its own tables (see :func:`names_pipeline`).
    """
    summary = Pipeline(
        [
            step(report.results_table, TASK_ROWS, "results_table"),
            step(report.results_metrics, "results_table", "metrics"),
            step(units.claim_units, ["params:units", *TASK_UNITS], "claim_units"),
            step(parallelism.sequential_steps_table, "params:parallelism", "sequential_steps"),
            step(parallelism.plot_sequential_steps, "sequential_steps", "sequential_steps_plot"),
        ],
        namespace="sequence",
        tags="train",
    )
    tasks = [
        adding_pipeline(),
        digits_rows_pipeline(),
        forecast_pipeline(),
        generate_pipeline(),
        text_pipeline(),
        names_pipeline(),
        tagging_pipeline(),
        translate_pipeline(),
        music_pipeline(),
    ]
    return sum(tasks, Pipeline([])) + summary
