"""Reading a project's MLflow store (``mlflow.db``) in tests: runs, their statuses and metrics."""

import sqlite3
from pathlib import Path

MACHINE_METRICS = frozenset({"train_seconds", "cpu_seconds"})
"""Child-run metrics that measure the machine, not the training."""


def runs(project: Path) -> list[tuple[str, str, str | None]]:
    """Every MLflow run of the project's store as ``(run id, status, parent run id)``, oldest first."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        return connection.execute(
            "SELECT runs.run_uuid, runs.status, tags.value FROM runs LEFT JOIN tags "
            "ON tags.run_uuid = runs.run_uuid AND tags.key = 'mlflow.parentRunId' ORDER BY runs.start_time"
        ).fetchall()


def child_metrics(project: Path) -> dict[str, dict[str, float]]:
    """Each child run's latest metrics by run name, without the machine's timings."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        rows = connection.execute(
            "SELECT runs.name, latest_metrics.key, latest_metrics.value FROM latest_metrics "
            "JOIN runs ON runs.run_uuid = latest_metrics.run_uuid JOIN tags ON tags.run_uuid = runs.run_uuid "
            "WHERE tags.key = 'mlflow.parentRunId'"
        ).fetchall()
    found: dict[str, dict[str, float]] = {}
    for name, key, value in rows:
        if key not in MACHINE_METRICS:
            found.setdefault(name, {})[key] = value
    return found
