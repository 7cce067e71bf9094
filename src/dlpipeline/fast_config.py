"""Kedro's ``OmegaConfigLoader`` without OmegaConf for configuration that needs none of its features.

OmegaConf builds a node object per value and resolves each one, which costs every ``kedro run``
about a second of CPU for the project's few thousand lines of catalog and parameters. Most files
are plain YAML: no ``${...}`` interpolation, no ``???`` missing value, only dicts, lists and
scalars. For such a key (every file it reads), :class:`FastConfigLoader` parses the files with
PyYAML's C parser, using OmegaConf's own YAML rules (its float resolver, no timestamps, an error
on a key repeated in one mapping), and merges plain dicts the way OmegaConf merges them. Anything
else, including every error, goes through the parent's own code, so a key that uses
interpolation resolves as before and a broken file raises Kedro's own message naming it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from kedro.config import MissingConfigException, OmegaConfigLoader
from kedro.config.omegaconf_config import MergeStrategies
from omegaconf import OmegaConf

# Values OmegaConf stores as they are: anything else (dates, sets, bytes, paths) goes through it.
_PLAIN_SCALARS = (str, int, float, bool, type(None))
# What marks a string OmegaConf would not return as written: interpolation (escaped or not) and
# the missing-value marker, which a merge must not copy over a value.
_INTERPOLATION = "${"
_MISSING = "???"


class NeedsOmegaConfError(Exception):
    """A file or merge that only OmegaConf handles exactly; the loader falls back to the parent."""


# PyYAML's wheels carry libyaml; without it the pure-Python parser gives the same values, slower.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _OmegaConfYamlLoader(_SAFE_LOADER):
    """PyYAML's C parser with the rules of ``omegaconf._utils.get_yaml_loader``.

    OmegaConf reads ``1e-3`` as a float (YAML 1.1 wants a dot), keeps dates as strings and
    rejects a key written twice in one mapping; the constructors here are PyYAML's safe ones.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a plain key written twice (as OmegaConf's loader does)."""
        keys = set()
        for key_node, _ in node.value:
            if key_node.tag != yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG:
                continue
            if key_node.value in keys:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key_node.value}",
                    key_node.start_mark,
                )
            keys.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_OmegaConfYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        """^(?:
     [-+]?[0-9]+(?:_[0-9]+)*\\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+)
    |\\.[0-9]+(?:_[0-9]+)*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9]+(?:_[0-9]+)*(?::[0-5]?[0-9])+\\.[0-9_]*
    |[-+]?\\.(?:inf|Inf|INF)
    |\\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
_OmegaConfYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _OmegaConfYamlLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str) -> Any:
    """The Python value of a YAML (or JSON) document, read as ``OmegaConf.load`` reads it."""
    return yaml.load(text, Loader=_OmegaConfYamlLoader)


def plain_copy(value: Any) -> Any:
    """A fresh copy of ``value`` made of dicts with string keys, lists and plain scalars.

    The copy gives every YAML alias its own object, as OmegaConf does. Raises
    :class:`NeedsOmegaConfError` for anything OmegaConf would change or treat specially.
    """
    kind = type(value)
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str or _INTERPOLATION in key:
                raise NeedsOmegaConfError(f"key {key!r}")
            copied[key] = plain_copy(item)
        return copied
    if kind is list:
        return [plain_copy(item) for item in value]
    if kind is str:
        if _INTERPOLATION in value or value == _MISSING:
            raise NeedsOmegaConfError(f"value {value!r}")
        return value
    if kind in _PLAIN_SCALARS:
        return value
    raise NeedsOmegaConfError(f"value of type {kind.__name__}")


def plain_file_config(text: str) -> dict[str, Any]:
    """A file's configuration as a plain dict (an empty file is an empty dict)."""
    try:
        loaded = parse_yaml(text)
    except yaml.YAMLError as exc:  # the parent raises Kedro's message, naming the file
        raise NeedsOmegaConfError("YAML error") from exc
    if loaded is None:
        return {}
    if type(loaded) is not dict:
        raise NeedsOmegaConfError("top level is not a mapping")
    return plain_copy(loaded)


def merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> dict[str, Any]:
    """``source`` deep-merged into ``target`` (changed in place), as ``OmegaConf.unsafe_merge`` does.

    Dicts merge key by key; any other value replaces the one it lands on, a dict on a scalar
    and a scalar on a dict included. ``source``'s values are moved, not copied: pass fresh ones.
    OmegaConf refuses a dict merged with a list; that case raises :class:`NeedsOmegaConfError`.
    """
    for key, value in source.items():
        current = target.get(key)
        if type(current) is dict and type(value) is dict:
            merge_into(current, value)
        elif (type(current) is dict and type(value) is list) or (
            type(current) is list and type(value) is dict
        ):
            raise NeedsOmegaConfError(f"dict merged with list at {key!r}")
        else:
            target[key] = value
    return target


