"""The up-front checks of ``kedro run`` one by one, in-process (the CLI tests run them end to end)."""

import re
from pathlib import Path

import pytest
from kedro.pipeline import Pipeline, node
from pydantic import BaseModel, ConfigDict, model_validator

from dlpipeline import config
from dlpipeline.cli_checks import (
    EVERY_PARAMETER,
    RunOptionError,
    check_env,
    check_filters,
    check_mlflow_store,
    check_overrides,
    check_pipelines,
    check_runner,
    closest_key,
    configuration_references,
    did_you_mean,
    is_read,
    keys_read,
    own_parameter_files,
    parameters_read,
    pipeline_folders,
    pipelines_reading,
    sqlite_database,
    strict_model,
    unread_keys,
)


def identity(value):
    return value


PIPELINE = Pipeline(
    [
        node(identity, "points", "split", name="split", tags="data"),
        node(identity, "split", "fit", name="fit"),
    ],
    namespace="mlp",
)


def test_the_closest_match_prefers_the_name_under_a_namespace():
    assert did_you_mean("split", ["mlp.split", "mlp.fit", "spilt"]) == " Did you mean 'mlp.split'?"
    assert did_you_mean("trian", ["data", "train"]) == " Did you mean 'train'?"
    assert did_you_mean("zzz", ["data", "train"]) == ""


def test_only_the_sequential_runner_is_accepted():
    check_runner(None)
    check_runner("SequentialRunner")
    for runner in ("ParallelRunner", "kedro.runner.ThreadRunner", "Sequential"):
        with pytest.raises(RunOptionError):
            check_runner(runner)


def test_an_environment_is_a_folder_of_the_configuration(tmp_path: Path):
    for folder in ("base", "local", "smoke"):
        (tmp_path / folder).mkdir()
    check_env(None, tmp_path)
    check_env("smoke", tmp_path)
    with pytest.raises(RunOptionError) as raised:
        check_env("smok", tmp_path)
    assert raised.value.lines() == [
        f"Unknown environment 'smok': there is no folder {tmp_path.name}/smok. Did you mean 'smoke'?",
        f"Environments: local, smoke. Create {tmp_path.name}/smok/ to add one.",
    ]


def test_pipelines_tags_nodes_namespaces_and_datasets_must_exist():
    check_pipelines(["mlp", "__default__"], ["cnn", "mlp"])
    with pytest.raises(RunOptionError, match=r"Unknown pipeline 'mpl'\. Did you mean 'mlp'"):
        check_pipelines(["mpl"], ["cnn", "mlp"])
    check_filters(PIPELINE, ["mlp"], {"tags": ["data"], "node_names": ["mlp.split"], "namespaces": ["mlp"]})
    for options, message in [
        ({"tags": ["dat"]}, "--tags: no tag 'dat'"),
        ({"from_nodes": ["fit"]}, "Did you mean 'mlp.fit'"),
        ({"namespaces": ["mpl"]}, "--namespaces: no namespace 'mpl'"),
        ({"to_outputs": ["mlp.fitt"]}, "Did you mean 'mlp.fit'"),
        ({"tags": ["data"], "node_names": ["mlp.fit"]}, "Nothing to run"),
    ]:
        with pytest.raises(RunOptionError, match=re.escape(message)):
            check_filters(PIPELINE, ["mlp"], options)


def test_the_pipelines_named_without_importing_them_are_those_kedro_registers():
    from kedro.framework.project import pipelines

    pipelines.set_requested(None)  # every pipeline, whatever an earlier run in this process asked for

    assert pipeline_folders("dlpipeline") == sorted(set(pipelines) - {"__default__"})


def test_a_missing_or_empty_store_is_fine_and_only_sqlite_uris_are_checked(tmp_path: Path):
    check_mlflow_store(tmp_path / "mlflow.db")
    (tmp_path / "mlflow.db").touch()
    check_mlflow_store(tmp_path / "mlflow.db")
    assert sqlite_database(f"sqlite:///{tmp_path}/mlflow.db") == tmp_path / "mlflow.db"
    assert sqlite_database("http://127.0.0.1:5000") is None
    assert sqlite_database(None) is None


