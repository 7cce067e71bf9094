"""Keep DVC in step with ``kedro run``: a run that did exactly what a DVC stage does is recorded.

``dvc repro`` runs each stage as ``kedro run --pipelines P --tags T``. When a user runs the
same work with ``kedro run`` (all pipelines, ``--pipelines P``, or ``--tags T``), on the
configuration DVC uses and without overrides, its outputs are what the stage would have
written; :func:`record_in_dvc` then runs ``dvc commit`` for those stages, so ``dvc status``
is clean and ``dvc repro`` re-runs nothing. Any other run (other environment, ``--params``,
node filters) changes nothing in ``dvc.lock`` and says so in one line.
"""

import logging
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

DVC_STAGE_VARIABLE = "DVC_STAGE"
"""Set by ``dvc repro`` for the commands it runs: DVC then records the stage itself."""
DEFAULT_ENV = "local"
PARTIAL_RUN_OPTIONS = (
    "node_names",
    "from_nodes",
    "to_nodes",
    "from_inputs",
    "to_outputs",
    "namespaces",
    "only_missing_outputs",
)
COMMIT_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class KedroStage:
    """A ``dvc.yaml`` stage whose command is ``kedro run --pipelines P [--tags T]``."""

    name: str
    pipeline: str
    tags: frozenset[str]


def kedro_stages(dvc_yaml: Path) -> list[KedroStage]:
    """The stages of ``dvc_yaml`` that run a Kedro pipeline, in file order."""
    stages = (yaml.safe_load(dvc_yaml.read_text()) or {}).get("stages", {})
    found = []
    for name, stage in stages.items():
        words = shlex.split(str(stage.get("cmd", "")))
        if words[:2] != ["kedro", "run"]:
            continue
        options = dict(zip(words[2::2], words[3::2], strict=False))
        if "--pipelines" in options and set(options) <= {"--pipelines", "--tags"}:
            tags = frozenset(options["--tags"].split(",")) if "--tags" in options else frozenset()
            found.append(KedroStage(name, options["--pipelines"], tags))
    return found


def why_not_recorded(run_params: Mapping[str, Any], project: Path) -> str | None:
    """Why this run's outputs are not what a stage writes; ``None`` when they are."""
    env = run_params.get("env") or DEFAULT_ENV
    dvc_env = os.environ.get("KEDRO_ENV") or DEFAULT_ENV
    if env != dvc_env:
        return f"this run used --env {env}; `dvc repro` runs {dvc_env}"
    if run_params.get("runtime_params"):
        return "this run overrode parameters with --params"
    if any(run_params.get(option) for option in PARTIAL_RUN_OPTIONS):
        return "this run selected nodes, namespaces or datasets"
    if env == DEFAULT_ENV and any((project / "conf" / DEFAULT_ENV).glob("parameters*.yml")):
        return "conf/local overrides parameters that dvc.yaml reads from conf/base"
    return None


def stages_run_by(run_params: Mapping[str, Any], stages: Sequence[KedroStage]) -> list[str]:
    """The stages whose whole work this run did: their pipeline was run, with their tags."""
    pipelines = set(run_params.get("pipeline_names") or []) - {"__default__"}
    tags = frozenset(run_params.get("tags") or [])
    return [
        stage.name
        for stage in stages
        if (not pipelines or stage.pipeline in pipelines) and (not tags or tags == stage.tags)
    ]


def record_in_dvc(run_params: Mapping[str, Any]) -> None:
    """After a successful run: ``dvc commit`` the stages it reproduced, or say why not (one line)."""
    project = Path(run_params["project_path"])
    if os.environ.get(DVC_STAGE_VARIABLE) or not _is_dvc_project(project):
        return
    stages = stages_run_by(run_params, kedro_stages(project / "dvc.yaml"))
    if not stages:
        return
    reason = why_not_recorded(run_params, project)
    if reason is not None:
        logger.info("dvc.lock left as it was (%s): `dvc repro` brings DVC up to date", reason)
        return
    result = subprocess.run(
        ["dvc", "commit", "--force", "--quiet", *stages],
        cwd=project,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=COMMIT_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode == 0:
        logger.info("Recorded in dvc.lock: %s (`dvc status` is clean)", ", ".join(stages))
    else:
        first_line = (result.stderr.strip().splitlines() or ["no message"])[0]
        logger.warning("dvc.lock not updated (%s); `dvc repro` brings it up to date", first_line)


def _is_dvc_project(project: Path) -> bool:
    """Whether ``project`` has DVC stages in a git work tree (DVC needs one)."""
    return (project / "dvc.yaml").is_file() and (project / ".dvc").is_dir() and (project / ".git").exists()
