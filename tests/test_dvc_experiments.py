"""DVC experiments: `dvc exp run -S`, the queue, `dvc exp show / diff` and `dvc plots diff` on smoke.

One project copy (its own git repository) records every pipeline's stages from the session's
shared smoke runs (their outputs copied in, then ``dvc commit``, as a plain ``kedro run`` records
them: no training for the baseline), and all is committed. Every experiment then changes the
CNN's learning rate and re-runs its training stage only, so ``dvc exp show`` has every stage's
metrics in every row: the CNN's from the experiment, the others' carried from the baseline.
"""

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from tests.helpers import command_output
from tests.test_dvc import changed_stages, fresh_clone, in_kedro_env

STAGE = "cnn_train"
METRICS = "data/08_reporting/cnn/metrics.json"
CURVES = "data/08_reporting/cnn/curves.csv"
PARAMS_FILE = "conf/base/parameters_cnn.yml"
LEARNING_RATE = "cnn.training.train.learning_rate"
QUEUED_RATES = {"lr-0.001": 0.001, "lr-0.03": 0.03}
EXPERIMENTS = ("lr-0.01", *QUEUED_RATES)
"""Every experiment's name: one run at once, then the queued ones."""
QUEUE_TIMEOUT_SECONDS = 600
RECORDED_PIPELINES = ("mlp", "cnn", "sequence", "generative")
"""Pipelines whose stages the baseline records from the shared smoke runs instead of re-running them."""
OUTPUT_KINDS = ("outs", "metrics", "plots")
"""Where a ``dvc.yaml`` stage lists what it writes."""


def dvc_yaml(project: Path) -> dict:
    """``project``'s ``dvc.yaml``."""
    return yaml.safe_load((project / "dvc.yaml").read_text())


def declared_metrics(project: Path) -> list[str]:
    """The metrics files ``dvc.yaml`` declares at the top level: every stage's, read by ``dvc exp``."""
    return dvc_yaml(project)["metrics"]


def parameter_files(project: Path) -> set[str]:
    """Every parameters file a stage of ``dvc.yaml`` reads."""
    return {
        path
        for stage in dvc_yaml(project)["stages"].values()
        for entry in stage.get("params", [])
        for path in (entry if isinstance(entry, dict) else {entry: None})
    }


def stage_outputs(project: Path, stage: str) -> list[str]:
    """Every path ``stage`` writes (its outs, metrics and plots), as ``dvc.yaml`` lists them."""
    declared = dvc_yaml(project)["stages"][stage]
    return [
        entry if isinstance(entry, str) else next(iter(entry))
        for kind in OUTPUT_KINDS
        for entry in declared.get(kind, [])
    ]


def copy_outputs(shared: Path, project: Path, stages: list[str]) -> None:
    """Copy what ``stages`` wrote in the project copy ``shared`` to the same paths in ``project``."""
    for stage in stages:
        for output in stage_outputs(project, stage):
            source, target = shared / output, project / output
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                shutil.copy2(source, target)


def pipeline_stages(pipeline: str) -> list[str]:
    """A pipeline's two stages: its data, then its training and reports."""
    return [f"{pipeline}_data", f"{pipeline}_train"]


def recorded_stages() -> list[str]:
    """The stages the baseline records from the shared smoke runs."""
    return [stage for pipeline in RECORDED_PIPELINES for stage in pipeline_stages(pipeline)]


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
def experiments(tmp_path_factory: pytest.TempPathFactory, smoke_run) -> Path:
    """A committed smoke baseline of every stage, one experiment run at once and two run by a queue of 2."""
    project = fresh_clone(tmp_path_factory.mktemp("experiments") / "clone")
    # The shared run of each pipeline is `kedro run --pipelines P` on the smoke env in a copy
    # of the same project: it writes what P's stages write, byte for byte (tests/test_dvc.py), and
    # `dvc commit` records its outputs as those stages' results, as `kedro run` itself does in a
    # git work tree (dlpipeline.dvc_sync). No training here.
    for pipeline in RECORDED_PIPELINES:
        copy_outputs(smoke_run(pipeline), project, pipeline_stages(pipeline))
    dvc(project, "commit", "--force", "--quiet", *recorded_stages())
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "baseline: every stage on smoke")
    dvc(project, "exp", "run", STAGE, "-n", "lr-0.01", "-S", learning_rate_option(0.01))
    for name, rate in QUEUED_RATES.items():
        dvc(project, "exp", "run", STAGE, "--queue", "-n", name, "-S", learning_rate_option(rate))
    dvc(project, "queue", "start", "-j", "2")
    wait_for_queue(project)
    return project


