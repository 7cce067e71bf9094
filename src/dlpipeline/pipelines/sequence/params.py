"""Typed parameters of the sequence experiment (``conf/*/parameters_sequence.yml``, key ``sequence``).

Each task has its own block ``sequence.<task>`` with ``data``, ``model`` and ``train``
sections; Kedro validates every ``params:sequence.<task>.<section>`` input against the
model its node annotates it with, before any node runs.
"""

from collections.abc import Callable, Mapping
from typing import ClassVar, Literal

from pydantic import Field, PositiveInt, model_validator

from dlpipeline import search_space
from dlpipeline.pipelines.common import RegistryParams, SeedParams, StrictParams
from dlpipeline.records import ParamValue
from dlpipeline.training import MAX_SEED, TrainConfig

ModelName = Literal["rnn", "lstm", "gru", "transformer"]
"""The models :func:`dlpipeline.models.sequence.build_model` builds (not imported: data nodes read these
parameters, and their DVC stage must not depend on the model code)."""
RecurrentCell = Literal["rnn", "lstm", "gru"]
DRAWS = (
    "data draws, each generated from random_state + draw; seed number i of a configuration trains and "
    "is tested on draw i mod n_draws, so more draws cost no more models"
)


class ModelParams(SeedParams):
    """Which models to train for a task, how big, and with which seeds (``sequence.<task>.model``)."""

    cells: list[ModelName] = Field(min_length=1)
    hidden_size: int = Field(default=32, ge=1, le=4096, description="hidden units, or d_model")
    n_heads: int = Field(default=2, ge=1, description="transformer only; must divide hidden_size")
    n_layers: int = Field(default=2, ge=1, le=24, description="transformer only")
    cell_hidden_sizes: dict[ModelName, PositiveInt] = Field(
        default={}, description="per-cell hidden_size, to compare cells at similar parameter counts"
    )
    embedding_dim: int = Field(default=16, ge=1, le=4096, description="text only: size of a token's vector")
    cell_seq_lens: dict[ModelName, list[PositiveInt]] = Field(
        default={}, description="per-cell lengths to train at (default: every length of the task)"
    )

    def trains_at(self, cell: ModelName, seq_len: int) -> bool:
        """Whether ``cell`` is trained at ``seq_len`` (every length, unless ``cell_seq_lens`` names some)."""
        return seq_len in self.cell_seq_lens.get(cell, [seq_len])

    def hidden_size_of(self, cell: ModelName) -> int:
        """The hidden size (or d_model) ``cell`` is built with."""
        return self.cell_hidden_sizes.get(cell, self.hidden_size)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> "ModelParams":
        width = self.hidden_size_of("transformer")
        if "transformer" in self.cells and width % self.n_heads:
            raise ValueError(f"transformer hidden size {width} is not divisible by n_heads {self.n_heads}")
        return self


class AddingDataParams(StrictParams):
    """The adding problem over a sweep of lengths (``sequence.adding.data``)."""

    seq_lens: list[int] = Field(min_length=1)
    n_train: PositiveInt = 4000
    n_test: PositiveInt = 1000
    n_probe: int = Field(default=200, ge=1, description="test sequences the gradient norms average over")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)

    @model_validator(mode="after")
    def _lengths_at_least_two(self) -> "AddingDataParams":
        if min(self.seq_lens) < 2:
            raise ValueError("every adding-problem length must be at least 2")
        if len(set(self.seq_lens)) < len(self.seq_lens):
            raise ValueError(f"seq_lens {self.seq_lens} repeats a length: each must appear once")
        return self


class AddingAnalysisParams(StrictParams):
    """Which recurrent cells the vanishing-gradient evidence covers (``sequence.adding.analysis``)."""

    gradient_cells: list[RecurrentCell] = Field(default=["rnn", "lstm", "gru"])


