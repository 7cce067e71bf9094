"""Adding an architecture is a local change: a new pipeline's own files are all it takes.

The example in ``tests/fixtures/new_pipeline`` (a tiny network on two moons) is copied into a
throw-away project; nothing else is edited. The registry, the trust tests, the schema checks,
MLflow's child runs, the claims report and the DVC dependency check must all pick it up.
"""

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.helpers import PROJECT_ROOT, command_output, copy_project, kedro_cli, project_env, run_command

EXAMPLE = PROJECT_ROOT / "tests/fixtures/new_pipeline"
SHARED_NAMES = {"seed", "n_seeds", "epochs", "learning_rate", "batch_size", "optimizer"}


def git(*args: str, cwd: Path) -> str:
    """Run git quietly in ``cwd`` and return its output."""
    return command_output("git", *args, cwd=cwd)


def add_example_pipeline(project: Path) -> None:
    """Copy the example's files into ``project``; add its stages, and its claim's table to the report's."""
    for source in EXAMPLE.rglob("*"):
        relative = source.relative_to(EXAMPLE)
        if source.is_file() and relative.parts[0] in {"src", "conf", "tests"}:
            target = project / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    pipeline_stages = yaml.safe_load((project / "dvc.yaml").read_text())
    example = yaml.safe_load((EXAMPLE / "dvc_stages.yaml").read_text())
    pipeline_stages["stages"].update(example["stages"])
    pipeline_stages["stages"]["report"]["deps"] += example["report_deps"]
    pipeline_stages["stages"]["report"]["params"] += example["report_params"]
    (project / "dvc.yaml").write_text(yaml.safe_dump(pipeline_stages, sort_keys=False))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project copy with the example pipeline added on top, uncommitted."""
    copy = copy_project(tmp_path_factory.mktemp("new_pipeline") / "project")
    git("init", "-q", cwd=copy)
    git("add", "-A", cwd=copy)
    git("-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "project", cwd=copy)
    add_example_pipeline(copy)
    return copy


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the project's own test suite (a selection of it) inside ``project``."""
    return run_command(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *args,
        cwd=project,
        env={**project_env(project), "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=900,
    )


def test_the_example_touches_only_its_own_files_its_conf_and_its_dvc_stages(project: Path):
    changed = {line[3:] for line in git("status", "--porcelain", "-uall", cwd=project).splitlines()}
    allowed_prefixes = (
        "src/dlpipeline/pipelines/toy/",
        "src/dlpipeline/models/toy.py",
        "conf/base/catalog_toy.yml",
        "conf/base/parameters_toy.yml",
        "conf/smoke/parameters_toy.yml",
        "tests/pipelines/toy/",
    )
    assert "dvc.yaml" in changed
    assert "conf/smoke/parameters_toy.yml" in changed
    assert all(path == "dvc.yaml" or path.startswith(allowed_prefixes) for path in changed), changed


def test_the_registry_runs_it_and_its_child_runs_use_the_shared_names(project: Path):
    result = kedro_cli("run", "--pipelines", "toy", "--env", "smoke", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "data/06_models/toy/models.pt").stat().st_size > 0
    with sqlite3.connect(project / "mlflow.db") as store:
        params = {key for (key,) in store.execute("SELECT key FROM params")}
        metrics = {key for (key,) in store.execute("SELECT key FROM metrics")}
        statuses = {status for (status,) in store.execute("SELECT status FROM runs")}
    assert params >= SHARED_NAMES
    assert {"train_seconds", "n_params", "test_accuracy"} <= metrics
    assert statuses == {"FINISHED"}


def test_its_claim_reaches_the_report_with_a_verdict(project: Path):
    result = kedro_cli("run", "--pipelines", "toy,report", "--env", "smoke", cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    page = (project / "data/08_reporting/index.html").read_text()
    verdict = re.search(r'<section id="toy-non-linear-mapping" data-verdict="([^"]+)"', page)
    assert verdict is not None
    assert verdict.group(1) in {"supported", "contradicted", "inconclusive"}
    assert "Tested by the <code>toy</code> pipeline" in page


def passed_tests(output: str) -> list[str]:
    """The ids of the tests ``pytest -v`` reports as passed."""
    return [line.split(" PASSED")[0] for line in output.splitlines() if " PASSED" in line]


def test_the_trust_schema_and_dvc_checks_pick_it_up(project: Path):
    checks = pytest_in(
        project,
        "-v",
        "tests/test_dvc_deps.py",
        "tests/trust/test_datasets.py::test_every_table_the_pipelines_read_from_disk_has_a_schema",
        "tests/trust/test_runs.py::test_every_pipeline_provides_bad_parameters_for_the_trust_tests",
        "tests/trust/test_runs.py",
        "-k",
        "(toy and bad_parameter) or schema or provides or dvc",
    )
    assert checks.returncode == 0, checks.stdout[-4000:]
    passed = passed_tests(checks.stdout)
    # The example's own cases were collected, run and passed: its trust cases and its DVC stages.
    assert [test for test in passed if test.startswith("tests/trust/test_runs.py") and "toy" in test]
    assert [test for test in passed if test.startswith("tests/test_dvc_deps.py") and "toy" in test]
