"""`kedro run --pipelines report` end to end on the smoke environment, in a copy of the project."""

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
from kedro.framework.project import pipelines as registered
from tests.helpers import kedro_cli, registered_pipelines, run_session

from dlpipeline.pipelines.report.claims import VERDICTS
from dlpipeline.pipelines.report.pipeline import discovered_evidence

PAGE = "data/08_reporting/index.html"
TRACKED = (PAGE, "data/08_reporting/report/verdicts.csv")


def verdicts(html: str) -> dict[str, str]:
    """Each claim section's verdict, by claim id."""
    return dict(re.findall(r'<section id="([^"]+)" data-verdict="([^"]+)"', html))


def logged_artifacts(project: Path) -> list[str]:
    """Paths of every artifact under the store's parent runs (file store layout of mlflow.db runs)."""
    with sqlite3.connect(project / "mlflow.db") as connection:
        roots = [uri for (uri,) in connection.execute("SELECT artifact_uri FROM runs")]
    return [
        str(path.relative_to(root))
        for uri in roots
        if (root := Path(uri.removeprefix("file://"))).is_dir()
        for path in root.rglob("*.*")
    ]


def test_the_report_runs_before_any_experiment_and_says_what_to_run(project_copy: Path):
    result = kedro_cli("run", "--pipelines", "report", "--env", "smoke", cwd=project_copy)
    assert result.returncode == 0, result.stderr[-3000:]
    html = (project_copy / PAGE).read_text()
    assert len(verdicts(html)) >= 15
    assert set(verdicts(html).values()) == {"not run yet"}
    for pipeline in ("mlp", "cnn", "sequence", "generative"):
        assert f"<code>kedro run --pipelines {pipeline}</code>" in html
    assert "WARNING" not in result.stdout + result.stderr


def test_after_an_experiment_its_claims_get_verdicts_and_embedded_figures_logged_on_the_parent(
    mlp_and_report_run: Path,
):
    html = (mlp_and_report_run / PAGE).read_text()
    by_claim = verdicts(html)
    parameters = yaml.safe_load((mlp_and_report_run / "conf/base/parameters_mlp.yml").read_text())
    timings = set(discovered_evidence()["mlp"].timings)
    mlp_claims = [
        claim["id"]
        for claim in parameters["mlp"]["claims"]
        if claim["effect"]["condition"]["source"] not in timings  # claims about time: their own page
    ]
    # The smoke sweep trains only some widths: a claim about a width it lacks is "not measured".
    for claim in mlp_claims:
        assert by_claim[claim] in VERDICTS, claim
    judged = [claim for claim in mlp_claims if by_claim[claim] != "not measured"]
    assert len(judged) >= len(mlp_claims) / 2, by_claim
    assert by_claim["cnn-spatial-patterns"] == "not run yet"
    assert html.count('src="data:image/png;base64,') >= len(mlp_claims)
    assert not re.search(r'src="(?!data:)', html)
    assert "report/index.html" in logged_artifacts(mlp_and_report_run)
    assert "report/verdicts.csv" in logged_artifacts(mlp_and_report_run)


def test_in_a_whole_run_the_report_comes_after_everything_it_reads():
    registered_pipelines()
    order = [node.name for node in registered["__default__"].nodes]
    producers = {output: node.name for node in registered["__default__"].nodes for output in node.outputs}
    evaluation = order.index("report.evaluate_claims")
    read = [
        dataset
        for found in discovered_evidence().values()
        for dataset in (*found.tables.values(), *found.figures.values())
    ]
    for dataset in read:
        assert order.index(producers[dataset]) < evaluation, dataset


def tracked_outputs(project: Path) -> dict[str, bytes]:
    """The report's DVC-tracked files, byte for byte."""
    return {name: (project / name).read_bytes() for name in TRACKED}


def slow_down_every_timing(project: Path) -> int:
    """Double every number in the timing files (``data/09_timings``); how many files changed."""
    changed = 0
    for path in (project / "data/09_timings").rglob("*"):
        if path.suffix in {".csv", ".json"}:
            text = path.read_text()
            doubled = re.sub(r"\d+\.\d+", lambda number: repr(2 * float(number.group())), text)
            changed += doubled != text
            path.write_text(doubled)
    return changed


def test_the_tracked_report_is_the_same_on_a_rerun_and_whatever_the_timings(
    mlp_and_report_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    project = Path(shutil.copytree(mlp_and_report_run, tmp_path / "project", symlinks=True))
    monkeypatch.chdir(project)
    first = tracked_outputs(project)

    run_session(project, pipeline_names=["report"])
    assert tracked_outputs(project) == first

    assert slow_down_every_timing(project) > 0
    run_session(project, pipeline_names=["report"])
    assert tracked_outputs(project) == first
