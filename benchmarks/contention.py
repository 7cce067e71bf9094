"""Busy processes beside a benchmark: other people's torch trainings on the same CPU.

:func:`busy_processes` starts ``count`` processes that multiply matrices with torch in a
loop, on torch's default threads and OpenMP's default (spinning) wait policy, as an
unrelated training would, and stops them (whole process groups) when the block ends.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from dlpipeline.threads import OPENMP_ENVIRONMENT

BUSY_LOOP = (
    "import os, sys, torch\n"
    "parent = int(sys.argv[1])\n"
    "matrix = torch.randn(256, 256)\n"
    "print('ready', flush=True)\n"
    "while os.getppid() == parent:\n"
    "    matrix = torch.tanh(matrix @ matrix)\n"
)
"""One busy process: a small torch training's worth of matrix products, until its parent is gone.

Watching the parent ends it even when the benchmark is killed before it can stop it.
"""
STOP_TIMEOUT_S = 10.0


def busy_environment() -> dict[str, str]:
    """The environment of this process, less the OpenMP settings dlpipeline chose for itself."""
    return {name: value for name, value in os.environ.items() if name not in OPENMP_ENVIRONMENT}


@contextmanager
def busy_processes(count: int) -> Iterator[list[subprocess.Popen]]:
    """Run the block beside ``count`` busy torch processes, started and ready before it begins.

    Each runs in its own session (process group), and every group is stopped when the
    block ends, however it ends.
    """
    processes: list[subprocess.Popen] = []
    try:
        for _ in range(count):
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", BUSY_LOOP, str(os.getpid())],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=busy_environment(),
                    start_new_session=True,
                )
            )
        for process in processes:
            if process.stdout is None or process.stdout.readline().strip() != "ready":
                raise RuntimeError(f"busy process {process.pid} did not start (exit {process.poll()})")
        yield processes
    finally:
        for process in processes:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """Terminate ``process``'s whole group; kill it if it has not gone within the timeout."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            continue
    if process.stdout is not None:
        process.stdout.close()
