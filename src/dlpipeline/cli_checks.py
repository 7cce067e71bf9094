"""Up-front checks of ``kedro run``'s options, before any session or MLflow run exists.

A mistake is answered in a few lines before Kedro creates a session or kedro-mlflow opens a
run, so nothing is written and no MLflow run is left behind.

Each check raises :class:`RunOptionError` with what was wrong, what exists instead (the
closest match when there is one) and what to do; ``dlpipeline.cli`` prints it and exits.
"""

import difflib
import importlib.resources
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import click
from kedro.pipeline import Pipeline

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


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the candidate closest to ``name``, or ``""``."""
    choices = sorted(set(candidates))
    suffix_matches = [choice for choice in choices if choice.endswith(f".{name}")]
    matches = suffix_matches or difflib.get_close_matches(name, choices, n=1)
    return f" Did you mean '{matches[0]}'?" if matches else ""


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


def parameters_read(pipeline: Pipeline) -> set[str]:
    """The parameter keys ``pipeline``'s nodes read (``params:a.b`` reads ``a.b`` and all below it)."""
    inputs = {name for node in pipeline.nodes for name in node.inputs}
    if "parameters" in inputs:
        return {""}  # a node reading every parameter reads them all
    return {name.removeprefix("params:") for name in inputs if name.startswith("params:")}


def is_read(key: str, read: set[str]) -> bool:
    """Whether a node reads ``key``: it reads the key itself, a block holding it, or a key inside it."""
    return any(
        not prefix or key == prefix or key.startswith(f"{prefix}.") or prefix.startswith(f"{key}.")
        for prefix in read
    )


def check_overrides(source: str, overrides: Mapping[str, Any], read: set[str], known: Iterable[str]) -> None:
    """Every key ``overrides`` sets (from ``source``) is one that a node of ``read`` reads.

    A key no node reads would be ignored without a word (a typo, or a block of a pipeline not
    selected); the error names it and the closest key that is read, among ``known`` ones. A
    key inside a block that a node reads is that block's typed parameters' to judge: they
    refuse unknown keys, naming them, before any node runs.
    """
    unread = [key for key in flat_keys(overrides) if not is_read(key, read)]
    if unread:
        candidates = [key for key in known if is_read(key, read)]
        matches = difflib.get_close_matches(unread[0], candidates, n=1, cutoff=0.6)
        closest = f" The closest key that is read: '{matches[0]}'." if matches else ""
        raise RunOptionError(
            f"{source} sets '{unread[0]}', which no node of the selected pipelines reads.{closest}",
            "Fix the key, or select the pipeline that reads it (`kedro registry describe <name>` "
            "lists what each node reads).",
        )


def local_parameters(conf_root: Path, env: str | None, settings: Any) -> Mapping[str, Any]:
    """The parameters the user's own run environment (``conf/local``) sets, before merging."""
    if env not in (None, "local") or not (conf_root / "local").is_dir():
        return {}
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf_root), **{**settings.CONFIG_LOADER_ARGS, "base_env": "local"}
    )
    return loader["parameters"]


def parameter_keys(conf_root: Path, env: str | None, settings: Any) -> list[str]:
    """Every parameter key of ``conf/base`` merged with ``env``: the keys an override may set."""
    loader = settings.CONFIG_LOADER_CLASS(conf_source=str(conf_root), env=env, **settings.CONFIG_LOADER_ARGS)
    return flat_keys(loader["parameters"])


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
