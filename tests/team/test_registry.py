"""The registry and a served champion on the team's authenticated MLflow server.

alice (EDIT on the experiment) runs the mlp pipeline with ``--env team``: its champion is
registered on the server under a name of this test's own, and ``mlflow models serve`` with
her login answers as the model loaded in process. bob, who may only read alice's registered
model, is refused in one line before his run trains anything.
"""

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import mlflow
import numpy as np
import pytest
import requests
from mlflow.tracking import MlflowClient
from tests.helpers import project_env, run_command
from tests.team.servers import (
    Team,
    as_user,
    team_project,
)
from tests.test_serving import serving
from tests.tracking import tracking_at

from dlpipeline.registry import CHAMPION_ALIAS, EX_CONFIG


def kedro_run_team(project: Path, environment: dict[str, str], registry_name: str) -> CompletedProcess:
    """``kedro run --env team --pipelines mlp`` as a person would, registering as ``registry_name``."""
    return run_command(
        *[sys.executable, "-m", "kedro", "run", "--env", "team", "--pipelines", "mlp"],
        *["--params", f"mlp.registry.name={registry_name}"],
        cwd=project,
        env={**project_env(project), **environment},
    )


@pytest.fixture(scope="module")
def registry_name() -> str:
    """A registered model name no other test on the shared server uses."""
    return f"dlpipeline-mlp-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def alices_run(team: Team, registry_name: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """alice's smoke mlp run on the server, registering its champion as ``registry_name``."""
    project = team_project(tmp_path_factory.mktemp("alice_registry") / "project")
    result = kedro_run_team(project, team.environment("alice"), registry_name)
    assert result.returncode == 0, result.stderr[-4000:]
    return project


@pytest.fixture(scope="module")
def alices_champion(team: Team, alices_run: Path, registry_name: str) -> mlflow.pyfunc.PyFuncModel:
    """The champion loaded in this process with alice's login."""
    del alices_run
    with pytest.MonkeyPatch.context() as monkeypatch:
        as_user(monkeypatch, team.users["alice"])
        with tracking_at(team.uri):  # the registry follows it
            client = MlflowClient(team.uri, registry_uri=team.uri)
            version = client.get_model_version_by_alias(registry_name, CHAMPION_ALIAS)
            assert version.run_id
            return mlflow.pyfunc.load_model(f"models:/{registry_name}@{CHAMPION_ALIAS}")


@pytest.fixture(scope="module")
def served(team: Team, alices_run: Path, registry_name: str, tmp_path_factory) -> Iterator[str]:
    """``mlflow models serve`` of the champion, reading the server with alice's login."""
    folder = tmp_path_factory.mktemp("serve_team")
    env = {**project_env(alices_run), "TMPDIR": str(folder), **team.environment("alice")}
    with serving(f"models:/{registry_name}@{CHAMPION_ALIAS}", folder, env) as url:
        yield url


def test_the_champion_served_from_the_team_server_answers_as_in_process(served, alices_champion):
    example = alices_champion.input_example
    response = requests.post(f"{served}/invocations", json={"inputs": example.tolist()}, timeout=60)
    assert response.status_code == 200, response.text
    np.testing.assert_allclose(response.json()["predictions"], alices_champion.predict(example), rtol=1e-6)
    assert requests.post(f"{served}/invocations", json={"inputs": [[1.0]]}, timeout=60).status_code == 400


def test_a_user_who_may_not_write_the_registered_model_is_refused_before_training(
    team: Team, alices_run: Path, registry_name: str, tmp_path: Path
):
    del alices_run
    project = team_project(tmp_path / "project")
    result = kedro_run_team(project, team.environment("bob"), registry_name)
    assert result.returncode == EX_CONFIG, result.stderr[-3000:]
    (line,) = [line for line in result.stderr.splitlines() if registry_name in line]
    assert "may not write registered model" in line and "Nothing was run" in line
    assert not (project / "data/06_models/mlp").exists()
