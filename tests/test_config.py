"""The project's config loader gives exactly what Kedro's OmegaConfigLoader gives, only faster.

``FastConfigLoader`` reads plain YAML without OmegaConf; every other case must still be the
parent's: interpolation resolves, ``--params`` merge into parameters, and a broken file or a key
set by two files raises Kedro's own error naming the files.
"""

import shutil
from copy import deepcopy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf
from tests.helpers import PROJECT_ROOT
from yaml.parser import ParserError

from dlpipeline.config import CONFIG_LOADER_ARGS, CONFIG_LOADER_CLASS, load_parameters
from dlpipeline.fast_config import FastConfigLoader, NeedsOmegaConfError, merge_into

CONF = PROJECT_ROOT / "conf"
ENVS = sorted(path.name for path in CONF.iterdir() if path.is_dir())
# kedro-mlflow adds this pattern to the run's loader before reading its key.
MLFLOW_PATTERNS = {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]}
KEYS = ["parameters", "catalog", "mlflow", "credentials", "globals"]


def loader(cls: type, conf: Path, env: str | None, runtime_params: dict | None = None) -> OmegaConfigLoader:
    """A loader of ``cls`` set up as the project's settings set one up."""
    return cls(
        conf_source=str(conf),
        env=env,
        runtime_params=runtime_params,
        config_patterns=MLFLOW_PATTERNS,
        **CONFIG_LOADER_ARGS,
    )


def read(cls: type, conf: Path, env: str | None, key: str, runtime_params: dict | None = None) -> Any:
    """``loader[key]``, or the type and message of the error it raises."""
    try:
        return loader(cls, conf, env, runtime_params)[key]
    except Exception as exc:
        return (type(exc), str(exc))


@cache
def project_read(env: str | None, key: str) -> Any:
    """What OmegaConfigLoader reads for the project's ``key`` in ``env`` (read once per session)."""
    return read(OmegaConfigLoader, CONF, env, key)


def same(left: Any, right: Any) -> bool:
    """Equal with the same types all the way down (``1 == 1.0 == True`` would not tell them apart)."""
    return repr(left) == repr(right) and left == right


