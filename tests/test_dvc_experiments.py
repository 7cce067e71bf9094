"""DVC experiments: `dvc exp run -S`, the queue, `dvc exp show / diff` and `dvc plots diff` on smoke.

One project copy (its own git repository) reproduces the CNN's stages on smoke once and commits
them; every experiment then changes the CNN's learning rate and re-runs its training stage only.
"""

import json
import time
from pathlib import Path

import pytest
from tests.helpers import command_output
from tests.test_dvc import fresh_clone, in_kedro_env

STAGE = "cnn_train"
METRICS = "data/08_reporting/cnn/metrics.json"
CURVES = "data/08_reporting/cnn/curves.csv"
PARAMS_FILE = "conf/base/parameters_cnn.yml"
LEARNING_RATE = "cnn.training.train.learning_rate"
QUEUED_RATES = {"lr-0.001": 0.001, "lr-0.03": 0.03}
QUEUE_TIMEOUT_SECONDS = 600


def dvc(project: Path, *arguments: str) -> str:
    """What ``dvc <arguments>`` printed in ``project``, its stages run on the smoke environment."""
    return command_output("dvc", *arguments, cwd=project, env=in_kedro_env(project, "smoke"))


def git(project: Path, *arguments: str) -> str:
    """What ``git <arguments>`` printed in ``project``, as a user with a name would run it."""
    return command_output(
        "git", "-c", "user.name=test", "-c", "user.email=test@example.com", *arguments, cwd=project
    )


def learning_rate_option(rate: float) -> str:
    """``dvc exp run``'s ``-S`` value that sets the CNN's learning rate in the base parameters."""
    return f"{PARAMS_FILE}:{LEARNING_RATE}={rate}"


def wait_for_queue(project: Path) -> None:
    """Poll ``dvc queue status`` until no experiment is queued or running (failing after a timeout)."""
    deadline = time.monotonic() + QUEUE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        status = dvc(project, "queue", "status")
        if not any(word in status for word in ("Queued", "Running")):
            return
        time.sleep(2)
    pytest.fail(f"the DVC queue did not finish in {QUEUE_TIMEOUT_SECONDS} s:\n{status}")


@pytest.fixture(scope="module")
def experiments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed smoke reproduction, one experiment run at once and two run by a queue of 2 workers."""
    project = fresh_clone(tmp_path_factory.mktemp("experiments") / "clone")
    dvc(project, "repro", STAGE)
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "baseline: the CNN reproduced on smoke")
    dvc(project, "exp", "run", STAGE, "-n", "lr-0.01", "-S", learning_rate_option(0.01))
    for name, rate in QUEUED_RATES.items():
        dvc(project, "exp", "run", STAGE, "--queue", "-n", name, "-S", learning_rate_option(rate))
    dvc(project, "queue", "start", "-j", "2")
    wait_for_queue(project)
    return project


def shown_rows(project: Path) -> dict[str, dict]:
    """``dvc exp show``'s rows by name (the workspace, the baseline commit and every experiment)."""
    rows = {}
    for baseline in json.loads(dvc(project, "exp", "show", "--json")):
        rows[baseline.get("name") or baseline["rev"]] = baseline
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                rows[rev["name"]] = rev
    return rows


def test_the_metrics_and_curves_dvc_exp_compares_are_versioned_by_git(experiments: Path):
    tracked = git(experiments, "ls-files", METRICS, CURVES).split()
    assert sorted(tracked) == sorted([METRICS, CURVES])


def test_dvc_exp_show_gives_every_experiment_its_metrics_and_parameters_without_errors(experiments: Path):
    rows = shown_rows(experiments)
    assert {"workspace", "lr-0.01", *QUEUED_RATES} <= set(rows)
    for name, row in rows.items():
        assert row.get("error") is None, name
        data = row["data"]
        metrics = data["metrics"][METRICS]
        assert "error" not in metrics, (name, metrics)
        assert set(metrics["data"]["test_accuracy"]) >= {"cnn", "mlp"}, name
        parameters = data["params"][PARAMS_FILE]["data"]
        assert parameters["cnn"]["training"]["train"]["learning_rate"] > 0, name
    for name, rate in {"lr-0.01": 0.01, **QUEUED_RATES}.items():
        assert rows[name]["data"]["params"][PARAMS_FILE]["data"]["cnn"]["training"]["train"][
            "learning_rate"
        ] == pytest.approx(rate)


def test_the_queued_experiments_each_trained_to_their_own_metrics(experiments: Path):
    rows = shown_rows(experiments)
    accuracies = {
        name: rows[name]["data"]["metrics"][METRICS]["data"]["test_accuracy"] for name in QUEUED_RATES
    }
    assert accuracies["lr-0.001"] != accuracies["lr-0.03"]


def test_dvc_exp_diff_shows_the_changed_parameter_and_metrics(experiments: Path):
    first, second = QUEUED_RATES
    difference = json.loads(dvc(experiments, "exp", "diff", first, second, "--json"))
    assert LEARNING_RATE in difference["params"][PARAMS_FILE]
    assert difference["metrics"][METRICS]


def test_dvc_plots_diff_draws_the_per_epoch_curves_of_two_experiments(experiments: Path, tmp_path: Path):
    first, second = QUEUED_RATES
    plots = json.loads(dvc(experiments, "plots", "diff", first, second, "--json", "--split"))
    rendered = json.dumps(plots)
    assert CURVES in rendered
    for name in (first, second):
        assert name in rendered
    assert "val_loss" in rendered and "train_loss" in rendered
