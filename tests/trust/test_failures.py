"""Trust, on every pipeline: a run that fails midway never leaves runs RUNNING nor damages the
last good outputs, the next run starts clean, and runs with the same parameters are reproducible.

The runs are each pipeline's troubled runs (``tests/trust/mishaps.py``, shared with
``test_interruptions.py``): the good run is the shared smoke run, copied; the failing run comes
next, then the interrupted runs, then the next run.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.helpers import EXPERIMENTS
from tests.shared_runs import STORE, read_only, stored_paths_under
from tests.trust.mishaps import Mishaps
from tests.trust.runs import assert_close, data_files


@pytest.mark.parametrize("pipeline", EXPERIMENTS)
def test_a_run_that_fails_midway_keeps_the_last_good_outputs_and_the_next_run_starts_clean(
    mishaps: Callable[[str], Mishaps], pipeline: str
):
    runs = mishaps(pipeline)
    good, failed = runs.good, runs.failed
    assert failed.reports == good.reports
    assert failed.unreadable_tables == []
    new_runs = [status for run, (status, _) in failed.parent_runs.items() if run not in good.parent_runs]
    assert new_runs == ["FAILED"]
    assert "RUNNING" not in failed.statuses

    status, children = list(runs.next.parent_runs.values())[-1]
    assert status == "FINISHED"
    assert set(children) == {"FINISHED"}


@pytest.mark.parametrize("pipeline", EXPERIMENTS)
def test_two_runs_with_the_same_parameters_give_identical_data_and_metrics(
    mishaps: Callable[[str], Mishaps], pipeline: str
):
    # The good run and the next one: the failed and interrupted runs between them change nothing they write.
    first, second = mishaps(pipeline).good, mishaps(pipeline).next
    assert first.data
    assert second.data == first.data
    assert_close(first.metrics, second.metrics)


@pytest.mark.parametrize("pipeline", EXPERIMENTS)
def test_runs_in_a_copy_of_a_shared_smoke_run_write_into_the_copy_and_leave_the_shared_run_as_it_was(
    mishaps: Callable[[str], Mishaps], smoke_run: Callable[[str], Path], pipeline: str
):
    runs, shared = mishaps(pipeline), smoke_run(pipeline).resolve()
    copy = runs.project.resolve()
    assert stored_paths_under(copy / STORE, shared) == []
    with read_only(copy / STORE) as store:
        (artifact_uris,) = zip(*store.execute("SELECT artifact_uri FROM runs"), strict=True)
    assert all(uri.startswith(f"{copy}/mlruns/") for uri in artifact_uris)
    with read_only(shared / STORE) as store:
        assert [status for (status,) in store.execute("SELECT status FROM runs ORDER BY start_time")] == (
            runs.good.statuses
        )
    assert data_files(shared, pipeline) == runs.good.data
