"""Expensive set-up done once per test session, however many xdist workers share it.

``scripts/test.sh`` spreads the tests over worker processes; a session-scoped fixture would
otherwise run once in each of them. A worker that needs a shared result takes a lock on its
folder; the first one builds it and leaves a marker, the others find the marker and reuse it.
"""

import contextlib
import fcntl
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BUILT = ".built"
"""Marker left in a shared folder once what it holds is complete."""

STORE = "mlflow.db"
"""The project's MLflow store (SQLite, in WAL mode while a process holds it open)."""

STORE_PATHS = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
)
"""Where an MLflow store records absolute paths of artifacts (under the project's ``mlruns/``)."""


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder of this test session that every xdist worker of the session sees.

    Each worker's base temporary folder lies in one folder of the session (``pytest-N``); a run
    without workers has only its own.
    """
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created if missing) across processes."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(folder: Path, build: Callable[[Path], None]) -> Path:
    """``folder`` after ``build(folder)`` ran in it once for the whole session.

    A build that failed part-way leaves no marker: the next worker to ask starts again afresh.
    """
    with exclusive_lock(folder.with_name(folder.name + ".lock")):
        if not (folder / BUILT).exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            build(folder)
            (folder / BUILT).touch()
    return folder


@contextlib.contextmanager
def read_only(store: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to the SQLite file ``store``, closed on exit.

    Closing a writable connection may checkpoint a store in WAL mode: a write into a shared
    folder that must stay as it is.
    """
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as connection:
        yield connection


def copy_store(source: Path, target: Path) -> None:
    """Copy the SQLite store ``source`` to ``target`` with SQLite's own backup.

    A store in WAL mode may hold committed writes in ``mlflow.db-wal`` that a file copy would
    miss or tear.
    """
    with read_only(source) as reader, contextlib.closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)


def move_artifact_paths(store: Path, old: Path, new: Path) -> None:
    """Point every artifact path that ``store`` records under folder ``old`` to the same place under ``new``.

    Without it, runs of the copied project would log their artifacts into ``old``.
    """
    with contextlib.closing(sqlite3.connect(store)) as connection, connection:
        for table, column in STORE_PATHS:
            connection.execute(
                f"UPDATE {table} SET {column} = replace({column}, ?, ?) WHERE {column} LIKE ? || '%'",
                (f"{old}/", f"{new}/", f"{old}/"),
            )


def stored_paths_under(store: Path, folder: Path) -> list[str]:
    """Every artifact path ``store`` records inside ``folder``."""
    with read_only(store) as connection:
        return [
            path
            for table, column in STORE_PATHS
            for (path,) in connection.execute(
                f"SELECT {column} FROM {table} WHERE {column} LIKE ? || '%'", (f"{folder}/",)
            )
        ]


def writable_copy(shared: Path, destination: Path) -> Path:
    """A copy of the shared project ``shared`` (e.g. a ``smoke_run``) at ``destination``, to run in.

    The copy shares no file with ``shared``: its data, reports, ``mlruns/`` artifacts and its own
    store, whose artifact paths (and those the logged models' ``MLmodel`` files name) point into
    the copy. ``dvc.lock`` and the catalog's data paths are relative, so they hold as copied.
    ``shared`` is only read.
    """
    shared = shared.resolve()
    shutil.copytree(shared, destination, ignore=shutil.ignore_patterns(f"{STORE}*", BUILT))
    copy_store(shared / STORE, destination / STORE)
    move_artifact_paths(destination / STORE, shared, destination)
    for description in (destination / "mlruns").rglob("MLmodel"):
        text = description.read_text()
        description.write_text(text.replace(f"{shared}/", f"{destination}/"))
    left = stored_paths_under(destination / STORE, shared)
    assert not left, f"the copy's store still names the shared project: {left[:3]}"
    return destination
