"""Helpers for the tests: copy the project, run Kedro in-process, run a command as a user would.

Nothing here writes into the real project's data/, mlflow.db or mlruns/: every run
happens inside a temporary copy, with the working directory switched to it.
"""

import contextlib
import importlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from kedro.framework.cli.cli import KedroCLI, _init_plugins
from kedro.framework.project import pipelines as registered
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.utils import find_kedro_project
from kedro.validation.exceptions import ParameterValidationError
from tests.process_state import process_state_kept

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SMOKE = "smoke"


def registered_pipelines() -> list[str]:
    """The pipelines the project registers (``kedro run --pipelines <name>``), without ``__default__``."""
    bootstrap_project(PROJECT_ROOT)
    return sorted(name for name in registered if name != "__default__")


PIPELINES = registered_pipelines()


def experiment_pipelines() -> list[str]:
    """The registered pipelines that train something (nodes tagged ``train``): not the report."""
    bootstrap_project(PROJECT_ROOT)
    return [name for name in PIPELINES if registered[name].only_nodes_with_tags("train").nodes]


EXPERIMENTS = experiment_pipelines()


def trust_cases(pipeline: str) -> ModuleType:
    """What a pipeline provides for the trust tests: ``tests/pipelines/<pipeline>/trust_cases.py``.

    It defines ``BAD_PARAMETERS`` (a list of ``(override, words the answer must contain)``) and
    ``ENDLESS_TRAINING`` (a ``--params`` override that keeps the first training node busy).
    """
    return importlib.import_module(f"tests.pipelines.{pipeline}.trust_cases")


def project_files() -> list[str]:
    """Files git would ship: tracked plus untracked-but-not-ignored (so uncommitted work is tested)."""
    listing = run_command(
        "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=PROJECT_ROOT, check=True
    ).stdout
    return [name for name in listing.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def copy_project(destination: Path) -> Path:
    """Copy the project's shipped files to ``destination`` and return it."""
    for name in project_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, target)
    return destination


def run_session(project_path: Path, env: str = SMOKE, hooks: tuple = (), **run_kwargs) -> dict:
    """Run a Kedro session in ``project_path`` (which must be the working directory).

    ``hooks`` are registered on top of the project's own (tests use them to inject failures).
    """
    bootstrap_project(project_path)
    runtime_params = run_kwargs.pop("runtime_params", None)
    with KedroSession.create(project_path=project_path, env=env, runtime_params=runtime_params) as session:
        for hook in hooks:
            session._hook_manager.register(hook)
        return session.run(**run_kwargs)


def assert_refused_before_any_node(project: Path, pipeline: str, override: dict, key: str, rule: str) -> None:
    """A run of ``pipeline`` in ``project`` with ``override`` over its parameters stops before any node.

    Kedro's parameter validation refuses it naming ``key`` (quoted) and ``rule``, and the first
    node's outputs (``data/01_raw/<pipeline>``) are never written.
    """
    with pytest.raises(ParameterValidationError) as error:
        run_session(project, pipeline_names=[pipeline], runtime_params={pipeline: override})
    message = str(error.value)
    assert f"'{key}'" in message, message
    assert rule in message, message
    assert not (project / "data/01_raw" / pipeline).exists(), f"{pipeline}'s data nodes ran"


def smoke_run_in_copy(destination: Path, pipeline: str) -> Path:
    """Copy the project to ``destination`` and run ``pipeline`` there on the smoke env, in-process."""
    copy = copy_project(destination)
    previous = Path.cwd()
    os.chdir(copy)
    try:
        run_session(copy, pipeline_names=[pipeline])
    finally:
        os.chdir(previous)
    return copy


def project_env(project: Path) -> dict[str, str]:
    """The environment of a process run in ``project``: its own ``src`` first on the import path.

    The test environment has this checkout installed in editable mode, so without this a copy
    would run the checkout's package instead of its own (which may differ, e.g. a new pipeline).
    """
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(project / "src"), os.environ.get("PYTHONPATH", "")]),
    }


def run_command(
    *command: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess:
    """Run ``command`` in ``cwd`` as a user would: a subprocess with no stdin, its output captured as text.

    ``env`` is the process's whole environment, by default ``project_env(cwd)``. With ``check`` a
    command that fails fails the test, showing the end of its output.
    """
    result = subprocess.run(
        command,
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=project_env(cwd) if env is None else env,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return result


def command_output(*command: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """What ``command`` printed (see ``run_command``); a command that fails fails the test."""
    return run_command(*command, cwd=cwd, env=env, check=True).stdout


def kedro_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``kedro`` as a user would (see ``run_command``), ``env`` set on top of ``project_env(cwd)``.

    A test about the answer to a command, not about a process, uses ``kedro_in_process``: the
    same command without the interpreter's start-up (several seconds of imports).
    """
    return run_command(sys.executable, "-m", "kedro", *args, cwd=cwd, env={**project_env(cwd), **(env or {})})


def uncaught(exception: BaseException) -> str:
    """What the interpreter prints on stderr for an exception no one caught (``sys.excepthook``)."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        sys.excepthook(type(exception), exception, exception.__traceback__)
    return printed.getvalue()


KEDRO_PROGRAM = "python -m kedro"  # the name ``python -m kedro`` gives itself in ``sys.argv[0]``


@dataclass(frozen=True)
class CommandAnswer:
    """What a command printed and its exit status: the fields of a finished subprocess the tests read."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def kedro_in_process(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> CommandAnswer:
    """Run ``kedro`` in ``cwd`` as ``kedro_cli`` does, but inside the test process: no interpreter start-up.

    ``python -m kedro`` does the same steps (plugins' init hooks, then Kedro's CLI for the project
    found from ``cwd``, whose ``run`` is the project's own), with ``env`` set on top of the test's
    environment and ``sys.argv`` as the command's. Output is captured at the file descriptors, so
    what C code or a child process writes is caught too; an exception no one caught is printed
    on stderr with exit status 1, as the interpreter would. Afterwards the process is as it was
    (``tests.process_state``).

    What stays a subprocess's to show: anything the interpreter does at start-up or exit
    (imports, and environment variables read then), and Python's warnings (here pytest collects
    them). The project imported is this checkout's: a copy whose ``src`` differs needs ``kedro_cli``.
    """
    with process_state_kept():
        os.chdir(cwd)
        os.environ.update(env or {})
        sys.argv[:] = [KEDRO_PROGRAM, *args]
        _init_plugins()
        command = KedroCLI(project_path=find_kedro_project(cwd) or cwd)
        result = CliRunner(capture="fd").invoke(command, args, prog_name=KEDRO_PROGRAM)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += uncaught(result.exception)
    return CommandAnswer(args=args, returncode=result.exit_code, stdout=result.stdout, stderr=stderr)
