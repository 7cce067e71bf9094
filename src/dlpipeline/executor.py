"""Where a sweep's independent trainings run: in this process, on threads, in worker processes, or on Dask.

A sweep describes each configuration as a task and hands :func:`run_tasks` one function that
trains a task on data every task shares. ``kind: local`` calls it in order here; ``kind:
threads`` runs ``workers`` tasks at once on threads of this process (torch releases the
interpreter lock while it computes); ``kind: processes`` runs ``workers`` tasks at once, each
in a worker process (so a task's draws from torch's global random generator stay its own);
``kind: dask`` sends the shared data once to every worker of a Dask distributed cluster,
submits one task per configuration and waits for their results. Results come back to this
process (the driver): only the driver logs to MLflow and writes files, so workers need the
project's code and nothing else. A task that fails, here or on a worker, stops the sweep with
a :class:`TaskFailedError` naming its configuration; the tasks still queued are cancelled,
tasks running on other threads stop at their next epoch (the training loop polls
:func:`stop_requested`), as they do when the run is interrupted, and worker processes are ended.

The scheduler address comes from ``executor.address`` or, when that is null, from the
environment variable :data:`SCHEDULER_VARIABLE`, so a parameters file need not name a host.
"""

import contextvars
import logging
import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

logger = logging.getLogger(__name__)

SCHEDULER_VARIABLE = "DLPIPELINE_DASK_SCHEDULER"
"""Environment variable holding the Dask scheduler address when ``executor.address`` is null."""
CONNECT_TIMEOUT_SECONDS = 30

ExecutorKind = Literal["local", "threads", "processes", "dask"]
Shared = TypeVar("Shared")
Task = TypeVar("Task")
Result = TypeVar("Result")


class ExecutorParams(BaseModel):
    """Where the configurations of a sweep train (``<pipeline>.executor``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ExecutorKind = Field(
        default="local",
        description="local: one after another in this process; threads: `workers` at once on threads "
        "of this process; processes: `workers` at once in worker processes; dask: on a Dask cluster",
    )
    workers: int = Field(default=2, ge=1, le=64, description="threads, processes: tasks trained at once")
    address: str | None = Field(
        default=None,
        min_length=1,
        description=f"dask: scheduler address such as tcp://host:8786; null reads ${SCHEDULER_VARIABLE}",
    )

    def scheduler_address(self) -> str:
        """The Dask scheduler to connect to: ``address``, else the environment's; an error without either."""
        address = self.address or os.environ.get(SCHEDULER_VARIABLE)
        if not address:
            raise ValueError(
                f"executor kind 'dask' needs a scheduler address: set executor.address "
                f"or the environment variable {SCHEDULER_VARIABLE}"
            )
        return address


class IsolatedExecutorParams(ExecutorParams):
    """An executor for sweeps whose training draws from torch's global random generator.

    Dropout masks and sampled noise come from one generator per process: configurations
    training at once on threads would take turns with it in no fixed order, so their results
    would vary from run to run. Only ``local``, ``processes`` and ``dask`` (one task at a time
    per worker process) are accepted.
    """

    @model_validator(mode="after")
    def _one_task_per_process(self) -> "IsolatedExecutorParams":
        if self.kind == "threads":
            raise ValueError(
                "kind 'threads' would let configurations share torch's global random generator "
                "(dropout, sampled noise) in no fixed order: use local, processes or dask"
            )
        return self


IN_THIS_PROCESS = IsolatedExecutorParams()
"""The default: every task in this process, one after another."""


_STOP: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("stop", default=None)
"""The stop signal of the sweep whose task runs on this thread (none outside a threaded sweep)."""


class StopRequestedError(Exception):
    """Raised inside a task when its sweep is being stopped (another task failed, or an interrupt)."""


def stop_requested() -> bool:
    """Whether the threaded sweep running this task is being stopped (always false elsewhere)."""
    stop = _STOP.get()
    return stop is not None and stop.is_set()


class TaskFailedError(RuntimeError):
    """A task of a sweep failed; the message names its configuration and the error it raised."""

    def __init__(self, label: str, where: str, cause: BaseException) -> None:
        super().__init__(f"configuration {label!r} failed {where}: {type(cause).__name__}: {cause}")
        self.label = label


def run_tasks(
    function: Callable[[Shared, Task], Result],
    shared: Shared,
    tasks: Mapping[str, Task],
    executor: ExecutorParams,
    costs: Mapping[str, float] | None = None,
) -> dict[str, Result]:
    """``function(shared, task)`` for every task, by label in the order given, where ``executor`` says.

    ``function`` must be importable by name (a module-level function of this package) and
    its results picklable, so that a Dask worker can run it and send the result back.
    ``costs`` (a relative estimate per label, any unit) starts the costliest tasks first, so that
    on several workers no long task starts last while the others idle; the results still come
    back in the order given, and each is what it would be in any order.
    """
    if costs is not None:
        started_first = longest_first(tasks, costs)
        results = run_tasks(function, shared, started_first, executor)
        return {label: results[label] for label in tasks}
    if executor.kind == "dask":
        return _run_on_dask(function, shared, tasks, executor.scheduler_address())
    if executor.kind == "threads" and executor.workers > 1 and len(tasks) > 1:
        return _run_on_threads(function, shared, tasks, executor.workers)
    if executor.kind == "processes" and executor.workers > 1 and len(tasks) > 1:
        return _run_in_processes(function, shared, tasks, executor.workers)
    results = {}
    for label, task in tasks.items():
        try:
            results[label] = function(shared, task)
        except Exception as cause:
            raise TaskFailedError(label, "in this process", cause) from cause
    return results


