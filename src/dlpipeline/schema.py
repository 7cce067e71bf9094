"""What a table must look like, written in the catalog and checked by pandera.

A schema is written in the catalog next to the dataset it guards, e.g.::

    schema:
      columns:
        x1: {dtype: float}
        label: {dtype: int, min: 0, max: 1}
        "px_*": {dtype: number, min: 0}      # a glob: one or more columns

:meth:`TableSchema.to_pandera` turns it into a strict :class:`pandera.pandas.DataFrameSchema`
(exactly these columns, none missing, no missing values); :func:`problems` runs it and
describes what is wrong with a frame, in a few lines that name the columns.

Pandera runs every check of every column through its own machinery (about a millisecond each: a
table of 517 columns takes a quarter of a second), and tables are checked on every save and load.
So :func:`problems` first asks :func:`clearly_valid`, the same rules on whole blocks of columns at
once; only a table it cannot pass goes to pandera, which decides and describes what is wrong.
"""

import functools
import re
from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
import pandera.pandas as pa
from pandas.api import types as pandas_types
from pydantic import BaseModel, ConfigDict, Field

ColumnType = Literal["int", "float", "number", "str", "any"]

# A type is a family of dtypes (int32 or int64, object or str), which pandera's exact dtypes are not.
_DTYPE_FAMILIES: dict[ColumnType, Callable[[Any], bool]] = {
    "int": pandas_types.is_integer_dtype,
    "float": pandas_types.is_float_dtype,
    "number": lambda dtype: pandas_types.is_numeric_dtype(dtype) and not pandas_types.is_bool_dtype(dtype),
    "str": lambda dtype: pandas_types.is_object_dtype(dtype) or pandas_types.is_string_dtype(dtype),
}
MAX_PROBLEMS_SHOWN = 3


def _glob_pattern(key: str) -> str:
    """The regular expression of a column glob (``*`` matches anything, the rest is literal)."""
    return "^" + ".*".join(re.escape(part) for part in key.split("*")) + "$"


class ColumnRule(BaseModel):
    """The type and the allowed range of one column (or of every column a glob matches)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dtype: ColumnType = "number"
    min: int | float | None = None
    max: int | float | None = None
    empty: bool = False
    """Whether a cell may be empty (a figure that was not measured)."""

    def to_pandera(self, key: str) -> pa.Column:
        """The pandera column for ``key`` (a name, or a glob that must match one column or more)."""
        checks = []
        if self.dtype != "any":  # "any": labels that read as numbers or as text (e.g. "8" or "4x4")
            family = _DTYPE_FAMILIES[self.dtype]
            checks.append(pa.Check(lambda column: family(column.dtype), name=f"dtype {self.dtype}"))
        if self.min is not None:
            checks.append(pa.Check.ge(self.min))
        if self.max is not None:
            checks.append(pa.Check.le(self.max))
        is_glob = "*" in key
        name = _glob_pattern(key) if is_glob else key
        return pa.Column(name=name, title=key, checks=checks, nullable=self.empty, regex=is_glob)


class TableSchema(BaseModel):
    """The columns a table must have, exactly, and the fewest rows it may have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnRule] = Field(min_length=1)
    min_rows: int = Field(default=1, ge=0)

    @functools.cached_property
    def pandera(self) -> pa.DataFrameSchema:
        """:meth:`to_pandera`, built once."""
        return self.to_pandera()

    def to_pandera(self) -> pa.DataFrameSchema:
        """The strict pandera schema: these columns and no other, at least ``min_rows`` rows."""
        columns = [rule.to_pandera(key) for key, rule in self.columns.items()]
        enough_rows = pa.Check(lambda frame: len(frame) >= self.min_rows, name=f"min_rows({self.min_rows})")
        return pa.DataFrameSchema(
            {column.name: column for column in columns}, checks=[enough_rows], strict=True
        )


