"""What the trust tests read from a project copy after a run: its MLflow runs, data and reports."""

import json
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def smoke_run(pipeline: str) -> tuple[str, ...]:
    """The arguments of ``kedro run`` for one pipeline on the smoke environment."""
    return ("run", "--pipelines", pipeline, "--env", "smoke")


def run_statuses(project: Path) -> list[str]:
    """Status of every MLflow run in the project's store, oldest first.

    Empty without a store, and while a starting run has created the file but not its tables yet.
    """
    database = project / "mlflow.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        try:
            return [status for (status,) in connection.execute("SELECT status FROM runs ORDER BY start_time")]
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return []
            raise


def written_since(folder: Path, since: float) -> bool:
    """Whether a file in ``folder`` (at any depth) was written at or after ``since`` (epoch seconds)."""
    for path in folder.rglob("*.*"):
        try:
            if path.stat().st_mtime >= since:
                return True
        except FileNotFoundError:  # a temporary file the run renamed meanwhile
            continue
    return False


@contextmanager
def training_in_progress(
    process: subprocess.Popen, project: Path, pipeline: str, log: Path, since: float = 0.0
) -> Iterator[subprocess.Popen]:
    """Enter once ``process`` (an endless ``kedro run``) is well into training; it never outlives the block.

    Training has begun when the store holds a RUNNING run and the pipeline's model inputs were
    written (at or after ``since``: in a project where an earlier run left them, the time
    ``process`` started); the block starts 2 s later. A process the block did not stop is
    killed on exit.
    """
    try:
        deadline = time.monotonic() + 120
        training_inputs = project / "data/05_model_input" / pipeline
        while "RUNNING" not in run_statuses(project) or not written_since(training_inputs, since):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the training never started"
            time.sleep(0.5)
        time.sleep(2)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


PARENT_TAGS = "SELECT run_uuid, value FROM tags WHERE key = 'mlflow.parentRunId'"


def parent_runs(project: Path) -> dict[str, tuple[str, list[str]]]:
    """Each parent run (oldest first) with its status and the statuses of its child runs."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        statuses = dict(connection.execute("SELECT run_uuid, status FROM runs ORDER BY start_time"))
        parent_of = dict(connection.execute(PARENT_TAGS))
    return {
        run: (status, [statuses[child] for child, parent in parent_of.items() if parent == run])
        for run, status in statuses.items()
        if run not in parent_of
    }


def data_files(project: Path, pipeline: str) -> dict[str, bytes]:
    """Every dataset file the pipeline generated (the DVC-tracked folders), by path."""
    folders = [project / "data/01_raw" / pipeline, project / "data/05_model_input" / pipeline]
    files = [path for folder in folders for path in folder.rglob("*.*")]
    return {str(path.relative_to(project)): path.read_bytes() for path in files}


def report_files(project: Path, pipeline: str) -> dict[str, tuple[bytes, int]]:
    """Every report file of the pipeline with its inode (a rewritten file gets a new one)."""
    folder = project / "data/08_reporting" / pipeline
    files = folder.rglob("*.*")
    return {str(path.relative_to(project)): (path.read_bytes(), path.stat().st_ino) for path in files}


def metrics(project: Path, pipeline: str) -> dict:
    """The pipeline's summary metrics report."""
    return json.loads((project / "data/08_reporting" / pipeline / "metrics.json").read_text())


def assert_close(first: dict | float, second: dict | float, path: str = "") -> None:
    """Equal structure, numbers equal within 1e-6."""
    if isinstance(first, dict):
        assert first.keys() == second.keys(), path
        for key in first:
            assert_close(first[key], second[key], f"{path}/{key}")
    else:
        assert second == pytest.approx(first, abs=1e-6), path