class Train(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: int = 1


class Sweep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_seeds: int = 1
    train: Train | None = None


class Lenient(BaseModel):
    n_seeds: int = 1


class Rewriting(Sweep):
    @model_validator(mode="before")
    @classmethod
    def renamed(cls, data: dict) -> dict:
        return {("n_seeds" if key == "seeds" else key): value for key, value in data.items()}


def fit_sweep(sweep: Sweep, data: dict) -> None:
    del sweep, data


def test_a_node_reading_a_typed_block_reads_the_keys_its_type_declares():
    read = {"mlp.sweep": Sweep, "mlp.data": None}
    for key in ("mlp.sweep.n_seeds", "mlp.sweep.train.epochs", "mlp.sweep.train", "mlp.sweep"):
        assert is_read(key, read), key
    for key in ("mlp.sweep.n_seedz", "mlp.sweep.train.epochz", "mlp.sweeep.n_seeds", "mlp.sweepers"):
        assert not is_read(key, read), key


def test_an_untyped_block_reads_any_key_below_it_and_a_whole_block_may_be_replaced():
    read = {"mlp.sweep": Sweep, "mlp.data": None}
    assert is_read("mlp.data.anything.below", read)
    assert is_read("mlp", read)
    assert is_read("anything.at.all", {EVERY_PARAMETER: None})


def test_only_a_model_refusing_undeclared_keys_before_any_rewrite_limits_the_keys_read():
    assert strict_model(Sweep) is Sweep
    assert strict_model(Sweep | None) is Sweep
    for annotation in (Lenient, Rewriting, dict, Sweep | Train, None):
        assert strict_model(annotation) is None, annotation
    assert is_read("mlp.sweep.seeds", {"mlp.sweep": Rewriting})


def test_the_parameters_a_pipeline_reads_are_its_nodes_params_inputs_with_their_types():
    pipeline = Pipeline(
        [node(fit_sweep, ["params:mlp.sweep", "params:mlp.data"], None), node(identity, "x", "y")]
    )
    assert parameters_read(pipeline) == {"mlp.sweep": Sweep, "mlp.data": None}
    assert parameters_read(Pipeline([node(identity, "parameters", "z")])) == {EVERY_PARAMETER: None}


def test_the_keys_suggested_are_those_read_and_those_their_types_declare():
    parameters = {"mlp": {"sweep": {"n_seeds": 3}, "data": {"noise": 0.1}}, "cnn": {"data": {"size": 1}}}
    assert keys_read(parameters, {"mlp.sweep": Sweep, "mlp.data": None}) == [
        "mlp.data",
        "mlp.data.noise",
        "mlp.sweep.n_seeds",
        "mlp.sweep.train.epochs",
    ]


def test_the_closest_key_is_found_below_the_deepest_block_the_key_shares():
    valid = ["mlp.sweep.n_seeds", "mlp.torch.train.epochs", "sequence.text.train.device"]
    assert closest_key("mlp.sweeep.n_seeds", valid) == "mlp.sweep.n_seeds"
    assert closest_key("mlp.torch.trian.epochs", valid) == "mlp.torch.train.epochs"
    assert closest_key("n_seeds", valid) == "mlp.sweep.n_seeds"
    assert closest_key("sequence.executor.kind", valid) is None


def test_unread_keys_are_the_leaves_no_node_reads_but_the_configurations_own():
    overrides = {"mlp": {"sweep": {"train": {"epochs": 3}, "n_seedz": 2}}, "_shared": 1, "cnn": {"data": {}}}
    assert unread_keys(overrides, {"mlp.sweep": Sweep}) == ["mlp.sweep.n_seedz", "cnn.data"]


def test_an_override_no_node_reads_is_named_in_one_line_with_the_closest_key_that_is_read():
    check_overrides("--params", [], ["mlp.sweep.n_seeds"], {})
    with pytest.raises(RunOptionError) as raised:
        check_overrides(
            "--params", ["mlp.sweeep.n_seeds"], ["mlp.sweep.n_seeds", "mlp.sweep.train.epochs"], {}
        )
    assert raised.value.lines() == [
        "--params sets 'mlp.sweeep.n_seeds', which no node of the selected pipelines reads. "
        "Did you mean 'mlp.sweep.n_seeds'?"
    ]


def test_an_override_a_pipeline_not_selected_reads_names_that_pipeline_and_every_unread_key_is_named():
    readers = {"cnn": {"cnn.executor": None}, "report": {"mlp.claims": None}}
    with pytest.raises(RunOptionError) as raised:
        check_overrides("--params", ["mlp.claims.x", "cnn.executor.kind"], ["mlp.sweep.n_seeds"], readers)
    assert raised.value.lines() == [
        "--params sets 'mlp.claims.x', which no node of the selected pipelines reads. "
        "Pipeline 'report' reads it: add it to --pipelines.",
        "No selected node reads cnn.executor.kind either.",
    ]
    assert pipelines_reading("cnn.executor.kind", readers) == ["cnn"]


def test_keys_the_configuration_interpolates_are_read_by_it(tmp_path: Path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base/catalog.yml").write_text(
        "model:\n  filepath: ${runtime_params:run.folder, 'data'}/model.pt\n"
        "db: ${sqlite_uri:mlflow.db}\nsecret: ${oc.env:TOKEN}\n"
    )
    (tmp_path / "base/parameters.yml").write_text("mlp:\n  data:\n    noise: ${_noise}\n")
    assert configuration_references([tmp_path / "base", tmp_path / "local"]) == {
        "run.folder": None,
        "_noise": None,
    }


def test_the_users_own_parameter_files_are_those_of_the_default_environment_read_as_written(tmp_path: Path):
    (tmp_path / "base").mkdir()
    (tmp_path / "local/parameters").mkdir(parents=True)
    (tmp_path / "local/.hidden").mkdir()
    (tmp_path / "local/parameters_mlp.yml").write_text("mlp:\n  data:\n    noise: ${_base_noise}\n")
    (tmp_path / "local/parameters/cnn.yml").write_text("cnn:\n  executor:\n    kind: dask\n")
    (tmp_path / "local/.hidden/parameters.yml").write_text("hidden: 1\n")
    (tmp_path / "local/credentials.yml").write_text("token: abc\n")

    files = own_parameter_files(tmp_path, None, config)

    assert files == {
        tmp_path / "local/parameters/cnn.yml": {"cnn": {"executor": {"kind": "dask"}}},
        tmp_path / "local/parameters_mlp.yml": {"mlp": {"data": {"noise": "${_base_noise}"}}},
    }
    assert own_parameter_files(tmp_path, "local", config) == files
    assert own_parameter_files(tmp_path, "smoke", config) == {}
