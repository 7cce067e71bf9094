"""``kedro_in_process`` runs ``kedro`` inside the test process and leaves the process as it found it.

The short-answer tests run the project's CLI this way (no interpreter start-up per answer), so
whatever a run changes of the process (working directory, environment, ``sys.argv``,
``sys.path``, signal handlers, logging, MLflow's URIs, experiment and active runs, Kedro's
project globals) must be put back, whether the run is refused up front or fails midway.
"""

import logging
import os
import signal
import sys
from pathlib import Path

import mlflow
from kedro.framework.project import pipelines
from tests.helpers import kedro_in_process
from tests.process_state import ProcessState, process_state_kept
from tests.trust.runs import run_statuses

FIRST_NODE_ONLY = ("--pipelines", "mlp", "--env", "smoke", "--to-nodes", "mlp.generate_points")


def test_every_part_a_command_may_change_is_seen_and_put_back(tmp_path: Path):
    logger = logging.getLogger("dlpipeline.test_in_process")
    with process_state_kept() as before:
        os.chdir(tmp_path)
        os.environ["DLPIPELINE_TEST_IN_PROCESS"] = "1"
        sys.argv.append("--verbose")
        sys.path.insert(0, str(tmp_path))
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(logging.NullHandler())
        mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
        # a filter no earlier test asked for: one that equals the current filter changes nothing
        pipelines.set_requested(["mlp", "a pipeline no test requests"])
        changed = before.differences(ProcessState.now())
    assert set(changed) == {
        "cwd",
        "environ",
        "argv",
        "path",
        "signal_handlers",
        "loggers",
        "tracking_uri",
        "kedro_pipelines",
    }
    assert before.differences(ProcessState.now()) == []


def test_a_mistaken_run_in_process_leaves_the_process_as_it_found_it(project_copy: Path):
    before = ProcessState.now()
    result = kedro_in_process("run", "--pipelines", "mlpp", cwd=project_copy)
    assert result.returncode == 2, result.stderr
    assert "Unknown pipeline 'mlpp'" in result.stderr
    assert before.differences(ProcessState.now()) == []


def test_a_run_in_process_that_fails_midway_leaves_the_process_as_it_found_it(project_copy: Path):
    (project_copy / "data/01_raw/mlp/points.csv").mkdir(
        parents=True
    )  # the first node's output cannot be saved
    before = ProcessState.now()

    result = kedro_in_process("run", *FIRST_NODE_ONLY, cwd=project_copy)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "kedro run failed" in result.stderr
    assert run_statuses(project_copy) == ["FAILED"]
    assert before.differences(ProcessState.now()) == []

    result = kedro_in_process("run", *FIRST_NODE_ONLY, cwd=project_copy, env={"DLPIPELINE_VERBOSE": "1"})
    assert result.returncode == 1
    assert "Traceback (most recent call last)" in result.stderr  # as the interpreter tells what no one caught
    assert run_statuses(project_copy) == ["FAILED", "FAILED"]
    assert before.differences(ProcessState.now()) == []
