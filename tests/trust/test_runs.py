"""Trust: user mistakes get a short answer, failures and interruptions never leave runs RUNNING,
runs are reproducible, and concurrent runs against one MLflow store lose nothing."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import kedro_cli, run_session

SMOKE_RUN = ("run", "--pipelines", "mlp", "--env", "smoke")


def run_statuses(project: Path) -> list[str]:
    """Status of every MLflow run in the project's store (empty if there is no store yet)."""
    database = project / "mlflow.db"
    if not database.exists():
        return []
    with sqlite3.connect(database) as connection:
        return [status for (status,) in connection.execute("SELECT status FROM runs")]


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("mlp.sweep.hidden_neurons=[0]", ["mlp.sweep", "hidden_neurons", "greater than 0"]),
        ("mlp.data.noise=-1", ["mlp.data", "noise", "-1", "greater than or equal to 0"]),
        ("mlp.data.name=swirls", ["mlp.data", "name", "swirls", "'circles'"]),
        ("mlp.torch.train.epochs=many", ["mlp.torch", "epochs", "many", "valid integer"]),
    ],
)
def test_a_bad_parameter_on_the_command_line_gets_a_short_answer_and_no_run(
    project_copy: Path, override, names
):
    result = kedro_cli(*SMOKE_RUN, "--params", override, cwd=project_copy)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr
    for name in names:
        assert name in message
    assert len(message.strip().splitlines()) <= 8
    assert "RUNNING" not in run_statuses(project_copy)


def test_a_node_that_fails_mid_sweep_marks_the_parent_run_failed(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
):
    from dlpipeline.pipelines.mlp import nodes

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure in the middle of the sweep")

    monkeypatch.setattr(nodes, "evaluate_sweep", broken)
    with pytest.raises(RuntimeError, match="simulated failure"):
        run_session(project_copy, pipeline_names=["mlp"])
    assert run_statuses(project_copy) == ["FAILED"]


def test_sigterm_during_training_marks_the_run_killed(project_copy: Path, tmp_path: Path):
    log = tmp_path / "kedro.log"
    training_input = project_copy / "data/05_model_input/mlp/train.csv"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "kedro", *SMOKE_RUN, "--params", "mlp.torch.train.epochs=1000000"],
            cwd=project_copy,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while "RUNNING" not in run_statuses(project_copy) or not training_input.exists():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.5)
        time.sleep(2)  # well into the (endless) training
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 130
    assert run_statuses(project_copy) == ["KILLED"], log.read_text()[-3000:]
    assert "1 MLflow run(s) marked KILLED" in log.read_text()


def test_two_runs_with_the_same_parameters_give_identical_data_and_metrics(project_copy: Path):
    outputs = [
        "data/01_raw/mlp/points.csv",
        "data/05_model_input/mlp/train.csv",
        "data/05_model_input/mlp/test.csv",
    ]
    run_session(project_copy, pipeline_names=["mlp"])
    first_bytes = [(project_copy / name).read_bytes() for name in outputs]
    first_metrics = json.loads((project_copy / "data/08_reporting/mlp/metrics.json").read_text())
    run_session(project_copy, pipeline_names=["mlp"])
    assert [(project_copy / name).read_bytes() for name in outputs] == first_bytes
    second_metrics = json.loads((project_copy / "data/08_reporting/mlp/metrics.json").read_text())
    for flavour, by_neurons in first_metrics.items():
        for neurons, values in by_neurons.items():
            for metric, value in values.items():
                assert second_metrics[flavour][neurons][metric] == pytest.approx(value, abs=1e-6)


def test_two_concurrent_runs_against_one_store_both_finish_and_are_recorded(project_copy: Path):
    kedro_cli(*SMOKE_RUN, "--tags", "data", cwd=project_copy)  # the store exists before the race
    before = len(run_statuses(project_copy))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "kedro", *SMOKE_RUN],
            cwd=project_copy,
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
    statuses = run_statuses(project_copy)[before:]
    children_per_run = 6  # smoke: 3 architectures x 2 flavours
    assert statuses == ["FINISHED"] * (2 * (1 + children_per_run))
