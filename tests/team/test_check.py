"""dlpipeline.team without a server: URLs without passwords, where credentials come from."""

from pathlib import Path

import pytest
from tests.team.servers import HOST, free_port

from dlpipeline.team import (
    Credentials,
    ServerUnreachableError,
    TeamServerError,
    check_tracking_server,
    export_credentials,
    is_remote,
    redact,
)


def test_redact_drops_user_and_password():
    assert (
        redact("http://alice:s3cret-passw0rd@mlflow.example.org:5000/x") == "http://mlflow.example.org:5000/x"
    )
    assert redact("https://alice@mlflow.example.org") == "https://mlflow.example.org"
    assert redact("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_only_http_servers_are_checked():
    assert is_remote("http://127.0.0.1:5000") and is_remote("https://mlflow.example.org")
    assert not is_remote("sqlite:////tmp/mlflow.db") and not is_remote(None)


def test_credentials_never_print_their_password():
    assert "hunter2-hunter2" not in repr(Credentials("alice", "hunter2-hunter2"))


def write_local_credentials(conf: Path, text: str) -> None:
    (conf / "local").mkdir(parents=True)
    (conf / "local/credentials.yml").write_text(text)


def test_environment_wins_over_conf_local(tmp_path: Path):
    write_local_credentials(
        tmp_path,
        "mlflow_team:\n  MLFLOW_TRACKING_USERNAME: bob\n  MLFLOW_TRACKING_PASSWORD: from-the-file-1\n",
    )
    environ = {"MLFLOW_TRACKING_USERNAME": "alice", "MLFLOW_TRACKING_PASSWORD": "from-the-env-12"}
    assert export_credentials(tmp_path, environ) == Credentials("alice", "from-the-env-12")
    environ = {}
    assert export_credentials(tmp_path, environ) == Credentials("bob", "from-the-file-1")
    assert environ["MLFLOW_TRACKING_PASSWORD"] == "from-the-file-1"  # where MLflow reads it


def test_no_credentials_anywhere(tmp_path: Path):
    assert export_credentials(tmp_path, {}) is None


def test_malformed_conf_local_is_a_clear_error(tmp_path: Path):
    write_local_credentials(tmp_path, "mlflow_team: [alice]\n")
    with pytest.raises(TeamServerError, match="mlflow_team"):
        export_credentials(tmp_path, {})


def test_nothing_listening_is_unreachable_quickly():
    with pytest.raises(ServerUnreachableError, match="unreachable"):
        check_tracking_server(f"http://{HOST}:{free_port()}", None, "dlpipeline", timeout=2)
