"""Permissions hold on the server: a reader sees the team's runs but cannot log into the experiment."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from tests.team.servers import EXPERIMENT, Team, as_user

from dlpipeline.team import NotAllowedError, NotAuthenticatedError, check_tracking_server

DENIED = r"PERMISSION_DENIED|403|Permission denied"


@pytest.fixture(scope="module")
def alices_run(team: Team) -> str:
    """A finished run that alice logged (a writer may)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        as_user(monkeypatch, team.users["alice"])
        client = MlflowClient(team.uri)
        run = client.create_run(team.experiment_id, run_name="alice-probe")
        client.log_metric(run.info.run_id, "accuracy", 0.9)
        client.set_terminated(run.info.run_id)
    return run.info.run_id


def test_reader_sees_runs(team: Team, alices_run: str, monkeypatch):
    as_user(monkeypatch, team.users["carol"])
    client = MlflowClient(team.uri)
    runs = client.search_runs([team.experiment_id], max_results=1000)
    assert alices_run in {run.info.run_id for run in runs}
    assert client.get_run(alices_run).data.metrics["accuracy"] == 0.9


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda client, team, run_id: client.create_run(team.experiment_id), id="create run"),
        pytest.param(lambda client, team, run_id: client.log_metric(run_id, "acc", 0.1), id="log metric"),
        pytest.param(lambda client, team, run_id: client.set_tag(run_id, "note", "x"), id="set tag"),
        pytest.param(lambda client, team, run_id: client.delete_run(run_id), id="delete run"),
    ],
)
def test_reader_cannot_write(team: Team, alices_run: str, monkeypatch, write):
    as_user(monkeypatch, team.users["carol"])
    client = MlflowClient(team.uri)
    with pytest.raises(MlflowException, match=DENIED):
        write(client, team, alices_run)
    as_user(monkeypatch, team.server.admin)
    run = MlflowClient(team.uri).get_run(alices_run)
    assert run.data.metrics["accuracy"] == 0.9
    assert "note" not in run.data.tags
    assert run.info.lifecycle_stage == "active"


def test_reader_cannot_upload_artifacts(team: Team, alices_run: str, monkeypatch, tmp_path):
    as_user(monkeypatch, team.users["carol"])
    note = tmp_path / "note.txt"
    note.write_text("not hers")
    with pytest.raises(Exception, match=DENIED):
        MlflowClient(team.uri).log_artifact(alices_run, str(note))
    assert not list(team.server.artifacts.rglob("note.txt"))


def test_check_tells_writers_readers_and_strangers_apart(team: Team):
    assert check_tracking_server(team.uri, team.users["alice"], EXPERIMENT) == team.experiment_id
    with pytest.raises(NotAllowedError, match="user 'carol' has READ"):
        check_tracking_server(team.uri, team.users["carol"], EXPERIMENT)
    with pytest.raises(NotAuthenticatedError):
        check_tracking_server(team.uri, None, EXPERIMENT)


def test_two_first_runs_at_once_create_the_experiment_once(team: Team):
    alice = team.users["alice"]
    with ThreadPoolExecutor(2) as pool:
        ids = list(pool.map(lambda _: check_tracking_server(team.uri, alice, "dlpipeline-race"), range(2)))
    assert ids[0] == ids[1]
