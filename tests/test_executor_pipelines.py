"""Every pipeline's sweep fanned out to a two-worker Dask cluster (or run on threads, or in worker
processes) gives the local run's metrics and child runs, and every run finishes.

The local run is the session's shared smoke run. Where a pipeline's sweeps are one namespace per
task or family (sequence, generative), the other executor runs one of them on the local run's
inputs: every namespace trains through the same executor call, so one shows what all would.
"""

import shutil
from pathlib import Path

import pytest
from distributed import Client
from pydantic import ValidationError
from tests.helpers import run_session
from tests.tracking import child_metrics, runs
from tests.trust.runs import assert_close, metrics

from dlpipeline.executor import SCHEDULER_VARIABLE, ExecutorParams, IsolatedExecutorParams

SWEEPING_PIPELINES = ("cnn", "sequence", "generative")
ONE_SWEEP = {"cnn": None, "sequence": "sequence.digits_rows", "generative": "generative.moons"}
"""Per pipeline, the namespace another executor runs (``None``: the whole pipeline)."""
INPUT_FOLDERS = ("01_raw", "02_intermediate", "03_primary", "04_feature", "05_model_input")
"""The data layers a run reads (its outputs lie in 06_models to 08_reporting)."""


def tasks_run_by_workers(scheduler: str) -> int:
    """How many tasks the workers of the cluster at ``scheduler`` have run so far."""
    with Client(scheduler, set_as_default=False) as client:
        return sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


def run_on(project: Path, local: Path, pipeline: str, executor: dict) -> None:
    """Run ``pipeline``'s sweep (``ONE_SWEEP``) in ``project`` on ``executor``, on the local run's inputs."""
    namespace = ONE_SWEEP[pipeline]
    if namespace is not None:
        for folder in INPUT_FOLDERS:
            if (local / "data" / folder).is_dir():
                shutil.copytree(local / "data" / folder, project / "data" / folder, dirs_exist_ok=True)
    run_session(
        project,
        pipeline_names=[pipeline],
        namespaces=[namespace] if namespace else None,
        runtime_params={pipeline: {"executor": executor}},
    )


def assert_same_results(project: Path, local: Path, pipeline: str) -> None:
    """The same child-run metrics as the local run (and DVC metrics, for a whole run), every run FINISHED."""
    local_children, children = child_metrics(local), child_metrics(project)
    if ONE_SWEEP[pipeline] is None:
        assert_close(metrics(local, pipeline), metrics(project, pipeline))
        assert children.keys() == local_children.keys()
    assert children, "the run logged no child run"
    for name, values in children.items():
        assert name in local_children, f"{name} is no child run of the local run"
        assert values == pytest.approx(local_children[name], abs=1e-6), name
    (parent, status, _), *others = runs(project)
    assert status == "FINISHED"
    assert {(status, parent_id) for _, status, parent_id in others} == {("FINISHED", parent)}


@pytest.mark.parametrize("pipeline", SWEEPING_PIPELINES)
def test_the_sweep_on_two_dask_workers_gives_the_local_metrics_and_child_runs(
    pipeline: str, smoke_run, project_copy: Path, dask_scheduler: str, monkeypatch: pytest.MonkeyPatch
):
    local = smoke_run(pipeline)
    monkeypatch.setenv(SCHEDULER_VARIABLE, dask_scheduler)  # the address comes from the environment
    before = tasks_run_by_workers(dask_scheduler)

    run_on(project_copy, local, pipeline, {"kind": "dask"})

    # A run that never reached the workers would match the local run too.
    assert tasks_run_by_workers(dask_scheduler) > before
    assert_same_results(project_copy, local, pipeline)


def test_sequence_models_trained_one_by_one_match_those_trained_on_threads(smoke_run, project_copy: Path):
    local = smoke_run("sequence")  # the sequence default: two models at a time on threads
    run_on(project_copy, local, "sequence", {"kind": "local"})
    assert_same_results(project_copy, local, "sequence")


@pytest.mark.parametrize("pipeline", ["cnn", "generative"])
def test_ensembles_trained_in_two_worker_processes_match_those_trained_one_by_one(
    pipeline: str, smoke_run, project_copy: Path
):
    local = smoke_run(pipeline)  # smoke trains one by one; base in two worker processes
    run_on(project_copy, local, pipeline, {"kind": "processes", "workers": 2})
    assert_same_results(project_copy, local, pipeline)


def test_threads_are_refused_where_training_draws_from_the_global_random_generator():
    # cnn and generative declare IsolatedExecutorParams: their trust cases try kind=threads end to end
    assert ExecutorParams(kind="threads").kind == "threads"
    with pytest.raises(ValidationError, match="share torch's global random generator"):
        IsolatedExecutorParams(kind="threads")
