"""The up-front checks of ``kedro run`` one by one, in-process (the CLI tests run them end to end)."""

import re
from pathlib import Path

import pytest
from kedro.pipeline import Pipeline, node

from dlpipeline.cli_checks import (
    RunOptionError,
    check_env,
    check_filters,
    check_mlflow_store,
    check_overrides,
    check_pipelines,
    check_runner,
    did_you_mean,
    is_read,
    parameters_read,
    pipeline_folders,
    sqlite_database,
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


def test_a_node_reading_a_block_reads_every_key_in_it_and_the_block_itself():
    read = {"mlp.sweep", "mlp.data"}
    assert is_read("mlp.sweep.n_seeds", read)
    assert is_read("mlp.sweep", read)
    assert is_read("mlp", read)  # a whole block replaced from the command line
    assert not is_read("mlp.sweeep.n_seeds", read)
    assert not is_read("mlp.sweepers", read)
    assert is_read("anything.at.all", {""})  # a node reading every parameter


def test_overrides_are_checked_leaf_by_leaf_and_named_with_the_closest_read_key():
    read = {"sequence.executor", "sequence.adding.model"}
    known = ["sequence.executor.kind", "sequence.adding.model.cells", "cnn.executor.kind"]
    check_overrides("--params", {"sequence": {"executor": {"kind": "dask"}}}, read, known)
    with pytest.raises(RunOptionError) as error:
        check_overrides("--params", {"sequence": {"executr": {"kind": "dask"}}}, read, known)
    assert error.value.problem == (
        "--params sets 'sequence.executr.kind', which no node of the selected pipelines reads. "
        "The closest key that is read: 'sequence.executor.kind'."
    )


def test_the_parameters_a_pipeline_reads_are_its_nodes_params_inputs():
    pipeline = Pipeline([node(identity, "params:a.b", "x"), node(max, ["x", "params:c"], "y")])
    assert parameters_read(pipeline) == {"a.b", "c"}
    assert parameters_read(Pipeline([node(identity, "parameters", "z")])) == {""}
