"""Expensive set-up done once per test session, however many xdist workers share it.

``scripts/test.sh`` spreads the tests over worker processes; a session-scoped fixture would
otherwise run once in each of them. A worker that needs a shared result takes a lock on its
folder; the first one builds it and leaves a marker, the others find the marker and reuse it.
"""

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BUILT = ".built"
"""Marker left in a shared folder once what it holds is complete."""


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
