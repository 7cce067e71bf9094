"""``kedro run`` for dlpipeline: Kedro's own command, made safe to interrupt and kind to mistakes.

Kedro loads this module's ``cli`` group and lets its commands replace the built-in ones.
``run`` takes Kedro's options (plus ``--verbose``) and calls Kedro's command, and adds:

- a mistake on the command line (unknown pipeline, environment, tag, node, namespace or
  dataset, a runner that is not supported, a missing ``--conf-source``, malformed
  ``--params``, a ``--params`` key or a key of ``conf/local``'s parameter files that no node
  of the run reads) or an MLflow store that is damaged or locked is answered in a few lines,
  before Kedro creates a session: nothing is written and no MLflow run is opened
  (``dlpipeline.cli_checks``); exit status 2 (65 for a damaged store, 75 for a locked one);
- runs left ``RUNNING`` by a process of this machine that no longer exists (``kill -9``)
  are marked ``KILLED`` first, in one line (``dlpipeline.run_owner``);
- a wrong parameter (Kedro's validation, before any node runs) prints the key, the value
  and the rule in a few lines and exits with status 2;
- a missing, unreadable or invalid dataset file prints the file and what is wrong with it
  and exits with status 65 (nothing downstream of it was written);
- Ctrl-C or SIGTERM ends every open MLflow run as ``KILLED`` (never ``RUNNING`` forever)
  and exits with status 130;
- any other error is told in two lines and exits with status 1. ``--verbose`` (or
  ``DLPIPELINE_VERBOSE=1``) shows the full traceback instead.
"""

import copy
import os
import re
import signal
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.framework.project import PACKAGE_NAME, pipelines, settings
from kedro.io import DatasetError
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project
from kedro.validation.exceptions import ParameterValidationError
from mlflow.entities import RunStatus

from dlpipeline import cli_checks
from dlpipeline.cli_checks import RunOptionError
from dlpipeline.datasets import DataValidationError
from dlpipeline.run_owner import mark_stale_runs_killed
from dlpipeline.tracking import end_open_runs

USAGE_ERROR = cli_checks.USAGE_ERROR
DATA_ERROR = cli_checks.DATA_ERROR
INTERRUPTED = 130
FAILED = 1
VERBOSE_ENV = "DLPIPELINE_VERBOSE"
VERBOSE_HINT = f"For the full traceback, run again with --verbose (or {VERBOSE_ENV}=1)."

EXAMPLES = {
    "params": "Write key=value pairs separated by commas: --params mlp.sweep.n_seeds=5,mlp.data.name=moons",
    "runner_params": "Write key=value pairs separated by commas, e.g. --runner-params is_async=true",
    "load_versions": "Write dataset:version pairs separated by commas: --load-versions mlp.points:<version>",
    "config": "Pass a YAML file whose `run:` section holds kedro run's options, e.g. `pipelines: mlp`.",
    "conf_source": "Pass a configuration folder (one holding base/, like conf/), or leave the option out.",
}


def _run_options() -> list[click.Parameter]:
    """Kedro's ``run`` options, with short answers to malformed values, and ``--verbose``."""
    options: list[click.Parameter] = []
    for option in kedro_run.params:
        if option.name in EXAMPLES and option.callback is not None:
            option = copy.copy(option)  # noqa: PLW2901 - Kedro's own option stays untouched
            option.callback = cli_checks.friendlier_callback(option.callback, EXAMPLES[option.name])
        options.append(option)
    verbose = click.Option(["--verbose"], is_flag=True, help=f"Show full tracebacks (also: {VERBOSE_ENV}=1).")
    return [*options, verbose]


@click.group(name="dlpipeline")
def cli() -> None:
    """Project commands of dlpipeline."""