@pytest.fixture(scope="module")
def rows(experiments: Path) -> dict[str, dict]:
    """``dvc exp show``'s rows by name (the workspace, the baseline commit and every experiment)."""
    rows = {}
    for baseline in json.loads(dvc(experiments, "exp", "show", "--json")):
        rows[baseline.get("name") or baseline["rev"]] = baseline
        for experiment in baseline.get("experiments") or []:
            for rev in experiment["revs"]:
                rows[rev["name"]] = rev
    return rows


def test_dvc_takes_the_recorded_stages_as_run_so_nothing_of_them_would_rerun(experiments: Path):
    assert changed_stages(experiments) & {*recorded_stages(), STAGE} == set()


def test_the_metrics_and_curves_dvc_exp_compares_are_versioned_by_git(experiments: Path):
    expected = [*declared_metrics(experiments), CURVES]
    assert sorted(git(experiments, "ls-files", *expected).split()) == sorted(expected)


def leaves(tree: dict | float) -> list:
    """Every value at the end of a nested metrics dictionary."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    return [tree]


def test_dvc_exp_show_gives_every_row_every_stages_metrics_and_parameters_without_errors(
    experiments: Path, rows: dict
):
    assert {"workspace", *EXPERIMENTS} <= set(rows)
    assert len(declared_metrics(experiments)) == len(RECORDED_PIPELINES)
    for name, row in rows.items():
        assert row.get("error") is None, name
        data = row["data"]
        assert set(data["metrics"]) == set(declared_metrics(experiments)), name
        for path, metrics in data["metrics"].items():
            assert "error" not in metrics, (name, path, metrics)
            numbers = leaves(metrics["data"])
            assert numbers and all(isinstance(number, int | float) for number in numbers), (name, path)
        assert set(data["params"]) >= parameter_files(experiments), name
        for path, parameters in data["params"].items():
            assert "error" not in parameters and parameters["data"], (name, path)
        assert set(data["metrics"][METRICS]["data"]["test_accuracy"]) >= {"cnn", "mlp"}, name
        parameters = data["params"][PARAMS_FILE]["data"]
        assert parameters["cnn"]["training"]["train"]["learning_rate"] > 0, name
    for name, rate in {"lr-0.01": 0.01, **QUEUED_RATES}.items():
        assert rows[name]["data"]["params"][PARAMS_FILE]["data"]["cnn"]["training"]["train"][
            "learning_rate"
        ] == pytest.approx(rate)


def test_every_experiment_carries_the_stages_it_did_not_rerun_as_the_baseline_commit_has_them(
    experiments: Path, rows: dict
):
    (baseline,) = [row for name, row in rows.items() if name not in {"workspace", *EXPERIMENTS}]
    for name in EXPERIMENTS:
        for path in declared_metrics(experiments):
            if path != METRICS:
                assert rows[name]["data"]["metrics"][path] == baseline["data"]["metrics"][path], (name, path)


def test_the_queued_experiments_each_trained_to_their_own_metrics(rows: dict):
    accuracies = {
        name: rows[name]["data"]["metrics"][METRICS]["data"]["test_accuracy"] for name in QUEUED_RATES
    }
    assert accuracies["lr-0.001"] != accuracies["lr-0.03"]


def test_dvc_exp_diff_shows_the_changed_parameter_and_every_stages_metrics(experiments: Path):
    first, second = QUEUED_RATES
    difference = json.loads(dvc(experiments, "exp", "diff", first, second, "--json", "--all"))
    assert LEARNING_RATE in difference["params"][PARAMS_FILE]
    assert set(difference["metrics"]) == set(declared_metrics(experiments))
    for path, metrics in difference["metrics"].items():
        assert metrics and all("error" not in value for value in metrics.values()), path
    changed = {
        path
        for path, metrics in difference["metrics"].items()
        if any(v.get("diff") for v in metrics.values())
    }
    assert changed == {METRICS}  # only the CNN re-ran


def test_dvc_plots_diff_draws_the_per_epoch_curves_of_two_experiments(experiments: Path, tmp_path: Path):
    first, second = QUEUED_RATES
    plots = json.loads(dvc(experiments, "plots", "diff", first, second, "--json", "--split"))
    rendered = json.dumps(plots)
    assert CURVES in rendered
    for name in (first, second):
        assert name in rendered
    assert "val_loss" in rendered and "train_loss" in rendered
