"""The claims of the notes and the rule that tests them, as parameters (``<pipeline>.claims``).

A claim is tested by one *effect*: a measure taken on the condition the notes claim and on a
*control* that would make the claim false, paired unit by unit (a seed, a data draw), and a
*minimal effect* worth the name, with its reason. Both sides are read from a table an
experiment wrote, one row per unit. The verdict follows one rule for every claim (see
:mod:`dlpipeline.pipelines.report.claims`), so no verdict is ever written by hand.
"""

from typing import Any, Literal

from pydantic import Field, RootModel, model_validator

from dlpipeline.pipelines.common import StrictParams
from dlpipeline.pipelines.report.effects import Scale, Side

Scalar = str | int | float
Comparison = Literal["<", "<=", ">", ">="]
Aggregate = Literal["one", "mean", "median", "min", "max"]


class Figure(StrictParams):
    """One measured number: ``column`` of the rows of table ``source`` that match ``where``.

    ``where`` maps a column to a value, a list of values, a glob (``text-rnn-*``), or
    ``max`` / ``min`` (the row with the largest or smallest number in that column among the
    others' matches). ``aggregate: one`` requires exactly one matching row.
    """

    source: str = Field(min_length=1)
    column: str = Field(min_length=1)
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    aggregate: Aggregate = "one"


class Check(StrictParams):
    """``left`` ``op`` ``times`` × ``right``; with ``each``, one check per value of that column."""

    left: Figure
    op: Comparison
    right: Figure | float
    times: float = Field(default=1.0, gt=0)
    each: str | None = None


class Measure(StrictParams):
    """Per-unit values: ``column`` of the rows of table ``source`` that match ``where``, one per unit.

    ``where`` maps a column to a value, a list of values or a glob (``text-rnn-*``).
    """

    source: str = Field(min_length=1)
    column: str = Field(min_length=1)
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)


class EffectSpec(StrictParams):
    """What a claim measures, on the condition it claims and on a control that could make it false.

    Each unit (the ``units`` columns: a seed, a data draw, a repeat) gives one paired effect
    ``condition - control`` (``difference``) or ``log(condition / control)`` (``log_ratio``),
    signed so that positive is the ``side`` the notes claim. ``min_effect`` is the smallest
    effect worth the name on that scale, and ``min_effect_why`` says why, from the claim's
    words: never from the measured number.
    """

    measure: str = Field(min_length=3, description="what is measured, in words")
    condition: Measure
    control: Measure | float
    control_is: str = Field(min_length=3, description="the control, in words")
    units: list[str] = Field(min_length=1)
    scale: Scale = "difference"
    side: Side
    min_effect: float = Field(ge=0)
    min_effect_why: str = Field(min_length=10)

    @model_validator(mode="after")
    def _control_differs_from_condition(self) -> "EffectSpec":
        """A claim that compares a figure with itself cannot fail."""
        if self.control == self.condition:
            raise ValueError("the control is the condition itself: the claim could never fail")
        return self


REQUIRED_OF_AN_EFFECT = ("control", "control_is", "min_effect", "min_effect_why")


class Claim(StrictParams):
    """A claim of the notes, quoted word for word, and the experiment that tests it."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    quote: str = Field(min_length=10)
    section: str = Field(min_length=1, description="where the notes say it")
    pipeline: str = Field(min_length=1, description="the pipeline whose experiment tests it")
    experiment: str = Field(min_length=1, description="what was run, and with which parameters")
    effect: EffectSpec | None = None
    checks: list[Check] | None = Field(default=None, min_length=1)
    figure: str | None = Field(default=None, description="a figure input of the report, by name")

    @model_validator(mode="before")
    @classmethod
    def _names_what_is_missing(cls, values: Any) -> Any:
        """A claim without its control or minimal effect is refused in one line naming the claim."""
        if isinstance(values, dict) and isinstance(values.get("effect"), dict):
            missing = [key for key in REQUIRED_OF_AN_EFFECT if key not in values["effect"]]
            if missing:
                raise ValueError(f"claim {values.get('id')!r} declares no {', no '.join(missing)}")
        return values

    @model_validator(mode="after")
    def _one_way_to_judge(self) -> "Claim":
        """Exactly one of ``effect`` and ``checks``."""
        if (self.effect is None) == (self.checks is None):
            raise ValueError(f"claim {self.id!r} needs an effect (its measure, control and minimal effect)")
        return self


class RuleParams(StrictParams):
    """How many units an effect needs, and its interval: ``report.rule``."""

    min_seeds: int = Field(default=5, ge=1, description="distinct values of a unit column named seed")
    min_draws: int = Field(default=3, ge=1, description="distinct values of a unit column named draw")
    confidence: float = Field(default=0.95, gt=0, lt=1)
    resamples: int = Field(default=10_000, ge=100)
    seed: int = Field(default=0, ge=0, description="of the bootstrap, so that the report is deterministic")


class Untested(StrictParams):
    """A claim of the notes that no experiment of the project tests, and why."""

    quote: str = Field(min_length=5)
    why: str = Field(min_length=1)


class PipelineClaims(RootModel[list[Claim]]):
    """The claims one experiment tests (``<pipeline>.claims`` in its parameters file)."""


class NotesParams(StrictParams):
    """What the report says beside the claims it tests: those no experiment tests, and why."""

    untested: list[Untested] = Field(default_factory=list)
