"""The catalog's file datasets: schema-checked tables, figures, JSON reports, trained models, baselines.

A file is a local path or an fsspec URL (``s3://bucket/key`` through s3fs): tables, figures and
JSON are kedro-datasets' pandas, matplotlib and JSON datasets; models use the same fsspec
filesystem; fitted baselines are JSON documents. ``credentials`` and ``fs_args`` go to the
filesystem; without them s3fs reads the usual ``AWS_*`` environment variables.

Every local file is written atomically: the data goes to a hidden sibling first and replaces
the target in one rename, so a run that fails or is killed halfway leaves the last good file
intact and loadable (an object store does the same by itself: an upload that does not
complete leaves no object). Every table is validated by its pandera schema on load and on
save: a truncated, empty or malformed file stops the run with a :class:`DataValidationError`
naming the file and the column, before any node uses it and before anything downstream is
overwritten.
"""

import io
import os
import shutil
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

import fsspec
import numpy as np
import pandas as pd
import torch
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import AbstractVersionedDataset, get_filepath_str, get_protocol_and_path
from kedro_datasets.json import JSONDataset as KedroJSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from matplotlib.figure import Figure

from dlpipeline.data.text import CharTokenizer, CountBigram
from dlpipeline.models.checkpoint import TrainedModule, from_payload, to_payload
from dlpipeline.records import Timing
from dlpipeline.schema import TableSchema, problems

if TYPE_CHECKING:
    from sklearn.decomposition import PCA

TABLE_FORMATS = (".csv", ".parquet")
LOCAL = "file"
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


