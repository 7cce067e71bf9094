"""Up-front checks of ``kedro run``'s options, before any session or MLflow run exists.

A mistake is answered in a few lines before Kedro creates a session or kedro-mlflow opens a
run, so nothing is written and no MLflow run is left behind.

Each check raises :class:`RunOptionError` with what was wrong, what exists instead (the
closest match when there is one) and what to do; ``dlpipeline.cli`` prints it and exits.

An override (a ``--params`` key, or a key of the user's own ``conf/local`` parameter files)
must be read by the run, or it would be ignored without a word. What the run reads comes from
its nodes' ``params:`` inputs and the parameter types Kedro validates them as: a node reading
``params:a.b`` reads every key below ``a.b`` that its type declares (any key, if untyped).
Keys the configuration files interpolate (``${runtime_params:key}``, ``${key}``) are read too.
"""

import difflib
import importlib.resources
import inspect
import re
import sqlite3
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import click
import yaml
from kedro.pipeline import Pipeline
from kedro.validation import TypeExtractor
from omegaconf import OmegaConf
from pydantic import BaseModel

USAGE_ERROR = 2
DATA_ERROR = 65  # sysexits' EX_DATAERR: the MLflow store is damaged
STORE_BUSY = 75  # sysexits' EX_TEMPFAIL: the MLflow store is locked, try again later

SEQUENTIAL = "SequentialRunner"
REFUSED_RUNNERS = {
    "ParallelRunner": "MLflow's run and the models nodes hand on in memory do not cross processes",
    "ThreadRunner": "nodes training at once share torch's random state, so results would vary",
}

SQLITE_HEADER = b"SQLite format 3\x00"
MLFLOW_TABLES = frozenset({"experiments", "runs"})
MLFLOW_CONFIG_PATTERNS = {"mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"]}
STORE_LOCK_TIMEOUT_S = 10.0
MAX_LISTED = 8

PARAMS_PREFIX = "params:"
EVERY_PARAMETER = ""
"""The key a node reading the whole ``parameters`` dictionary reads: every key is below it."""
CONFIG_SUFFIXES = frozenset({".yml", ".yaml", ".json"})
CONFIG_REFERENCE = re.compile(r"\$\{\s*(?:runtime_params:\s*([\w.]+)\s*[,}]|([A-Za-z_][\w.]*)\s*\})")
"""``${runtime_params:key}`` (a ``--params`` key) or ``${key}`` (another parameter) in a config file."""


class RunOptionError(Exception):
    """A mistake on the command line (or in what it points to), told in a few lines."""

    def __init__(self, problem: str, hint: str = "", exit_code: int = USAGE_ERROR) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.exit_code = exit_code

    def lines(self) -> list[str]:
        """The message: the problem, then (if any) what exists and what to do."""
        return [self.problem, *([self.hint] if self.hint else [])]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name``: one that is ``name`` under a namespace, else the most alike."""
    choices = sorted(set(candidates))
    suffix_matches = [choice for choice in choices if choice.endswith(f".{name}")]
    matches = suffix_matches or difflib.get_close_matches(name, choices, n=1)
    return matches[0] if matches else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the candidate closest to ``name``, or ``""``."""
    match = closest(name, candidates)
    return f" Did you mean '{match}'?" if match else ""


def closest_key(key: str, candidates: Iterable[str]) -> str | None:
    """The dotted candidate closest to ``key``, compared below the longest prefix they share.

    Whole keys that share a long prefix look alike whatever follows it, so the keys under
    ``key``'s deepest known block are compared on what follows it first.
    """
    candidates = set(candidates)
    parts = key.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:depth]) + "."
        below = [candidate.removeprefix(prefix) for candidate in candidates if candidate.startswith(prefix)]
        if below:
            match = closest(key.removeprefix(prefix), below)
            return prefix + match if match else None
    return closest(key, candidates)


