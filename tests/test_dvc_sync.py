"""Which `kedro run` DVC records: exactly the work of its stages, on the configuration DVC uses."""

from pathlib import Path

import pytest
from tests.helpers import PROJECT_ROOT

from dlpipeline.dvc_sync import KedroStage, kedro_stages, stages_run_by, why_not_recorded

STAGES = [
    KedroStage("mlp_data", "mlp", frozenset({"data"})),
    KedroStage("mlp_train", "mlp", frozenset({"train"})),
    KedroStage("cnn_data", "cnn", frozenset({"data"})),
    KedroStage("cnn_train", "cnn", frozenset({"train"})),
]


def test_the_project_stages_are_read_from_dvc_yaml():
    names = {stage.name for stage in kedro_stages(PROJECT_ROOT / "dvc.yaml")}
    assert {"mlp_data", "mlp_train", "cnn_train", "sequence_data"} <= names


@pytest.mark.parametrize(
    ("run", "recorded"),
    [
        ({}, ["mlp_data", "mlp_train", "cnn_data", "cnn_train"]),
        ({"pipeline_names": ["__default__"]}, ["mlp_data", "mlp_train", "cnn_data", "cnn_train"]),
        ({"pipeline_names": ["mlp"]}, ["mlp_data", "mlp_train"]),
        ({"pipeline_names": ["cnn"], "tags": ["train"]}, ["cnn_train"]),
        ({"tags": ["data"]}, ["mlp_data", "cnn_data"]),
        ({"tags": ["data", "train"]}, []),
    ],
)
def test_a_run_records_the_stages_whose_whole_work_it_did(run: dict, recorded: list[str]):
    assert stages_run_by(run, STAGES) == recorded


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ({"env": "smoke"}, "--env smoke"),
        ({"runtime_params": {"mlp.data.noise": 0.2}}, "--params"),
        ({"node_names": ["mlp.split_points"]}, "selected nodes"),
        ({"namespaces": ["mlp"]}, "selected nodes"),
    ],
)
def test_a_run_unlike_any_stage_is_not_recorded_and_says_why(
    run: dict, reason: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    assert reason in why_not_recorded(run, tmp_path)


def test_the_environment_dvc_uses_is_kedro_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KEDRO_ENV", "smoke")
    assert why_not_recorded({"env": "smoke"}, tmp_path) is None
    assert "`dvc repro` runs smoke" in why_not_recorded({}, tmp_path)


def test_local_parameter_overrides_are_not_recorded_as_the_base_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    assert why_not_recorded({}, tmp_path) is None
    (tmp_path / "conf/local").mkdir(parents=True)
    (tmp_path / "conf/local/parameters.yml").write_text("mlp: {data: {noise: 0.3}}\n")
    assert "conf/local" in why_not_recorded({}, tmp_path)