def _shown(protocol: str, path: PurePosixPath) -> str:
    """How a file is named in messages: a URL, or relative to the working directory (the project root)."""
    if protocol != LOCAL:
        return f"{protocol}://{path}"
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _root_cause(error: BaseException) -> BaseException:
    """The first error of a chain (kedro wraps a reader's error in its own)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


class _AtomicLocalSave:
    """For kedro-datasets' file datasets: a local save goes to a hidden sibling, renamed over the file.

    kedro-datasets write to ``_get_save_path()``; while :meth:`_atomically` is open that is the
    sibling from :func:`atomic_path`.
    """

    _protocol: str
    _filepath: PurePosixPath
    _partial: Path | None = None

    def _get_save_path(self) -> PurePosixPath:
        if self._partial is not None:
            return PurePosixPath(self._partial)
        return super()._get_save_path()

    @contextmanager
    def _atomically(self) -> Iterator[None]:
        """Make the saves inside this block atomic (a local file) or leave them as they are (a URL)."""
        if self._protocol != LOCAL:
            yield
            return
        with atomic_path(Path(self._filepath)) as partial:
            self._partial = partial
            try:
                yield
            finally:
                self._partial = None


class _CSVFile(_AtomicLocalSave, CSVDataset):
    """A CSV file; one whose last row is cut short (no final line break) is refused."""

    # The bytes pandas writes to a path: UTF-8, and its own line breaks.
    DEFAULT_FS_ARGS: ClassVar[dict[str, Any]] = {
        "open_args_save": {"mode": "w", "encoding": "utf-8", "newline": ""}
    }

    def load(self) -> pd.DataFrame:
        """The table, after checking that the file ends with a line break (as every CSV writer leaves it)."""
        with self._fs.open(get_filepath_str(self._get_load_path(), self._protocol), "rb") as file:
            if file.seek(0, os.SEEK_END) > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":
                    raise ValueError("the last row is cut short (truncated file?)")
        return super().load()

    def save(self, data: pd.DataFrame) -> None:
        """Write the table (atomically if local)."""
        with self._atomically():
            super().save(data)


class _ParquetFile(_AtomicLocalSave, ParquetDataset):
    """A Parquet file."""

    def save(self, data: pd.DataFrame) -> None:
        """Write the table (atomically if local)."""
        with self._atomically():
            super().save(data)


class TableDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """A pandas table in a CSV or Parquet file (by suffix), validated by a pandera schema."""

    def __init__(
        self,
        filepath: str,
        schema: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath)
        self._protocol, self._filepath = protocol, PurePosixPath(path)
        if self._filepath.suffix not in TABLE_FORMATS:
            raise DatasetError(f"{filepath}: a table file must end in one of {TABLE_FORMATS}")
        file_format = _CSVFile if self._filepath.suffix == ".csv" else _ParquetFile
        self._file = file_format(
            filepath=filepath,
            load_args=load_args,
            save_args=save_args,
            credentials=credentials,
            fs_args=fs_args,
        )
        self._schema = TableSchema.model_validate(schema) if schema is not None else None
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        """Read the table; raise :class:`DataValidationError` if it is missing, unreadable or invalid."""
        shown = _shown(self._protocol, self._filepath)
        if not self._file.exists():
            raise DataValidationError(f"{shown} does not exist")
        try:
            frame = self._file.load()
        except Exception as error:  # any reader failure means the file is not a table
            reason = str(_root_cause(error)).replace(str(self._filepath), shown)
            raise DataValidationError(f"{shown} cannot be read: {reason}") from error
        self._validate(frame, "is not valid")
        return frame

    def save(self, data: pd.DataFrame) -> None:
        """Validate ``data`` (nothing invalid is written), then write it (atomically if local)."""
        self._validate(data, "was not written, the table is not valid")
        self._file.save(data)

    def _validate(self, frame: pd.DataFrame, verdict: str) -> None:
        """Raise :class:`DataValidationError` listing the first few schema problems of ``frame``."""
        found = problems(self._schema, frame) if self._schema is not None else []
        if found:
            raise DataValidationError(
                f"{_shown(self._protocol, self._filepath)} {verdict}: " + "; ".join(found)
            )

    def _exists(self) -> bool:
        return self._file.exists()

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "protocol": self._protocol,
            "schema": self._schema is not None,
        }


class FigureDataset(_AtomicLocalSave, MatplotlibDataset):
    """A matplotlib figure saved as an image (format from the suffix unless ``save_args`` say).

    It reads back as the image file's bytes (the claims report embeds them).
    """

    def __init__(
        self,
        filepath: str,
        save_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        image_format = PurePosixPath(filepath).suffix.removeprefix(".")
        super().__init__(
            filepath=filepath,
            save_args={**({"format": image_format} if image_format else {}), **(save_args or {})},
            credentials=credentials,
            fs_args=fs_args,
            metadata=metadata,
        )

    def load(self) -> bytes:
        """The image file's bytes; a missing or foreign file is named."""
        shown = _shown(self._protocol, self._filepath)
        try:
            with self._fs.open(get_filepath_str(self._get_load_path(), self._protocol), "rb") as file:
                image = file.read()
        except OSError as error:
            raise DataValidationError(f"{shown} cannot be read: {error.strerror or error}") from error
        if self._filepath.suffix == ".png" and not image.startswith(PNG_SIGNATURE):
            raise DataValidationError(f"{shown} does not start as a PNG image does (damaged file?)")
        return image

    def save(self, data: Figure) -> None:
        """Render ``data`` to the file (atomically if local)."""
        with self._atomically():
            super().save(data)


class JSONDataset(_AtomicLocalSave, KedroJSONDataset):
    """A JSON document (``save_args`` go to :func:`json.dump`; kedro's default indent is 2)."""

    def load(self) -> Any:
        """The parsed document; raise :class:`DataValidationError` if it is missing or not JSON."""
        try:
            return super().load()
        except DatasetError as error:
            shown = _shown(self._protocol, self._filepath)
            raise DataValidationError(f"{shown} cannot be read as JSON: {_root_cause(error)}") from error

    def save(self, data: Any) -> None:
        """Write ``data`` as JSON (atomically if local)."""
        with self._atomically():
            super().save(data)


Document = dict[str, Any]
"""A JSON object, as :func:`json.load` returns it."""


def _array_document(array: np.ndarray | np.generic) -> Document:
    """``array`` (or a numpy scalar, as a 0-d array) as JSON: dtype, shape, memory order and values.

    JSON writes every float as its shortest round-tripping decimal, so the values come back bit
    for bit. The memory order is kept because results depend on it: a matrix product with a
    Fortran-ordered matrix and with a C-ordered copy of it can differ in the last bit.
    """
    array = np.asarray(array)
    order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"
    values = array.ravel(order=order).tolist()
    return {"dtype": str(array.dtype), "shape": list(array.shape), "order": order, "values": values}


