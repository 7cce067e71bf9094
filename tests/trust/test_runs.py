"""Trust, on every pipeline: user mistakes get a short answer, failures and interruptions never
leave runs RUNNING nor damage the last good outputs, runs are reproducible, and concurrent runs
against one MLflow store lose nothing."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node
from tests.helpers import EXPERIMENTS, kedro_cli, project_env, run_session, trust_cases

from dlpipeline.datasets import TableDataset


def smoke_run(pipeline: str) -> tuple[str, ...]:
    """The arguments of ``kedro run`` for one pipeline on the smoke environment."""
    return ("run", "--pipelines", pipeline, "--env", "smoke")


def run_statuses(project: Path) -> list[str]:
    """Status of every MLflow run in the project's store, oldest first (empty without a store)."""
    database = project / "mlflow.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return [status for (status,) in connection.execute("SELECT status FROM runs ORDER BY start_time")]


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


class FailAfterFirstTrainingNode:
    """A hook that makes the run fail right after its first training node finished."""

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        if "train" in node.tags:
            raise RuntimeError(f"simulated failure after {node.name}")


BAD_COMMAND_LINE_PARAMETERS = [
    (pipeline, override, names)
    for pipeline in EXPERIMENTS
    for override, names in trust_cases(pipeline).BAD_PARAMETERS
]
ENDLESS_TRAINING = {pipeline: trust_cases(pipeline).ENDLESS_TRAINING for pipeline in EXPERIMENTS}


def test_every_pipeline_provides_bad_parameters_for_the_trust_tests():
    assert {pipeline for pipeline, _, _ in BAD_COMMAND_LINE_PARAMETERS} == set(EXPERIMENTS)


@pytest.mark.parametrize(("pipeline", "override", "names"), BAD_COMMAND_LINE_PARAMETERS)
def test_a_bad_parameter_on_the_command_line_gets_a_short_answer_and_no_run(
    project_copy: Path, pipeline: str, override: str, names: list[str]
):
    result = kedro_cli(*smoke_run(pipeline), "--params", override, cwd=project_copy)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr
    for name in names:
        assert name in message
    assert len(message.strip().splitlines()) <= 8
    assert "RUNNING" not in run_statuses(project_copy)


def test_a_damaged_input_file_is_named_and_nothing_downstream_is_touched(project_copy: Path):
    run_session(project_copy, pipeline_names=["mlp"])
    reports = report_files(project_copy, "mlp")
    training_points = project_copy / "data/05_model_input/mlp/train.csv"
    training_points.write_bytes(training_points.read_bytes()[:500])
    result = kedro_cli(*smoke_run("mlp"), "--tags", "train", cwd=project_copy)
    assert result.returncode == 65
    assert "Traceback" not in result.stderr
    assert "Invalid data: data/05_model_input/mlp/train.csv cannot be read" in result.stderr
    assert "the last row is cut short" in result.stderr
    assert report_files(project_copy, "mlp") == reports
    assert run_statuses(project_copy)[-1] == "FAILED"


@pytest.mark.parametrize("pipeline", EXPERIMENTS)
def test_a_run_that_fails_midway_keeps_the_last_good_outputs_and_the_next_run_starts_clean(
    project_copy: Path, pipeline: str
):
    run_session(project_copy, pipeline_names=[pipeline])
    good_reports = report_files(project_copy, pipeline)
    good_runs = parent_runs(project_copy)

    with pytest.raises(RuntimeError, match="simulated failure"):
        run_session(project_copy, pipeline_names=[pipeline], hooks=(FailAfterFirstTrainingNode(),))
    assert report_files(project_copy, pipeline) == good_reports
    for path in (project_copy / "data").rglob("*.*"):
        if path.suffix in (".csv", ".parquet"):
            TableDataset(str(path)).load()
    new_runs = [status for run, (status, _) in parent_runs(project_copy).items() if run not in good_runs]
    assert new_runs == ["FAILED"]
    assert "RUNNING" not in run_statuses(project_copy)

    run_session(project_copy, pipeline_names=[pipeline])
    status, children = list(parent_runs(project_copy).values())[-1]
    assert status == "FINISHED"
    assert set(children) == {"FINISHED"}


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
        deadline = time.monotonic() + 120
        training_inputs = project_copy / "data/05_model_input" / pipeline
        while "RUNNING" not in run_statuses(project_copy) or not any(training_inputs.rglob("*.*")):
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the training never started"
            time.sleep(0.5)
        time.sleep(2)  # well into the (endless) training
        process.send_signal(interruption)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            tail = log.read_text()[-3000:]
            pytest.fail(f"the run did not stop within 60 s of {interruption.name}:\n{tail}")
    assert process.returncode == 130
    assert run_statuses(project_copy) == ["KILLED"], log.read_text()[-3000:]
    assert "1 MLflow run(s) marked KILLED" in log.read_text()

    run_session(project_copy, pipeline_names=[pipeline])
    assert run_statuses(project_copy)[0] == "KILLED"
    assert set(run_statuses(project_copy)[1:]) == {"FINISHED"}


@pytest.mark.parametrize("pipeline", EXPERIMENTS)
def test_two_runs_with_the_same_parameters_give_identical_data_and_metrics(project_copy: Path, pipeline: str):
    run_session(project_copy, pipeline_names=[pipeline])
    first_data, first_metrics = data_files(project_copy, pipeline), metrics(project_copy, pipeline)
    assert first_data
    run_session(project_copy, pipeline_names=[pipeline])
    assert data_files(project_copy, pipeline) == first_data
    assert_close(first_metrics, metrics(project_copy, pipeline))


def test_two_concurrent_runs_of_every_pipeline_against_one_store_both_finish_and_are_recorded(
    project_copy: Path,
):
    kedro_cli("run", "--env", "smoke", "--tags", "data", cwd=project_copy)  # the store exists before the race
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