def listing(names: Iterable[str]) -> str:
    """Names as ``a, b, c``, shortened to the first few."""
    ordered = sorted(set(names))
    shown = ", ".join(ordered[:MAX_LISTED])
    return shown + (f", … ({len(ordered)} in all)" if len(ordered) > MAX_LISTED else "")


def check_runner(runner: str | None) -> None:
    """Only the sequential runner is accepted: the others do not give its results."""
    name = (runner or SEQUENTIAL).rsplit(".", 1)[-1]
    if name == SEQUENTIAL:
        return
    if name in REFUSED_RUNNERS:
        raise RunOptionError(
            f"--runner {name} is not supported: {REFUSED_RUNNERS[name]}. Leave --runner out ({SEQUENTIAL})."
        )
    raise RunOptionError(
        f"Unknown runner '{runner}'.{did_you_mean(name, [SEQUENTIAL, *REFUSED_RUNNERS])}",
        f"Leave --runner out: the default {SEQUENTIAL} is the one this project supports.",
    )


def check_env(env: str | None, conf_root: Path) -> None:
    """``env`` names a folder of the configuration (``conf/<env>``)."""
    if env is None or not conf_root.is_dir() or (conf_root / env).is_dir():
        return
    environments = [path.name for path in conf_root.iterdir() if path.is_dir() and path.name != "base"]
    folder = f"{conf_root.name}/{env}"
    raise RunOptionError(
        f"Unknown environment '{env}': there is no folder {folder}.{did_you_mean(env, environments)}",
        f"Environments: {listing(environments)}. Create {conf_root.name}/{env}/ to add one.",
    )


def pipeline_folders(package: str) -> list[str]:
    """The pipelines Kedro's ``find_pipelines`` registers for ``package``, found without importing them.

    Each is a folder of ``<package>/pipelines``; importing them all (torch, the node modules)
    would cost a run of one pipeline about a second.
    """
    folders = importlib.resources.files(f"{package}.pipelines").iterdir()
    return sorted(
        folder.name
        for folder in folders
        if folder.is_dir() and folder.name != "__pycache__" and not folder.name.startswith(".")
    )


def check_pipelines(requested: Iterable[str], available: Iterable[str]) -> None:
    """Every requested pipeline is one of the ``available`` ones (or ``__default__``, all of them)."""
    available = sorted(available)
    for name in requested:
        if name != "__default__" and name not in available:
            raise RunOptionError(
                f"Unknown pipeline '{name}'.{did_you_mean(name, available)}",
                f"Pipelines: {listing(available)} (leave --pipelines out to run them all).",
            )


def _check_names(option: str, kind: str, given: Iterable[str], existing: set[str], described: str) -> None:
    """Every name ``given`` to ``option`` is one of the ``existing`` names of this ``kind``."""
    for name in given:
        if name not in existing:
            listed = listing(existing) if len(existing) <= MAX_LISTED else f"{described} lists them"
            raise RunOptionError(
                f"{option}: no {kind} '{name}' in the selected pipelines.{did_you_mean(name, existing)}",
                f"{kind.capitalize()}s: {listed}.",
            )


