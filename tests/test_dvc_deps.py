"""DVC stages declare what they really depend on: derived from the code and the catalog, not remembered.

A stage ``kedro run --pipelines P --tags T`` runs the nodes of pipeline ``P`` tagged ``T``. It
depends on the project modules that define those nodes' functions and everything they import
within ``dlpipeline`` (read from the source, transitively), the project modules of the
dataset classes they read and write, the pipeline's wiring, the catalog files that declare
those datasets, the parameter keys the nodes take, and the files they read that the stage
does not write itself. Its file outputs must be declared as ``outs``, ``metrics`` or ``plots``.
When this test fails, its message lists exactly what to add to ``dvc.yaml``.
"""

import ast
import functools
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.framework.project import pipelines as registered
from kedro.pipeline import Pipeline
from tests.helpers import PROJECT_ROOT, registered_pipelines

SOURCE_ROOT = PROJECT_ROOT / "src"
PACKAGE = "dlpipeline"
CONF = PROJECT_ROOT / "conf/base"
UNTRACKED = "data/09_timings/"
"""Clock readings (timings measured for claims about time, and the page that judges them): DVC tracks
none of them by design, so a stage neither depends on them nor declares them."""


@dataclass(frozen=True)
class Stage:
    """One ``dvc.yaml`` stage that runs a Kedro pipeline."""

    name: str
    pipeline: str
    tags: tuple[str, ...]
    deps: tuple[str, ...]
    params: dict[str, tuple[str, ...]]
    outputs: tuple[str, ...]


def kedro_stages() -> list[Stage]:
    """Every stage of ``dvc.yaml`` whose command is ``kedro run --pipelines P [--tags T]``."""
    stages = yaml.safe_load((PROJECT_ROOT / "dvc.yaml").read_text())["stages"]
    found = []
    for name, stage in stages.items():
        words = shlex.split(stage["cmd"])
        if words[:2] != ["kedro", "run"]:
            continue
        options = dict(zip(words[2::2], words[3::2], strict=False))
        found.append(
            Stage(
                name=name,
                pipeline=options["--pipelines"],
                tags=tuple(options["--tags"].split(",")) if "--tags" in options else (),
                deps=tuple(stage.get("deps", [])),
                params=_declared_params(stage.get("params", [])),
                outputs=tuple(
                    _paths(stage.get("outs", []))
                    + _paths(stage.get("metrics", []))
                    + _paths(stage.get("plots", []))
                ),
            )
        )
    return found


def _declared_params(entries: list[Any]) -> dict[str, tuple[str, ...]]:
    """``params`` of a stage as file → keys (a bare key belongs to ``params.yaml``)."""
    declared: dict[str, list[str]] = {}
    for entry in entries:
        if isinstance(entry, str):
            declared.setdefault("params.yaml", []).append(entry)
        else:
            for file, keys in entry.items():
                declared.setdefault(file, []).extend(keys)
    return {file: tuple(keys) for file, keys in declared.items()}


def _paths(entries: list[Any]) -> list[str]:
    """The paths of ``outs`` / ``metrics`` / ``plots`` entries (plain strings or one-key mappings)."""
    return [entry if isinstance(entry, str) else next(iter(entry)) for entry in entries]


def covers(declared: tuple[str, ...], path: str) -> bool:
    """Whether ``path`` is one of ``declared`` or lies inside a declared folder."""
    return any(path == entry or path.startswith(entry.rstrip("/") + "/") for entry in declared)


# --- the import graph within dlpipeline ---------------------------------------------------


def module_file(module: str) -> Path | None:
    """The source file of a ``dlpipeline`` module (``pkg/__init__.py`` for a package), if any."""
    base = SOURCE_ROOT / module.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def imported_modules(module: str) -> tuple[str, ...]:
    """The ``dlpipeline`` modules that ``module``'s source imports (at any depth in the file)."""
    return tuple(_imports_of(module))