@cli.command(name="run", params=_run_options(), help=kedro_run.help, short_help=kedro_run.short_help)
@click.pass_context
def run(ctx: click.Context, verbose: bool, **options: Any) -> None:
    """Kedro's ``run``, with up-front checks, clean errors and interruption handling."""
    verbose = verbose or os.environ.get(VERBOSE_ENV, "") not in ("", "0")
    try:
        _prepare(ctx, options)
    except RunOptionError as mistake:
        click.secho("\n".join(mistake.lines()), fg="red", err=True)
        ctx.exit(mistake.exit_code)
    except Exception as error:  # a pipeline that cannot be imported, an unreadable store, ...
        _fail(ctx, error, verbose)
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        ctx.invoke(kedro_run, **options)
    except ParameterValidationError as error:
        click.secho(_short_validation_message(error), fg="red", err=True)
        ctx.exit(USAGE_ERROR)
    except DatasetError as error:
        invalid = _data_validation_error(error)
        if invalid is None:
            _fail(ctx, error, verbose)
        click.secho(f"Invalid data: {invalid}", fg="red", err=True)
        click.secho(DATA_HINT, err=True)
        ctx.exit(DATA_ERROR)
    except KeyboardInterrupt:
        killed = end_open_runs(RunStatus.KILLED)
        click.secho(f"Interrupted: {killed} MLflow run(s) marked KILLED.", fg="yellow", err=True)
        ctx.exit(INTERRUPTED)
    except click.ClickException:
        raise  # already one line with its own exit status (e.g. the team server's refusal)
    except Exception as error:  # told in two lines; --verbose shows it all
        _fail(ctx, error, verbose)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


def _prepare(ctx: click.Context, options: dict[str, Any]) -> None:
    """Check the options before any session exists, then close the runs of dead processes."""
    project = ctx.obj.project_path if ctx.obj is not None else find_kedro_project(Path.cwd()) or Path.cwd()
    conf_root = Path(options["conf_source"] or project / settings.CONF_SOURCE)
    env = options["env"] or os.environ.get("KEDRO_ENV")
    cli_checks.check_runner(options["runner"])
    cli_checks.check_env(env, conf_root)
    if options["pipeline"] and options["pipelines"]:
        raise RunOptionError("--pipeline and --pipelines cannot be used together.", "Use --pipelines only.")
    names = [options["pipeline"]] if options["pipeline"] else list(options["pipelines"])
    cli_checks.check_pipelines(names, cli_checks.pipeline_folders(PACKAGE_NAME))
    pipelines.set_requested(names or None)  # as `kedro run` will: only the requested ones are imported
    selected = sum((pipelines[name] for name in names or ["__default__"]), Pipeline([]))
    cli_checks.check_filters(selected, names, options)
    if not conf_root.is_dir():
        return  # an archive or a remote configuration: Kedro and kedro-mlflow read it
    _check_overrides(conf_root, env, options["params"] or {}, names, selected)
    mlflow_yml = cli_checks.mlflow_config(conf_root, env, options["params"], settings)
    tracking_uri = mlflow_yml.get("server", {}).get("mlflow_tracking_uri")
    database = cli_checks.sqlite_database(tracking_uri)
    if database is None:
        return
    cli_checks.check_mlflow_store(database)
    experiment = mlflow_yml.get("tracking", {}).get("experiment", {}).get("name") or "dlpipeline"
    killed = mark_stale_runs_killed(database, tracking_uri, experiment)
    if killed:
        click.secho(
            f"Marked {len(killed)} MLflow run(s) KILLED: left RUNNING by a process of this machine that "
            f"no longer exists ({', '.join(run[:8] for run in killed)}).",
            fg="yellow",
            err=True,
        )


def _check_overrides(
    conf_root: Path, env: str | None, params: dict[str, Any], names: list[str], selected: Pipeline
) -> None:
    """Every ``--params`` key, and every key of the user's own parameter files, is read by a node of the run.

    The user's files hold keys for every pipeline: a key another pipeline reads waits for a
    run that selects it. A ``--params`` key is for this run only: this run would ignore it.
    """
    own_files = cli_checks.own_parameter_files(conf_root, env, settings)
    if not params and not own_files:
        return
    base_env = settings.CONFIG_LOADER_ARGS.get("base_env", "base")
    run_env = env or settings.CONFIG_LOADER_ARGS.get("default_run_env", "local")
    read = {
        **cli_checks.configuration_references([conf_root / base_env, conf_root / run_env]),
        **cli_checks.parameters_read(selected),
    }
    unread_params = cli_checks.unread_keys(params, read)
    unread_own = {
        path.relative_to(conf_root.parent).as_posix(): cli_checks.unread_keys(overrides, read)
        for path, overrides in own_files.items()
    }
    if not unread_params and not any(unread_own.values()):
        return
    readers = {
        name: cli_checks.parameters_read(other) for name, other in _pipelines_not_selected(names).items()
    }
    read_anywhere = {
        key: annotation for other in readers.values() for key, annotation in other.items()
    } | read
    valid = cli_checks.keys_read(cli_checks.parameters_config(conf_root, env, settings), read_anywhere)
    cli_checks.check_overrides("--params", unread_params, valid, readers)
    for source, keys in unread_own.items():
        unread_anywhere = [key for key in keys if not cli_checks.pipelines_reading(key, readers)]
        cli_checks.check_overrides(source, unread_anywhere, valid, readers)