def check_filters(pipeline: Pipeline, pipeline_names: list[str], options: Mapping[str, Any]) -> None:
    """Tags, node names, namespaces and dataset names exist in ``pipeline``, and select a node."""
    selected = pipeline_names or ["__default__"]
    described = " ".join(f"`kedro registry describe {name}`" for name in selected)
    catalogued = f"`kedro catalog describe-datasets --pipeline {','.join(selected)}`"
    node_names = {node.name for node in pipeline.nodes}
    tags = set().union(*(node.tags for node in pipeline.nodes))
    namespaces = {
        ".".join(parts[:depth])
        for node in pipeline.nodes
        if node.namespace
        for parts in [node.namespace.split(".")]
        for depth in range(1, len(parts) + 1)
    }
    datasets = set(pipeline.datasets())
    checked = [
        ("--tags", "tag", "tags", tags),
        ("--nodes", "node", "node_names", node_names),
        ("--from-nodes", "node", "from_nodes", node_names),
        ("--to-nodes", "node", "to_nodes", node_names),
        ("--namespaces", "namespace", "namespaces", namespaces),
        ("--from-inputs", "dataset", "from_inputs", datasets),
        ("--to-outputs", "dataset", "to_outputs", datasets),
    ]
    for option, kind, key, existing in checked:
        lister = catalogued if kind == "dataset" else described
        _check_names(option, kind, options.get(key) or (), existing, lister)
    try:
        pipeline.filter(
            tags=options.get("tags"),
            from_nodes=options.get("from_nodes"),
            to_nodes=options.get("to_nodes"),
            node_names=options.get("node_names"),
            from_inputs=options.get("from_inputs"),
            to_outputs=options.get("to_outputs"),
            node_namespaces=options.get("namespaces"),
        )
    except ValueError as error:
        raise RunOptionError(
            "Nothing to run: no node passes all the given filters together.",
            f"Each name exists, but they select different nodes; {described} shows which.",
        ) from error


