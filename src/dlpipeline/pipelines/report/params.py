"""The claims of the notes and the rules that test them, as parameters (``<pipeline>.claims``).

A claim is tested by *checks*: each compares one measured figure with another (or with a
number). A figure is read from a table an experiment wrote: its rows are chosen by ``where``
and reduced by ``aggregate``. The verdict follows one rule for every claim (see
:mod:`dlpipeline.pipelines.report.claims`), so no verdict is ever written by hand.
"""

from typing import Literal

from pydantic import Field, RootModel

from dlpipeline.pipelines.common import StrictParams

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


class Claim(StrictParams):
    """A claim of the notes, quoted word for word, and the experiment that tests it."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    quote: str = Field(min_length=10)
    section: str = Field(min_length=1, description="where the notes say it")
    pipeline: str = Field(min_length=1, description="the pipeline whose experiment tests it")
    experiment: str = Field(min_length=1, description="what was run, and with which parameters")
    checks: list[Check] = Field(min_length=1)
    figure: str | None = Field(default=None, description="a figure input of the report, by name")


class Untested(StrictParams):
    """A claim of the notes that no experiment of the project tests, and why."""

    quote: str = Field(min_length=5)
    why: str = Field(min_length=1)


class PipelineClaims(RootModel[list[Claim]]):
    """The claims one experiment tests (``<pipeline>.claims`` in its parameters file)."""


class NotesParams(StrictParams):
    """What the report says beside the claims it tests: those no experiment tests, and why."""

    untested: list[Untested] = Field(default_factory=list)
