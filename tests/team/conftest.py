"""One PostgreSQL and one authenticated MLflow server for the whole session, and the team's users.

Users (created through MLflow's API by the admin, passwords of 12+ characters):
``alice`` and ``bob`` may log runs (EDIT on the experiment), ``carol`` may only read it.
"""

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow.server.auth.client import AuthServiceClient
from mlflow.tracking import MlflowClient
from tests.team.servers import (
    EXPERIMENT,
    READERS,
    WRITERS,
    MlflowServer,
    Postgres,
    Team,
    as_user,
    start_mlflow_server,
    team_project,
)

from dlpipeline.team import Credentials


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster on a free port, for the session."""
    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """``mlflow server --app-name basic-auth`` on PostgreSQL, artifacts proxied, for the session."""
    server = start_mlflow_server(postgres.create_database("mlflow"), tmp_path_factory.mktemp("mlflow_server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def team(mlflow_server: MlflowServer) -> Team:
    """The admin creates the experiment and one user per person, and grants their permissions."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        as_user(monkeypatch, mlflow_server.admin)
        experiment_id = MlflowClient(mlflow_server.uri).create_experiment(EXPERIMENT)
        admin = AuthServiceClient(mlflow_server.uri)
        users = {}
        for name in (*WRITERS, *READERS):
            users[name] = Credentials(name, f"{name}-{secrets.token_urlsafe(12)}")
            admin.create_user(name, users[name].password)
            permission = "EDIT" if name in WRITERS else "READ"
            admin.grant_user_permission(name, "experiment", experiment_id, permission)
    return Team(mlflow_server, experiment_id, users)


@pytest.fixture(scope="session")
def refused_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone for the runs that must be refused (nothing may appear in it)."""
    return team_project(tmp_path_factory.mktemp("refused") / "project")
