"""scripts/setup.sh refuses an interpreter the pinned dependencies cannot install on, in one line."""

import stat
from pathlib import Path

from tests.helpers import PROJECT_ROOT, run_command

OLD_PYTHON = """#!/bin/sh
# A Python 3.11.2 as the version check sees it: it names its version and fails the check.
case "$1" in --version) echo "Python 3.11.2" ;; *) exit 1 ;; esac
"""


def test_a_python_older_than_3_11_5_is_refused_before_any_environment_is_made(tmp_path: Path):
    python = tmp_path / "python3.11"
    python.write_text(OLD_PYTHON)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    venv = tmp_path / "venv"

    result = run_command(
        "bash",
        "scripts/setup.sh",
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHON": str(python), "DLPIPELINE_VENV": str(venv)},
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"dlpipeline needs Python 3.11.5 or later 3.11; {python} is Python 3.11.2. "
        "Set PYTHON=/path/to/python3.11."
    ]
    assert not venv.exists()