def _array_from(document: Document) -> np.ndarray | np.generic:
    """The array of :func:`_array_document` (a 0-d one as the numpy scalar it was)."""
    values = np.asarray(document["values"], dtype=np.dtype(document["dtype"]))
    array = values.reshape(document["shape"], order=document["order"])
    return array[()] if array.ndim == 0 else array


def _pca_document(pca: "PCA") -> Document:
    """A fitted PCA as JSON: its parameters, and every attribute fitting set (numpy ones as arrays)."""
    parameters = pca.get_params()
    fitted = {
        name: _array_document(value) if isinstance(value, np.ndarray | np.generic) else value
        for name, value in vars(pca).items()
        if name not in parameters
    }
    return {"parameters": parameters, "fitted": fitted}


def _pca_from(document: Document) -> "PCA":
    """The PCA of :func:`_pca_document`: it transforms and inverse-transforms bit for bit as the saved one."""
    # Imported here: the decomposition module and the SciPy parts it loads add about 0.13 s to every
    # `kedro` start (the pipelines import only scikit-learn's datasets); only loading PCA fits needs it.
    from sklearn.decomposition import PCA

    pca = PCA(**document["parameters"])
    for name, value in document["fitted"].items():
        setattr(pca, name, _array_from(value) if isinstance(value, dict) else value)
    return pca


class _DocumentDataset(JSONDataset):
    """A typed value kept as a JSON document; a subclass says how the value maps to one and back.

    Unlike a pickle, loading the file runs no code: it is parsed, then rebuilt by the subclass.
    """

    what: ClassVar[str]
    """What the value is, for messages."""
    # Compact: the arrays' values would otherwise take a line each.
    DEFAULT_SAVE_ARGS: ClassVar[dict[str, Any]] = {"indent": None}

    def load(self) -> Any:
        """The value; raise :class:`DataValidationError` if the file is not JSON or not such a document."""
        document = super().load()
        try:
            return self._from_document(document)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            shown = _shown(self._protocol, self._filepath)
            raise DataValidationError(f"{shown} cannot be read as {self.what}: {error!r}") from error

    def save(self, data: Any) -> None:
        """Write ``data`` as its JSON document (atomically if local)."""
        super().save(self._to_document(data))

    @abstractmethod
    def _to_document(self, data: Any) -> Document:
        """``data`` as a document :func:`json.dump` can write."""

    @abstractmethod
    def _from_document(self, document: Document) -> Any:
        """The value a document of :meth:`_to_document` holds."""


class PcaDataset(_DocumentDataset):
    """Fitted PCAs by an integer key (the autoencoders' baselines, by code size), in one JSON document.

    Each fit is kept whole (parameters and fitted arrays), so a loaded PCA transforms and
    inverse-transforms bit for bit as the one that was saved.
    """

    what = "PCA fits"

    def _to_document(self, data: Mapping[int, "PCA"]) -> Document:
        return {str(key): _pca_document(pca) for key, pca in data.items()}

    def _from_document(self, document: Document) -> dict[int, "PCA"]:
        return {int(key): _pca_from(fit) for key, fit in document.items()}


class BigramDataset(_DocumentDataset):
    """A :class:`~dlpipeline.data.text.CountBigram` in a JSON document: its characters and its counts."""

    what = "a count bigram"

    def _to_document(self, data: CountBigram) -> Document:
        return {"characters": list(data.tokenizer.characters), "counts": _array_document(data.counts)}

    def _from_document(self, document: Document) -> CountBigram:
        return CountBigram(CharTokenizer(tuple(document["characters"])), _array_from(document["counts"]))


Models = dict[str, TrainedModule]
"""Trained modules by name: what a model file holds."""


