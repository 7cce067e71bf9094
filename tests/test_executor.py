"""The executor seam: a sweep's tasks run here, in worker processes or on a Dask cluster, give their
results in the order given, and a failing task (or a dying worker) stops the sweep with an error naming
its configuration."""

import os

import dask
import pytest
from distributed import LocalCluster

from dlpipeline.executor import SCHEDULER_VARIABLE, ExecutorParams, TaskFailedError, run_tasks


def scaled(factor: int, task: int) -> tuple[int, int]:
    """A task: ``task`` times the shared ``factor``, and the process that computed it."""
    return task * factor, os.getpid()


def refuses_three(factor: int, task: int) -> int:
    """A task that fails for the configuration holding 3."""
    if task == 3:
        raise ValueError("three is not allowed")
    return task * factor


def dies(factor: int, task: int) -> int:
    """A task that ends its worker process, as an out-of-memory kill would."""
    os._exit(1)


TASKS = {"first": 1, "second": 2, "third": 3, "fourth": 4}


def test_local_tasks_run_in_this_process_in_the_order_given():
    results = run_tasks(scaled, 10, TASKS, ExecutorParams())
    assert list(results) == list(TASKS)
    assert {label: value for label, (value, _) in results.items()} == {
        label: 10 * n for label, n in TASKS.items()
    }
    assert {pid for _, pid in results.values()} == {os.getpid()}


def test_a_local_task_that_fails_is_named_with_its_error():
    with pytest.raises(
        TaskFailedError, match="configuration 'third' failed in this process: ValueError: three"
    ):
        run_tasks(refuses_three, 10, TASKS, ExecutorParams())


def test_tasks_in_worker_processes_run_outside_this_process_and_return_in_the_order_given():
    results = run_tasks(scaled, 10, TASKS, ExecutorParams(kind="processes", workers=2))
    assert list(results) == list(TASKS)
    assert {label: value for label, (value, _) in results.items()} == {
        label: 10 * n for label, n in TASKS.items()
    }
    assert os.getpid() not in {pid for _, pid in results.values()}


def test_a_task_that_fails_in_a_worker_process_is_named_with_its_error():
    with pytest.raises(
        TaskFailedError, match="configuration 'third' failed in a worker process: ValueError: three"
    ):
        run_tasks(refuses_three, 10, TASKS, ExecutorParams(kind="processes", workers=2))


def test_a_worker_process_that_dies_fails_the_sweep_instead_of_waiting_for_it():
    with pytest.raises(TaskFailedError, match="'only' failed in a worker process: BrokenProcessPool"):
        run_tasks(dies, 10, {"only": 1, "other": 2}, ExecutorParams(kind="processes", workers=2))


def test_dask_without_an_address_names_the_parameter_and_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv(SCHEDULER_VARIABLE, raising=False)
    with pytest.raises(
        ValueError, match=f"executor.address or the environment variable {SCHEDULER_VARIABLE}"
    ):
        run_tasks(scaled, 10, TASKS, ExecutorParams(kind="dask"))


def test_the_address_parameter_comes_before_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(SCHEDULER_VARIABLE, "tcp://from-the-environment:8786")
    assert ExecutorParams(kind="dask").scheduler_address() == "tcp://from-the-environment:8786"
    given = ExecutorParams(kind="dask", address="tcp://from-the-parameter:8786")
    assert given.scheduler_address() == "tcp://from-the-parameter:8786"


def test_tasks_on_dask_run_on_the_workers_and_return_in_the_order_given(dask_scheduler: str):
    results = run_tasks(scaled, 10, TASKS, ExecutorParams(kind="dask", address=dask_scheduler))
    assert list(results) == list(TASKS)
    assert {label: value for label, (value, _) in results.items()} == {
        label: 10 * n for label, n in TASKS.items()
    }
    assert os.getpid() not in {pid for _, pid in results.values()}


def test_a_task_that_fails_on_a_worker_is_named_with_its_error(dask_scheduler: str):
    executor = ExecutorParams(kind="dask", address=dask_scheduler)
    with pytest.raises(TaskFailedError, match="'third' failed on a Dask worker: ValueError: three"):
        run_tasks(refuses_three, 10, TASKS, executor)


def test_a_worker_that_dies_fails_the_sweep_naming_the_configuration_it_ran():
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
    ):
        executor = ExecutorParams(kind="dask", address=cluster.scheduler_address)
        with pytest.raises(TaskFailedError, match="'only' failed on a Dask worker: KilledWorker"):
            run_tasks(dies, 10, {"only": 1}, executor)


def noted(started: list[int], task: int) -> int:
    """A task that notes when it starts (in the shared list) and returns itself."""
    started.append(task)
    return task


def test_costs_start_the_costliest_task_first_and_the_results_keep_the_order_given():
    started: list[int] = []
    costs = {"first": 1.0, "second": 30.0, "third": 2.0, "fourth": 30.0}
    results = run_tasks(noted, started, TASKS, ExecutorParams(), costs)
    assert started == [2, 4, 3, 1]  # equal costs keep their order
    assert results == TASKS


def test_tasks_on_threads_started_costliest_first_give_what_they_give_in_order():
    in_order = run_tasks(scaled, 10, TASKS, ExecutorParams(kind="threads", workers=2))
    costliest_first = run_tasks(
        scaled, 10, TASKS, ExecutorParams(kind="threads", workers=2), {"fourth": 9.0, "first": 5.0}
    )
    assert list(costliest_first) == list(TASKS)
    assert costliest_first == in_order
