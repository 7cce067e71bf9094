"""What the browser tests share: the system Chromium driven by Playwright, and servers to point it at.

Chromium is the Debian package ``chromium`` (Playwright's own browser download is not
reachable here), launched headless. Under ``CI=true`` a missing Chromium fails the test
(``.ci/run`` installs it); elsewhere the tests skip with a one-line reason. Every server
starts on a free 127.0.0.1 port in its own session and is stopped with its whole process
group (``kedro viz run`` and ``kedro mlflow ui`` serve from a child process).
"""

import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from playwright.sync_api import ConsoleMessage, Page, Request
from tests.helpers import project_env
from tests.team.servers import HOST, missing, start_in_background, stop, wait_until

SERVER_START_TIMEOUT_S = 240.0  # `mlflow ui` takes a minute to answer on a loaded 2-core machine
# Variables by which MLflow recognises a CI machine or a test, and then sends no telemetry by
# itself: a server started without them shows what a user's shell gets from the project.
CI_MARKERS = ("CI", "PYTEST_CURRENT_TEST", "GITHUB_ACTIONS", "GITLAB_CI", "JENKINS_URL", "BUILDKITE")
TELEMETRY_SWITCHES = ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")
# kedro-viz refuses ports above the registered range (49151); the system's free ports are often there.
REGISTERED_PORTS = range(20000, 49152)


def free_port() -> int:
    """A TCP port on 127.0.0.1 below 49152 that nothing listens on right now."""
    while True:
        port = random.choice(REGISTERED_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port


def chromium_executable() -> str:
    """The system Chromium; fails under CI and skips elsewhere when it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        missing("Chromium is not installed (apt-get install chromium; .ci/run does it as root)")
    return path


def user_shell_env(project: Path) -> dict[str, str]:
    """The environment of a user's shell in ``project``: no CI markers, telemetry or job-queue switch set."""
    env = project_env(project)
    for name in (*CI_MARKERS, *TELEMETRY_SWITCHES, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"):
        env.pop(name, None)
    return env


@dataclass
class Server:
    """A server the tests started: its URL and its process (the leader of its process group)."""

    url: str
    process: subprocess.Popen

    def child_environments(self) -> list[dict[str, str]]:
        """The environment each live process the leader started was given (Linux ``/proc``).

        The leader's own is left out: ``/proc`` shows it as it was at start, not as the
        process changed it before starting its children.
        """
        environments = []
        for raw in self._children_files("environ"):
            pairs = (item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
            environments.append(dict(pairs))
        return environments

    def child_commands(self) -> list[str]:
        """The command line of each live process the leader started, arguments joined by spaces."""
        lines = self._children_files("cmdline")
        return [raw.decode(errors="replace").replace("\0", " ").strip() for raw in lines]

    def _children_files(self, name: str) -> list[bytes]:
        """``/proc/<pid>/<name>`` of every live process in the leader's group but the leader."""
        contents = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if int(proc.name) == self.process.pid or os.getpgid(int(proc.name)) != self.process.pid:
                    continue
                contents.append((proc / name).read_bytes())
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
        return contents


def _answers(url: str) -> bool:
    """Whether an HTTP GET of ``url`` gets any answer below 500."""
    try:
        return requests.get(url, timeout=2).status_code < 500
    except requests.RequestException:
        return False


@contextmanager
def serve(command: list[str], cwd: Path, env: dict[str, str], ready_path: str, log: Path) -> Iterator[Server]:
    """Start ``command`` (which must listen on the port it was given), wait until ``ready_path`` answers."""
    port = int(command[-1])
    url = f"http://{HOST}:{port}"
    process = start_in_background(command, log, cwd=cwd, env=env)
    try:
        wait_until(
            lambda: _answers(url + ready_path), process, SERVER_START_TIMEOUT_S, " ".join(command[2:4]), log
        )
        yield Server(url, process)
    finally:
        stop(process)


def kedro_command(*args: str) -> list[str]:
    """``kedro <args> --port <free port>`` with this interpreter (the port comes last, for :func:`serve`)."""
    return [sys.executable, "-m", "kedro", *args, "--port", str(free_port())]


@dataclass
class Tab:
    """A page and what it reported: console errors and every URL it requested."""

    page: Page
    screenshots: Path
    console_errors: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def watch(self) -> "Tab":
        """Record console errors and requests from now on."""
        self.page.on("console", self._on_console)
        self.page.on("request", self._on_request)
        return self

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _on_request(self, request: Request) -> None:
        self.requested.append(request.url)

    def screenshot(self, name: str) -> Path:
        """Save what the page shows now as ``<name>.png`` in the test's folder."""
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=path)
        return path

    def hosts_contacted(self) -> set[str]:
        """The host names of every http(s) request the page made."""
        return {urlsplit(url).hostname or "" for url in self.requested if url.startswith("http")}


def image_loaded(page: Page, selector: str) -> bool:
    """Whether the first image matching ``selector`` finished loading with real pixels."""
    return page.locator(selector).first.evaluate("img => img.complete && img.naturalWidth > 0")
