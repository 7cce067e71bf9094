"""Safety: local-only UIs, no unpickling, credentials kept local, no machine paths in MLflow."""

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import click
import yaml
from kedro_viz.launchers.cli.run import run as viz_run
from mlflow.cli import cli as mlflow_cli
from tests.documentation import README, section
from tests.helpers import PROJECT_ROOT, run_command

LOCALHOST = "127.0.0.1"


def host_default(command: click.Command) -> str:
    """The default of a command's ``--host`` option."""
    return next(option.default for option in command.params if option.name == "host")


def test_the_mlflow_ui_and_kedro_viz_listen_on_this_machine_only_by_default():
    mlflow_config = yaml.safe_load((PROJECT_ROOT / "conf/base/mlflow.yml").read_text())
    assert mlflow_config["ui"]["host"] == LOCALHOST  # `kedro mlflow ui`
    context = click.Context(mlflow_cli)
    assert host_default(mlflow_cli.get_command(context, "ui")) == LOCALHOST  # `mlflow ui`
    assert host_default(mlflow_cli.get_command(context, "server")) == LOCALHOST
    assert host_default(viz_run) == LOCALHOST  # `kedro viz run`


def test_the_docs_say_where_the_uis_listen_and_how_to_open_them_to_other_machines():
    readme = README.read_text()
    assert f"http://{LOCALHOST}:5000" in readme and f"http://{LOCALHOST}:4141" in readme
    assert "--host 0.0.0.0" in section("MLflow: `kedro mlflow ui`")


def test_credentials_live_only_in_the_git_ignored_conf_local():
    ignored = run_command(
        "git", "check-ignore", "conf/local/credentials.yml", "conf/local/mlflow.yml", cwd=PROJECT_ROOT
    )
    assert ignored.stdout.split() == ["conf/local/credentials.yml", "conf/local/mlflow.yml"]
    shipped = [path for path in (PROJECT_ROOT / "conf").rglob("*.yml") if "local" not in path.parts]
    for path in shipped:
        assert "credentials" not in path.name
        # a table's column named ``token`` (a schema: ``{dtype: ...}``) is no secret
        secret = r"(password|secret|token|api_key)\s*:(?!\s*\{dtype)"
        assert not re.search(secret, path.read_text(), re.IGNORECASE), path


def test_nothing_is_unpickled_and_torch_files_load_weights_only():
    catalog_types = [
        entry["type"]
        for path in (PROJECT_ROOT / "conf").rglob("catalog*.yml")
        for entry in (yaml.safe_load(path.read_text()) or {}).values()
        if isinstance(entry, dict) and "type" in entry
    ]
    assert catalog_types and not [kind for kind in catalog_types if "pickle" in kind.lower()]
    sources = {path: path.read_text() for path in (PROJECT_ROOT / "src").rglob("*.py")}
    for path, source in sources.items():
        assert not re.search(r"\b(pickle|joblib|cloudpickle)\.load", source), path
        for call in re.findall(r"torch\.load\([^)]*\)", source):
            assert "weights_only=True" in call, (path, call)


def test_no_absolute_path_of_the_machine_reaches_the_mlflow_store(smoke_run: Callable[[str], Path]):
    smoke_mlp_run = smoke_run("mlp")
    with sqlite3.connect(smoke_mlp_run / "mlflow.db") as connection:
        values = [
            f"{table}.{key}={value}"
            for table in ("params", "tags")
            for key, value in connection.execute(f"SELECT key, value FROM {table}")
        ]
    machine_paths = [str(smoke_mlp_run), str(Path.home()), "/tmp/"]
    leaks = [value for value in values if any(path in value for path in machine_paths)]
    assert values and leaks == []
