"""The team's MLflow server: credentials, and a check that refuses a run before any node runs.

``kedro run --env team`` sends its runs to the server named by ``MLFLOW_TRACKING_URI``.
Before kedro-mlflow opens a run there, :func:`check_tracking_server` asks the server, with
the user's credentials, whether it answers, who the user is and whether the user may log
runs into the experiment. A refusal is one line naming which (unreachable, not
authenticated, not allowed) and the server's URL without any password; nothing was run,
nothing is written to the server and no local ``mlflow.db`` is created.

Credentials come from the environment (``MLFLOW_TRACKING_USERNAME`` /
``MLFLOW_TRACKING_PASSWORD``, as MLflow reads them) or, when those are unset, from the
git-ignored ``conf/local/credentials.yml``::

    mlflow_team:
      MLFLOW_TRACKING_USERNAME: alice
      MLFLOW_TRACKING_PASSWORD: "..."

:class:`TeamServerError` is a :class:`click.ClickException`: ``kedro run`` prints it as one
``Error: ...`` line and exits with its status; in-process callers catch it like any error.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
import requests
import yaml

USERNAME_VARIABLE = "MLFLOW_TRACKING_USERNAME"
PASSWORD_VARIABLE = "MLFLOW_TRACKING_PASSWORD"
URI_VARIABLE = "MLFLOW_TRACKING_URI"
CREDENTIALS_KEY = "mlflow_team"
LOCAL_CREDENTIALS = Path("local") / "credentials.yml"
WRITE_PERMISSIONS = frozenset({"EDIT", "MANAGE"})
TIMEOUT_S = 10.0

EX_UNAVAILABLE = 69  # sysexits: the service is unavailable
EX_NOPERM = 77  # sysexits: permission denied
EX_CONFIG = 78  # sysexits: configuration error


class TeamServerError(click.ClickException):
    """The team's MLflow server cannot take this run; the message is one line, without secrets."""

    exit_code = EX_CONFIG


class ServerUnreachableError(TeamServerError):
    """Nothing answers at the tracking URI, or not an MLflow server."""

    exit_code = EX_UNAVAILABLE


class NotAuthenticatedError(TeamServerError):
    """The server does not accept these credentials (missing or wrong)."""

    exit_code = EX_NOPERM


class NotAllowedError(TeamServerError):
    """The user is known but may not log runs into the experiment."""

    exit_code = EX_NOPERM


@dataclass(frozen=True)
class Credentials:
    """A user name and password for the server; ``repr`` never shows the password."""

    username: str
    password: str

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


