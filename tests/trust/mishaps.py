"""One sequence of troubled runs per pipeline, shared by the trust tests that read it.

In a writable copy of the pipeline's shared smoke run (the good run): a run that fails right
after its first training node, runs interrupted during training (SIGTERM; on mlp Ctrl-C too)
and the next run, all with the same parameters. ``test_failures.py`` reads the good, failed
and next runs; ``test_interruptions.py`` the interrupted runs and the next one. Each run is
recorded right after it ends, before the next one starts.
"""

import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node
from tests.helpers import EXPERIMENTS, project_env, run_session, trust_cases
from tests.shared_runs import writable_copy
from tests.trust.runs import (
    data_files,
    metrics,
    parent_runs,
    report_files,
    run_statuses,
    smoke_run,
    training_in_progress,
)

from dlpipeline.datasets import TableDataset

INTERRUPTIONS = {pipeline: (signal.SIGTERM,) for pipeline in EXPERIMENTS} | {
    "mlp": (signal.SIGTERM, signal.SIGINT)
}
"""Per pipeline, the signals sent during training: SIGTERM on every pipeline; Ctrl-C (SIGINT)
takes the same path, shown once."""

STOP_SECONDS = 60
"""How long an interrupted run may take to stop."""

KEDRO_LISTENING_TO_CTRL_C = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from kedro.framework.cli import main; main()"
)
"""``kedro`` as started from a terminal: Ctrl-C raises, even if the tests run in a background job."""

RECORD = "mishaps.pickle"
"""The file of a built sequence's folder that holds what its runs left."""


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
class Interruption:
    """An endless ``kedro run`` sent a signal during training, and what it left."""

    signal: str
    stopped: bool
    """Whether it stopped within ``STOP_SECONDS`` of the signal (else it was killed)."""
    returncode: int | None
    parents_before: frozenset[str]
    """The parent runs the store held before it started."""
    parent_runs: dict[str, tuple[str, list[str]]]
    statuses: list[str]
    log: str

    def new_parent_runs(self) -> dict[str, tuple[str, list[str]]]:
        """The parent runs it added (with their and their children's statuses)."""
        return {run: state for run, state in self.parent_runs.items() if run not in self.parents_before}


@dataclass(frozen=True)
class Mishaps:
    """The runs of one pipeline in one project copy, in this order, with the same parameters."""

    project: Path
    """The project copy they ran in."""

    good: Outcome
    """The shared smoke run, as copied."""
    failed: Outcome
    """After a run that failed right after its first training node."""
    interruptions: dict[str, Interruption]
    """After each interrupted run, by signal name, in the order they ran."""
    next: Outcome
    """After the next run."""


def interrupt(project: Path, pipeline: str, interruption: signal.Signals, log: Path) -> Interruption:
    """Start an endless ``kedro run`` of ``pipeline`` in ``project``; send it ``interruption`` in training."""
    before = frozenset(parent_runs(project))
    endless = ("--params", trust_cases(pipeline).ENDLESS_TRAINING)
    started = time.time()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", KEDRO_LISTENING_TO_CTRL_C, *smoke_run(pipeline), *endless],
            cwd=project,
            env=project_env(project),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        with training_in_progress(process, project, pipeline, log, since=started):
            process.send_signal(interruption)
            try:
                process.wait(timeout=STOP_SECONDS)
                stopped = True
            except subprocess.TimeoutExpired:
                stopped = False
    return Interruption(
        signal=interruption.name,
        stopped=stopped,
        returncode=process.returncode if stopped else None,
        parents_before=before,
        parent_runs=parent_runs(project),
        statuses=run_statuses(project),
        log=log.read_text(),
    )


def record_mishaps(shared: Path, folder: Path, pipeline: str) -> None:
    """Run ``pipeline``'s sequence in a copy of its shared smoke run ``shared``; record it in ``folder``."""
    project = writable_copy(shared, folder / "project")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(project)
        good = outcome(project, pipeline)
        with pytest.raises(RuntimeError, match="simulated failure"):
            run_session(project, pipeline_names=[pipeline], hooks=(FailAfterFirstTrainingNode(),))
        failed = outcome(project, pipeline)
        interruptions = {
            interruption.name: interrupt(project, pipeline, interruption, folder / f"{interruption.name}.log")
            for interruption in INTERRUPTIONS[pipeline]
        }
        run_session(project, pipeline_names=[pipeline])
        mishaps = Mishaps(project, good, failed, interruptions, outcome(project, pipeline))
    (folder / RECORD).write_bytes(pickle.dumps(mishaps))


def read_mishaps(folder: Path) -> Mishaps:
    """What ``record_mishaps`` kept in ``folder``."""
    return pickle.loads((folder / RECORD).read_bytes())
