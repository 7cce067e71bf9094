"""The benchmark harness runs on a tiny workload and writes the documented results file."""

import importlib
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import PROJECT_ROOT, run_command

REQUIRED_KEYS = {
    "workload",
    "ours_s",
    "peer",
    "peer_s",
    "ratio",
    "quality_ok",
    "quality",
    "contended",
    "machine",
}


def run_harness(*arguments: str) -> subprocess.CompletedProcess:
    """``python benchmarks/run.py <arguments>`` from the project root, no stdin, output captured."""
    return run_command(sys.executable, "benchmarks/run.py", *arguments, cwd=PROJECT_ROOT, timeout=300)


def smoke_run(workload: str, output: Path, *arguments: str) -> subprocess.CompletedProcess:
    """One tiny repetition of ``workload``, results written to ``output``."""
    return run_harness(
        "--workloads", workload, "--smoke", "--repeats", "1", "--output", str(output), *arguments
    )


def test_the_harness_times_the_mlp_sweep_against_its_peers_and_writes_results(tmp_path: Path):
    output = tmp_path / "results.json"
    result = smoke_run("mlp_sweep", output)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())
    assert [row["peer"] for row in rows] == [
        "sklearn MLPClassifier(solver='lbfgs') loop",
        "sklearn MLPClassifier(solver='adam') loop",
    ]
    for row in rows:
        assert set(row) >= REQUIRED_KEYS
        assert row["ratio"] == pytest.approx(row["ours_s"] / row["peer_s"], rel=0.02)
        assert set(row["quality"]["ours"]) == set(row["quality"]["peer"])
        assert row["gflop"] > 0
        assert row["share_of_peak"] == pytest.approx(row["gflops"] / row["peak_gflops"], rel=0.02)
        assert 0 < row["share_of_peak"] < 1
    assert "mlp_sweep" in result.stdout


def test_the_harness_times_the_cnn_to_a_test_accuracy_against_a_plain_torch_loop(tmp_path: Path):
    output = tmp_path / "results.json"
    result = smoke_run("cnn", output)
    assert result.returncode == 0, result.stderr[-3000:]
    [row] = json.loads(output.read_text())
    assert set(row) >= REQUIRED_KEYS | {"goal_ratio"}
    assert row["workload"] == "cnn"
    assert row["peer"].startswith("plain PyTorch nn.Sequential loop")
    assert row["ratio"] == pytest.approx(row["ours_s"] / row["peer_s"], rel=0.02)
    assert row["goal_ratio"] == 1.0
    assert set(row["quality"]["ours"]) == set(row["quality"]["peer"]) == {"test_accuracy", "epochs"}
    for side in ("ours", "peer"):
        assert 0 <= row["quality"][side]["test_accuracy"] <= 1
        assert row["quality"][side]["epochs"] >= 1
    assert "cnn" in result.stdout


def test_an_unknown_workload_is_refused_with_the_list_of_known_ones(tmp_path: Path):
    result = run_harness("--workloads", "nope", "--output", str(tmp_path / "r.json"))
    assert result.returncode == 2
    assert "unknown workload(s) ['nope']" in result.stderr


def test_the_harness_times_the_lstm_on_the_adding_problem_against_a_plain_lstm_loop(tmp_path: Path):
    output = tmp_path / "results.json"
    result = smoke_run("sequence", output)
    assert result.returncode == 0, result.stderr[-3000:]
    [row] = json.loads(output.read_text())
    assert set(row) >= REQUIRED_KEYS | {"goal_ratio"}
    assert row["workload"] == "sequence"
    assert row["peer"].startswith("plain PyTorch nn.LSTM")
    # Tiny timings: each is rounded to the millisecond, the ratio is taken before rounding.
    rounding = 0.0005 * (1 + row["ratio"]) / row["peer_s"] + 0.0005
    assert row["ratio"] == pytest.approx(row["ours_s"] / row["peer_s"], abs=rounding)
    ours, peer = row["quality"]["ours"], row["quality"]["peer"]
    assert ours["epochs"] == peer["epochs"]  # same data, weights and batches: the same path
    assert ours["test_mse"] == pytest.approx(peer["test_mse"], rel=1e-4)


def test_contended_rows_say_how_many_busy_processes_ran_beside_them_and_where(tmp_path: Path):
    output = tmp_path / "results.json"
    result = smoke_run("mlp_sweep", output, "--contended", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())
    assert [row["contended"] for row in rows] == [1, 1]
    assert all(
        row["machine"]["device"] == "cpu" or row["machine"]["device"].startswith("cuda:") for row in rows
    )
    assert "beside 1 busy processes" in result.stderr


def test_appending_replaces_only_the_rows_of_the_same_workload_and_contention(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))  # as `python benchmarks/run.py` sees it
    kept_rows = importlib.import_module("run").kept_rows

    previous = [
        {"workload": "cnn", "contended": 0, "ours_s": 1.0},
        {"workload": "cnn", "contended": 2, "ours_s": 2.0},
        {"workload": "overhead", "contended": 0, "ours_s": 8.0},
    ]
    new = [{"workload": "cnn", "contended": 2, "ours_s": 1.5}]

    assert kept_rows(previous, new) == [previous[0], previous[2]]


def test_ours_and_the_peer_take_turns_and_swap_who_goes_first_every_round(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    alternating_medians = importlib.import_module("run").alternating_medians
    calls: list[str] = []

    def side(name: str):
        def call() -> str:
            calls.append(name)
            return f"{name} result"

        return call

    _, ours_result, _, peer_result = alternating_medians(side("ours"), side("peer"), repeats=4)

    assert calls == ["ours", "peer", "peer", "ours", "ours", "peer", "peer", "ours"]
    assert (ours_result, peer_result) == ("ours result", "peer result")


def test_in_lock_step_the_peer_runs_one_step_per_call_timed_on_its_own_steps(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    lock_step = importlib.import_module("run").LockStep
    ticks = itertools.count()
    steps_taken: list[int] = []

    def peer_steps():
        for step in range(3):
            steps_taken.append(step)
            yield None
        yield {"epochs": 1}

    peer = lock_step(peer_steps(), clock=lambda: float(next(ticks)))
    peer.advance()
    peer.advance()
    assert steps_taken == [0, 1]
    assert peer.result is None
    assert peer.finish() == {"epochs": 1}
    peer.advance()  # a finished loop takes no more steps and no more time
    assert steps_taken == [0, 1, 2]
    assert peer.seconds == 4.0  # one tick for each of its four runs to a pause or the end


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="the machine's CPU is read from /proc/stat")
def test_the_machine_cpu_counts_a_grandchild_the_command_never_waits_for(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    machine_cpu_seconds = importlib.import_module("run").machine_cpu_seconds
    spin = "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass"
    # The child starts a spinning grandchild and exits at once: only the grandchild burns CPU.
    leave_behind = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {spin!r}])"
    before = machine_cpu_seconds()
    subprocess.run([sys.executable, "-c", leave_behind], check=True)
    deadline = time.monotonic() + 10
    while machine_cpu_seconds() - before < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)

    assert machine_cpu_seconds() - before >= 1.0


def test_a_run_s_cpu_floor_is_its_cpu_shared_out_over_every_core(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    busy_fields = importlib.import_module("run").busy_fields
    monkeypatch.setattr("os.cpu_count", lambda: 2)

    assert busy_fields(300.0, 200.0) == {"cpu_s": 300.0, "cores_busy": 1.5, "cpu_floor_s": 150.0}
    assert busy_fields(None, 200.0) == {"cpu_s": None, "cores_busy": None, "cpu_floor_s": None}