def redact(uri: str) -> str:
    """``uri`` without any user name or password (``http://u:p@host`` -> ``http://host``)."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def is_remote(uri: str | None) -> bool:
    """Whether ``uri`` is a tracking server (http or https), rather than a local store."""
    return bool(uri) and urlsplit(uri).scheme in {"http", "https"}


def local_credentials(conf_source: Path) -> dict[str, str]:
    """The ``mlflow_team`` block of ``conf/local/credentials.yml``, or ``{}`` without one."""
    path = conf_source / LOCAL_CREDENTIALS
    if not path.is_file():
        return {}
    content = yaml.safe_load(path.read_text()) or {}
    block = content.get(CREDENTIALS_KEY) or {}
    if not isinstance(block, Mapping):
        raise TeamServerError(f"{path}: '{CREDENTIALS_KEY}' must map variable names to values")
    return {str(key): str(value) for key, value in block.items() if value is not None}


def export_credentials(conf_source: Path, environ: dict[str, str] | None = None) -> Credentials | None:
    """Put the user's credentials where MLflow reads them; the environment wins over the file.

    Returns them, or ``None`` when neither the environment nor ``conf/local`` has a user name.
    """
    environ = os.environ if environ is None else environ
    for key, value in local_credentials(conf_source).items():
        if key in {USERNAME_VARIABLE, PASSWORD_VARIABLE, URI_VARIABLE}:
            environ.setdefault(key, value)
    username = environ.get(USERNAME_VARIABLE)
    if not username:
        return None
    return Credentials(username, environ.get(PASSWORD_VARIABLE, ""))


def check_tracking_server(
    uri: str, credentials: Credentials | None, experiment: str, timeout: float = TIMEOUT_S
) -> str:
    """Make sure ``uri`` answers, knows the user and lets them log runs into ``experiment``.

    Creates the experiment when it does not exist yet (once, even when two runs start at
    the same time). Returns the experiment's id; raises a :class:`TeamServerError` otherwise.
    A server without authentication is only checked for being there.
    """
    server = _Server(uri, credentials, timeout)
    who = server.current_user()
    experiment_id = server.experiment_id(experiment)
    if who is None or who.get("is_admin"):
        return experiment_id
    username = who["username"]
    permission = server.permission(username, experiment_id)
    if permission not in WRITE_PERMISSIONS:
        raise NotAllowedError(
            f"MLflow server {server.url}: not allowed: user '{username}' has {permission} on "
            f"experiment '{experiment}' and may not log runs into it (an admin grants EDIT). "
            "Nothing was run."
        )
    return experiment_id


class _Server:
    """Plain HTTP calls to the MLflow REST API, without MLflow's retries (a refusal is quick)."""

    def __init__(self, uri: str, credentials: Credentials | None, timeout: float) -> None:
        self.uri = uri.rstrip("/")
        self.url = redact(self.uri)
        self.auth = (credentials.username, credentials.password) if credentials else None
        self.who = f"user '{credentials.username}'" if credentials else "no credentials"
        self.timeout = timeout

    def current_user(self) -> dict[str, Any] | None:
        """The authenticated user (``username``, ``is_admin``), or ``None`` on a server without auth."""
        response = self._call("GET", "/api/2.0/mlflow/users/current")
        if response.status_code == 404:
            return None
        self._raise_for(response)
        return response.json()["user"]

    def experiment_id(self, name: str) -> str:
        """The id of experiment ``name``, created if it does not exist yet."""
        for _ in range(2):
            response = self._call(
                "GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name}
            )
            if response.status_code == 200:
                return response.json()["experiment"]["experiment_id"]
            if _error_code(response) != "RESOURCE_DOES_NOT_EXIST":
                self._raise_for(response, f"may not read experiment '{name}'")
            response = self._call("POST", "/api/2.0/mlflow/experiments/create", json={"name": name})
            if response.status_code == 200:
                return response.json()["experiment_id"]
            if _error_code(response) != "RESOURCE_ALREADY_EXISTS":  # else created meanwhile: read it
                self._raise_for(response, f"may not create experiment '{name}'")
        raise ServerUnreachableError(
            f"MLflow server {self.url}: experiment '{name}' could not be read or created. Nothing was run."
        )

    def permission(self, username: str, experiment_id: str) -> str:
        """The user's effective permission on the experiment (``READ``, ``EDIT``, ``MANAGE``, ...)."""
        response = self._call(
            "GET",
            "/api/3.0/mlflow/users/permissions/get",
            params={"username": username, "resource_type": "experiment", "resource_id": experiment_id},
        )
        self._raise_for(response, "may not read its own permissions")
        return str(response.json()["permission"])

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return requests.request(method, self.uri + path, auth=self.auth, timeout=self.timeout, **kwargs)
        except requests.RequestException as error:
            raise ServerUnreachableError(
                f"MLflow server {self.url}: unreachable ({_reason(error)}). Is the server running, "
                f"and is {URI_VARIABLE} right? Nothing was run."
            ) from None

    def _raise_for(self, response: requests.Response, action: str = "refused") -> None:
        if response.status_code == 200:
            return
        if response.status_code == 401:
            raise NotAuthenticatedError(
                f"MLflow server {self.url}: not authenticated ({self.who}; set {USERNAME_VARIABLE} and "
                f"{PASSWORD_VARIABLE}, or conf/local/credentials.yml). Nothing was run."
            )
        if response.status_code == 403:
            raise NotAllowedError(
                f"MLflow server {self.url}: not allowed: {self.who} {action}. Nothing was run."
            )
        raise ServerUnreachableError(
            f"MLflow server {self.url}: unexpected answer HTTP {response.status_code} "
            f"(is it an MLflow server?). Nothing was run."
        )


def _error_code(response: requests.Response) -> str | None:
    """MLflow's ``error_code`` in an error response, if it has one."""
    try:
        return response.json().get("error_code")
    except ValueError:
        return None


def _reason(error: requests.RequestException) -> str:
    """A few words for why a request failed, without the URL (which may carry a password)."""
    if isinstance(error, requests.Timeout):
        return "no answer in time"
    if isinstance(error, requests.ConnectionError):
        return "connection refused or host unknown"
    return type(error).__name__