def flat_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of the leaves of a nested mapping: ``{"a": {"b": 1}}`` → ``["a.b"]``."""
    keys = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        keys += flat_keys(value, f"{path}.") if isinstance(value, Mapping) and value else [path]
    return keys


def parameters_read(pipeline: Pipeline) -> dict[str, Any]:
    """The parameter keys ``pipeline``'s nodes read, each with the type Kedro validates it as (else ``None``).

    A node input ``params:a.b`` reads ``a.b``; one reading ``parameters`` reads every key
    (:data:`EVERY_PARAMETER`).
    """
    inputs = {name for node in pipeline.nodes for name in node.inputs}
    annotations = TypeExtractor({"selected": pipeline}).extract_types_from_pipelines()
    read = {
        key: annotations.get(key)
        for name in inputs
        if name.startswith(PARAMS_PREFIX)
        for key in [name.removeprefix(PARAMS_PREFIX)]
    }
    return {**read, EVERY_PARAMETER: None} if "parameters" in inputs else read


def configuration_references(folders: Iterable[Path]) -> dict[str, None]:
    """Keys the configuration files in ``folders`` read: ``${runtime_params:key}`` and ``${key}``."""
    files = [
        path for folder in folders if folder.is_dir() for path in _config_files(folder.rglob("*"), folder)
    ]
    return {
        runtime or parameter: None
        for path in files
        for runtime, parameter in CONFIG_REFERENCE.findall(path.read_text(encoding="utf-8"))
    }


def strict_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model behind ``annotation`` (``M`` or ``M | None``) if it refuses undeclared keys.

    A model that rewrites its input before validating it (a ``before`` or ``wrap`` model
    validator) may take other keys, so it is not one.
    """
    if get_origin(annotation) in (Union, types.UnionType):
        members = [member for member in get_args(annotation) if member is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if not (inspect.isclass(annotation) and issubclass(annotation, BaseModel)):
        return None
    validators = annotation.__pydantic_decorators__.model_validators.values()
    rewrites_input = any(validator.info.mode in ("before", "wrap") for validator in validators)
    return None if rewrites_input or annotation.model_config.get("extra") != "forbid" else annotation


def declared_keys(model: type[BaseModel]) -> dict[str, Any]:
    """The keys ``model`` takes (its fields' names and aliases), each with its field's type."""
    return {
        key: field.annotation
        for name, field in model.model_fields.items()
        for key in (name, field.alias, field.validation_alias)
        if isinstance(key, str)
    }


def takes(annotation: Any, parts: Sequence[str]) -> bool:
    """Whether a block typed ``annotation`` takes the key ``parts`` below it (an untyped one takes any)."""
    model = strict_model(annotation)
    if model is None or not parts:
        return True
    declared = declared_keys(model)
    return parts[0] in declared and takes(declared[parts[0]], parts[1:])


def is_read(key: str, read: Mapping[str, Any]) -> bool:
    """Whether a node reads ``key``: the key, a key inside it, or a block holding it whose type takes it."""
    return any(
        block in (EVERY_PARAMETER, key)
        or block.startswith(f"{key}.")
        or (key.startswith(f"{block}.") and takes(annotation, key.removeprefix(f"{block}.").split(".")))
        for block, annotation in read.items()
    )


def keys_read(parameters: Mapping[str, Any], read: Mapping[str, Any]) -> list[str]:
    """Keys worth suggesting: the read ones among ``parameters``, and those the read blocks' types declare."""
    declared = [key for block, annotation in read.items() if block for key in _typed_keys(annotation, block)]
    return sorted({*declared, *(key for key in flat_keys(parameters) if is_read(key, read))})


def _typed_keys(annotation: Any, prefix: str) -> list[str]:
    """``prefix`` and the keys below it that a block typed ``annotation`` declares, down to their leaves."""
    model = strict_model(annotation)
    if model is None:
        return [prefix]
    return [
        key
        for name, field_type in declared_keys(model).items()
        for key in _typed_keys(field_type, f"{prefix}.{name}")
    ]


def unread_keys(overrides: Mapping[str, Any], read: Mapping[str, Any]) -> list[str]:
    """The keys ``overrides`` sets that no node of ``read`` reads (see :func:`is_read`).

    Top-level keys starting with ``_`` are the configuration's own: Kedro drops them from the
    parameters once they have been interpolated.
    """
    return [key for key in flat_keys(overrides) if not key.startswith("_") and not is_read(key, read)]


def pipelines_reading(key: str, readers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The pipelines among ``readers`` (the keys each reads) that read ``key``."""
    return sorted(name for name, read in readers.items() if is_read(key, read))


def check_overrides(
    source: str, unread: Sequence[str], valid: Iterable[str], readers: Mapping[str, Mapping[str, Any]]
) -> None:
    """No key is in ``unread`` (keys ``source`` sets that no node of the run reads): else name the first.

    Such a key would be ignored without a word. The answer says which of the pipelines not
    selected (``readers``: the keys each reads) reads it, or else the closest ``valid`` key.
    """
    if not unread:
        return
    key = unread[0]
    others = pipelines_reading(key, readers)
    if others:
        why = f" Pipeline {', '.join(repr(name) for name in others)} reads it: add it to --pipelines."
    else:
        match = closest_key(key, valid)
        why = f" Did you mean '{match}'?" if match else ""
    raise RunOptionError(
        f"{source} sets '{key}', which no node of the selected pipelines reads.{why}",
        f"No selected node reads {listing(unread[1:])} either." if len(unread) > 1 else "",
    )


def parameters_config(conf_root: Path, env: str | None, settings: Any) -> Mapping[str, Any]:
    """The parameters of ``conf/base`` merged with ``env``, without ``--params`` (empty if unreadable)."""
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(conf_root), env=env, **settings.CONFIG_LOADER_ARGS)
    try:
        return loader["parameters"]
    except Exception:  # Kedro reports a broken parameters file itself, naming it
        return {}


def own_parameter_files(conf_root: Path, env: str | None, settings: Any) -> dict[Path, Mapping[str, Any]]:
    """The user's own parameter files (``conf/local``'s, when the run reads them) and the keys each sets.

    Only the default run environment holds the user's own overrides; ``conf/base`` and the
    project's environments (``smoke``) set keys for every pipeline, read or not in this run.
    The files are read as written, before interpolation, as Kedro finds them.
    """
    own_env = settings.CONFIG_LOADER_ARGS.get("default_run_env", "local")
    folder = conf_root / own_env
    if (env or own_env) != own_env or not folder.is_dir():
        return {}
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(conf_root), **settings.CONFIG_LOADER_ARGS)
    matched = [
        path
        for pattern in loader.config_patterns["parameters"]
        for found in folder.glob(pattern)
        for path in (found.rglob("*") if found.is_dir() else [found])
    ]
    files = {}
    for path in sorted(set(_config_files(matched, folder))):
        try:
            content = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
        except yaml.YAMLError:  # Kedro names the file and the line itself
            continue
        if isinstance(content, Mapping):
            files[path] = content
    return files


def _config_files(paths: Iterable[Path], folder: Path) -> list[Path]:
    """The config files among ``paths`` as Kedro picks them: YAML or JSON, none hidden below ``folder``."""
    return [
        path
        for path in paths
        if path.is_file()
        and path.suffix in CONFIG_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def check_mlflow_store(database: Path) -> None:
    """``database`` is absent, empty, or an MLflow SQLite store that is not locked."""
    if not database.is_file() or database.stat().st_size == 0:
        return
    move_aside = (
        f"Move it aside (`mv {database.name} {database.name}.broken`) and run again: "
        "a new, empty store is created."
    )
    with database.open("rb") as file:
        header = file.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise RunOptionError(f"{database.name} is not an SQLite database.", move_aside, DATA_ERROR)
    try:
        with closing(sqlite3.connect(database, timeout=STORE_LOCK_TIMEOUT_S, isolation_level=None)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            (integrity,) = db.execute("PRAGMA quick_check(1)").fetchone()
            db.execute("BEGIN IMMEDIATE")  # waits up to the timeout for another writer
            db.execute("ROLLBACK")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise RunOptionError(
                f"{database.name} cannot be read: {error}.", move_aside, DATA_ERROR
            ) from error
        raise RunOptionError(
            f"{database.name} is locked: another program has held it for over {STORE_LOCK_TIMEOUT_S:.0f} s.",
            "Close it (an open `sqlite3` shell or a stuck process?) and run again.",
            STORE_BUSY,
        ) from error
    except sqlite3.DatabaseError as error:
        raise RunOptionError(f"{database.name} is damaged: {error}.", move_aside, DATA_ERROR) from error
    if integrity != "ok":
        raise RunOptionError(f"{database.name} is damaged: {integrity}.", move_aside, DATA_ERROR)
    if tables and not tables >= MLFLOW_TABLES:
        raise RunOptionError(
            f"{database.name} is an SQLite database but not an MLflow store (no runs table).",
            move_aside,
            DATA_ERROR,
        )


def mlflow_config(
    conf_root: Path, env: str | None, runtime_params: dict[str, Any] | None, settings: Any
) -> Mapping[str, Any]:
    """The project's ``mlflow.yml`` as kedro-mlflow will read it (empty if it cannot be read)."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf_root),
        env=env,
        runtime_params=runtime_params,
        **{**settings.CONFIG_LOADER_ARGS, "config_patterns": MLFLOW_CONFIG_PATTERNS},
    )
    try:
        return loader["mlflow"]
    except Exception:  # kedro-mlflow reports a bad mlflow.yml itself
        return {}


def sqlite_database(tracking_uri: str | None) -> Path | None:
    """The file behind a ``sqlite:///`` tracking URI, else ``None``."""
    prefix = "sqlite:///"
    if not tracking_uri or not tracking_uri.startswith(prefix):
        return None
    return Path(tracking_uri.removeprefix(prefix))


def friendlier_callback(callback: Callable[..., Any], example: str) -> Callable[..., Any]:
    """Wrap a Click option callback so that any error it raises becomes a short ``BadParameter``."""

    def checked(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        try:
            return callback(ctx, param, value)
        except click.UsageError as error:
            raise click.BadParameter(f"{error.message}\n{example}", ctx, param) from error
        except Exception as error:  # any parsing error, told in one line
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise click.BadParameter(
                f"{value!r} cannot be read ({first_line}).\n{example}", ctx, param
            ) from error

    return checked
