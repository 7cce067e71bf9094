"""Every pipeline's sweep fanned out to a two-worker Dask cluster (or run on threads, or in worker
processes) gives the local run's metrics and child runs, and every run finishes."""

from pathlib import Path

import pytest
from distributed import Client
from pydantic import ValidationError
from tests.helpers import run_session
from tests.tracking import child_metrics, runs
from tests.trust.runs import assert_close, metrics

from dlpipeline.executor import SCHEDULER_VARIABLE, ExecutorParams, IsolatedExecutorParams

SWEEPING_PIPELINES = ("cnn", "sequence", "generative")


def tasks_run_by_workers(scheduler: str) -> int:
    """How many tasks the workers of the cluster at ``scheduler`` have run so far."""
    with Client(scheduler, set_as_default=False) as client:
        return sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


def assert_same_results(project: Path, local: Path, pipeline: str) -> None:
    """The same DVC metrics and child-run metrics as the local run, and every run FINISHED."""
    assert_close(metrics(local, pipeline), metrics(project, pipeline))
    local_children, children = child_metrics(local), child_metrics(project)
    assert children.keys() == local_children.keys()
    for name, expected in local_children.items():
        assert children[name] == pytest.approx(expected, abs=1e-6), name
    (parent, status, _), *others = runs(project)
    assert status == "FINISHED"
    assert {(status, parent_id) for _, status, parent_id in others} == {("FINISHED", parent)}


@pytest.mark.parametrize("pipeline", SWEEPING_PIPELINES)
def test_the_sweep_on_two_dask_workers_gives_the_local_metrics_and_child_runs(
    pipeline: str, smoke_run, project_copy: Path, dask_scheduler: str, monkeypatch: pytest.MonkeyPatch
):
    local = smoke_run(pipeline)
    monkeypatch.setenv(SCHEDULER_VARIABLE, dask_scheduler)  # the address comes from the environment
    on_dask = {pipeline: {"executor": {"kind": "dask"}}}
    before = tasks_run_by_workers(dask_scheduler)

    run_session(project_copy, pipeline_names=[pipeline], runtime_params=on_dask)

    # A run that never reached the workers would match the local run too.
    assert tasks_run_by_workers(dask_scheduler) > before
    assert_same_results(project_copy, local, pipeline)


def test_sequence_models_trained_one_by_one_match_those_trained_on_threads(smoke_run, project_copy: Path):
    local = smoke_run("sequence")  # the sequence default: two models at a time on threads
    run_session(
        project_copy,
        pipeline_names=["sequence"],
        runtime_params={"sequence": {"executor": {"kind": "local"}}},
    )
    assert_same_results(project_copy, local, "sequence")


def test_generative_ensembles_trained_in_two_worker_processes_match_those_trained_one_by_one(
    smoke_run, project_copy: Path
):
    local = smoke_run("generative")  # smoke trains one by one; base in two worker processes
    run_session(
        project_copy,
        pipeline_names=["generative"],
        runtime_params={"generative": {"executor": {"kind": "processes", "workers": 2}}},
    )
    assert_same_results(project_copy, local, "generative")


def test_threads_are_refused_where_training_draws_from_the_global_random_generator():
    # cnn and generative declare IsolatedExecutorParams: their trust cases try kind=threads end to end
    assert ExecutorParams(kind="threads").kind == "threads"
    with pytest.raises(ValidationError, match="share torch's global random generator"):
        IsolatedExecutorParams(kind="threads")
