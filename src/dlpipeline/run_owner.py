"""Which process owns an MLflow run, and what to do with runs whose process died.

A run killed hard (``kill -9``, the OOM killer, a closed laptop) cannot close its MLflow
run, which would stay ``RUNNING`` forever. Every parent run is therefore tagged with its
process (host, PID and the process's start time, so that a reused PID is not mistaken for
the original), and the next ``kedro run`` on the same store marks the runs of processes
that no longer exist on this machine as ``KILLED``. Runs of live processes, and of other
machines, are left alone.
"""

import os
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient

HOST_TAG = "dlpipeline.host"
PID_TAG = "dlpipeline.pid"
START_TAG = "dlpipeline.process_start"

_STALE_CANDIDATES = f"""
SELECT runs.run_uuid, pid.value, start.value
FROM runs
JOIN experiments ON experiments.experiment_id = runs.experiment_id
JOIN tags AS host ON host.run_uuid = runs.run_uuid AND host.key = '{HOST_TAG}'
JOIN tags AS pid ON pid.run_uuid = runs.run_uuid AND pid.key = '{PID_TAG}'
LEFT JOIN tags AS start ON start.run_uuid = runs.run_uuid AND start.key = '{START_TAG}'
WHERE runs.status = 'RUNNING' AND experiments.name = ? AND host.value = ?
"""
_OPEN_CHILDREN = """
SELECT runs.run_uuid FROM runs
JOIN tags ON tags.run_uuid = runs.run_uuid AND tags.key = 'mlflow.parentRunId'
WHERE runs.status = 'RUNNING' AND tags.value = ?
"""


def host() -> str:
    """The name of this machine, as recorded on the runs it starts."""
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (boot id and clock ticks since boot), or ``None``.

    ``None`` if the process does not exist, or if this system has no ``/proc`` to tell.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may hold spaces, so count from its ")".
    return f"{boot}:{stat.rpartition(')')[2].split()[19]}"


def process_tags() -> dict[str, str]:
    """The tags that identify this process on a run."""
    pid = os.getpid()
    return {HOST_TAG: host(), PID_TAG: str(pid), START_TAG: process_start(pid) or ""}


def is_alive(pid: int, started: str | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    if not started:
        return True  # no start time to compare: a live PID is given the benefit of the doubt
    current = process_start(pid)
    return current is None or current == started


def stale_runs(database: Path, experiment: str) -> tuple[list[str], list[str]]:
    """Runs of ``experiment`` left ``RUNNING`` by dead processes of this machine, and their open children."""
    if not database.is_file() or database.stat().st_size == 0:
        return [], []
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
        try:
            candidates = db.execute(_STALE_CANDIDATES, (experiment, host())).fetchall()
        except sqlite3.OperationalError:  # a store without MLflow's tables yet
            return [], []
        dead = [run for run, pid, started in candidates if pid.isdigit() and not is_alive(int(pid), started)]
        children = [child for run in dead for (child,) in db.execute(_OPEN_CHILDREN, (run,))]
    return dead, children


def mark_stale_runs_killed(database: Path, tracking_uri: str, experiment: str) -> list[str]:
    """Mark the runs of dead processes (and their open child runs) ``KILLED``; returns the parent runs."""
    dead, children = stale_runs(database, experiment)
    if dead:
        client = MlflowClient(tracking_uri=tracking_uri)
        for run in dead + children:
            client.set_terminated(run, RunStatus.to_string(RunStatus.KILLED))
    return dead