def write(folder: Path, name: str, text: str) -> None:
    """A config file ``name`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_the_project_runs_with_the_fast_loader():
    assert CONFIG_LOADER_CLASS is FastConfigLoader


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("key", KEYS)
def test_every_key_of_every_environment_reads_as_omegaconf_reads_it(env: str, key: str):
    assert same(read(FastConfigLoader, CONF, env, key), project_read(env, key))


def test_the_default_environment_reads_as_omegaconf_reads_it():
    for key in KEYS:
        assert same(read(FastConfigLoader, CONF, None, key), project_read(None, key))


def test_load_parameters_of_an_environment_matches_omegaconf():
    for env in ENVS:
        assert same(load_parameters(env), project_read(env, "parameters"))


def test_the_projects_plain_keys_take_the_fast_path(monkeypatch: pytest.MonkeyPatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("OmegaConf parsed a plain file")

    monkeypatch.setattr(OmegaConf, "load", refuse)
    fast = loader(FastConfigLoader, CONF, "smoke")
    assert fast["parameters"] and fast["catalog"]


def test_an_interpolated_key_still_resolves():
    mlflow = loader(FastConfigLoader, CONF, "smoke")["mlflow"]
    uri = mlflow["server"]["mlflow_tracking_uri"]
    assert uri.startswith("sqlite:///") and uri.endswith("/mlflow.db") and "${" not in uri


RUNTIME_PARAMS = [
    {"mlp": {"data": {"noise": -1}}},
    {"mlp": {"data": {"noise": 0.5, "n_samples": 7}, "sweep": {"hidden_neurons": [2, [3, 4]]}}},
    {"brand_new": {"nested": "x"}, "mlp": {"data": {"new_knob": True}}},
    {"mlp.data.noise": 3},  # a dotted key passed by code stays a literal key, as OmegaConf keeps it
    {"mlp": {"data": None}},
    {"mlp": 5},
]


ENV_AND_RUNTIME_PARAMS = [("base", RUNTIME_PARAMS[1])] + [("smoke", params) for params in RUNTIME_PARAMS]


@pytest.mark.parametrize(("env", "runtime_params"), ENV_AND_RUNTIME_PARAMS)
def test_runtime_params_merge_into_parameters_as_in_omegaconf(env: str, runtime_params: dict):
    expected = read(OmegaConfigLoader, CONF, env, "parameters", runtime_params)
    assert same(read(FastConfigLoader, CONF, env, "parameters", runtime_params), expected)


def test_a_runtime_param_overrides_a_nested_key():
    params = loader(FastConfigLoader, CONF, "smoke", {"mlp": {"data": {"noise": -1}}})["parameters"]
    assert params["mlp"]["data"]["noise"] == -1
    assert params["mlp"]["sweep"] == load_parameters("smoke")["mlp"]["sweep"]


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """An empty conf folder with ``base`` and ``local`` environments."""
    for env in ("base", "local"):
        (tmp_path / "conf" / env).mkdir(parents=True)
    return tmp_path / "conf"


def assert_same_everywhere(conf: Path, runtime_params: dict | None = None) -> None:
    """Every key of base and local reads (or fails) the same through both loaders."""
    for env in ("base", "local"):
        for key in KEYS:
            expected = read(OmegaConfigLoader, conf, env, key, runtime_params)
            assert same(read(FastConfigLoader, conf, env, key, runtime_params), expected), (env, key)


def test_a_key_set_in_two_files_raises_kedros_error(conf: Path):
    write(conf / "base", "parameters_a.yml", "model:\n  depth: 2\n")
    write(conf / "base", "parameters_b.yml", "model:\n  depth: 3\n")
    error = read(FastConfigLoader, conf, "local", "parameters")
    assert error[0] is ValueError and "Duplicate keys found in" in error[1] and "model.depth" in error[1]
    assert error == read(OmegaConfigLoader, conf, "local", "parameters")


def test_a_dataset_set_in_two_catalog_files_raises_kedros_error(conf: Path):
    write(conf / "local", "catalog_a.yml", "table:\n  type: MemoryDataset\n")
    write(conf / "local", "catalog_b.yml", "table:\n  type: MemoryDataset\n")
    error = read(FastConfigLoader, conf, "local", "catalog")
    assert error[0] is ValueError and "Duplicate keys found in" in error[1]
    assert error == read(OmegaConfigLoader, conf, "local", "catalog")


def test_invalid_yaml_raises_kedros_error_naming_the_file(conf: Path):
    write(conf / "base", "parameters.yml", "model: [1, 2\n")
    error = read(FastConfigLoader, conf, "base", "parameters")
    assert error[0] is ParserError and "parameters.yml, unable to read line" in error[1]
    assert error == read(OmegaConfigLoader, conf, "base", "parameters")


def test_a_key_repeated_in_one_file_raises_omegaconfs_error(conf: Path):
    write(conf / "base", "parameters.yml", "depth: 2\ndepth: 3\n")
    error = read(FastConfigLoader, conf, "base", "parameters")
    assert "found duplicate key depth" in error[1]
    assert error == read(OmegaConfigLoader, conf, "base", "parameters")


def test_files_in_other_forms_read_as_omegaconf_reads_them(conf: Path):
    """Numbers in every YAML spelling, dates, anchors, escapes, empty and hidden files, JSON."""
    write(
        conf / "base",
        "parameters.yml",
        "lr: 1e-3\nwd: 1.0e-4\nn: 1_000\nhexa: 0x1F\nratio: .5\nbig: 6.02E+23\ninf: .inf\n"
        "neg: -3\nsexa: 1:30\nflag: yes\nday: 2024-01-02\nquoted: '1e-3'\nnothing: null\ntilde: ~\n"
        "_hidden_template: &defaults {width: 3, act: relu}\n"
        "net: {<<: *defaults, width: 4}\nother: *defaults\nlist_of: [{a: 1}, [2, 3], '']\n"
        "unicode: héllo\nempty_map: {}\n",
    )
    write(conf / "base", "parameters_empty.yml", "")
    write(conf / "base", ".parameters_hidden.yml", "hidden_key: 1\n")
    write(conf / "base", "catalog.json", '{"t": {"type": "MemoryDataset", "n": 1e3}, "_anchor": 1}')
    write(conf / "local", "parameters.yml", "net: {width: 8}\nother: {act: tanh}\nlist_of: [9]\n")
    write(conf / "local", "catalog.yml", "t: {n: 2}\nu: {type: MemoryDataset}\n")
    assert_same_everywhere(conf, {"net": {"depth": 1}, "lr": 0.1})


def test_interpolation_falls_back_to_omegaconf_for_the_whole_key(conf: Path):
    write(conf / "base", "globals.yml", "root: data\n")
    write(conf / "base", "parameters.yml", "path: ${globals:root}/x\nsize: 3\nescaped: '\\${not}'\n")
    write(conf / "base", "parameters_b.yml", "seed: ${runtime_params:seed, 7}\ncopy: ${size}\n")
    write(conf / "local", "parameters.yml", "size: 4\nmissing: '???'\n")
    write(conf / "local", "catalog.yml", "t: {type: MemoryDataset, path: '${globals:root}'}\n")
    assert_same_everywhere(conf, {"seed": 11})
    assert loader(FastConfigLoader, conf, "local", {"seed": 11})["parameters"]["path"] == "data/x"


@pytest.mark.parametrize("strategy", ["soft", "destructive", "nonsense"])
def test_each_merge_strategy_merges_environments_as_omegaconf_does(tmp_path: Path, strategy: str):
    conf = tmp_path / "conf"
    write(conf / "base", "parameters.yml", "model: {depth: 2, width: 3}\nkeep: 1\n")
    write(conf / "local", "parameters.yml", "model: {depth: 5}\n")
    args = {**CONFIG_LOADER_ARGS, "merge_strategy": {"parameters": strategy}}
    results = [
        read_with(cls, conf, args) for cls in (OmegaConfigLoader, FastConfigLoader)
    ]  # the nonsense strategy's error names the accepted ones
    assert same(results[1], results[0])


def read_with(cls: type, conf: Path, args: dict) -> Any:
    """The parameters of ``local`` through a loader built with ``args``, or its error."""
    try:
        return cls(conf_source=str(conf), env="local", **args)["parameters"]
    except Exception as exc:
        return (type(exc), str(exc))


def test_a_missing_environment_folder_raises_kedros_error(conf: Path):
    shutil.rmtree(conf / "local")
    write(conf / "base", "parameters.yml", "a: 1\n")
    error = read(FastConfigLoader, conf, "local", "parameters")
    assert "does not exist" in error[1]
    assert error == read(OmegaConfigLoader, conf, "local", "parameters")


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.5, "x", "", "1e-3"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=12,
)
PLAIN_DICTS = st.dictionaries(st.sampled_from("abc"), PLAIN, max_size=3)


@settings(max_examples=300, deadline=None)
@given(PLAIN_DICTS, PLAIN_DICTS)
def test_merging_plain_dicts_gives_omegaconfs_merge_or_defers_to_it(target: dict, source: dict):
    try:
        expected = OmegaConf.to_container(OmegaConf.unsafe_merge(target, source), resolve=True)
    except Exception:
        with pytest.raises(NeedsOmegaConfError):
            merge_into(deepcopy(target), deepcopy(source))
        return
    try:
        merged = merge_into(deepcopy(target), deepcopy(source))
    except NeedsOmegaConfError:
        return  # deferring is always allowed
    assert same(merged, expected)
