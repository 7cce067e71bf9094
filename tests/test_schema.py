"""Table schemas: the quick block check passes only tables pandera passes, and pandera still
describes every problem."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlpipeline import schema
from dlpipeline.schema import ColumnRule, TableSchema, clearly_valid, pandera_problems, problems

RULE_KEYS = ("x1", "label", "px_*", "name")

rules = st.builds(
    ColumnRule,
    dtype=st.sampled_from(["int", "float", "number", "str", "any"]),
    min=st.one_of(st.none(), st.integers(-2, 2), st.floats(-2, 2)),
    max=st.one_of(st.none(), st.integers(-2, 2), st.floats(-2, 2)),
    empty=st.booleans(),
)
tables = st.builds(
    TableSchema,
    columns=st.dictionaries(st.sampled_from(RULE_KEYS), rules, min_size=1),
    min_rows=st.integers(0, 3),
)


def column_values(rule: ColumnRule, n_rows: int) -> st.SearchStrategy[list]:
    """``n_rows`` values of ``rule``'s type, inside its range where it has one."""
    low = -3.0 if rule.min is None else float(rule.min)
    high = 3.0 if rule.max is None else float(rule.max)
    if rule.dtype == "str":
        values = st.sampled_from(["a", "1", "4x4"])
    elif rule.dtype == "int" and np.ceil(low) <= np.floor(high):
        values = st.integers(int(np.ceil(low)), int(np.floor(high)))
    elif low <= high:
        values = st.floats(low, high)
    else:  # an empty range: no value fits it
        values = st.floats(-3, 3)
    if rule.empty:
        values = st.one_of(values, st.none())
    return st.lists(values, min_size=n_rows, max_size=n_rows)


BREAKAGES = {
    "none": lambda frame: frame,
    "a value far out": lambda frame: frame.assign(**{frame.columns[0]: 1e9}) if len(frame.columns) else frame,
    "an empty cell": lambda frame: frame.mask(np.eye(*frame.shape, dtype=bool)),
    "text": lambda frame: frame.assign(**{frame.columns[-1]: "oops"}) if len(frame.columns) else frame,
    "an extra column": lambda frame: frame.assign(extra=1.0),
    "a column dropped": lambda frame: frame.iloc[:, 1:],
    "no rows": lambda frame: frame.iloc[:0],
}


@st.composite
def tables_and_frames(draw: st.DrawFn) -> tuple[TableSchema, pd.DataFrame]:
    """A table, and a frame built to fit it and then maybe broken in one way."""
    table = draw(tables)
    n_rows = draw(st.integers(0, 4))
    columns = {}
    for key, rule in table.columns.items():
        names = (
            [key.replace("*", str(index)) for index in range(draw(st.integers(1, 2)))]
            if "*" in key
            else [key]
        )
        for name in names:
            columns[name] = pd.Series(draw(column_values(rule, n_rows)), dtype=None if n_rows else float)
    frame = pd.DataFrame(columns, index=range(n_rows))
    breakage = draw(st.one_of(st.just("none"), st.sampled_from(sorted(BREAKAGES))))  # half of them intact
    return table, BREAKAGES[breakage](frame)


@settings(max_examples=300, deadline=None)
@given(table_and_frame=tables_and_frames())
def test_a_table_the_quick_check_passes_is_one_pandera_passes(
    table_and_frame: tuple[TableSchema, pd.DataFrame],
):
    table, frame = table_and_frame
    if clearly_valid(table, frame):
        assert pandera_problems(table.pandera, frame) == []


WIDE = TableSchema(
    columns={
        "label": ColumnRule(dtype="int", min=0, max=9),
        "px_*": ColumnRule(dtype="float", min=0.0, max=1.0),
    }
)


def wide_table() -> pd.DataFrame:
    """Twenty rows of a label and 512 pixels, every value in range."""
    pixels = np.random.default_rng(0).random((20, 512))
    frame = pd.DataFrame(pixels, columns=[f"px_{index}" for index in range(512)])
    return frame.assign(label=np.arange(20) % 10)


def test_a_valid_wide_table_is_passed_without_pandera(monkeypatch: pytest.MonkeyPatch):
    def refuse(*arguments: object) -> list[str]:
        raise AssertionError("pandera was asked about a valid table")

    monkeypatch.setattr(schema, "pandera_problems", refuse)
    assert problems(WIDE, wide_table()) == []


@pytest.mark.parametrize(
    ("change", "told"),
    [
        (
            lambda frame: frame.assign(px_7=frame["px_7"] + 2.0),
            "column 'px_7' fails less_than_or_equal_to(1.0)",
        ),
        (lambda frame: frame.drop(columns="label"), "missing column 'label'"),
        (lambda frame: frame.assign(extra=1), "unexpected column 'extra'"),
        (lambda frame: frame.assign(px_3=frame["px_3"].where(frame.index > 0)), "column 'px_3'"),
        (lambda frame: frame.assign(label=frame["label"].astype(str)), "column 'label' fails dtype int"),
        (lambda frame: frame.iloc[:0], "min_rows(1)"),
    ],
    ids=["out of range", "missing column", "unexpected column", "empty cell", "text", "no rows"],
)
def test_a_table_that_breaks_a_rule_goes_to_pandera_which_names_the_column(change, told: str):
    frame = change(wide_table())

    assert not clearly_valid(WIDE, frame)
    assert any(told in problem for problem in problems(WIDE, frame)), problems(WIDE, frame)
