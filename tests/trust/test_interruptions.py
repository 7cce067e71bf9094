"""Trust, on every pipeline: SIGTERM or Ctrl-C during training marks the run KILLED (never left
RUNNING), and the next run starts clean."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import EXPERIMENTS, project_env, run_session, trust_cases
from tests.trust.runs import parent_runs, run_statuses, smoke_run, training_in_progress

ENDLESS_TRAINING = {pipeline: trust_cases(pipeline).ENDLESS_TRAINING for pipeline in EXPERIMENTS}
"""Per pipeline, a ``--params`` override that keeps its first training node busy (its trust cases)."""


KEDRO_LISTENING_TO_CTRL_C = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from kedro.framework.cli import main; main()"
)
"""``kedro`` as started from a terminal: Ctrl-C raises, even if this test runs in a background job."""


INTERRUPTIONS = [(pipeline, signal.SIGTERM) for pipeline in EXPERIMENTS] + [("mlp", signal.SIGINT)]
"""SIGTERM on every pipeline; Ctrl-C (SIGINT) takes the same path, shown once."""


@pytest.mark.parametrize(("pipeline", "interruption"), INTERRUPTIONS)
def test_sigterm_or_ctrl_c_during_training_marks_the_run_killed_and_the_next_run_starts_clean(
    project_copy: Path, tmp_path: Path, pipeline: str, interruption: signal.Signals
):
    log = tmp_path / "kedro.log"
    endless = ("--params", ENDLESS_TRAINING[pipeline])
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", KEDRO_LISTENING_TO_CTRL_C, *smoke_run(pipeline), *endless],
            cwd=project_copy,
            env=project_env(project_copy),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        with training_in_progress(process, project_copy, pipeline, log):
            process.send_signal(interruption)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                tail = log.read_text()[-3000:]
                pytest.fail(f"the run did not stop within 60 s of {interruption.name}:\n{tail}")
    assert process.returncode == 130
    interrupted = list(parent_runs(project_copy).values())
    assert [status for status, _ in interrupted] == ["KILLED"], log.read_text()[-3000:]
    assert "RUNNING" not in run_statuses(project_copy), "a child run was left RUNNING"
    assert "1 MLflow run(s) marked KILLED" in log.read_text()

    run_session(project_copy, pipeline_names=[pipeline])
    interrupted_run, next_run = parent_runs(project_copy).values()
    assert interrupted_run[0] == "KILLED"
    assert next_run[0] == "FINISHED"
    assert set(next_run[1]) == {"FINISHED"}
