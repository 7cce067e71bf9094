"""Two people run ``kedro run --env team`` at once against the team's server: both runs arrive whole.

The server is a real ``mlflow server --app-name basic-auth`` on PostgreSQL with proxied
artifacts; the runs travel over HTTP; everything is read back through MLflow's client.
"""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml
from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from tests.helpers import PROJECT_ROOT
from tests.team.servers import Team, as_user, team_project

PEOPLE = ("alice", "bob")
PNG = b"\x89PNG\r\n\x1a\n"


def kedro_run_team(project: Path, environment: dict[str, str]) -> subprocess.Popen:
    """Start ``kedro run --env team --pipelines mlp`` as a person would, without waiting."""
    return subprocess.Popen(
        [sys.executable, "-m", "kedro", "run", "--env", "team", "--pipelines", "mlp"],
        cwd=project,
        env={**os.environ, **environment},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def expected_children() -> int:
    """Child runs one smoke MLP run logs: every width, in both flavours."""
    parameters = yaml.safe_load((PROJECT_ROOT / "conf/smoke/parameters_mlp.yml").read_text())
    return 2 * len(parameters["mlp"]["sweep"]["hidden_neurons"])


class TeamRuns(NamedTuple):
    """The clones alice and bob ran in, and when their runs started (epoch milliseconds)."""

    projects: dict[str, Path]
    started_ms: int


@pytest.fixture(scope="module")
def team_runs(team: Team, tmp_path_factory: pytest.TempPathFactory) -> TeamRuns:
    """alice and bob, each in their own clone, start ``kedro run --env team`` at the same time."""
    projects = {person: team_project(tmp_path_factory.mktemp(person) / "project") for person in PEOPLE}
    started_ms = time.time_ns() // 1_000_000
    processes = {person: kedro_run_team(projects[person], team.environment(person)) for person in PEOPLE}
    for person, process in processes.items():
        output, _ = process.communicate(timeout=540)
        assert process.returncode == 0, f"{person}'s run failed:\n{output[-4000:]}"
    return TeamRuns(projects, started_ms)


@pytest.fixture(scope="module")
def parent_runs(team: Team, team_runs: TeamRuns) -> list[Run]:
    """This module's parent runs on the server (read as the admin).

    The server is shared by the session's team tests, and the registry's file runs the mlp
    pipeline on it too, before or after this one; only runs started after alice and bob
    started theirs are this module's.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        as_user(monkeypatch, team.server.admin)
        runs = MlflowClient(team.uri).search_runs(
            [team.experiment_id],
            filter_string=f"attributes.start_time >= {team_runs.started_ms}",
            max_results=1000,
        )
    return [run for run in runs if "mlflow.parentRunId" not in run.data.tags]


def children_of(client: MlflowClient, team: Team, parent: Run) -> list[Run]:
    """The child runs logged under ``parent``."""
    return client.search_runs(
        [team.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )


def test_both_concurrent_runs_arrive_complete_with_children_and_artifacts(
    team: Team, parent_runs: list[Run], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    as_user(monkeypatch, team.server.admin)
    client = MlflowClient(team.uri)
    mlp_parents = [run for run in parent_runs if run.info.run_name == "mlp"]
    assert len(mlp_parents) == len(PEOPLE)
    child_run_ids: set[str] = set()
    for parent in mlp_parents:
        assert parent.info.status == "FINISHED"
        assert parent.info.artifact_uri.startswith("mlflow-artifacts:")  # proxied by the server
        parent_artifacts = {item.path for item in client.list_artifacts(parent.info.run_id, "mlp")}
        assert "mlp/boundary_grid.png" in parent_artifacts
        # the sweep's children; the neurons study's (param study) log no boundary
        children = [run for run in children_of(client, team, parent) if "study" not in run.data.params]
        assert len(children) == expected_children()
        child_run_ids |= {child.info.run_id for child in children}
        for child in children:
            assert child.info.status == "FINISHED"
            assert {"test_accuracy", "train_accuracy"} <= child.data.metrics.keys()
            assert "hidden_neurons" in child.data.params
            artifacts = [item.path for item in client.list_artifacts(child.info.run_id)]
            assert artifacts == ["decision_boundary.png"]
        figure = client.download_artifacts(children[0].info.run_id, "decision_boundary.png", str(tmp_path))
        assert Path(figure).read_bytes().startswith(PNG)
    # The files live on the server's side, where --artifacts-destination put them.
    stored = team.server.artifacts.rglob("decision_boundary.png")
    stored_for = {run_id for path in stored for run_id in child_run_ids if run_id in path.parts}
    assert stored_for == child_run_ids


def test_team_runs_leave_no_local_store(team_runs: TeamRuns):
    for project in team_runs.projects.values():
        assert not (project / "mlflow.db").exists()
        assert not (project / "mlruns").exists()


def test_no_password_in_any_run_tag_or_param(team: Team, parent_runs: list[Run], monkeypatch):
    as_user(monkeypatch, team.server.admin)
    client = MlflowClient(team.uri)
    runs = [*parent_runs, *(child for parent in parent_runs for child in children_of(client, team, parent))]
    recorded = "\n".join(
        f"{key}={value}" for run in runs for key, value in {**run.data.tags, **run.data.params}.items()
    )
    for password in team.passwords():
        assert password not in recorded
