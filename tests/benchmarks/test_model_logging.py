"""The model-logging and champion benchmarks log into a throw-away store, not the working directory."""

import importlib
from pathlib import Path
from types import ModuleType

import mlflow
import pytest
from mlflow.tracking import fluent
from tests.helpers import PROJECT_ROOT
from tests.tracking import tracking_at


@pytest.fixture
def model_logging(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``benchmarks/model_logging.py`` as ``python benchmarks/model_logging.py`` imports it."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "benchmarks"))
    return importlib.import_module("model_logging")


def test_a_throwaway_store_keeps_its_runs_artifacts_in_its_own_folder(
    model_logging: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    working_directory, store = tmp_path / "cwd", tmp_path / "store"
    working_directory.mkdir()
    store.mkdir()
    monkeypatch.chdir(working_directory)
    # set_experiment makes its experiment the process's and exports its id: both put back after
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    with tracking_at(f"sqlite:///{store}/mlflow.db"):  # the URI set back afterwards
        uri = model_logging.use_throwaway_store(str(store), "benchmark")
        with mlflow.start_run() as run:
            mlflow.log_text("logged", "note.txt")
        artifact_uri = run.info.artifact_uri
    assert uri == f"sqlite:///{store}/mlflow.db"
    assert Path(artifact_uri.removeprefix("file://")).is_relative_to(store)
    assert (Path(artifact_uri.removeprefix("file://")) / "note.txt").read_text() == "logged"
    assert list(working_directory.iterdir()) == []
