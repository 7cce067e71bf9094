"""CPU threads for torch on a machine that other work may share.

Two settings decide how torch behaves on a busy CPU:

* **How idle OpenMP threads wait.** By default they spin, so a torch process sharing its
  cores with other busy processes burns its time slices waiting at every operation's
  barrier (up to ~30x slower). ``OMP_WAIT_POLICY=PASSIVE`` makes them sleep instead. The
  OpenMP runtime reads it once, when torch loads, so :func:`set_openmp_environment` must
  run before ``import torch``: importing :mod:`dlpipeline` does it, and every entry point
  (``kedro run``, ``python -m dlpipeline``, the notebook's ``%load_ext kedro.ipython``, the
  benchmark, the tests) imports dlpipeline first.
* **How many threads one model uses.** ``threads: auto`` (:func:`auto_thread_count`) is
  every core this process may use when idle threads sleep: the scheduler gives each
  runnable thread a fair share, and a sleeping waiter hands its share back, so more threads
  win even on a busy machine (a cnn epoch beside two busy processes on 2 cores: 1.36 s on
  2 threads, 2.25 s on 1). When they spin (torch loaded before dlpipeline, or
  ``OMP_WAIT_POLICY=ACTIVE``), it is the cores other work leaves free, at least 1 (the same
  epoch on a busy machine, spinning: 52.8 s on 2 threads, 3.3 s on 1).

This module does not import torch, so it can run before torch loads.
"""

import logging
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

ThreadSetting = int | Literal["auto"] | None
"""A ``TrainConfig.threads`` value: a count, ``auto`` (:func:`auto_thread_count`), or null (torch's own)."""

OPENMP_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}
"""Set before torch loads, unless the user set them: idle OpenMP threads sleep, they do not spin."""

PROC_LOADAVG = Path("/proc/loadavg")
LOAD_SAMPLES, LOAD_SAMPLE_INTERVAL_S = 5, 0.001


@dataclass
class OpenMPPolicy:
    """What :func:`set_openmp_environment` found when dlpipeline was imported."""

    idle_threads_sleep: bool = False
    """Whether torch's OpenMP runtime started with the passive wait policy."""


POLICY = OpenMPPolicy()


def set_openmp_environment() -> bool:
    """Put :data:`OPENMP_ENVIRONMENT` in ``os.environ`` (the user's own values win).

    Returns whether torch runs with a chosen policy: ``False`` only when this set a value
    after torch had loaded, so its OpenMP runtime keeps the spinning default. Records in
    :data:`POLICY` whether idle threads sleep.
    """
    missing = {name: value for name, value in OPENMP_ENVIRONMENT.items() if name not in os.environ}
    in_time = not missing or "torch" not in sys.modules
    os.environ.update(missing)
    POLICY.idle_threads_sleep = in_time and os.environ["OMP_WAIT_POLICY"].upper() == "PASSIVE"
    return in_time


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def busy_threads_elsewhere() -> float:
    """How many threads other work keeps running on this machine right now.

    On Linux: the median over a few samples of the kernel's count of runnable threads
    (``/proc/loadavg``'s fourth field), less the one thread reading it. Elsewhere: the
    one-minute load average, which lags behind a change by up to a minute.
    """
    try:
        samples = []
        for index in range(LOAD_SAMPLES):
            if index:
                time.sleep(LOAD_SAMPLE_INTERVAL_S)
            running = PROC_LOADAVG.read_text().split()[3].split("/")[0]
            samples.append(int(running) - 1)
        return float(statistics.median(samples))
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def auto_thread_count(
    cores: int | None = None, busy: float | None = None, idle_threads_sleep: bool | None = None
) -> int:
    """``threads: auto``: every core when idle threads sleep, else the cores other work leaves free.

    The free cores are ``cores`` − busy threads elsewhere (rounded to whole threads), at
    least 1. ``cores``, ``busy`` and ``idle_threads_sleep`` default to
    :func:`available_cores`, :func:`busy_threads_elsewhere` and :data:`POLICY`.
    """
    cores = available_cores() if cores is None else cores
    sleeping = POLICY.idle_threads_sleep if idle_threads_sleep is None else idle_threads_sleep
    if sleeping:
        return cores
    busy = busy_threads_elsewhere() if busy is None else busy
    return max(1, min(cores, cores - math.floor(max(0.0, busy) + 0.5)))


def resolve_threads(setting: ThreadSetting) -> int | None:
    """The thread count a ``threads`` setting stands for now (``None``: leave torch's setting)."""
    if setting == "auto":
        count = auto_thread_count()
        logger.debug("threads: auto -> %d", count)
        return count
    return setting