class DigitsRowsDataParams(StrictParams):
    """Digits read row by row (``sequence.digits_rows.data``)."""

    test_size: float = Field(default=0.25, gt=0, lt=1)
    random_state: int = Field(default=42, ge=0, le=MAX_SEED)


class ForecastDataParams(StrictParams):
    """Mackey–Glass windows of varying length (``sequence.forecast.data``)."""

    n_steps: int = Field(default=3000, ge=100)
    train_share: float = Field(default=0.7, gt=0, lt=1, description="first share of the series for training")
    n_train: PositiveInt = 800
    n_test: PositiveInt = 200
    min_len: int = Field(default=20, ge=1)
    max_len: int = Field(default=60, ge=1)
    horizon: int = Field(default=6, ge=1, description="steps ahead predicted at every step")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)

    @model_validator(mode="after")
    def _lengths_ordered(self) -> "ForecastDataParams":
        if self.min_len > self.max_len:
            raise ValueError(f"min_len {self.min_len} exceeds max_len {self.max_len}")
        cut = int(self.n_steps * self.train_share)
        shortest_part = min(cut, self.n_steps - cut)
        if shortest_part < self.max_len + self.horizon:
            raise ValueError(
                f"the shorter part of the series ({shortest_part} of n_steps {self.n_steps}) cannot hold "
                f"a window of max_len + horizon = {self.max_len + self.horizon} steps"
            )
        return self


class GenerateDataParams(StrictParams):
    """Sine generation from a single input ω (``sequence.generate.data``)."""

    seq_len: int = Field(default=40, ge=2)
    n_train: PositiveInt = 800
    n_test: PositiveInt = 200
    omega_min: float = Field(default=0.1, gt=0)
    omega_max: float = Field(default=0.6, gt=0)
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)

    @model_validator(mode="after")
    def _range_ordered(self) -> "GenerateDataParams":
        if self.omega_min >= self.omega_max:
            raise ValueError(f"omega_min {self.omega_min} must be below omega_max {self.omega_max}")
        return self


class TextDataParams(StrictParams):
    """First names as the character language model's corpus (``sequence.text.data``)."""

    test_size: float = Field(default=0.1, gt=0, lt=1, description="share of the names held out")
    max_len: int = Field(
        default=16, ge=2, description="tokens per name: the start token, then its characters"
    )
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)


class TextSamplingParams(StrictParams):
    """How each trained language model writes (``sequence.text.sampling``)."""

    n_samples: int = Field(default=20, ge=1, le=1000, description="names sampled per cell")
    temperature: float = Field(default=1.0, gt=0, le=10, description="1 = the model's own distribution")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


class NamesDataParams(StrictParams):
    """Surnames by language from faker's per-locale lists (``sequence.names.data``)."""

    locales: dict[str, str] = Field(min_length=2, description="language -> faker locale of its surnames")
    max_per_language: int = Field(
        default=300, ge=2, description="names kept per language (a seeded sample), so every class is as large"
    )
    test_size: float = Field(default=0.2, gt=0, lt=1, description="share of each language held out")
    max_len: int = Field(default=16, ge=1, le=64, description="steps per name: longer names are cut")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(
        default=1,
        ge=1,
        le=100,
        description="stratified splits, each from random_state + draw; seed i trains and is tested on split "
        "i mod n_draws, so more splits cost no more models",
    )

    @model_validator(mode="after")
    def _one_locale_per_language(self) -> "NamesDataParams":
        if len(set(self.locales.values())) < len(self.locales):
            raise ValueError(f"locales {self.locales} name a locale twice: each language needs its own")
        return self


class NamesControlParams(StrictParams):
    """The claim's control: a cell trained on names with shuffled characters (``sequence.names.control``)."""

    cell: ModelName = Field(default="rnn", description="sized, seeded and trained as in sequence.names.model")


