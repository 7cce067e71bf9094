"""DVC: `dvc repro` rebuilds what changed, and regenerated datasets match the hashes in dvc.lock."""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from tests.helpers import PROJECT_ROOT, command_output, copy_project, kedro_cli, project_env

DATA_STAGE, TRAIN_STAGE = "mlp_data", "mlp_train"


def in_kedro_env(project: Path, kedro_env: str) -> dict[str, str]:
    """The environment of a command in ``project`` whose stages run ``kedro`` on ``kedro_env``."""
    return {**project_env(project), "KEDRO_ENV": kedro_env}


def fresh_clone(destination: Path) -> Path:
    """A project copy that is its own git repository, as a user's clone would be."""
    copy = copy_project(destination)
    command_output("git", "init", "-q", cwd=copy)
    return copy


def changed_stages(project: Path) -> set[str]:
    """Stages that `dvc status` says would re-run."""
    status = json.loads(command_output("dvc", "status", "--json", cwd=project) or "{}")
    return {name.split(":")[-1] for name in status}


def set_parameter(project: Path, section: str, key: str, value) -> None:
    """Edit one key of conf/base/parameters_mlp.yml, as a user would."""
    path = project / "conf/base/parameters_mlp.yml"
    parameters = yaml.safe_load(path.read_text())
    node = parameters["mlp"]
    for part in section.split("."):
        node = node[part]
    node[key] = value
    path.write_text(yaml.safe_dump(parameters))


def locked_outs(lock_file: Path, stage: str) -> dict[str, str]:
    """Output path → md5 of one stage in a dvc.lock file."""
    lock = yaml.safe_load(lock_file.read_text())
    return {out["path"]: out["md5"] for out in lock["stages"][stage]["outs"]}


def train_stages() -> list[str]:
    """Every stage that trains and reports (``<pipeline>_train``)."""
    return [name.replace("_data", "_train") for name in data_stages()]


def data_stages() -> list[str]:
    """Every stage that generates datasets (``<pipeline>_data``)."""
    return [
        name
        for name in yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
        if name.endswith("_data")
    ]


