"""What of the test process a ``kedro`` command run in it can change, taken and put back.

A command run in a process of its own changes nothing of the test's; one run in the test
process (``tests.helpers.kedro_in_process``) must leave behind no more: its working
directory, environment, ``sys.argv`` and ``sys.path``, signal handlers, exception and display
hooks, logging configuration, MLflow's tracking and registry URIs, active experiment and active
runs, and Kedro's project globals (``bootstrap_project`` configures them for the whole process).
"""

import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field, fields
from typing import Any

import kedro.framework.project as kedro_project
import mlflow
from mlflow.tracking import fluent
from mlflow.tracking._model_registry import utils as registry_utils
from mlflow.tracking._tracking_service import utils as tracking_utils

LoggerState = tuple[int, tuple[logging.Handler, ...], bool, bool]  # level, handlers, propagate, disabled
SIGNALS = sorted(set(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP})


@dataclass(frozen=True)
class ProcessState:
    """The parts of the process a ``kedro`` command may change; equal states mean nothing changed.

    Objects that are compared by identity (Kedro's settings and loaded pipelines) are held by
    their ``id`` next to a reference (not compared) that keeps the id from being reused.
    """

    cwd: str
    environ: dict[str, str]
    argv: tuple[str, ...]
    path: tuple[str, ...]
    signal_handlers: dict[int, Any]
    excepthook: Any
    displayhook: Any
    loggers: dict[str, LoggerState]
    logging_disabled: int
    tracking_uri: str | None
    registry_uri: str | None
    active_experiment: str | None
    active_runs: tuple[str, ...]
    kedro_package: str | None
    kedro_settings: int
    kedro_pipelines: tuple[str | None, bool, int, tuple[str, ...] | None]
    kedro_logging: dict[str, Any]
    held: tuple[Any, ...] = field(compare=False, repr=False)

    @classmethod
    def now(cls) -> "ProcessState":
        """The process as it is now."""
        settings = kedro_project.settings.__dict__.get("_wrapped")
        pipelines = kedro_project.pipelines
        requested = pipelines._requested_pipelines
        return cls(
            cwd=os.getcwd(),
            environ=dict(os.environ),
            argv=tuple(sys.argv),
            path=tuple(sys.path),
            signal_handlers={number: signal.getsignal(number) for number in SIGNALS},
            excepthook=sys.excepthook,
            displayhook=sys.displayhook,
            loggers=configured_loggers(),
            logging_disabled=logging.root.manager.disable,
            tracking_uri=tracking_utils._tracking_uri,
            registry_uri=registry_utils._registry_uri,
            active_experiment=fluent._active_experiment_id,
            active_runs=tuple(run.info.run_id for run in fluent._active_run_stack.get()),
            kedro_package=kedro_project.PACKAGE_NAME,
            kedro_settings=id(settings),
            kedro_pipelines=(
                pipelines._pipelines_module,
                pipelines._is_data_loaded,
                id(pipelines._content),
                None if requested is None else tuple(requested),
            ),
            kedro_logging=deepcopy(kedro_project.LOGGING.data),
            held=(settings, pipelines._content, list(fluent._active_run_stack.get())),
        )

    def differences(self, other: "ProcessState") -> list[str]:
        """The names of the parts that differ in ``other``."""
        return [
            part.name
            for part in fields(self)
            if part.compare and getattr(self, part.name) != getattr(other, part.name)
        ]

    def restore(self) -> None:
        """Put the process back as it was when this state was taken."""
        self._restore_mlflow()
        self._restore_kedro()
        self._restore_logging()
        for number, handler in self.signal_handlers.items():
            if handler is not None and signal.getsignal(number) is not handler:
                signal.signal(number, handler)
        sys.excepthook, sys.displayhook = self.excepthook, self.displayhook
        sys.argv[:] = self.argv
        sys.path[:] = self.path
        os.chdir(self.cwd)
        os.environ.clear()
        os.environ.update(self.environ)

    def _restore_mlflow(self) -> None:
        """End the runs left active (as the interpreter's exit would), then the URIs and experiment."""
        while len(fluent._active_run_stack.get()) > len(self.active_runs):
            mlflow.end_run()
        fluent._active_run_stack.set(list(self.held[2]))
        tracking_utils.set_tracking_uri(self.tracking_uri)
        registry_utils._registry_uri = self.registry_uri
        fluent._active_experiment_id = self.active_experiment

    def _restore_kedro(self) -> None:
        """Kedro's project globals: package name, settings, pipelines and logging configuration."""
        settings, content, _ = self.held
        kedro_project.PACKAGE_NAME = self.kedro_package
        if settings is not None:
            kedro_project.settings._wrapped = settings
        module, loaded, _, requested = self.kedro_pipelines
        pipelines = kedro_project.pipelines
        with pipelines._lock:
            pipelines._pipelines_module, pipelines._is_data_loaded = module, loaded
            pipelines._content = content
            pipelines._requested_pipelines = None if requested is None else list(requested)
        kedro_project.LOGGING.data = deepcopy(self.kedro_logging)

    def _restore_logging(self) -> None:
        """Every logger as it was; those configured since then go back to the defaults."""
        default: LoggerState = (logging.NOTSET, (), True, False)
        for name in configured_loggers().keys() - self.loggers.keys():
            set_logger(name, default)
        for name, state in self.loggers.items():
            set_logger(name, state)
        logging.disable(self.logging_disabled)


def configured_loggers() -> dict[str, LoggerState]:
    """Every logger (the root one too) whose level, handlers, propagation or switch is not the default."""
    named = {
        name: logger
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    states = {
        name: (logger.level, tuple(logger.handlers), logger.propagate, logger.disabled)
        for name, logger in {"": logging.root, **named}.items()
    }
    return {name: state for name, state in states.items() if state != (logging.NOTSET, (), True, False)}


def set_logger(name: str, state: LoggerState) -> None:
    """Give the logger ``name`` (``""``: the root one) ``state``."""
    level, handlers, propagate, disabled = state
    logger = logging.getLogger(name or None)
    logger.setLevel(level)
    logger.handlers[:] = handlers
    logger.propagate, logger.disabled = propagate, disabled


@contextmanager
def process_state_kept() -> Iterator[ProcessState]:
    """Run the block, then put the process back as it was before it (even when the block raises)."""
    before = ProcessState.now()
    try:
        yield before
    finally:
        before.restore()