def _imports_of(module: str) -> Iterator[str]:
    """The ``dlpipeline`` modules named by the import statements of ``module``'s source."""
    path = module_file(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for statement in ast.walk(ast.parse(path.read_text())):
        if isinstance(statement, ast.Import):
            yield from (alias.name for alias in statement.names if alias.name.startswith(PACKAGE))
        elif isinstance(statement, ast.ImportFrom):
            origin = _absolute(statement, package)
            if not origin.startswith(PACKAGE):
                continue
            for alias in statement.names:
                submodule = f"{origin}.{alias.name}"
                yield submodule if module_file(submodule) else origin


def _absolute(statement: ast.ImportFrom, package: str) -> str:
    """The absolute module name of a (possibly relative) ``from … import``."""
    if not statement.level:
        return statement.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - statement.level + 1])
    return f"{base}.{statement.module}" if statement.module else base


def import_closure(modules: set[str]) -> set[str]:
    """``modules`` and every ``dlpipeline`` module they import, transitively."""
    seen: set[str] = set()
    pending = [module for module in modules if module_file(module)]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(name for name in imported_modules(module) if module_file(name))
    return seen


def as_dep(module: str) -> str:
    """A module's source file relative to the project root, as ``dvc.yaml`` names it."""
    return str(module_file(module).relative_to(PROJECT_ROOT))


# --- what a stage's nodes use ----------------------------------------------------------------


def stage_nodes(stage: Stage) -> Pipeline:
    """The nodes the stage's command runs."""
    registered_pipelines()  # bootstraps the project so the registry is readable
    pipeline = registered[stage.pipeline]
    return pipeline.only_nodes_with_tags(*stage.tags) if stage.tags else pipeline


@functools.cache
def catalog_files() -> dict[Path, dict[str, Any]]:
    """Each ``conf/base/catalog*.yml`` with its entries (YAML anchors resolved)."""
    return {path: yaml.safe_load(path.read_text()) or {} for path in sorted(CONF.glob("catalog*.yml"))}


def catalog_entry(dataset: str) -> tuple[Path, dict[str, Any]] | None:
    """The catalog file and entry that declare ``dataset`` (by name, or by a ``{placeholder}`` pattern)."""
    for path, entries in catalog_files().items():
        for key, entry in entries.items():
            if key.startswith("_"):
                continue
            pattern = "^" + re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(key)) + "$"
            if key == dataset or re.match(pattern, dataset):
                return path, _resolved(entry, key, dataset)
    return None


def _resolved(entry: Any, key: str, dataset: str) -> Any:
    """``entry`` with a pattern's ``{placeholders}`` filled in from ``dataset``'s name."""
    names = re.findall(r"\{([^}]*)\}", key)
    if not names:
        return entry
    pattern = "^" + re.sub(r"\\\{[^}]*\\\}", "(.+?)", re.escape(key)) + "$"
    values = dict(zip(names, re.match(pattern, dataset).groups(), strict=True))
    text = yaml.safe_dump(entry)
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return yaml.safe_load(text)


def nested_values(entry: Any, key: str) -> Iterator[str]:
    """Every ``<key>:`` text in a catalog entry, nested datasets included (``type``, ``filepath``)."""
    if isinstance(entry, dict):
        if isinstance(entry.get(key), str):
            yield entry[key]
        for value in entry.values():
            yield from nested_values(value, key)


def parameter_file(key: str) -> Path | None:
    """The ``conf/base/parameters*.yml`` file that defines the top-level key of ``key``."""
    top = key.split(".", maxsplit=1)[0]
    return next((path for path, tops in parameter_tops().items() if top in tops), None)


@functools.cache
def parameter_tops() -> dict[Path, frozenset[str]]:
    """Each ``conf/base/parameters*.yml`` with the top-level keys it defines."""
    files = sorted(CONF.glob("parameters*.yml"))
    return {path: frozenset(yaml.safe_load(path.read_text()) or {}) for path in files}


