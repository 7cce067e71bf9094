"""The local MLflow store (``mlflow.db``) commits without waiting for the disk at every write.

MLflow's SQLite store commits a transaction for every start, parameter batch, tag and logged
model: about fifteen for one child run with its model. In SQLite's default rollback-journal mode
each commit waits for the disk (an ``fsync``, ~10 ms on a virtual disk), which made waiting the
larger part of logging a child run. In write-ahead-log mode with ``synchronous=NORMAL`` (SQLite's
"WAL mode" page) a commit only appends to the log; the log reaches the database file at
checkpoints. A process that is killed loses nothing it committed, and readers no longer block the
writer (two runs against one store wait less on each other); only an operating-system crash or a
power cut may roll back the last commits, never corrupt the file. The mode is stored in the
database file, so any SQLite client reading it later (``mlflow ui``, ``sqlite3``) uses it too.
"""

import logging
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 20_000
"""How long a connection waits for another one's lock (MLflow sets the same in its sessions)."""


def write_ahead_log(connection: sqlite3.Connection) -> str:
    """Put ``connection``'s database in WAL mode with ``synchronous=NORMAL``; returns the journal mode.

    A database SQLite cannot switch (one in memory, or on a file system without shared memory)
    keeps its mode: what it reports is returned, and nothing is raised.
    """
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode == "wal":
            cursor.execute("PRAGMA synchronous = NORMAL")
        return mode
    except sqlite3.OperationalError as error:
        logger.debug("SQLite database kept its journal mode: %s", error)
        return "unchanged"
    finally:
        cursor.close()


def _on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    """SQLAlchemy's ``connect`` event: switch SQLite connections, leave every other database alone."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        write_ahead_log(dbapi_connection)


def commit_without_waiting_for_the_disk() -> None:
    """Make every SQLite database this process opens through SQLAlchemy (MLflow's, Optuna's) use WAL."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
