"""Every mistake a user can make with ``kedro run``'s options gets a short, clear answer.

Each answer: a non-zero exit status, a few lines, no traceback, what was wrong, what exists
instead (the closest match when there is one) and what to do. Nothing is written and no
MLflow run is left behind. ``--verbose`` (or ``DLPIPELINE_VERBOSE=1``) shows the traceback.

The answers come from ``kedro`` run inside the test process (``kedro_in_process``: the same
command without an interpreter's start-up, which leaves the process as it found it); a new
process answers where the test is about one (``kedro_cli``), each saying why.
"""

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from tests.helpers import PIPELINES, kedro_cli, kedro_in_process

MAX_LINES = 5  # Click's usage errors take 5: "Usage:", "Try ...", a blank line, the error, the hint


def written_files(project: Path) -> set[str]:
    """Everything a run could have written: data, the MLflow store and its artifacts."""
    places = [project / "data", project / "mlruns", project / "mlartifacts"]
    files = {
        str(path.relative_to(project)) for place in places for path in place.rglob("*") if path.is_file()
    }
    return files | {path.name for path in project.glob("mlflow.db*")}


def assert_short_answer(result, exit_code: int, *expected: str) -> None:
    """A few lines on stderr holding ``expected``, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == exit_code, output[-3000:]
    assert "Traceback" not in output
    lines = output.strip().splitlines()
    assert len(lines) <= MAX_LINES, output
    for text in expected:
        assert text in output, output


MISTAKES = {
    "a typo in a pipeline name": (
        ["--pipelines", "mlpp"],
        ["Unknown pipeline 'mlpp'", "Did you mean 'mlp'?", f"Pipelines: {', '.join(PIPELINES)}"],
    ),
    "a pipeline name given with the deprecated option": (
        ["--pipeline", "cn"],
        ["Unknown pipeline 'cn'", "Did you mean 'cnn'?"],
    ),
    "both pipeline options": (
        ["--pipeline", "mlp", "--pipelines", "cnn"],
        ["--pipeline and --pipelines cannot be used together"],
    ),
    "an environment that does not exist": (
        ["--pipelines", "mlp", "--env", "nosuchenv"],
        ["Unknown environment 'nosuchenv'", "no folder conf/nosuchenv", "Environments: local, smoke"],
    ),
    "a typo in an environment": (
        ["--pipelines", "mlp", "--env", "smok"],
        ["Unknown environment 'smok'", "Did you mean 'smoke'?"],
    ),
    "a typo in a tag": (
        ["--pipelines", "mlp", "--env", "smoke", "--tags", "trian"],
        ["--tags: no tag 'trian'", "Did you mean 'train'?", "Tags: data, timing, train"],
    ),
    "a node name that does not exist": (
        ["--env", "smoke", "--from-nodes", "nosuchnode"],
        ["--from-nodes: no node 'nosuchnode'", "`kedro registry describe __default__` lists them"],
    ),
    "a node name without its namespace": (
        ["--pipelines", "mlp", "--env", "smoke", "--nodes", "generate_points"],
        ["--nodes: no node 'generate_points'", "Did you mean 'mlp.generate_points'?"],
    ),
    "a typo in a node name": (
        ["--pipelines", "mlp", "--env", "smoke", "--to-nodes", "mlp.split_pionts"],
        ["--to-nodes: no node 'mlp.split_pionts'", "Did you mean 'mlp.split_points'?"],
    ),
    "a namespace that does not exist": (
        ["--env", "smoke", "--namespaces", "sequence.add"],
        ["--namespaces: no namespace 'sequence.add'", "Did you mean 'sequence.adding'?"],
    ),
    "a dataset that does not exist": (
        ["--pipelines", "mlp", "--env", "smoke", "--from-inputs", "mlp.train_point"],
        [
            "--from-inputs: no dataset 'mlp.train_point'",
            "Did you mean 'mlp.train_points'?",
            "kedro catalog describe-datasets",
        ],
    ),
    "filters that each exist but select nothing together": (
        ["--pipelines", "mlp", "--env", "smoke", "--tags", "data", "--nodes", "mlp.fit_torch_sweep"],
        ["Nothing to run", "`kedro registry describe mlp`"],
    ),
    "a runner that does not exist": (
        ["--pipelines", "mlp", "--env", "smoke", "--runner", "SequentalRunner"],
        ["Unknown runner 'SequentalRunner'", "Did you mean 'SequentialRunner'?"],
    ),
    "a configuration folder that does not exist": (
        ["--pipelines", "mlp", "--conf-source", "confs"],
        ["--conf-source", "Path 'confs' does not exist", "like conf/"],
    ),
    "a parameter without a value": (
        ["--pipelines", "mlp", "--env", "smoke", "--params", "mlp.data.noise"],
        ["--params", "must contain a key and a value", "--params mlp.sweep.n_seeds=5"],
    ),
    "a parameter value that cannot be parsed": (
        ["--pipelines", "mlp", "--env", "smoke", "--params", "mlp.sweep.hidden_neurons=[1"],
        ["--params", "'mlp.sweep.hidden_neurons=[1' cannot be read", "--params mlp.sweep.n_seeds=5"],
    ),
    "a typo in a parameter key": (
        ["--pipelines", "mlp", "--env", "smoke", "--params", "mlp.sweeep.n_seeds=3"],
        [
            "--params sets 'mlp.sweeep.n_seeds', which no node of the selected pipelines reads.",
            "Did you mean 'mlp.sweep.n_seeds'?",
        ],
    ),
    "a parameter key that no node reads": (
        ["--pipelines", "mlp", "--env", "smoke", "--params", "mlp.unused_block.value=1"],
        ["--params sets 'mlp.unused_block.value', which no node of the selected pipelines reads."],
    ),
    "a parameter of a pipeline that is not selected": (
        ["--pipelines", "mlp", "--env", "smoke", "--params", "cnn.training.augment=none"],
        ["--params sets 'cnn.training.augment'", "Pipeline 'cnn' reads it: add it to --pipelines."],
    ),
    "a load version without its dataset": (
        ["--pipelines", "mlp", "--env", "smoke", "--load-versions", "2024-01-01T00.00.00.000Z"],
        ["--load-versions", "cannot be read", "dataset:version pairs"],
    ),
}


# One mistake is answered by a new interpreter, as a user meets it: its start-up, imports and the
# warnings Python prints are part of the answer there.
IN_A_NEW_PROCESS = "a typo in a pipeline name"


@pytest.mark.parametrize(
    ("kedro", "arguments", "expected"),
    [(kedro_cli if name == IN_A_NEW_PROCESS else kedro_in_process, *case) for name, case in MISTAKES.items()],
    ids=MISTAKES.keys(),
)
def test_a_command_line_mistake_gets_a_short_answer_and_nothing_is_written(
    project_copy: Path, kedro: Callable, arguments: list[str], expected: list[str]
):
    before = written_files(project_copy)
    result = kedro("run", *arguments, cwd=project_copy)
    assert_short_answer(result, 2, *expected)
    assert written_files(project_copy) == before
    assert not (project_copy / "mlflow.db").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [("run:\n  pipelnes: mlp\n", "Key `pipelnes`"), ("run: [\n", "cannot be read")],
    ids=["an unknown option", "broken YAML"],
)
def test_a_bad_run_configuration_file_gets_a_short_answer(project_copy: Path, content: str, expected: str):
    (project_copy / "run.yml").write_text(content)
    result = kedro_in_process("run", "--config", "run.yml", cwd=project_copy)
    assert_short_answer(result, 2, "--config", expected, "`run:` section")
    assert not (project_copy / "mlflow.db").exists()


def real_mlflow_store(project: Path) -> Path:
    """An empty MLflow store (tables, default experiment) where the project keeps it."""
    from mlflow.tracking import MlflowClient

    database = project / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    return database


@pytest.mark.parametrize("runner", ["ParallelRunner", "ThreadRunner"])
def test_a_parallel_runner_is_refused_up_front_in_one_line(project_copy: Path, runner: str):
    result = kedro_in_process(
        "run", "--pipelines", "mlp", "--env", "smoke", "--runner", runner, cwd=project_copy
    )
    assert_short_answer(
        result, 2, f"--runner {runner} is not supported", "Leave --runner out (SequentialRunner)"
    )
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project_copy / "mlflow.db").exists()


def files_with_bytes(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` with its content."""
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_store_that_is_not_a_database_is_named_and_left_as_it_is(project_copy: Path):
    database = project_copy / "mlflow.db"
    database.write_bytes(b"these are not the runs you are looking for\n" * 100)
    data_before = files_with_bytes(project_copy / "data")  # the committed metrics and curves
    result = kedro_in_process("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy)
    assert_short_answer(result, 65, "mlflow.db is not an SQLite database", "mv mlflow.db mlflow.db.broken")
    assert database.read_bytes() == b"these are not the runs you are looking for\n" * 100
    assert files_with_bytes(project_copy / "data") == data_before


def test_a_damaged_store_is_named_and_left_as_it_is(project_copy: Path):
    database = real_mlflow_store(project_copy)
    damaged = database.read_bytes()[: database.stat().st_size // 2]
    database.write_bytes(damaged)
    result = kedro_in_process("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy)
    assert_short_answer(result, 65, "mlflow.db is damaged", "mv mlflow.db mlflow.db.broken")
    assert database.read_bytes() == damaged


def test_an_sqlite_database_that_is_not_an_mlflow_store_is_refused(project_copy: Path):
    with sqlite3.connect(project_copy / "mlflow.db") as connection:
        connection.execute("CREATE TABLE notes (text)")
    result = kedro_in_process("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy)
    assert_short_answer(result, 65, "mlflow.db is an SQLite database but not an MLflow store")
    with sqlite3.connect(project_copy / "mlflow.db") as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master")]
    assert tables == ["notes"]


def test_a_locked_store_is_named_with_what_to_do(project_copy: Path):
    database = real_mlflow_store(project_copy)
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        # A new process: the lock is another program's, as a user meets it. Within one process
        # SQLite tells its connections of each other's locks by itself, not through the file.
        result = kedro_cli("run", "--pipelines", "mlp", "--env", "smoke", cwd=project_copy)
    finally:
        holder.close()
    assert_short_answer(result, 75, "mlflow.db is locked", "Close it")
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)


BROKEN_CATALOG = "mlp.points:\n  type: nosuch.PointsDataset\n  filepath: data/01_raw/mlp/points.csv\n"


def test_an_unexpected_error_is_told_in_two_lines_and_verbose_shows_the_traceback(project_copy: Path):
    (project_copy / "conf/smoke/catalog.yml").write_text(BROKEN_CATALOG)
    arguments = ("run", "--pipelines", "mlp", "--env", "smoke")

    result = kedro_in_process(*arguments, cwd=project_copy)
    assert_short_answer(
        result, 1, "kedro run failed", "nosuch.PointsDataset", "--verbose", "DLPIPELINE_VERBOSE=1"
    )
    assert len(result.stderr.strip().splitlines()) == 2

    for verbose_arguments, env in [((*arguments, "--verbose"), {}), (arguments, {"DLPIPELINE_VERBOSE": "1"})]:
        result = kedro_in_process(*verbose_arguments, cwd=project_copy, env=env)
        assert result.returncode != 0
        assert "Traceback" in result.stdout + result.stderr


FIRST_NODE_ONLY = ("--to-nodes", "mlp.generate_points")  # should a check let a run through, it stays cheap


@pytest.mark.parametrize(
    ("content", "key", "closest"),
    [
        ("mlp:\n  sweeep:\n    n_seeds: 3\n", "mlp.sweeep.n_seeds", "mlp.sweep.n_seeds"),
        ("cnn:\n  training:\n    augmnt: none\n", "cnn.training.augmnt", "cnn.training.augment"),
    ],
    ids=["of a selected pipeline", "of a pipeline not selected"],
)
def test_a_local_parameter_that_no_node_reads_stops_the_run_before_any_work(
    project_copy: Path, content: str, key: str, closest: str
):
    (project_copy / "conf/local/parameters.yml").write_text(content)
    before = written_files(project_copy)
    result = kedro_in_process("run", "--pipelines", "mlp", *FIRST_NODE_ONLY, cwd=project_copy)
    assert_short_answer(result, 2, f"conf/local/parameters.yml sets '{key}'", f"Did you mean '{closest}'?")
    assert written_files(project_copy) == before


def test_overrides_that_nodes_read_run_and_a_local_file_of_another_pipeline_waits_for_its_run(
    project_copy: Path,
):
    (project_copy / "conf/local/parameters_mlp.yml").write_text("mlp:\n  data:\n    n_samples: 40\n")
    (project_copy / "conf/local/parameters_cnn.yml").write_text("cnn:\n  training:\n    augment: none\n")
    result = kedro_in_process(
        "run", "--pipelines", "mlp", "--params", "mlp.data.noise=0.2", *FIRST_NODE_ONLY, cwd=project_copy
    )
    assert result.returncode == 0, result.stderr[-3000:]
    points = pd.read_csv(project_copy / "data/01_raw/mlp/points.csv")
    assert len(points) == 40