@dataclass(frozen=True)
class Needs:
    """What a stage must declare."""

    deps: set[str]
    params: dict[str, set[str]]
    outputs: set[str]


def stage_needs(stage: Stage) -> Needs:
    """Derive a stage's deps, parameter keys and file outputs from its nodes and the catalog."""
    nodes = stage_nodes(stage).nodes
    modules = {_function_module(node.func) for node in nodes}
    produced = {name for node in nodes for name in node.outputs}
    deps: set[str] = {as_dep(f"{PACKAGE}.pipelines.{stage.pipeline}.pipeline")}
    params: dict[str, set[str]] = {}
    outputs: set[str] = set()
    for name in {name for node in nodes for name in (*node.inputs, *node.outputs)}:
        if name.startswith("params:"):
            key = name.removeprefix("params:")
            file = parameter_file(key)
            params.setdefault(str(file.relative_to(PROJECT_ROOT)) if file else "?", set()).add(key)
            continue
        found = catalog_entry(name)
        if found is None:
            continue  # a MemoryDataset by default: nothing on disk
        path, entry = found
        deps.add(str(path.relative_to(PROJECT_ROOT)))
        modules |= {
            kind.rpartition(".")[0] for kind in nested_values(entry, "type") if kind.startswith(PACKAGE)
        }
        for filepath in nested_values(entry, "filepath"):
            if not filepath.startswith(UNTRACKED):
                (outputs if name in produced else deps).add(filepath)
    deps |= {as_dep(module) for module in import_closure(modules)}
    return Needs(deps, params, outputs)


def _function_module(function: Any) -> str:
    """The module that defines a node's function (through ``functools.partial``)."""
    return getattr(function, "func", function).__module__


# --- the tests ------------------------------------------------------------------------------------

STAGES = kedro_stages()


def test_every_registered_pipeline_has_its_dvc_stages():
    assert {stage.pipeline for stage in STAGES} == set(registered_pipelines())


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.name)
def test_a_stage_depends_on_every_module_file_and_parameter_its_nodes_use(stage: Stage):
    needs = stage_needs(stage)
    missing_deps = sorted(dep for dep in needs.deps if not covers(stage.deps, dep))
    missing_params = {
        file: sorted(key for key in keys if not covers_key(stage.params.get(file, ()), key))
        for file, keys in needs.params.items()
    }
    missing_params = {file: keys for file, keys in missing_params.items() if keys}
    assert not missing_deps, f"dvc.yaml stage {stage.name}: add to deps: {missing_deps}"
    assert not missing_params, f"dvc.yaml stage {stage.name}: add to params: {missing_params}"


@pytest.mark.parametrize("stage", STAGES, ids=lambda stage: stage.name)
def test_a_stage_declares_every_file_its_nodes_write(stage: Stage):
    missing = sorted(path for path in stage_needs(stage).outputs if not covers(stage.outputs, path))
    assert not missing, f"dvc.yaml stage {stage.name}: add to outs, metrics or plots: {missing}"


def covers_key(declared: tuple[str, ...], key: str) -> bool:
    """Whether a declared parameter key is ``key`` or one of its parents."""
    return any(key == entry or key.startswith(entry + ".") for entry in declared)


def test_the_import_graph_follows_imports_transitively():
    closure = import_closure({"dlpipeline.datasets"})
    assert {"dlpipeline.datasets", "dlpipeline.schema", "dlpipeline.models.checkpoint"} <= closure


def test_the_sequence_training_stage_needs_the_data_modules_its_nodes_call():
    (stage,) = [stage for stage in STAGES if stage.name == "sequence_train"]
    needs = stage_needs(stage)
    assert {"src/dlpipeline/data/sequences.py", "src/dlpipeline/data/digits.py"} <= needs.deps
    assert "src/dlpipeline/training.py" in needs.deps