class NgramParams(StrictParams):
    """The baseline: logistic regression on counted character n-grams (``sequence.names.baseline``)."""

    max_n: int = Field(default=3, ge=1, le=6, description="n-grams of 1 to max_n characters")
    inverse_l2: float = Field(default=1.0, gt=0, description="scikit-learn's C (its default 1)")
    max_iter: int = Field(default=1000, ge=10)


class NamesShownParams(StrictParams):
    """How many classified names each model's outputs show (``sequence.names.shown``)."""

    n_outputs: int = Field(default=5, ge=1, le=100, description="test names shown with their label per cell")
    n_wrong: int = Field(default=20, ge=1, le=1000, description="misclassified test names listed per model")


class DerivedUnitRow(StrictParams):
    """A row of the units table computed per unit from a task's cells (``sequence.units.derived``).

    ``pick: worst`` or ``best`` takes, on each unit, the worst or best of ``cells`` by the
    task's metric (lower is better for an MSE or NLL, higher for an accuracy); ``gap`` takes
    ``cells[0] - cells[1]`` (two names, cells or earlier derived rows).
    """

    task: str
    name: str = Field(min_length=1, description="the row's `cell` in the units table")
    cells: list[str] = Field(min_length=2)
    pick: Literal["worst", "best", "gap"]

    @model_validator(mode="after")
    def _gap_of_two(self) -> "DerivedUnitRow":
        if self.pick == "gap" and len(self.cells) != 2:
            raise ValueError(f"{self.name}: a gap is the difference of exactly two rows, not {self.cells}")
        return self


class UnitsParams(StrictParams):
    """The per-unit table the claims read (``sequence.units``)."""

    derived: list[DerivedUnitRow] = Field(default=[])


class ParallelismParams(StrictParams):
    """Sequential steps against sequence length (``sequence.parallelism``).

    Every cell is built (not trained) at every length with the same sizes, and the longest
    chain of operations one forward pass must run one after another is counted.
    """

    cells: list[ModelName] = Field(min_length=1)
    seq_lens: list[int] = Field(min_length=2)
    hidden_size: int = Field(default=32, ge=1, le=4096)
    n_heads: int = Field(default=2, ge=1)
    n_layers: int = Field(default=2, ge=1, le=24)

    @model_validator(mode="after")
    def _lengths_increase(self) -> "ParallelismParams":
        if self.seq_lens != sorted(set(self.seq_lens)) or self.seq_lens[0] < 1:
            raise ValueError(f"seq_lens {self.seq_lens} must be positive, increasing and distinct")
        if self.hidden_size % self.n_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not divisible by n_heads {self.n_heads}")
        return self


def _training_check(name: str) -> Callable[[ParamValue], object]:
    """A check that the shared training loop accepts ``value`` for ``name``."""
    return lambda value: TrainConfig.model_validate({name: value})


def _width_check(value: ParamValue) -> object:
    """A check that a model may have ``value`` hidden units."""
    return ModelParams.model_validate({"cells": ["lstm"], "hidden_size": value})


class AddingSearchParams(search_space.SearchParams):
    """A hyperparameter search of one cell on the adding problem (``sequence.adding.search``).

    Each trial trains ``cell`` at length ``seq_len`` (the longest when null) on the first data
    draw's training sequences less the last ``val_share`` of them, which it is validated on
    after every epoch (``val_loss``: their MSE); the test sequences are never seen.
    """

    TUNABLE: ClassVar[Mapping[str, search_space.Tunable]] = {
        **{
            name: search_space.Tunable(f"sequence.adding.train.{name}", _training_check(name))
            for name in ("learning_rate", "weight_decay", "batch_size", "max_grad_norm")
        },
        "hidden_size": search_space.Tunable("sequence.adding.model.hidden_size", _width_check),
    }
    METRICS: ClassVar[Mapping[str, search_space.Direction]] = {"val_loss": "minimize"}

    metric: str = "val_loss"
    n_seeds: int = Field(default=1, ge=1, le=1, description="one seed: a sequence model is one network")
    storage: str = "data/07_model_output/sequence/adding_search.db"
    study_name: str = "sequence-adding"
    cell: ModelName = "lstm"
    seq_len: int | None = Field(
        default=None, ge=2, description="a length of adding.data.seq_lens; null = longest"
    )
    val_share: float = Field(default=0.2, gt=0, lt=1, description="last share of the training sequences")


