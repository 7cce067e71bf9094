"""The Dask benchmark runs the smoke cnn sweep here and on a cluster, and both give the same histories."""

import json
import sys
from pathlib import Path

from tests.helpers import PROJECT_ROOT, run_command


def test_the_dask_benchmark_times_both_sweeps_and_finds_the_same_results(tmp_path: Path, dask_scheduler: str):
    output = tmp_path / "dask_sweep.json"
    result = run_command(
        sys.executable,
        "benchmarks/dask_sweep.py",
        "--smoke",
        "--epochs",  # what is checked holds for any number of epochs: one keeps the test short
        "1",
        "--address",
        dask_scheduler,
        "--output",
        str(output),
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert figures["configurations"] == "9 x 2 seeds"
    assert figures["local_s"] > 0
    assert figures["dask_s"] > 0
    assert figures["largest_history_difference"] <= 1e-6
    assert figures["data_to_each_worker_mb"] > 0
    assert figures["results_back_mb"] > 0
