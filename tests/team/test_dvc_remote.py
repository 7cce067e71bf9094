"""A shared DVC remote on S3 (moto's S3 API on 127.0.0.1): push from one clone, pull into a fresh one.

The remote's address is committed (``.dvc/config``); each person's keys stay in the
git-ignored ``.dvc/config.local`` (``dvc remote modify --local``).
"""

import filecmp
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.helpers import PROJECT_ROOT, command_output, copy_project, run_command
from tests.team.servers import start_moto_server, stop

BUCKET = "dlpipeline-team"
REMOTE = "team"
# Made up per test session (moto takes any), so that no copy of them is in the repository.
KEYS = {"access_key_id": "AKIA" + secrets.token_hex(8).upper(), "secret_access_key": secrets.token_hex(20)}


def environment() -> dict[str, str]:
    """No AWS settings from the machine: keys come from .dvc/config.local, nothing leaves 127.0.0.1."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    empty = Path(tempfile.gettempdir()) / "dlpipeline-empty-aws-config"
    empty.touch()
    return {
        **clean,
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
        "DVC_NO_ANALYTICS": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
    }


DATA_STAGES = [
    name
    for name in yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    if name.endswith("_data")
]
"""The ``<pipeline>_data`` stages: what this test makes, pushes and pulls."""


def data_files(project: Path) -> list[Path]:
    """Every file the ``<pipeline>_data`` stages version (their outs in dvc.lock), relative paths."""
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    stages = [stage for name, stage in lock.items() if name.endswith("_data")]
    outs = [project / out["path"] for stage in stages for out in stage["outs"]]
    files = [path for out in outs for path in ([out] if out.is_file() else sorted(out.rglob("*")))]
    return [path.relative_to(project) for path in files if path.is_file()]


def give_own_keys(clone: Path, endpoint: str) -> None:
    """What each person does once in their clone: their keys, kept out of git."""
    for option, value in {**KEYS, "endpointurl": endpoint}.items():
        command_output(
            "dvc", "remote", "modify", "--local", REMOTE, option, value, cwd=clone, env=environment()
        )


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server with an empty bucket for the team's remote."""
    import boto3

    endpoint, process = start_moto_server(tmp_path_factory.mktemp("moto"))
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key_id"],
        aws_secret_access_key=KEYS["secret_access_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    stop(process)


@pytest.fixture(scope="module")
def pushed(s3: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One clone makes the datasets, adds the team remote, commits and pushes."""
    origin = copy_project(tmp_path_factory.mktemp("origin") / "project")
    command_output("git", "init", "-q", cwd=origin, env=environment())
    # every <pipeline>_data stage's datasets, at once, then into the cache as `dvc repro` would
    command_output("kedro", "run", "--tags", "data", cwd=origin, env=environment())
    command_output("dvc", "commit", "--force", *DATA_STAGES, cwd=origin, env=environment())
    command_output(
        "dvc", "remote", "add", "--default", REMOTE, f"s3://{BUCKET}/dvc", cwd=origin, env=environment()
    )
    give_own_keys(origin, s3)
    command_output("git", "add", "-A", cwd=origin, env=environment())
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    command_output("git", *identity, "commit", "-qm", "team remote", cwd=origin, env=environment())
    started = time.monotonic()
    command_output("dvc", "push", cwd=origin, env=environment())
    return {"origin": origin, "push_s": time.monotonic() - started}


def test_pull_in_a_fresh_clone_gives_the_same_bytes_and_a_clean_status(pushed: dict, s3: str, tmp_path: Path):
    origin = pushed["origin"]
    clone = tmp_path / "clone"
    command_output("git", "clone", "-q", str(origin), str(clone), cwd=tmp_path, env=environment())
    assert not (clone / "data/01_raw/mlp/points.csv").exists()
    give_own_keys(clone, s3)
    started = time.monotonic()
    # the datasets (trained models were not pushed here)
    command_output("dvc", "pull", *DATA_STAGES, cwd=clone, env=environment())
    pull_s = time.monotonic() - started
    datasets = data_files(origin)
    assert datasets
    for path in datasets:
        assert filecmp.cmp(origin / path, clone / path, shallow=False), path
    status = command_output("dvc", "status", "--cloud", *DATA_STAGES, cwd=clone, env=environment())
    assert "in sync" in status, status
    print(f"dvc push {pushed['push_s']:.1f} s, dvc pull {pull_s:.1f} s, {len(datasets)} datasets")


def test_keys_stay_out_of_git(pushed: dict):
    origin = pushed["origin"]
    committed = command_output("git", "show", "HEAD:.dvc/config", cwd=origin, env=environment())
    assert f"s3://{BUCKET}/dvc" in committed
    for value in KEYS.values():
        assert value not in committed
        grep = run_command("git", "grep", "-q", value, "HEAD", cwd=origin, env=environment())
        assert grep.returncode == 1  # not found anywhere in the commit
    assert KEYS["secret_access_key"] in (origin / ".dvc/config.local").read_text()
    command_output("git", "check-ignore", "-q", ".dvc/config.local", cwd=origin, env=environment())
