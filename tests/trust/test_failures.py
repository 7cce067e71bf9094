"""Trust, on every pipeline: a run that fails midway never leaves runs RUNNING nor damages the
last good outputs, the next run starts clean, and runs with the same parameters are reproducible."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node
from tests.helpers import EXPERIMENTS, copy_project, run_session
from tests.trust.runs import assert_close, data_files, metrics, parent_runs, report_files, run_statuses

from dlpipeline.datasets import TableDataset


class FailAfterFirstTrainingNode:
    """A hook that makes the run fail right after its first training node finished."""

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        if "train" in node.tags:
            raise RuntimeError(f"simulated failure after {node.name}")


@dataclass(frozen=True)
class Outcome:
    """What one run of a pipeline left in its project copy."""

    data: dict[str, bytes]
    reports: dict[str, tuple[bytes, int]]
    metrics: dict
    parent_runs: dict[str, tuple[str, list[str]]]
    statuses: list[str]
    unreadable_tables: list[str]


def outcome(project: Path, pipeline: str) -> Outcome:
    """The pipeline's data, reports, metrics and MLflow runs in ``project`` now."""
    unreadable = []
    for path in (project / "data").rglob("*.*"):
        if path.suffix in (".csv", ".parquet"):
            try:
                TableDataset(str(path)).load()
            except Exception as error:  # every way a table can fail to read: named, not raised here
                unreadable.append(f"{path}: {error}")
    return Outcome(
        data=data_files(project, pipeline),
        reports=report_files(project, pipeline),
        metrics=metrics(project, pipeline),
        parent_runs=parent_runs(project),
        statuses=run_statuses(project),
        unreadable_tables=unreadable,
    )


@dataclass(frozen=True)
class RunsAroundAFailure:
    """Three runs of one pipeline in one project copy, with the same parameters: a good one, one
    that fails right after its first training node, and the next one."""

    good: Outcome
    failed: Outcome
    next: Outcome


@pytest.fixture(scope="module", params=EXPERIMENTS)
def runs_around_a_failure(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> RunsAroundAFailure:
    """The three runs, once per pipeline, shared by the tests that read them."""
    pipeline = request.param
    project = copy_project(tmp_path_factory.mktemp(f"runs_{pipeline}") / "project")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(project)
        run_session(project, pipeline_names=[pipeline])
        good = outcome(project, pipeline)
        with pytest.raises(RuntimeError, match="simulated failure"):
            run_session(project, pipeline_names=[pipeline], hooks=(FailAfterFirstTrainingNode(),))
        failed = outcome(project, pipeline)
        run_session(project, pipeline_names=[pipeline])
        return RunsAroundAFailure(good, failed, outcome(project, pipeline))


def test_a_run_that_fails_midway_keeps_the_last_good_outputs_and_the_next_run_starts_clean(
    runs_around_a_failure: RunsAroundAFailure,
):
    good, failed = runs_around_a_failure.good, runs_around_a_failure.failed
    assert failed.reports == good.reports
    assert failed.unreadable_tables == []
    new_runs = [status for run, (status, _) in failed.parent_runs.items() if run not in good.parent_runs]
    assert new_runs == ["FAILED"]
    assert "RUNNING" not in failed.statuses

    status, children = list(runs_around_a_failure.next.parent_runs.values())[-1]
    assert status == "FINISHED"
    assert set(children) == {"FINISHED"}


def test_two_runs_with_the_same_parameters_give_identical_data_and_metrics(
    runs_around_a_failure: RunsAroundAFailure,
):
    # The good run and the next one: a failed run between them changes nothing they write.
    first, second = runs_around_a_failure.good, runs_around_a_failure.next
    assert first.data
    assert second.data == first.data
    assert_close(first.metrics, second.metrics)
