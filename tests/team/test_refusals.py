"""``kedro run --env team`` refuses up front, in one line: unreachable, not authenticated, not allowed.

Nothing runs, no local ``mlflow.db`` appears, no run (not even a half-made one) reaches the
server, and the message names the server without any password.
"""

from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import CommandAnswer, kedro_in_process
from tests.team.servers import HOST, Team, as_user, free_port, team_project

from dlpipeline.team import EX_NOPERM, EX_UNAVAILABLE

CASES = {
    # case: (user or None, password override, expected words, exit status)
    "no credentials": (None, None, "not authenticated", EX_NOPERM),
    "wrong password": ("alice", "wrong-password-123", "not authenticated", EX_NOPERM),
    "read-only user": ("carol", None, "not allowed", EX_NOPERM),
}


def run_count(team: Team) -> int:
    """All runs in the experiment, read as the admin."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        as_user(monkeypatch, team.server.admin)
        return len(MlflowClient(team.uri).search_runs([team.experiment_id], max_results=1000))


def team_run(project: Path, env: dict[str, str] | None = None) -> CommandAnswer:
    """``kedro run --env team --pipelines mlp`` in ``project``, inside the test process.

    Each refusal is the answer to a command (``kedro_in_process``): a subprocess would spend
    its seconds on imports before it asked the server anything.
    """
    return kedro_in_process("run", "--env", "team", "--pipelines", "mlp", cwd=project, env=env)


def assert_refused_in_one_line(result, words: str, status: int, url: str, secrets: list[str]) -> str:
    """Non-zero status, one ``Error:`` line naming the refusal and the URL, no traceback, no node run."""
    output = result.stdout + result.stderr
    assert result.returncode == status, output[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output[-3000:]
    assert words in errors[0]
    assert url in errors[0]
    assert "Traceback" not in output
    assert "Running node" not in output
    for secret in secrets:
        assert secret not in output
    return errors[0]


@pytest.mark.parametrize("case", CASES)
def test_refused_before_any_node_runs(case: str, team: Team, refused_project, monkeypatch):
    for variable in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    user, password, words, status = CASES[case]
    environment = team.environment(user)
    if password is not None:
        environment["MLFLOW_TRACKING_PASSWORD"] = password
    before = run_count(team)
    result = team_run(refused_project, environment)
    assert_refused_in_one_line(result, words, status, team.uri, [*team.passwords(), password or "-" * 40])
    assert run_count(team) == before
    assert not (refused_project / "mlflow.db").exists()
    assert not (refused_project / "mlruns").exists()


def test_server_down_is_unreachable_and_the_password_in_the_url_is_not_shown(team: Team, refused_project):
    down = f"http://{HOST}:{free_port()}"
    password = team.users["alice"].password
    environment = {**team.environment("alice"), "MLFLOW_TRACKING_URI": f"http://alice:{password}@{down[7:]}"}
    result = team_run(refused_project, environment)
    assert_refused_in_one_line(result, "unreachable", EX_UNAVAILABLE, down, team.passwords())
    assert not (refused_project / "mlflow.db").exists()


def test_no_tracking_uri_is_refused_rather_than_falling_back_to_a_local_store(refused_project, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    result = team_run(refused_project)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "MLFLOW_TRACKING_URI" in errors[0], result.stderr[-2000:]
    assert not (refused_project / "mlflow.db").exists()
    assert not (refused_project / "mlruns").exists()


def test_credentials_in_conf_local_are_used_by_the_team_env(team: Team, tmp_path_factory, monkeypatch):
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    project = team_project(tmp_path_factory.mktemp("conf_local") / "project")
    carol = team.users["carol"]
    (project / "conf/local/credentials.yml").write_text(
        "mlflow_team:\n"
        f"  MLFLOW_TRACKING_URI: {team.uri}\n"
        f"  MLFLOW_TRACKING_USERNAME: {carol.username}\n"
        f"  MLFLOW_TRACKING_PASSWORD: '{carol.password}'\n"
    )
    result = team_run(project)
    # URI, user and password all came from the file: carol got in, and was told she may only read.
    line = assert_refused_in_one_line(result, "not allowed", EX_NOPERM, team.uri, team.passwords())
    assert "user 'carol' has READ" in line