class ModelDataset(_AtomicLocalSave, AbstractVersionedDataset[Models, Models]):
    """Trained torch modules by name (see :mod:`dlpipeline.models.checkpoint`), in one ``.pt`` file.

    Loading never unpickles code (``weights_only=True``); a damaged, truncated or foreign
    file raises :class:`DataValidationError` in one line that names it. Training times
    (each model's :class:`~dlpipeline.records.Timing`) go to ``timings_filepath``, a JSON
    file outside DVC, so the model file's bytes depend only on code, data and parameters;
    without that file they load as NaN.
    """

    def __init__(
        self,
        filepath: str,
        timings_filepath: str | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(credentials or {}), **(fs_args or {}))
        super().__init__(
            filepath=PurePosixPath(path),
            version=None,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )
        self._timings_filepath = timings_filepath
        self._timings = (
            JSONDataset(
                filepath=timings_filepath, save_args={"indent": 1}, credentials=credentials, fs_args=fs_args
            )
            if timings_filepath
            else None
        )
        self.metadata = metadata

    def load(self) -> Models:
        """The modules, rebuilt in eval mode on the CPU, with their training times."""
        shown = _shown(self._protocol, self._filepath)
        if not self._exists():
            raise DataValidationError(f"{shown} does not exist")
        try:
            with self._fs.open(get_filepath_str(self._get_load_path(), self._protocol), "rb") as file:
                buffer = io.BytesIO(file.read())  # torch needs a seekable file; fsspec's may not be
                payload = torch.load(buffer, map_location="cpu", weights_only=True)
            models = from_payload(payload)
        except Exception as error:  # any reader failure means the file is not a usable model file
            reason = str(error).strip().split(". ")[0].splitlines()[0] if str(error).strip() else repr(error)
            raise DataValidationError(f"{shown} cannot be read as trained models: {reason}") from error
        timings = self._read_timings()
        return {
            name: trained.replace(timing=Timing.from_mapping(timings.get(name, {})))
            for name, trained in models.items()
        }

    def save(self, data: Models) -> None:
        """Write the modules (atomically if local); its bytes depend on weights, arguments, records."""
        buffer = io.BytesIO()  # in memory, so the archive's inner name never varies with the file name
        torch.save(to_payload(data), buffer)
        # The save path is asked for inside the atomic block: there it is the hidden sibling.
        with self._atomically(), self._fs.open(self._save_path_str(), "wb") as file:
            file.write(buffer.getvalue())
        if self._timings is not None:
            self._timings.save({name: trained.timing.as_dict() for name, trained in data.items()})

    def _save_path_str(self) -> str:
        return get_filepath_str(self._get_save_path(), self._protocol)

    def _read_timings(self) -> dict[str, dict[str, float]]:
        """The training times saved beside the models (none if the file is missing or unreadable)."""
        if self._timings is None or not self._timings.exists():
            return {}
        try:
            return self._timings.load()
        except DataValidationError:
            return {}

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "protocol": self._protocol,
            "timings_filepath": self._timings_filepath,
        }


class FilesDataset(AbstractDataset[Mapping[str, bytes], dict[str, bytes]]):
    """A local folder of binary files by relative path (``rnn/00.mid``): what a generator wrote.

    Saving replaces the whole folder at once: the files are written into a hidden sibling
    folder, which is then renamed over the old one, so the folder is either the old set or the
    complete new one (a file of an earlier run never lingers beside the new ones).
    """

    def __init__(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset of folder ``path``; ``metadata`` is kept for Kedro-Viz and ignored otherwise."""
        self._path = Path(path)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def load(self) -> dict[str, bytes]:
        """Every file under the folder by its path relative to it (``/``-separated), in sorted order."""
        if not self._path.is_dir():
            raise DataValidationError(f"{_shown(LOCAL, PurePosixPath(self._path))} is not a folder of files")
        return {
            path.relative_to(self._path).as_posix(): path.read_bytes()
            for path in sorted(self._path.rglob("*"))
            if path.is_file()
        }

    def save(self, data: Mapping[str, bytes]) -> None:
        """Write ``data`` (relative path -> bytes) as the folder's only files."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(f".{self._path.name}.partial-{os.getpid()}")
        old = self._path.with_name(f".{self._path.name}.old-{os.getpid()}")
        try:
            for name, content in data.items():
                target = partial / name
                if not target.resolve().is_relative_to(partial.resolve()):
                    raise DatasetError(f"{name!r} leaves the folder {self._path}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            partial.mkdir(exist_ok=True)
            if self._path.exists():
                os.replace(self._path, old)
            os.replace(partial, self._path)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
            shutil.rmtree(old, ignore_errors=True)

    def _exists(self) -> bool:
        return self._path.is_dir()