def merge_all(configs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several fresh configs merged in order into a new dict (their dicts are reused, not copied)."""
    merged: dict[str, Any] = {}
    for config in configs:
        merge_into(merged, config)
    return merged


def _leaf_keys(config: Mapping[str, Any], parent: str = "") -> set[str]:
    """Every dotted path to a non-dict value (Kedro's ``_get_all_keys``)."""
    keys: set[str] = set()
    for key, value in config.items():
        full_key = f"{parent}.{key}" if parent else key
        if isinstance(value, dict):
            keys |= _leaf_keys(value, full_key)
        else:
            keys.add(full_key)
    return keys


def has_duplicate_keys(key: str, config_per_file: Mapping[Path, Mapping[str, Any]]) -> bool:
    """Whether two files set the same key (every leaf for parameters, top-level keys otherwise).

    Keys starting with ``_`` may repeat, as in Kedro's own check.
    """
    seen: set[str] = set()
    for config in config_per_file.values():
        keys = _leaf_keys(config) if key == "parameters" else set(config)
        keys = {name for name in keys if not name.startswith("_")}
        if keys & seen:
            return True
        seen |= keys
    return False


class FastConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` that reads plain configuration without building OmegaConf nodes.

    A key is read fast when every one of its files is plain (see :func:`plain_copy`), no two
    files repeat a key, and the merge needs no OmegaConf rule; otherwise, and for every error,
    the parent reads the key, so the result and the messages are the parent's own.
    """

    def __getitem__(self, key: str) -> dict[str, Any]:
        """The ``key`` configuration of ``conf/base`` merged with the run environment."""
        if key in self or key not in self.config_patterns or self._protocol != "file":
            return super().__getitem__(key)  # a key set by hand, an unknown key, remote or archived conf
        # The parent re-registers this resolver on every read and drops it to read globals;
        # keep those side effects.
        self._register_runtime_params_resolver()
        if key == "globals":
            OmegaConf.clear_resolver("runtime_params")
        try:
            return self._read_plain(key)
        except NeedsOmegaConfError:
            return super().__getitem__(key)

    def _read_plain(self, key: str) -> dict[str, Any]:
        """The parent's ``_read_raw_config`` + ``_resolve_from_raw_config`` on plain dicts."""
        patterns = [*self.config_patterns[key]]
        processed_files: set[Path] = set()
        base_path = self._get_conf_env_path(self.base_env)
        base_config = self._merge_plain(key, self._read_plain_dir(base_path, patterns, key, processed_files))
        run_env = self.env or self.default_run_env
        if run_env == self.base_env:
            return base_config
        env_path = self._get_conf_env_path(run_env)
        env_config = self._merge_plain(key, self._read_plain_dir(env_path, patterns, key, processed_files))
        resulting_config = self._merge_plain_envs(base_config, env_config, key, env_path)
        if not processed_files and key != "globals":
            raise MissingConfigException(
                f"No files of YAML or JSON format found in {base_path} or {env_path} matching"
                f" the glob pattern(s): {[*self.config_patterns[key]]}"
            )
        return resulting_config

    def _read_plain_dir(
        self, conf_path: str, patterns: list[str], key: str, processed_files: set[Path]
    ) -> dict[Path, dict[str, Any]]:
        """The parent's ``_read_dir_configs``: the same files in the same order, read as plain dicts."""
        if not self._fs.isdir(Path(conf_path).as_posix()):
            raise NeedsOmegaConfError("missing directory")  # the parent raises MissingConfigException
        paths = []
        for pattern in patterns:
            for each in self._fs.glob(Path(f"{conf_path!s}/{pattern}").as_posix()):
                if not self.ignore_hidden or not self._is_hidden(each):
                    paths.append(Path(each))
        files = [path for path in set(paths) if self._is_valid_config_path(path)]
        config_per_file = {}
        for config_filepath in files:
            with self._fs.open(str(config_filepath.as_posix())) as open_config:
                text = open_config.read().decode("utf8")
            config_per_file[config_filepath] = plain_file_config(text)
            processed_files.add(config_filepath)
        if has_duplicate_keys(key, config_per_file):
            raise NeedsOmegaConfError("duplicate keys")  # the parent raises its message naming both files
        return config_per_file

    def _merge_plain(self, key: str, config_per_file: dict[Path, dict[str, Any]]) -> dict[str, Any]:
        """The parent's ``_merge_and_resolve`` for files that need no resolving."""
        if not config_per_file:
            return {}
        if key == "parameters":
            return merge_all([*config_per_file.values(), plain_copy(dict(self.runtime_params or {}))])
        if key == "catalog":
            self._runtime_params_hits = set()  # as the parent's catalog read leaves it
        merged = merge_all(config_per_file.values())
        return {name: value for name, value in merged.items() if not name.startswith("_")}

    def _merge_plain_envs(
        self, base_config: dict[str, Any], env_config: dict[str, Any], key: str, env_path: str
    ) -> dict[str, Any]:
        """The parent's ``_merge_configs`` (soft or destructive) on plain dicts."""
        strategy_name = self.merge_strategy.get(key, "destructive")
        try:
            strategy = MergeStrategies[strategy_name.upper()]
        except KeyError:
            raise NeedsOmegaConfError("unknown merge strategy") from None  # the parent names the choices
        if strategy is MergeStrategies.SOFT:
            return merge_into(base_config, env_config)
        return self._destructive_merge(base_config, env_config, env_path)  # plain dicts already