def longest_first(tasks: Mapping[str, Task], costs: Mapping[str, float]) -> dict[str, Task]:
    """``tasks`` costliest first (ties, and labels without a cost, keep their order, after the costed)."""
    ordered = sorted(tasks, key=lambda label: -costs.get(label, float("-inf")))  # a stable sort
    return {label: tasks[label] for label in ordered}


def _run_on_threads(
    function: Callable[[Shared, Task], Result], shared: Shared, tasks: Mapping[str, Task], workers: int
) -> dict[str, Result]:
    """Run ``workers`` tasks at a time on threads; the first failure or an interrupt stops the others."""
    stop = threading.Event()

    def run_one(label: str) -> Result:
        _STOP.set(stop)
        try:
            return function(shared, tasks[label])
        except StopRequestedError:
            raise
        except Exception as cause:
            raise TaskFailedError(label, "on a thread", cause) from cause

    with ThreadPoolExecutor(workers, thread_name_prefix="sweep") as pool:
        futures = {label: pool.submit(contextvars.copy_context().run, run_one, label) for label in tasks}
        try:
            done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
            failures = [future.exception() for future in done if future.exception() is not None]
            if failures:  # the first real failure, not a task that stopped because of it
                failed = [error for error in failures if not isinstance(error, StopRequestedError)]
                raise (failed or failures)[0]
            return {label: future.result() for label, future in futures.items()}
        except BaseException:
            stop.set()  # running tasks end at their next epoch, so the pool can close
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _run_in_processes(
    function: Callable[[Shared, Task], Result], shared: Shared, tasks: Mapping[str, Task], workers: int
) -> dict[str, Result]:
    """Run ``workers`` tasks at a time in worker processes; the first failure or an interrupt ends them all.

    Workers fork from multiprocessing's server process, which imports torch and the task's
    module once for the whole run (a plain fork of this process would copy torch's thread pools
    and locks mid-use). The
    shared data travels once to each worker; every task seeds what it draws, so it gives what
    it would give here.
    """
    context = multiprocessing.get_context("forkserver")
    # Read when the server starts (the first sweep of this process): later sweeps' workers fork
    # with torch and that sweep's pipeline imported; any other module a worker imports itself.
    context.set_forkserver_preload(["dlpipeline.training", function.__module__])
    pool = ProcessPoolExecutor(
        min(workers, len(tasks)), mp_context=context, initializer=_hold_shared, initargs=(shared,)
    )
    futures = {label: pool.submit(_call_with_shared, function, task) for label, task in tasks.items()}
    try:
        done, _ = wait(futures.values(), return_when=FIRST_EXCEPTION)
        for label, future in futures.items():  # in the order given: the same label every time
            if future in done and (cause := future.exception()) is not None:
                raise TaskFailedError(label, "in a worker process", cause) from cause
        return {label: future.result() for label, future in futures.items()}
    except BaseException:
        _end_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_WORKER_SHARED: list[object] = []
"""In a worker process: the sweep's shared data, sent once when the worker starts."""


def _hold_shared(shared: object) -> None:
    """Keep the sweep's shared data in this worker process, and show its progress lines on stderr."""
    _WORKER_SHARED[:] = [shared]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [worker] %(message)s")


def _call_with_shared(function: Callable[[Shared, Task], Result], task: Task) -> Result:
    """Run one task in a worker process on the shared data that worker holds."""
    return function(_WORKER_SHARED[0], task)  # type: ignore[arg-type]


def _end_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes, so that tasks still training stop now."""
    # ProcessPoolExecutor has no public way to stop a running task before Python 3.14.
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()


def _run_on_dask(
    function: Callable[[Shared, Task], Result],
    shared: Shared,
    tasks: Mapping[str, Task],
    address: str,
) -> dict[str, Result]:
    """Run every task on the Dask cluster at ``address``; the shared data travels once per worker."""
    from distributed import Client, as_completed  # only a dask sweep needs the cluster client

    run = uuid.uuid4().hex[:8]  # fresh keys: the scheduler must not answer with an earlier sweep's result
    with Client(address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False) as client:
        workers = len(client.scheduler_info(n_workers=-1)["workers"])
        logger.info("Dask: %d tasks on %d workers of %s", len(tasks), workers, address)
        shared_data = client.scatter(shared, broadcast=True, hash=False)
        futures = {
            label: client.submit(function, shared_data, task, key=f"{label}-{run}", pure=False)
            for label, task in tasks.items()
        }
        labels = {future.key: label for label, future in futures.items()}
        try:
            for future in as_completed(futures.values(), loop=client.loop):
                if future.status != "finished":
                    cause = future.exception()
                    raise TaskFailedError(labels[future.key], "on a Dask worker", cause) from cause
            return {label: future.result() for label, future in futures.items()}
        except BaseException:
            # Queued tasks never start; a running one finishes its training and its result is dropped.
            client.cancel(list(futures.values()), force=True)
            raise
