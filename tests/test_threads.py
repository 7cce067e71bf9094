"""Thread settings for a shared CPU: the OpenMP wait policy before torch, and ``threads: auto``."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from tests.helpers import PROJECT_ROOT, run_command
from torch import nn

from dlpipeline import threads
from dlpipeline.training import TrainConfig, fit, torch_threads


@pytest.mark.parametrize(
    ("cores", "busy", "expected"),
    [
        (2, 0.0, 2),  # an idle machine: every core
        (2, 0.4, 2),  # a flicker of other work is not a busy thread
        (2, 1.0, 1),  # one busy process on 2 cores: one thread
        (2, 2.0, 1),  # two other trainings: still one thread, never none
        (8, 3.0, 5),
        (8, 2.5, 5),  # half a thread rounds up to a whole one taken
        (4, 40.0, 1),
    ],
)
def test_with_spinning_threads_auto_takes_the_cores_other_work_leaves_free_and_at_least_one(
    cores, busy, expected
):
    assert threads.auto_thread_count(cores=cores, busy=busy, idle_threads_sleep=False) == expected


@pytest.mark.parametrize("busy", [0.0, 2.0, 40.0])
def test_with_sleeping_threads_auto_takes_every_core_however_busy_the_machine(busy):
    assert threads.auto_thread_count(cores=2, busy=busy, idle_threads_sleep=True) == 2


def test_this_test_session_runs_torch_with_sleeping_idle_threads():
    assert threads.POLICY.idle_threads_sleep == (os.environ["OMP_WAIT_POLICY"].upper() == "PASSIVE")


def test_auto_counts_this_process_cores_and_the_runnable_threads_elsewhere(monkeypatch, tmp_path: Path):
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("3.10 2.00 1.50 4/250 12345\n")  # 4 runnable, one of them the reader
    monkeypatch.setattr(threads, "PROC_LOADAVG", loadavg)
    monkeypatch.setattr(threads, "available_cores", lambda: 8)
    monkeypatch.setattr(threads.POLICY, "idle_threads_sleep", False)
    assert threads.busy_threads_elsewhere() == 3
    assert threads.auto_thread_count() == 5


def test_without_proc_loadavg_auto_reads_the_load_average(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(threads, "PROC_LOADAVG", tmp_path / "absent")
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 0.5, 0.1))
    assert threads.busy_threads_elsewhere() == 1.2


def test_available_cores_follow_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert threads.available_cores() == expected


def test_a_training_with_threads_auto_runs_on_what_auto_resolves_to_and_restores_torch(monkeypatch):
    monkeypatch.setattr(threads, "auto_thread_count", lambda: 1)
    before = torch.get_num_threads()
    seen = []

    def record_threads(model: nn.Module) -> dict[str, float]:
        seen.append(torch.get_num_threads())
        return {}

    features, labels = torch.randn(8, 2), torch.tensor([0, 1] * 4)
    config = TrainConfig(epochs=2, threads="auto")
    fit(
        nn.Linear(2, 2),
        features,
        labels,
        nn.functional.cross_entropy,
        config,
        0,
        evaluate_epoch=record_threads,
    )
    assert seen == [1, 1]
    assert torch.get_num_threads() == before


def test_threads_accept_a_count_auto_or_null_and_nothing_else():
    assert TrainConfig(threads="auto").threads == "auto"
    assert TrainConfig(threads=3).threads == 3
    assert TrainConfig(threads=None).threads is None
    for wrong in (0, "all", -1):
        with pytest.raises(ValidationError):
            TrainConfig(threads=wrong)


def test_torch_threads_leaves_torch_alone_for_null():
    before = torch.get_num_threads()
    with torch_threads(None):
        assert torch.get_num_threads() == before


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh interpreter with the OpenMP variables removed, then ``environment``."""
    env = {name: value for name, value in os.environ.items() if name not in threads.OPENMP_ENVIRONMENT}
    return run_command(sys.executable, "-c", code, cwd=PROJECT_ROOT, env={**env, **environment}, check=True)


def test_importing_dlpipeline_before_torch_makes_idle_threads_sleep():
    code = "import dlpipeline, os, torch; print(os.environ['OMP_WAIT_POLICY'], dlpipeline.threads.POLICY)"
    result = run_python(code)
    assert result.stdout.strip() == "PASSIVE OpenMPPolicy(idle_threads_sleep=True)"
    assert "torch was imported before dlpipeline" not in result.stderr


def test_importing_torch_first_is_reported_unless_the_user_chose_a_policy():
    late = run_python("import torch, dlpipeline; print(dlpipeline.threads.POLICY.idle_threads_sleep)")
    assert "torch was imported before dlpipeline" in late.stderr
    assert late.stdout.strip() == "False"  # so threads: auto leaves the cores busy work takes
    chosen = run_python(
        "import torch, dlpipeline, os; print(os.environ['OMP_WAIT_POLICY'])", OMP_WAIT_POLICY="ACTIVE"
    )
    assert chosen.stdout.strip() == "ACTIVE"
    assert "torch was imported before dlpipeline" not in chosen.stderr