@pytest.fixture(scope="module")
def regenerated_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone where every data stage was reproduced on the base parameters (one ``dvc repro``)."""
    clone = fresh_clone(tmp_path_factory.mktemp("regenerated") / "clone")
    command_output(
        "dvc", "repro", "--force", "--single-item", *data_stages(), cwd=clone, env=in_kedro_env(clone, "base")
    )
    return clone


@pytest.mark.parametrize("stage", data_stages())
def test_regenerated_datasets_reproduce_the_committed_hashes_byte_for_byte(
    regenerated_clone: Path, stage: str
):
    committed = locked_outs(PROJECT_ROOT / "dvc.lock", stage)
    assert locked_outs(regenerated_clone / "dvc.lock", stage) == committed


@pytest.fixture(scope="module")
def reproduced_clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clone = fresh_clone(tmp_path_factory.mktemp("dvc") / "clone")
    command_output("dvc", "repro", cwd=clone, env=in_kedro_env(clone, "smoke"))
    return clone


@dataclass(frozen=True)
class KedroRun:
    """A fresh clone where a plain ``kedro run --pipelines mlp`` ran, and what that command printed."""

    clone: Path
    output: str


KEDRO_RUN_PIPELINE = "mlp"
"""What the plain ``kedro run`` runs: which stages a run records is the same code for every
pipeline (tests/test_dvc_sync.py); one pipeline shows that the records are right."""


@pytest.fixture(scope="module")
def kedro_run(tmp_path_factory: pytest.TempPathFactory) -> KedroRun:
    """``kedro run --pipelines mlp`` (smoke env) in a fresh clone: no ``dvc repro`` there."""
    clone = fresh_clone(tmp_path_factory.mktemp("kedro_run") / "clone")
    result = kedro_cli("run", "--pipelines", KEDRO_RUN_PIPELINE, cwd=clone, env={"KEDRO_ENV": "smoke"})
    assert result.returncode == 0, result.stderr[-3000:]
    return KedroRun(clone, result.stdout + result.stderr)


def file_hashes(project: Path, outs: list[str]) -> dict[str, str]:
    """md5 of every file of ``outs`` (files, or folders walked) in ``project``, by path."""
    hashes = {}
    for out in outs:
        root = project / out
        files = sorted(path for path in root.rglob("*") if path.is_file()) if root.is_dir() else [root]
        for path in files:
            content = path.read_bytes() if path.exists() else b"missing"
            hashes[str(path.relative_to(project))] = hashlib.md5(content).hexdigest()
    return hashes


def test_a_fresh_clone_reproduces_everything_then_is_up_to_date(reproduced_clone: Path):
    assert (reproduced_clone / "data/05_model_input/mlp/train.csv").exists()
    assert (reproduced_clone / "data/08_reporting/mlp/metrics.json").exists()
    second = command_output("dvc", "repro", cwd=reproduced_clone, env=in_kedro_env(reproduced_clone, "smoke"))
    assert "Data and pipelines are up to date." in second
    assert changed_stages(reproduced_clone) == set()


def test_metrics_and_plots_are_declared_to_dvc(reproduced_clone: Path):
    metrics = json.loads(command_output("dvc", "metrics", "show", "--json", cwd=reproduced_clone))
    (workspace,) = metrics.values()
    numbers = workspace["data"]["data/08_reporting/mlp/metrics.json"]["data"]
    assert set(numbers) == {"torch", "sklearn"}
    plots = command_output("dvc", "plots", "show", "--json", cwd=reproduced_clone)
    assert "accuracy_table.csv" in plots


def test_every_stage_rerun_on_the_same_inputs_writes_the_same_bytes(reproduced_clone: Path, smoke_run):
    # Every stage ran twice from nothing on the same inputs: by `dvc repro` in a fresh clone, and
    # in the session's shared smoke run of its pipeline (a Kedro session in a project copy).
    for stage in data_stages() + train_stages():
        outs = list(locked_outs(reproduced_clone / "dvc.lock", stage))
        rerun = file_hashes(smoke_run(stage.split("_")[0]), outs)
        assert rerun == file_hashes(reproduced_clone, outs), stage


def test_dvc_metrics_show_a_dozen_headline_figures_per_pipeline(reproduced_clone: Path):
    metrics = json.loads(command_output("dvc", "metrics", "show", "--json", cwd=reproduced_clone))
    (workspace,) = metrics.values()
    for path, content in workspace["data"].items():
        assert 0 < len(leaves(content["data"])) <= 12, path


def leaves(tree: dict | float) -> list[float]:
    """Every number in a nested metrics dictionary."""
    if isinstance(tree, dict):
        return [number for value in tree.values() for number in leaves(value)]
    return [tree]


def test_kedro_run_keeps_dvc_in_step_so_dvc_repro_reruns_nothing(kedro_run: KedroRun):
    ran = {stage for stage in data_stages() + train_stages() if stage.startswith(f"{KEDRO_RUN_PIPELINE}_")}
    assert f"Recorded in dvc.lock: {', '.join(sorted(ran))}" in kedro_run.output
    assert changed_stages(kedro_run.clone) & ran == set()
    second = command_output(
        "dvc", "repro", *sorted(ran), cwd=kedro_run.clone, env=in_kedro_env(kedro_run.clone, "smoke")
    )
    assert "Data and pipelines are up to date." in second


def test_a_training_parameter_reruns_training_only(reproduced_clone: Path):
    set_parameter(reproduced_clone, "torch.train", "epochs", 7)
    assert changed_stages(reproduced_clone) == {TRAIN_STAGE}


def test_the_noise_reruns_the_data_and_everything_downstream(reproduced_clone: Path):
    set_parameter(reproduced_clone, "data", "noise", 0.2)
    assert changed_stages(reproduced_clone) == {DATA_STAGE, TRAIN_STAGE}


def test_editing_a_data_module_the_training_calls_reruns_that_training(reproduced_clone: Path):
    module = reproduced_clone / "src/dlpipeline/data/sequences.py"
    module.write_text(module.read_text() + "\n# an edit\n")
    changed = changed_stages(reproduced_clone)
    assert "sequence_train" in changed
    assert "cnn_train" not in changed
