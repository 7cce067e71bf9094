"""The catalog's file datasets: tables checked against a schema, figures, JSON reports, trained models.

Every file is written atomically: the data goes to a hidden sibling first and replaces the
target in one rename, so a run that fails or is killed halfway leaves the last good file
intact and loadable. Every table is checked on load and on save: a truncated, empty or
malformed file stops the run with a :class:`DataValidationError` naming the file, before any
node uses it and before anything downstream is overwritten.
"""

import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from kedro.io import AbstractDataset, DatasetError
from matplotlib.figure import Figure

from dlpipeline.models.checkpoint import MACHINE_FACTS, TrainedModule, from_payload, to_payload
from dlpipeline.schema import TableSchema

TABLE_FORMATS = (".csv", ".parquet")
MAX_PROBLEMS_SHOWN = 3
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class DataValidationError(DatasetError):
    """A dataset file is missing, unreadable or does not match its schema."""


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a hidden sibling of ``target`` to write to; on success it replaces ``target``.

    The sibling keeps ``target``'s suffix (writers pick the format from it) and is removed if
    the write fails, so ``target`` is either the old file or the complete new one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.partial-{os.getpid()}{target.suffix}")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _display(path: Path) -> str:
    """``path`` relative to the working directory (the project root in a run) when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _ends_with_line_break(path: Path) -> bool:
    """Whether the file is empty or its last byte is a line break (as every CSV writer leaves it)."""
    with path.open("rb") as file:
        if file.seek(0, os.SEEK_END) == 0:
            return True
        file.seek(-1, os.SEEK_END)
        return file.read(1) == b"\n"


class _LocalFile:
    """What the catalog's file datasets share: a local path, existence, description."""

    _filepath: Path

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class TableDataset(_LocalFile, AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A pandas table in a local CSV or Parquet file (by suffix), validated by a schema."""

    def __init__(
        self,
        filepath: str,
        schema: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        if self._filepath.suffix not in TABLE_FORMATS:
            raise DatasetError(f"{filepath}: a table file must end in one of {TABLE_FORMATS}")
        self._schema = TableSchema.model_validate(schema) if schema is not None else None
        self._load_args = load_args or {}
        self._save_args = save_args or {}
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        """Read the table; raise :class:`DataValidationError` if it is missing, unreadable or invalid."""
        if not self._filepath.is_file():
            raise DataValidationError(f"{_display(self._filepath)} does not exist")
        try:
            frame = self._read()
        except Exception as error:  # any reader failure means the file is not a table
            shown = _display(self._filepath)
            reason = str(error).replace(str(self._filepath), shown)
            raise DataValidationError(f"{shown} cannot be read: {reason}") from error
        self._validate(frame, "is not valid")
        return frame

    def save(self, data: pd.DataFrame) -> None:
        """Validate ``data`` (nothing invalid is written), then replace the file atomically."""
        self._validate(data, "was not written, the table is not valid")
        with atomic_path(self._filepath) as partial:
            if self._filepath.suffix == ".csv":
                data.to_csv(partial, **self._save_args)
            else:
                data.to_parquet(partial, **self._save_args)

    def _read(self) -> pd.DataFrame:
        """The file's contents; a CSV must end with a line break (otherwise it was cut short)."""
        if self._filepath.suffix == ".parquet":
            return pd.read_parquet(self._filepath, **self._load_args)
        if not _ends_with_line_break(self._filepath):
            raise ValueError("the last row is cut short (truncated file?)")
        return pd.read_csv(self._filepath, **self._load_args)

    def _validate(self, frame: pd.DataFrame, verdict: str) -> None:
        """Raise :class:`DataValidationError` listing the first few schema problems of ``frame``."""
        problems = self._schema.problems(frame) if self._schema else []
        if problems:
            shown = problems[:MAX_PROBLEMS_SHOWN]
            if len(problems) > len(shown):
                shown.append(f"and {len(problems) - len(shown)} more problem(s)")
            raise DataValidationError(f"{_display(self._filepath)} {verdict}: " + "; ".join(shown))

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "schema": self._schema is not None}


