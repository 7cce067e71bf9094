"""The local MLflow store commits in write-ahead-log mode: no wait for the disk at every write."""

import sqlite3
import subprocess
import sys
from pathlib import Path

from mlflow import MlflowClient

from dlpipeline.sqlite_store import write_ahead_log


def journal_mode(database: Path) -> str:
    """The journal mode stored in ``database`` (as any SQLite client opening it sees it)."""
    with sqlite3.connect(database) as connection:
        return connection.execute("PRAGMA journal_mode").fetchone()[0]


def test_a_store_mlflow_creates_in_this_process_is_in_wal_mode(tmp_path: Path):
    database = tmp_path / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").create_experiment("wal")
    assert journal_mode(database) == "wal"


def test_a_plain_sqlite_database_starts_in_rollback_mode_so_the_check_above_can_fail(tmp_path: Path):
    database = tmp_path / "plain.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    assert journal_mode(database) == "delete"


def test_wal_connections_commit_with_synchronous_normal(tmp_path: Path):
    connection = sqlite3.connect(tmp_path / "store.db")
    assert write_ahead_log(connection) == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    connection.close()


def test_a_database_in_memory_keeps_its_mode_and_nothing_is_raised():
    assert write_ahead_log(sqlite3.connect(":memory:")) == "memory"


def test_a_write_from_a_killed_process_is_still_in_the_store(tmp_path: Path):
    database = tmp_path / "mlflow.db"
    script = (
        "import os, signal, dlpipeline; from mlflow import MlflowClient; "
        f"MlflowClient(tracking_uri='sqlite:///{database}').create_experiment('kept'); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    subprocess.run([sys.executable, "-c", script], check=False, timeout=120)
    names = [experiment.name for experiment in MlflowClient(f"sqlite:///{database}").search_experiments()]
    assert "kept" in names
