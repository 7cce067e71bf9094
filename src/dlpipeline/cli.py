"""``kedro run`` for dlpipeline: Kedro's own command, made safe to interrupt and kind to mistakes.

Kedro loads this module's ``cli`` group and lets its commands replace the built-in ones.
``run`` takes exactly Kedro's options and calls Kedro's command, and adds:

- a wrong parameter (Kedro's validation, before any node runs) prints the key, the value
  and the rule in a few lines and exits with status 2, instead of a traceback;
- a missing, unreadable or invalid dataset file prints the file and what is wrong with it
  and exits with status 65 (nothing downstream of it was written);
- Ctrl-C or SIGTERM ends every open MLflow run as ``KILLED`` (never ``RUNNING`` forever)
  and exits with status 130.
"""

import signal
from types import FrameType
from typing import Any, NoReturn

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError
from kedro.validation.exceptions import ParameterValidationError
from mlflow.entities import RunStatus

from dlpipeline.datasets import DataValidationError
from dlpipeline.tracking import end_open_runs

USAGE_ERROR = 2
DATA_ERROR = 65  # sysexits' EX_DATAERR
INTERRUPTED = 130


@click.group(name="dlpipeline")
def cli() -> None:
    """Project commands of dlpipeline."""


@cli.command(name="run", params=kedro_run.params, help=kedro_run.help, short_help=kedro_run.short_help)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Kedro's ``run``, with clean parameter errors and interruption handling."""
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        ctx.invoke(kedro_run, **options)
    except ParameterValidationError as error:
        click.secho(_short_validation_message(error), fg="red", err=True)
        ctx.exit(USAGE_ERROR)
    except DatasetError as error:
        invalid = _data_validation_error(error)
        if invalid is None:
            raise
        click.secho(f"Invalid data: {invalid}", fg="red", err=True)
        click.secho(DATA_HINT, err=True)
        ctx.exit(DATA_ERROR)
    except KeyboardInterrupt:
        killed = end_open_runs(RunStatus.KILLED)
        click.secho(f"Interrupted: {killed} MLflow run(s) marked KILLED.", fg="yellow", err=True)
        ctx.exit(INTERRUPTED)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)


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
    """Kedro's validation report without pydantic's documentation links."""
    lines = [line for line in str(error).splitlines() if "errors.pydantic.dev" not in line]
    return "\n".join(["Invalid parameters (nothing was run):", *lines[1:]])
