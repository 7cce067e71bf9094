"""Trust, on every pipeline: SIGTERM or Ctrl-C during training marks the run KILLED (never left
RUNNING), and the next run starts clean.

The runs are each pipeline's troubled runs (``tests/trust/mishaps.py``, shared with
``test_failures.py``): the interrupted runs come after a good and a failed run, and before
the next run.
"""

from collections.abc import Callable

import pytest
from tests.helpers import EXPERIMENTS
from tests.trust.mishaps import INTERRUPTIONS, STOP_SECONDS, Mishaps

CASES = [
    (pipeline, interruption.name)
    for pipeline in reversed(EXPERIMENTS)
    for interruption in INTERRUPTIONS[pipeline]
]
"""Every pipeline and signal, the pipelines in the reverse of ``test_failures.py``'s order: on two
xdist workers, each file's first tests run a different pipeline's sequence, and later ones read it."""


@pytest.mark.parametrize(("pipeline", "interruption"), CASES)
def test_sigterm_or_ctrl_c_during_training_marks_the_run_killed_and_the_next_run_starts_clean(
    mishaps: Callable[[str], Mishaps], pipeline: str, interruption: str
):
    runs = mishaps(pipeline)
    interrupted = runs.interruptions[interruption]
    tail = interrupted.log[-3000:]
    assert interrupted.stopped, f"the run did not stop within {STOP_SECONDS} s of {interruption}:\n{tail}"
    assert interrupted.returncode == 130
    killed = interrupted.new_parent_runs()
    assert [status for status, _ in killed.values()] == ["KILLED"], tail
    assert "RUNNING" not in interrupted.statuses, "a child run was left RUNNING"
    assert "1 MLflow run(s) marked KILLED" in interrupted.log

    before_next = list(runs.interruptions.values())[-1].parent_runs
    (next_run,) = [state for run, state in runs.next.parent_runs.items() if run not in before_next]
    (interrupted_run,) = killed
    assert runs.next.parent_runs[interrupted_run][0] == "KILLED"
    assert next_run[0] == "FINISHED"
    assert set(next_run[1]) == {"FINISHED"}
