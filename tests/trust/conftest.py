"""Fixtures of the trust tests: the troubled runs of each pipeline, once per test session."""

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.shared_runs import built_once, session_folder
from tests.trust.mishaps import Mishaps, read_mishaps, record_mishaps


@pytest.fixture(scope="session")
def mishaps(
    smoke_run: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Mishaps]:
    """``mishaps(pipeline)``: the pipeline's troubled runs (``tests/trust/mishaps.py``).

    Each sequence runs once per test session, in a writable copy of the pipeline's shared smoke
    run, shared like ``smoke_run`` by every xdist worker (the first to ask runs it, under a lock).
    """
    read: dict[str, Mishaps] = {}

    def of(pipeline: str) -> Mishaps:
        if pipeline not in read:
            shared = smoke_run(pipeline)  # before the sequence's lock: a worker holds one lock at a time
            folder = session_folder(tmp_path_factory) / f"mishaps_{pipeline}"
            built = built_once(folder, lambda into: record_mishaps(shared, into, pipeline))
            read[pipeline] = read_mishaps(built)
        return read[pipeline]

    return of
