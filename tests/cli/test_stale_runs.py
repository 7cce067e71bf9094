"""A run killed hard (``kill -9``: the OOM killer, a closed laptop) is not RUNNING forever.

Every parent run records its process (host, PID, start time). The next ``kedro run`` on the
same store marks the runs left RUNNING by a process of this machine that no longer exists as
KILLED, and says so in one line; runs of live processes, and of other machines, are left alone.
"""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient
from tests.helpers import kedro_cli
from tests.trust.runs import run_statuses, training_in_progress

from dlpipeline.run_owner import HOST_TAG, PID_TAG, START_TAG, host, mark_stale_runs_killed, process_start


def owner_tags(database: Path) -> dict[str, str]:
    """The host and PID recorded on the store's only run (its process start time must be there too)."""
    with sqlite3.connect(database) as connection:
        tags = dict(connection.execute("SELECT key, value FROM tags WHERE key LIKE 'dlpipeline.%'"))
    assert tags.pop(START_TAG)
    return tags


def test_a_run_killed_hard_is_marked_killed_by_the_next_run(project_copy: Path, tmp_path: Path):
    database = project_copy / "mlflow.db"
    log = tmp_path / "kedro.log"
    endless = ("--params", "mlp.torch.train.epochs=1000000")
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "mlp", "--env", "smoke", *endless],
            cwd=project_copy,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        with training_in_progress(process, project_copy, "mlp", log):
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
    assert run_statuses(project_copy) == ["RUNNING"]
    assert owner_tags(database) == {HOST_TAG: host(), PID_TAG: str(process.pid)}

    result = kedro_cli("run", "--pipelines", "mlp", "--env", "smoke", "--tags", "data", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    notices = [line for line in result.stderr.splitlines() if "KILLED" in line]
    assert len(notices) == 1
    assert "Marked 1 MLflow run(s) KILLED" in notices[0]
    assert "no longer exists" in notices[0]
    assert run_statuses(project_copy) == ["KILLED", "FINISHED"]

    again = kedro_cli("run", "--pipelines", "mlp", "--env", "smoke", "--tags", "data", cwd=project_copy)
    assert "KILLED" not in again.stderr
    assert run_statuses(project_copy) == ["KILLED", "FINISHED", "FINISHED"]


def a_dead_pid() -> int:
    """The PID of a process that has just ended."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_runs_of_dead_processes_on_this_machine_are_marked_killed(tmp_path: Path):
    database = tmp_path / "mlflow.db"
    uri = f"sqlite:///{database}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("dlpipeline")
    me, dead = os.getpid(), a_dead_pid()
    owners = {
        "this live process": {HOST_TAG: host(), PID_TAG: str(me), START_TAG: process_start(me)},
        "a dead process": {HOST_TAG: host(), PID_TAG: str(dead), START_TAG: "a-boot:1234"},
        "a reused PID": {HOST_TAG: host(), PID_TAG: str(me), START_TAG: "another-boot:42"},
        "another machine": {HOST_TAG: f"not-{host()}", PID_TAG: str(dead), START_TAG: "another-boot:42"},
        "a run without owner tags": {},
    }
    runs = {owner: client.create_run(experiment, tags=tags).info.run_id for owner, tags in owners.items()}
    child = client.create_run(experiment, tags={"mlflow.parentRunId": runs["a dead process"]}).info.run_id
    finished = client.create_run(experiment, tags=owners["a dead process"]).info.run_id
    client.set_terminated(finished, "FINISHED")

    killed = mark_stale_runs_killed(database, uri, "dlpipeline")

    assert sorted(killed) == sorted([runs["a dead process"], runs["a reused PID"]])
    status = {owner: client.get_run(run).info.status for owner, run in runs.items()}
    assert status == {
        "this live process": "RUNNING",
        "a dead process": "KILLED",
        "a reused PID": "KILLED",
        "another machine": "RUNNING",
        "a run without owner tags": "RUNNING",
    }
    assert client.get_run(child).info.status == "KILLED"
    assert client.get_run(finished).info.status == "FINISHED"
    assert mark_stale_runs_killed(database, uri, "other-experiment") == []
