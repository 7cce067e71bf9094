"""The longest test files first, so that the xdist workers of ``scripts/test.sh`` finish together.

``--dist loadfile`` hands whole files to the workers in collection order (``scripts/test.sh``
turns off xdist's own reordering, which puts the files with the most tests first: the few
end-to-end files, minutes each, would start last and run on alone). Ordering the files by
their measured seconds, longest first, is the classic longest-processing-time rule: the short
files fill the gaps at the end. The seconds come from ``tests/file_seconds.json``, written by a
full run with ``DLPIPELINE_RECORD_TEST_SECONDS=1``; a file it does not know yet counts as one
minute (new files are usually end-to-end ones), so a stale table only costs balance, never tests.
"""

import json
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

SECONDS_FILE = Path(__file__).with_name("file_seconds.json")
"""Seconds each test file took in the last recorded full run (setup, call and teardown)."""

RECORD_ENV = "DLPIPELINE_RECORD_TEST_SECONDS"
UNKNOWN_FILE_SECONDS = 60.0


def file_of(nodeid: str) -> str:
    """The file part of a test id (``tests/test_dvc.py::test_x[a]`` -> ``tests/test_dvc.py``)."""
    return nodeid.split("::", 1)[0]


def recorded_seconds(path: Path = SECONDS_FILE) -> dict[str, float]:
    """The recorded seconds per test file; empty when nothing was recorded."""
    return json.loads(path.read_text()) if path.exists() else {}


def longest_files_first(items: Sequence[pytest.Item], seconds: Mapping[str, float]) -> list[pytest.Item]:
    """``items`` regrouped by file, the files longest first; tests keep their order within a file."""
    by_file: dict[str, list[pytest.Item]] = defaultdict(list)
    for item in items:
        by_file[file_of(item.nodeid)].append(item)
    ordered = sorted(by_file, key=lambda file: -seconds.get(file, UNKNOWN_FILE_SECONDS))
    return [item for file in ordered for item in by_file[file]]


class FileSeconds:
    """A pytest plugin that orders the files longest first and, when asked, records their seconds."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Reorder the collected tests, longest file first (every worker computes the same order)."""
        items[:] = longest_files_first(items, recorded_seconds())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Add each phase's duration to its file (the controller sees every worker's reports)."""
        self.seconds[file_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the table after a passing run with ``DLPIPELINE_RECORD_TEST_SECONDS=1`` (controller only)."""
        if os.environ.get(RECORD_ENV) != "1" or exitstatus != 0 or os.environ.get("PYTEST_XDIST_WORKER"):
            return
        table = {file: round(seconds, 1) for file, seconds in sorted(self.seconds.items())}
        SECONDS_FILE.write_text(json.dumps(table, indent=1) + "\n")
