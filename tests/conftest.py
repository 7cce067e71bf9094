"""Shared fixtures: a throw-away copy of the project, a small network, one smoke run per pipeline,
the MLflow runs a module's project holds, the kedro-viz build, a Dask cluster."""

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from tests.helpers import PROJECT_ROOT, copy_project, kedro_cli, smoke_run_in_copy
from tests.scheduling import FileSeconds
from tests.shared_runs import built_once, session_folder
from tests.tracking import ExperimentRuns, experiment_runs, tracking_client, tracking_state

# Before any test module imports torch: dlpipeline sets the OpenMP wait policy torch reads once.
import dlpipeline  # noqa: F401
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.mlp import MLPEnsemble

os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config: pytest.Config) -> None:
    """Order the test files longest first (``tests/scheduling.py``)."""
    config.pluginmanager.register(FileSeconds(), "file-seconds")


@pytest.fixture(autouse=True)
def mlflow_left_off_the_project_store() -> Iterator[None]:
    """After every test, MLflow's tracking URI (set in this process, or exported to the processes
    it starts) is not the project's own store: later tests would write into the user's ``mlflow.db``."""
    yield
    for uri in tracking_state():
        assert uri is None or str(PROJECT_ROOT) not in uri, f"the test left MLflow tracking to {uri}"


MLFLOW_STORES = ("mlflow.db", "mlruns", "mlartifacts")
"""What MLflow writes at a working directory when no store or artifact root is given."""


def mlflow_stores_in(folder: Path) -> set[Path]:
    """The MLflow stores present in ``folder`` and its ``notebooks/``."""
    places = (folder, folder / "notebooks")
    return {place / store for place in places for store in MLFLOW_STORES if (place / store).exists()}


STORES_BEFORE = pytest.StashKey[set[Path]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Note the project's MLflow stores before the test's fixtures, module-scoped ones included, set up."""
    item.stash[STORES_BEFORE] = mlflow_stores_in(PROJECT_ROOT)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """Fail the test that made an MLflow store in the project: an experiment created without an
    artifact location keeps its artifacts in ``./mlruns`` of the working directory, the user's project."""
    result = yield
    made = mlflow_stores_in(PROJECT_ROOT) - item.stash.get(STORES_BEFORE, set())
    assert not made, f"the test made MLflow stores in the project: {sorted(map(str, made))}"
    return result


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the project; the test runs with it as working directory."""
    copy = copy_project(tmp_path / "project")
    monkeypatch.chdir(copy)
    return copy


@pytest.fixture
def network() -> TrainedModule:
    """An untrained one-member MLP (2 inputs, 3 hidden neurons, 1 output), for saving and loading."""
    return TrainedModule.build(
        MLPEnsemble,
        in_features=2,
        member_widths=[[3]],
        out_features=1,
        activation="relu",
        seeds=[0],
    )


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``smoke_run(name)``: a project copy where ``kedro run --pipelines <name> --env smoke`` ran.

    Each pipeline runs once per test session, shared by every test that reads its outputs, on
    every xdist worker: the first worker to ask runs it in a folder they all share (under a
    lock), the others wait for it and read the same copy. Tests must not write into it.
    """

    def run(pipeline: str) -> Path:
        folder = session_folder(tmp_path_factory) / f"smoke_{pipeline}"
        return built_once(folder, lambda built: smoke_run_in_copy(built / "project", pipeline)) / "project"

    return run


@pytest.fixture(scope="module")
def mlflow_client(project: Path) -> MlflowClient:
    """A client of the MLflow store in the module's ``project`` (a fixture each module defines)."""
    return tracking_client(project)


@pytest.fixture(scope="module")
def registry_client(project: Path) -> MlflowClient:
    """A client of the module's ``project`` store that reads and writes its model registry too."""
    uri = tracking_client(project).tracking_uri
    return MlflowClient(uri, registry_uri=uri)


@pytest.fixture(scope="module")
def runs(mlflow_client: MlflowClient) -> ExperimentRuns:
    """The parent and child runs in the module's ``project``."""
    return experiment_runs(mlflow_client)


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """The address of a Dask cluster on 127.0.0.1: two worker processes of one thread each.

    Closing it stops the scheduler and both workers with their processes.
    """
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="session")
def viz_graph(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What ``kedro viz build`` wrote for the project (``build/api/main``), built once per session."""

    def build(folder: Path) -> None:
        project = copy_project(folder / "project")
        result = kedro_cli("viz", "build", cwd=project)
        assert result.returncode == 0, result.stderr[-3000:]

    built = built_once(session_folder(tmp_path_factory) / "viz_build", build)
    return json.loads((built / "project/build/api/main").read_text())


@pytest.fixture(scope="session")
def mlp_and_report_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy where ``kedro run --pipelines mlp,report --env smoke`` ran, once per session.

    Shared like ``smoke_run`` (tests must not write into it): the report's checks and the browser
    that opens it read the same run.
    """

    def run(folder: Path) -> None:
        project = copy_project(folder / "project")
        result = kedro_cli("run", "--pipelines", "mlp,report", "--env", "smoke", cwd=project)
        assert result.returncode == 0, result.stderr[-3000:]

    return built_once(session_folder(tmp_path_factory) / "mlp_and_report_run", run) / "project"