def clearly_valid(table: TableSchema, frame: pd.DataFrame) -> bool:
    """Whether ``frame`` passes every rule of ``table``, checked a block of columns at a time.

    Never more lenient than pandera: whatever it cannot settle (column names that are not unique
    strings, a range on a column that is not numeric, a column with no value to compare) counts
    as not clearly valid.
    """
    names = list(frame.columns)
    if len(frame) < table.min_rows or len(set(names)) != len(names):
        return False
    if not all(isinstance(name, str) for name in names):
        return False
    unclaimed = set(names)
    for key, rule in table.columns.items():
        if "*" in key:
            pattern = re.compile(_glob_pattern(key))
            matched = [name for name in names if pattern.match(name)]
        else:
            matched = [key] if key in names else []
        if not matched or not _block_passes(rule, frame[matched]):
            return False
        unclaimed.difference_update(matched)
    return not unclaimed


def _block_passes(rule: ColumnRule, block: pd.DataFrame) -> bool:
    """Whether every column of ``block`` has ``rule``'s type, cells, and values in range."""
    dtypes = list(block.dtypes)
    if rule.dtype != "any" and not all(_DTYPE_FAMILIES[rule.dtype](dtype) for dtype in dtypes):
        return False
    if not rule.empty and block.isna().to_numpy().any():
        return False
    if rule.min is None and rule.max is None:
        return True
    if not all(_DTYPE_FAMILIES["number"](dtype) for dtype in dtypes):
        return False
    # Per-column extremes skipping empty cells, as pandera drops them before a range check; a
    # column with no value at all gives NaN, which passes no comparison.
    if rule.min is not None and not (block.min(skipna=True) >= rule.min).all():
        return False
    return rule.max is None or bool((block.max(skipna=True) <= rule.max).all())


def problems(table: TableSchema, frame: pd.DataFrame) -> list[str]:
    """What is wrong with ``frame`` under ``table``: one line per failed check (empty if valid).

    Only the first failure of each column is told (a column of text also fails its range), and
    only the first few of all, with a count of the rest.
    """
    if clearly_valid(table, frame):
        return []
    return pandera_problems(table.pandera, frame)


def pandera_problems(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[str]:
    """:func:`problems` decided by pandera alone."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        # Stable by check number: a column's missing values and dtype come before its range.
        failures = errors.failure_cases.sort_values("check_number", kind="stable", na_position="first")
        told = [_describe(failure, schema, frame) for failure in _first_per_column(failures)]
        shown = told[:MAX_PROBLEMS_SHOWN]
        if len(told) > len(shown):
            shown.append(f"and {len(told) - len(shown)} more problem(s)")
        return shown
    return []


def _first_per_column(failures: pd.DataFrame) -> list[dict[str, Any]]:
    """Every failure of the table as a whole, and the first failure of each column."""
    seen: set[str] = set()
    kept = []
    for failure in failures.to_dict("records"):
        column = failure["column"]
        if isinstance(column, str) and failure["check"] not in {"column_in_schema", "column_in_dataframe"}:
            if column in seen:
                continue
            seen.add(column)
        kept.append(failure)
    return kept


def _describe(failure: dict[str, Any], schema: pa.DataFrameSchema, frame: pd.DataFrame) -> str:
    """One failure from pandera's ``failure_cases``, in words that name the column."""
    check, case, column = str(failure["check"]), failure["failure_case"], failure["column"]
    if check == "column_in_schema":
        return f"unexpected column '{case}'"
    if check == "column_in_dataframe":
        return f"missing column '{case}'"
    if check.startswith("no_regex_column_match"):
        return f"no column matches '{schema.columns[column].title}'"
    if not isinstance(column, str):
        return f"the table fails {check} (it has {len(frame)} row(s))"
    if check.startswith("dtype "):
        return f"column '{column}' fails {check} (it holds {frame[column].dtype})"
    index = failure["index"]
    where = "" if index is None or pd.isna(index) else f" in row {index}"
    return f"column '{column}' fails {check} (e.g. {case}{where})"