def _pipelines_not_selected(names: list[str]) -> dict[str, Pipeline]:
    """The registered pipelines this run leaves out (imported only when an unread key needs them)."""
    if not names or "__default__" in names:
        return {}
    pipelines.set_requested(None)
    try:
        return {name: pipelines[name] for name in pipelines if name not in {*names, "__default__"}}
    finally:
        pipelines.set_requested(names)


def _fail(ctx: click.Context, error: Exception, verbose: bool) -> NoReturn:
    """Report an unexpected error in two lines (or re-raise it with ``verbose``), exit 1."""
    if verbose:
        raise error
    end_open_runs(RunStatus.FAILED)
    click.secho(f"kedro run failed: {type(error).__name__}: {_summary(error)}", fg="red", err=True)
    click.secho(f"Any MLflow run it opened is marked FAILED. {VERBOSE_HINT}", err=True)
    ctx.exit(FAILED)


def _summary(error: Exception) -> str:
    """The first line of the error's message (with the next one when it ends with a colon)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        return f"{lines[0]} {lines[1]}"
    return lines[0] if lines else ""


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """Turn SIGTERM into the same clean stop as Ctrl-C."""
    del signum, frame
    raise KeyboardInterrupt


DATA_HINT = "Nothing that depends on it was written. Regenerate it: `kedro run --tags data` or `dvc repro`."


def _data_validation_error(error: BaseException) -> DataValidationError | None:
    """The :class:`DataValidationError` behind ``error``, if a bad dataset file caused it."""
    while error is not None and not isinstance(error, DataValidationError):
        error = error.__cause__ or error.__context__
    return error


def _short_validation_message(error: ParameterValidationError) -> str:
    """Kedro's validation report, one line per mistake: the full key, what is wrong, what was given."""
    lines = [line for line in str(error).splitlines() if "errors.pydantic.dev" not in line]
    return "\n".join(["Invalid parameters (nothing was run):", *one_line_per_mistake(lines[1:])])


_KEDRO_HEADER = re.compile(
    r"^- Parameter '(?P<key>[^']+)': Failed to instantiate \w+ for parameter '[^']+': "
    r"\d+ validation errors? for \w+$"
)
_PYDANTIC_MESSAGE = re.compile(
    r"^ {2}(?:Value error, )?(?P<message>.*?)"
    r"(?: \[type=[^,\]]+(?:, input_value=(?P<given>.*?))?(?:, input_type=\w+)?\])?$"
)


def one_line_per_mistake(lines: list[str]) -> list[str]:
    """Kedro's per-parameter header and pydantic's location and message lines, folded into one line each.

    ``- Parameter 'cnn.search': Failed to instantiate …`` then ``space.lr.log-float`` then
    ``  Value error, log-float needs low > 0, got -1.0 [type=…]`` becomes
    ``- cnn.search.space.lr.log-float: log-float needs low > 0, got -1.0``. Lines of any other
    shape are kept as they are.
    """
    folded, key, location = [], None, None
    for line in lines:
        if header := _KEDRO_HEADER.match(line):
            key, location = header["key"], None
        elif key is not None and location is None and line and not line.startswith((" ", "- ")):
            location = line.strip()
        elif key is not None and (message := _PYDANTIC_MESSAGE.match(line)):
            given = message["given"]
            shown = f" (given: {given})" if given and not given.startswith("{") else ""
            where = f"{key}.{location}" if location else key  # a whole-block check names no field
            folded.append(f"- {where}: {message['message']}{shown}")
            location = None
        else:
            key, location = None, None
            folded.append(line)
    return folded
