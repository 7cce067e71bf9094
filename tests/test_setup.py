"""scripts/setup.sh refuses an interpreter the pinned dependencies cannot install on, in one line."""

import os
import stat
import sys
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


def test_uv_is_handed_where_pip_would_look_and_a_local_location_that_is_missing_is_left_out(tmp_path: Path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    missing = tmp_path / "missing"

    result = run_command(
        "bash",
        "-c",
        'source scripts/install_sources.sh && uv_sources "$PYTHON"',
        cwd=PROJECT_ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHON": sys.executable,
            "PIP_CONFIG_FILE": os.devnull,  # only what the variables below say
            "PIP_INDEX_URL": "https://mirror.example/simple",
            "PIP_EXTRA_INDEX_URL": f"file://{missing} https://extra.example/simple",
            "PIP_FIND_LINKS": f"{wheels} {missing}",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "https://extra.example/simple",
        "--find-links",
        str(wheels),
    ]


def test_without_pip_settings_uv_keeps_its_own_default_index(tmp_path: Path):
    result = run_command(
        "bash",
        "-c",
        'source scripts/install_sources.sh && uv_sources "$PYTHON"',
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "PIP_CONFIG_FILE": os.devnull},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
