"""One smoke run of the sequence pipeline, shared by the tests that read its outputs."""

from pathlib import Path

import pytest
from tests.helpers import smoke_run_in_copy


@pytest.fixture(scope="session")
def smoke_sequence_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kedro run --pipelines sequence --env smoke`` in a project copy."""
    return smoke_run_in_copy(tmp_path_factory.mktemp("smoke_sequence") / "project", "sequence")
