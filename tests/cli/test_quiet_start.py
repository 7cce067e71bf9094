"""A normal run starts quietly: its first lines are the run and the experiment's progress,
with no logging-config notice and no third-party warnings, and every line fits 80 columns
(in a terminal and in a log file alike)."""

import re
from pathlib import Path

from tests.helpers import kedro_cli

NOISE = [
    "Using 'conf/logging.yml' as logging configuration",  # Kedro
    "Add type hints to the `predict` method",  # MLflow, through kedro-mlflow
    "Registering new custom resolver",  # kedro-mlflow
    "Creating initial MLflow database tables",  # MLflow, on a new store
    "Use the --async flag",  # Kedro's sequential runner
    "Warning",
    "WARNING",
]


def test_a_smoke_run_starts_with_the_run_and_its_progress_in_80_columns(project_copy: Path):
    result = kedro_cli("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy, env={"COLUMNS": "80"})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    lines = [line.rstrip() for line in output.splitlines()]  # Rich pads lines to the width

    assert "MLflow run 'mlp'" in lines[0]
    assert "started" in lines[0]
    assert re.search(r"Completed node: mlp\.\w+$", lines[1])
    assert re.search(r"Completed 1 out of \d+ tasks$", lines[2])
    for noise in NOISE:
        assert noise not in output
    assert max(len(line) for line in lines) <= 80
    # It ends with Kedro's success line, then the link to its runs in the MLflow UI.
    completed = next(i for i, line in enumerate(lines) if "Pipeline execution completed successfully" in line)
    assert "MLflow runs:" in lines[completed + 1]
    link_without_wraps = "".join("".join(lines[completed + 1 :]).split())
    assert "http://127.0.0.1:5000/#/experiments/1/runs?workflowType=machine_learning" in link_without_wraps