class TaggingDataParams(StrictParams):
    """Templated sentences with faker's entities, tagged in BIO (``sequence.tagging.data``)."""

    place_locales: list[str] = Field(
        min_length=1, description="faker address locales whose cities are places"
    )
    n_train: int = Field(default=2000, ge=2, le=1_000_000, description="training sentences per draw")
    n_test: int = Field(default=500, ge=1, le=1_000_000, description="test sentences per draw")
    test_share: float = Field(
        default=0.3, gt=0, lt=1, description="share of the name words, places and years held out for test"
    )
    min_count: int = Field(
        default=2, ge=1, le=100, description="a word seen fewer times in training is <unk> (in training too)"
    )
    max_len: int = Field(default=24, ge=8, le=256, description="steps per sentence (the longest fits)")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)


class TaggingShownParams(StrictParams):
    """How many tagged test sentences each cell shows (``sequence.tagging.shown``)."""

    n_outputs: int = Field(default=5, ge=1, le=100, description="test sentences shown tagged per cell")


TranslateLanguage = Literal["english", "spanish"]
"""The languages :mod:`dlpipeline.data.number_words` writes numbers in."""


class TranslateDataParams(StrictParams):
    """Numbers in words → digits, in several languages (``sequence.translate.data``).

    Each draw takes ``n_numbers`` distinct numbers per language, each count of digits
    (1..``max_digits``) equally likely, and the numbers of one count alike. A pair whose words are at most
    ``train_max_len`` characters goes to training or, a ``test_size`` share of them, to the
    test; a longer one only to the test, as a length beyond every training length.
    """

    languages: list[TranslateLanguage] = Field(min_length=1)
    n_numbers: int = Field(
        default=1500, ge=4, le=100_000, description="distinct numbers per language and draw"
    )
    max_digits: int = Field(default=6, ge=1, le=6, description="numbers below 10**max_digits")
    train_max_len: int = Field(default=32, ge=4, description="the longest source (characters) trained on")
    test_size: float = Field(
        default=0.2, gt=0, lt=1, description="share of the pairs within training lengths"
    )
    max_longer: int = Field(
        default=400, ge=1, description="longer test pairs kept per draw (a seeded sample)"
    )
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS)

    @model_validator(mode="after")
    def _languages_once(self) -> "TranslateDataParams":
        if len(set(self.languages)) < len(self.languages):
            raise ValueError(f"languages {self.languages} names a language twice")
        if self.n_numbers > 10**self.max_digits:
            raise ValueError(
                f"n_numbers {self.n_numbers} exceeds the 10**{self.max_digits} numbers there are"
            )
        return self


class Seq2SeqSpec(StrictParams):
    """One encoder–decoder to train: its cell and whether a recurrent one attends to the source."""

    cell: ModelName
    attention: bool = Field(description="recurrent cells: Luong attention over the encoder's states")
    n_seeds: int | None = Field(default=None, ge=1, le=1000, description="its seeds; null: model.n_seeds")

    @model_validator(mode="after")
    def _transformer_attends(self) -> "Seq2SeqSpec":
        if self.cell == "transformer" and not self.attention:
            raise ValueError("a Transformer is attention: it cannot be trained with attention false")
        return self

    @property
    def name(self) -> str:
        """The configuration's name in tables and figures: ``gru``, ``gru+attention``, ``transformer``."""
        return f"{self.cell}+attention" if self.attention and self.cell != "transformer" else self.cell


