"""Shared fixtures: a throw-away copy of the project, and one smoke run of the MLP pipeline."""

import os
from pathlib import Path

import pytest
from tests.helpers import copy_project, smoke_run_in_copy

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the project; the test runs with it as working directory."""
    copy = copy_project(tmp_path / "project")
    monkeypatch.chdir(copy)
    return copy


@pytest.fixture(scope="session")
def smoke_mlp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``kedro run --pipelines mlp --env smoke`` in a project copy, shared by the tests that read it."""
    return smoke_run_in_copy(tmp_path_factory.mktemp("smoke_mlp") / "project", "mlp")


@pytest.fixture(scope="session")
def smoke_cnn_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``kedro run --pipelines cnn --env smoke`` in a project copy, shared by the tests that read it."""
    return smoke_run_in_copy(tmp_path_factory.mktemp("smoke_cnn") / "project", "cnn")
