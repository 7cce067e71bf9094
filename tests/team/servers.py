"""Real servers for the team tests, each on a free 127.0.0.1 port, stopped with its whole process group.

- :class:`Postgres`: a throw-away PostgreSQL cluster from the Debian ``postgresql`` package
  (``initdb`` refuses root, so as root it runs as the ``postgres`` user).
- :func:`start_mlflow_server`: ``mlflow server --app-name basic-auth`` on that database, its
  artifacts proxied into a folder, its auth database and config in the test's folder.
- :func:`start_moto_server`: moto's S3 API, for the shared DVC remote.

Under ``CI=true`` a missing piece fails the test (``.ci/run`` installs PostgreSQL); elsewhere
it skips with a one-line reason.
"""

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from tests.helpers import PROJECT_ROOT, copy_project

from dlpipeline.team import Credentials

HOST = "127.0.0.1"
MLFLOW_START_TIMEOUT_S = 180.0


def missing(reason: str) -> None:
    """Fail under CI (the team tests must run there), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop ``process`` and everything it started (it leads its own session)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
        except ProcessLookupError:
            pass
    # Workers may outlive their leader for a moment: make sure the group is gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def start_in_background(
    command: Sequence[str | Path],
    log: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen:
    """Start ``command`` without waiting: no stdin, both output streams into ``log``.

    It leads its own session, so that :func:`stop` ends it with everything it starts.
    """
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            user=user,
            start_new_session=True,
        )


def wait_until(
    ready: Callable[[], bool], process: subprocess.Popen, timeout: float, what: str, log: Path
) -> None:
    """Poll ``ready`` until it is true; fail with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if ready():
            return
        time.sleep(0.25)
    stop(process)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def postgres_bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``postgres``: on PATH, or the Debian package's newest version."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return candidates[-1].parent if candidates else None


@dataclass
class Postgres:
    """A PostgreSQL cluster in a temporary folder; ``url(database)`` is an SQLAlchemy URL for MLflow."""

    port: int
    folder: Path
    process: subprocess.Popen

    @classmethod
    def start(cls) -> "Postgres":
        """initdb + postgres on a free port; raises if PostgreSQL is not installed."""
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            missing("PostgreSQL is not installed (apt-get install -y postgresql)")
        # As root, the cluster belongs to `postgres`, which cannot enter pytest's 0700 tmp folders.
        folder = Path(tempfile.mkdtemp(prefix="dlpipeline-pg-"))
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            account = pwd.getpwnam(user)
            os.chown(folder, account.pw_uid, account.pw_gid)
        data = folder / "data"
        subprocess.run(
            [bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            user=user,
            cwd=folder,
        )
        port = free_port()
        log = folder / "postgres.log"
        process = start_in_background(
            [
                *[bin_dir / "postgres", "-D", data, "-p", str(port), "-k", folder],
                *["-c", f"listen_addresses={HOST}", "-c", "fsync=off"],
            ],
            log,
            cwd=folder,
            user=user,
        )
        server = cls(port, folder, process)
        wait_until(server._accepts, process, 60, "postgres", log)
        return server

    def _accepts(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname="postgres").close()
        except psycopg2.OperationalError:
            return False
        return True

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its ``postgresql+psycopg2://`` URL."""
        import psycopg2

        connection = psycopg2.connect(host=HOST, port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return f"postgresql+psycopg2://postgres@{HOST}:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the server and delete its cluster."""
        stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class MlflowServer:
    """A running ``mlflow server --app-name basic-auth``."""

    uri: str
    admin: Credentials
    artifacts: Path
    process: subprocess.Popen
    log: Path
    startup_s: float
    passwords: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the server and its workers."""
        stop(self.process)


def start_mlflow_server(backend_uri: str, folder: Path) -> MlflowServer:
    """``mlflow server --app-name basic-auth --workers 1`` on ``backend_uri``, artifacts proxied.

    The admin's password is set at first start (MLflow 3.17 ships none) and never written
    to the repository; so are the Flask secret key and the auth database (in ``folder``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    admin = Credentials("admin", "admin-" + secrets.token_urlsafe(16))
    config = folder / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{folder / 'basic_auth.db'}\n"
        f"admin_username = {admin.username}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "auth_cache_ttl_seconds = 60\n"
    )
    port = free_port()
    artifacts = folder / "artifacts"
    environment = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin.password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # as docs/team.md starts it
    }
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        environment.pop(variable, None)
    log = folder / "mlflow-server.log"
    started = time.monotonic()
    process = start_in_background(
        [
            *[sys.executable, "-m", "mlflow", "server", "--app-name", "basic-auth"],
            *["--backend-store-uri", backend_uri, "--artifacts-destination", str(artifacts)],
            *["--host", HOST, "--port", str(port), "--workers", "1"],
        ],
        log,
        cwd=folder,
        env=environment,
    )
    uri = f"http://{HOST}:{port}"
    wait_until(lambda: _answers(f"{uri}/health"), process, MLFLOW_START_TIMEOUT_S, "mlflow server", log)
    server = MlflowServer(uri, admin, artifacts, process, log, time.monotonic() - started)
    server.passwords.append(admin.password)
    return server


def start_moto_server(folder: Path) -> tuple[str, subprocess.Popen]:
    """moto's S3 API on a free port; returns its endpoint URL and process."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "moto.log"
    process = start_in_background([sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], log)
    endpoint = f"http://{HOST}:{port}"
    wait_until(lambda: _answers(endpoint), process, 60, "moto server", log)
    return endpoint, process


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


EXPERIMENT = "dlpipeline"
WRITERS = ("alice", "bob")
READERS = ("carol",)


@dataclass
class Team:
    """The running server, the experiment's id and every user's credentials."""

    server: MlflowServer
    experiment_id: str
    users: dict[str, Credentials]

    @property
    def uri(self) -> str:
        """The server's tracking URI."""
        return self.server.uri

    def passwords(self) -> list[str]:
        """Every password in play, the admin's included (none may leak anywhere)."""
        return [self.server.admin.password, *(user.password for user in self.users.values())]

    def environment(self, user: str | None) -> dict[str, str]:
        """What a person exports before ``kedro run --env team``."""
        environment = {"MLFLOW_TRACKING_URI": self.uri}
        if user is not None:
            credentials = self.users[user]
            environment["MLFLOW_TRACKING_USERNAME"] = credentials.username
            environment["MLFLOW_TRACKING_PASSWORD"] = credentials.password
        return environment


def as_user(monkeypatch: pytest.MonkeyPatch, credentials: Credentials) -> None:
    """Make this process's MLflow client send ``credentials``."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", credentials.username)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", credentials.password)


def team_project(destination: Path) -> Path:
    """A person's clone of the project whose ``team`` environment runs on the smoke sizes."""
    copy = copy_project(destination)
    for parameters in (PROJECT_ROOT / "conf/smoke").glob("parameters_*.yml"):
        shutil.copy(parameters, copy / "conf/team" / parameters.name)
    return copy