class TranslateModelParams(SeedParams):
    """The encoder–decoders of ``sequence.translate.model``, their sizes and seeds."""

    models: list[Seq2SeqSpec] = Field(min_length=1)
    hidden_size: int = Field(default=64, ge=1, le=4096, description="recurrent units, or d_model")
    embedding_dim: int = Field(default=32, ge=1, le=4096, description="recurrent cells: a token's vector")
    n_heads: int = Field(default=2, ge=1, description="transformer only; must divide hidden_size")
    n_layers: int = Field(default=1, ge=1, le=24, description="transformer only: encoder and decoder layers")

    def seeds_of(self, spec: Seq2SeqSpec) -> list[int]:
        """The seeds ``spec`` trains with: its own count (else ``n_seeds``) from ``first_seed`` on."""
        return list(range(self.first_seed, self.first_seed + (spec.n_seeds or self.n_seeds)))

    @model_validator(mode="after")
    def _distinct_models(self) -> "TranslateModelParams":
        names = [spec.name for spec in self.models]
        if len(set(names)) < len(names):
            raise ValueError(f"models {names} lists a configuration twice")
        if any(spec.cell == "transformer" for spec in self.models) and self.hidden_size % self.n_heads:
            raise ValueError(f"hidden_size {self.hidden_size} is not divisible by n_heads {self.n_heads}")
        return self


class TranslateDecodeParams(StrictParams):
    """Greedy decoding at test (``sequence.translate.decode``) and how many translations are shown."""

    max_len: int = Field(default=10, ge=1, le=256, description="tokens written at most, END included")
    n_outputs: int = Field(
        default=5, ge=1, le=100, description="test sources translated by every configuration"
    )


class MusicDataParams(StrictParams):
    """Melodies of the chorales that ship inside music21 (``sequence.music.data``)."""

    corpus: str = Field(
        default="bach", min_length=1, pattern=r"^[A-Za-z0-9_]+$", description="a folder of music21/corpus"
    )
    pattern: str = Field(default="*.mxl", min_length=1, description="which of its files to read")
    max_chorales: int = Field(
        default=160, ge=4, le=1000, description="files read (a seeded sample): parsing is most of the cost"
    )
    max_notes: int = Field(default=64, ge=2, le=512, description="notes and rests kept from a melody's start")
    test_size: float = Field(default=0.2, gt=0, lt=1, description="share of the chorales held out, whole")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED)
    n_draws: int = Field(default=1, ge=1, le=100, description=DRAWS.replace("data draws", "chorale splits"))


class MusicBaselineParams(StrictParams):
    """Count n-gram and unigram of the training melodies' tokens (``sequence.music.baseline``)."""

    order: int = Field(default=2, ge=1, le=6, description="1: unigram, 2: bigram (the previous token), ...")
    smoothing: float = Field(default=0.1, gt=0, le=10, description="added to every count (add-k)")


class MusicSamplingParams(StrictParams):
    """The melodies each cell's first model writes (``sequence.music.sampling``)."""

    n_melodies: int = Field(default=10, ge=1, le=100, description="per cell: MIDI and WAV in its child run")
    n_shown: int = Field(default=5, ge=1, le=100, description="per cell in the outputs table, as note names")
    temperature: float = Field(default=1.0, gt=0, le=10)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    sample_rate: int = Field(default=8000, ge=1000, le=48000, description="WAV samples per second")
    seconds_per_quarter: float = Field(default=0.4, gt=0, le=4)
    max_seconds: float = Field(default=12.0, gt=0, le=120, description="a WAV stops here: a short sketch")


