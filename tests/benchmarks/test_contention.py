"""The benchmark's busy processes start before the block and are gone after it, however it ends."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
from contention import busy_environment, busy_processes


def is_gone(pid: int) -> bool:
    """Whether no process (not even a zombie awaiting its parent) has this id."""
    return not Path(f"/proc/{pid}").exists() if Path("/proc").exists() else True


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a Linux process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process state from /proc (Linux)")
def test_busy_processes_run_during_the_block_and_are_stopped_after_it():
    with busy_processes(2) as processes:
        pids = [process.pid for process in processes]
        assert len(set(pids)) == 2
        assert all(process.poll() is None for process in processes)
        assert all(os.getpgid(pid) == pid for pid in pids)  # each leads its own group
        started = [cpu_seconds(pid) for pid in pids]
        time.sleep(0.5)
        assert all(cpu_seconds(pid) > before for pid, before in zip(pids, started, strict=True))
    assert all(process.returncode is not None for process in processes)
    assert all(is_gone(pid) for pid in pids)


def test_busy_processes_are_stopped_when_the_block_raises():
    with pytest.raises(RuntimeError, match="the workload failed"), busy_processes(1) as processes:
        raise RuntimeError("the workload failed")
    assert processes[0].returncode is not None


def test_no_busy_processes_for_zero():
    with busy_processes(0) as processes:
        assert processes == []


def test_busy_processes_keep_torch_default_wait_policy(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert "OMP_WAIT_POLICY" not in busy_environment()


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process state from /proc (Linux)")
def test_busy_processes_end_by_themselves_when_the_benchmark_is_killed(tmp_path: Path):
    script = (
        f"import sys; sys.path.insert(0, {str(PROJECT_ROOT / 'benchmarks')!r})\n"
        "from contention import busy_processes\n"
        "with busy_processes(1) as processes:\n"
        "    print(processes[0].pid, flush=True)\n"
        "    sys.stdin.read()\n"
    )
    benchmark = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    busy_pid = int(benchmark.stdout.readline())
    benchmark.kill()  # no chance to stop its busy process itself
    benchmark.wait(timeout=10)
    deadline = time.monotonic() + 20
    while not is_gone(busy_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert is_gone(busy_pid)
    benchmark.stdin.close()
    benchmark.stdout.close()
