"""Shared fixtures: a throw-away copy of the project, and one smoke run per pipeline."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.helpers import copy_project, smoke_run_in_copy

# Before any test module imports torch: dlpipeline sets the OpenMP wait policy torch reads once.
import dlpipeline  # noqa: F401

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
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``smoke_run(name)``: a project copy where ``kedro run --pipelines <name> --env smoke`` ran.

    Each pipeline runs once per test session, shared by every test that reads its outputs.
    """
    runs: dict[str, Path] = {}

    def run(pipeline: str) -> Path:
        if pipeline not in runs:
            runs[pipeline] = smoke_run_in_copy(
                tmp_path_factory.mktemp(f"smoke_{pipeline}") / "project", pipeline
            )
        return runs[pipeline]

    return run