class ExplosionParams(SeedParams):
    """The exploding-gradient study on the adding problem (``sequence.adding.explosion``).

    The vanilla RNN is trained **without** gradient clipping from recurrent weights scaled to
    each spectral radius of ``rnn_gains``, and every cell of ``cells`` at its own initialisation,
    for ``n_seeds`` seeds (seed ``i`` on data draw ``i``, as the adding problem's models), on
    the first ``n_train`` training sequences of length ``seq_len``. Every training step's
    gradient norm is recorded; a step explodes when its norm is not finite or above ``threshold``.
    """

    seq_len: int = Field(ge=2, description="a length of sequence.adding.data.seq_lens")
    n_train: PositiveInt = Field(default=1000, description="first training sequences of each draw")
    n_test: PositiveInt = Field(default=500, description="first test sequences of each draw")
    rnn_gains: list[float] = Field(min_length=2, description="spectral radii of the RNN's recurrent weights")
    cells: list[RecurrentCell] = Field(default=["lstm"], description="trained at their own initialisation")
    hidden_size: int = Field(default=32, ge=1, le=4096)
    threshold: float = Field(default=1000.0, gt=0, description="a gradient norm above this has exploded")
    train: TrainConfig

    @model_validator(mode="after")
    def _unclipped_and_distinct(self) -> "ExplosionParams":
        if self.train.max_grad_norm is not None:
            raise ValueError("train.max_grad_norm must be null: clipping would hide what explodes")
        if min(self.rnn_gains) <= 0 or len(set(self.rnn_gains)) < len(self.rnn_gains):
            raise ValueError(f"rnn_gains {self.rnn_gains} must be positive and distinct")
        return self


class OrderParams(StrictParams):
    """Steps shuffled: the task's ``cell`` trained and tested on each sequence's steps in random order.

    ``sequence.<task>.order``; sizes, seeds and training are the task's own.
    """

    cell: ModelName = Field(description="trained on the shuffled steps as the task trains it in order")
    seq_len: int | None = Field(default=None, ge=2, description="a length of the task; null = every length")
    random_state: int = Field(default=0, ge=0, le=MAX_SEED, description="the shuffles' seed")


class LossChoiceParams(StrictParams):
    """Cross-entropy against MSE: the task's ``cell`` trained with MSE on one-hot targets.

    ``sequence.digits_rows.loss_choice``; sizes, seeds, data and training are the task's own, and
    the task's own cross-entropy models of ``cell`` are the control (not trained again).
    """

    cell: ModelName = Field(description="trained with MSE as the task trains it with cross-entropy")


class MaskingParams(StrictParams):
    """Padding and masking off: cells trained on the padded batch read as it is (``sequence.names.masking``).

    Sizes, seeds, data draws and training are the task's own; its masked models are the control.
    """

    cells: list[RecurrentCell] = Field(
        min_length=1, description="recurrent cells trained unmasked (a Transformer has no last step to read)"
    )


class TokensParams(StrictParams):
    """Characters or character bigrams as tokens: the text task's ``cell`` on bigrams (``text.tokens``).

    Seeds, embedding size and training are the text task's own; the vocabulary is the training
    names' bigrams seen at least ``min_count`` times (rarer pairs are the unknown token).
    """

    cell: ModelName = Field(
        description="the cell trained on bigram tokens, beside the task's own on characters"
    )
    min_count: int = Field(
        default=2, ge=1, description="a training bigram seen fewer times is the unknown token"
    )
    hidden_size: int | None = Field(
        default=None,
        ge=1,
        le=4096,
        description="null: the hidden size whose parameter count is nearest the character model's",
    )


class SequenceRegistryParams(RegistryParams):
    """Where the champion of one task is registered (``sequence.registry``) and by which validation metric.

    Tasks do not compete (an adding model cannot read digits), so the registry names one:
    ``adding``, whose generator draws a validation set the training and test draws never hold
    (``random_state + n_draws``). Its models compete at the task's longest length, one seed's
    model each: ``val_mse`` is that network's MSE on the validation sequences, never the test ones.
    """

    task: Literal["adding"] = Field(default="adding", description="the task whose best model is registered")
    rank_by: Literal["val_mse"] = Field(
        default="val_mse", description="child-run metric that picks the champion (never a test one)"
    )
