"""Trust: concurrent runs against one MLflow store lose nothing."""

import subprocess
import sys
from pathlib import Path

from tests.helpers import EXPERIMENTS, project_env, run_session
from tests.trust.runs import parent_runs


def test_two_concurrent_runs_of_every_pipeline_against_one_store_both_finish_and_are_recorded(
    project_copy: Path,
):
    # The store exists before the race, made as any run makes it: by the cheapest (mlp's data, in-process).
    run_session(project_copy, pipeline_names=["mlp"], tags=["data"])
    before = set(parent_runs(project_copy))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "kedro", "run", "--env", "smoke"],
            cwd=project_copy,
            env=project_env(project_copy),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    raced = [run for name, run in parent_runs(project_copy).items() if name not in before]
    assert [status for status, _ in raced] == ["FINISHED", "FINISHED"]
    (_, first_children), (_, second_children) = raced
    assert len(first_children) == len(second_children) > len(EXPERIMENTS)
    assert set(first_children + second_children) == {"FINISHED"}