class FigureDataset(_LocalFile, AbstractDataset[bytes, Figure]):
    """A matplotlib figure saved as an image (format from the suffix); read back as the file's bytes."""

    def __init__(
        self, filepath: str, save_args: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._save_args = save_args or {}
        self.metadata = metadata

    def load(self) -> bytes:
        """The image file's bytes (the claims report embeds them); a missing or foreign file is named."""
        shown = _display(self._filepath)
        try:
            image = self._filepath.read_bytes()
        except OSError as error:
            raise DataValidationError(f"{shown} cannot be read: {error.strerror}") from error
        if self._filepath.suffix == ".png" and not image.startswith(PNG_SIGNATURE):
            raise DataValidationError(f"{shown} does not start as a PNG image does (damaged file?)")
        return image

    def save(self, data: Figure) -> None:
        """Render ``data`` to the file atomically."""
        with atomic_path(self._filepath) as partial:
            data.savefig(partial, **self._save_args)


class JSONDataset(_LocalFile, AbstractDataset[Any, Any]):
    """A JSON document, written atomically."""

    def __init__(
        self, filepath: str, save_args: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._save_args = save_args or {}
        self.metadata = metadata

    def load(self) -> Any:
        """The parsed document; raise :class:`DataValidationError` if it is missing or not JSON."""
        try:
            return json.loads(self._filepath.read_text())
        except (OSError, ValueError) as error:
            shown = _display(self._filepath)
            raise DataValidationError(f"{shown} cannot be read as JSON: {error}") from error

    def save(self, data: Any) -> None:
        """Write ``data`` as JSON, replacing the file atomically."""
        with atomic_path(self._filepath) as partial:
            partial.write_text(json.dumps(data, **self._save_args))


class ModelDataset(_LocalFile, AbstractDataset[dict[str, TrainedModule], dict[str, TrainedModule]]):
    """Trained torch modules by name (see :mod:`dlpipeline.models.checkpoint`), in one ``.pt`` file.

    Loading never unpickles code (``weights_only=True``); a damaged, truncated or foreign
    file raises :class:`DataValidationError` in one line that names it. Training times
    (:data:`~dlpipeline.models.checkpoint.MACHINE_FACTS`) go to ``timings_filepath``, a JSON
    file outside DVC, so the model file's bytes depend only on code, data and parameters;
    without that file they load as NaN.
    """

    def __init__(
        self, filepath: str, timings_filepath: str | None = None, metadata: dict[str, Any] | None = None
    ) -> None:
        self._filepath = Path(filepath)
        self._timings_filepath = Path(timings_filepath) if timings_filepath else None
        self.metadata = metadata

    def load(self) -> dict[str, TrainedModule]:
        """The modules, rebuilt in eval mode on the CPU, with their training times."""
        shown = _display(self._filepath)
        if not self._filepath.is_file():
            raise DataValidationError(f"{shown} does not exist")
        try:
            models = from_payload(torch.load(self._filepath, map_location="cpu", weights_only=True))
        except Exception as error:  # any reader failure means the file is not a usable model file
            reason = str(error).strip().split(". ")[0].splitlines()[0] if str(error).strip() else repr(error)
            raise DataValidationError(f"{shown} cannot be read as trained models: {reason}") from error
        timings = self._read_timings()
        unknown = dict.fromkeys(MACHINE_FACTS, float("nan"))
        return {
            name: trained.with_info(**{**unknown, **timings.get(name, {})})
            for name, trained in models.items()
        }

    def save(self, data: dict[str, TrainedModule]) -> None:
        """Write the modules atomically; the bytes depend only on the weights, arguments and info."""
        buffer = io.BytesIO()  # in memory, so the archive's inner name never varies with the file name
        torch.save(to_payload(data), buffer)
        with atomic_path(self._filepath) as partial:
            partial.write_bytes(buffer.getvalue())
        if self._timings_filepath is not None:
            timings = {name: trained.machine_facts for name, trained in data.items()}
            with atomic_path(self._timings_filepath) as partial:
                partial.write_text(json.dumps(timings, indent=1))

    def _read_timings(self) -> dict[str, dict[str, float]]:
        """The training times saved beside the models (none if the file is missing or unreadable)."""
        if self._timings_filepath is None or not self._timings_filepath.is_file():
            return {}
        try:
            return json.loads(self._timings_filepath.read_text())
        except ValueError:
            return {}

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "timings_filepath": str(self._timings_filepath)}
