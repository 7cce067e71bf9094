"""What a table on disk must look like: its columns, their types and ranges, no missing values.

A schema is written in the catalog next to the dataset it guards, e.g.::

    schema:
      columns:
        x1: {dtype: float}
        label: {dtype: int, min: 0, max: 1}
        "px_*": {dtype: number, min: 0}      # a glob: one or more columns

:meth:`TableSchema.problems` lists everything wrong with a frame, in words a user can act on.
"""

from fnmatch import fnmatchcase
from typing import Literal

import pandas as pd
from pandas.api import types as pandas_types
from pydantic import BaseModel, ConfigDict, Field

ColumnType = Literal["int", "float", "number", "str", "any"]

_TYPE_CHECKS = {
    "int": pandas_types.is_integer_dtype,
    "float": pandas_types.is_float_dtype,
    "number": lambda dtype: pandas_types.is_numeric_dtype(dtype) and not pandas_types.is_bool_dtype(dtype),
    "str": lambda dtype: pandas_types.is_object_dtype(dtype) or pandas_types.is_string_dtype(dtype),
    "any": lambda dtype: True,  # a column of labels that reads as numbers or as text (e.g. "8" or "4x4")
}


class ColumnRule(BaseModel):
    """The type and the allowed range of one column (or of every column a glob matches)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dtype: ColumnType = "number"
    min: float | None = None
    max: float | None = None

    def problems(self, name: str, column: pd.Series) -> list[str]:
        """What is wrong with ``column`` (empty if nothing)."""
        if column.isna().any():
            return [f"column '{name}' has {int(column.isna().sum())} missing value(s)"]
        if not _TYPE_CHECKS[self.dtype](column.dtype):
            return [f"column '{name}' holds {column.dtype} values, expected {self.dtype}"]
        found = []
        if self.min is not None and (below := column[column < self.min]).size:
            found.append(f"column '{name}' has values below {self.min:g} (e.g. {below.iloc[0]})")
        if self.max is not None and (above := column[column > self.max]).size:
            found.append(f"column '{name}' has values above {self.max:g} (e.g. {above.iloc[0]})")
        return found


class TableSchema(BaseModel):
    """The columns a table must have, exactly, and the fewest rows it may have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnRule] = Field(min_length=1)
    min_rows: int = Field(default=1, ge=0)

    def problems(self, frame: pd.DataFrame) -> list[str]:
        """Everything wrong with ``frame`` (empty if it is valid)."""
        if len(frame) < self.min_rows:
            return [f"it has {len(frame)} row(s), at least {self.min_rows} expected"]
        found = []
        names = [str(name) for name in frame.columns]
        matched = {key: [name for name in names if fnmatchcase(name, key)] for key in self.columns}
        missing = [key for key, found_names in matched.items() if not found_names]
        if missing:
            found.append(f"missing column(s) {missing}")
        covered = {name for found_names in matched.values() for name in found_names}
        unexpected = [name for name in names if name not in covered]
        if unexpected:
            found.append(f"unexpected column(s) {unexpected}")
        for key, found_names in matched.items():
            for name in found_names:
                found.extend(self.columns[key].problems(name, frame[name]))
        return found
