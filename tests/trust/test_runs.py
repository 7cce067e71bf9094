"""Trust, on every pipeline: user mistakes get a short answer, and a damaged input stops the run
before it touches anything downstream.

The other trust claims about runs have their own files: ``test_failures.py`` (a run that fails
midway; reproducible runs), ``test_interruptions.py`` (SIGTERM and Ctrl-C) and
``test_concurrent_runs.py`` (two runs against one MLflow store): scripts/test.sh hands out
whole files to its workers, and these take minutes each.

``kedro run`` answers inside the test process here (``kedro_in_process``): these answers need
no process of their own, and the interpreter's start-up would be most of their time.
"""

from pathlib import Path

import pytest
from tests.helpers import EXPERIMENTS, kedro_in_process, run_session, trust_cases
from tests.trust.runs import report_files, run_statuses, smoke_run

BAD_COMMAND_LINE_PARAMETERS = [
    (pipeline, override, names)
    for pipeline in EXPERIMENTS
    for override, names in trust_cases(pipeline).BAD_PARAMETERS
]


def test_every_pipeline_provides_bad_parameters_for_the_trust_tests():
    assert {pipeline for pipeline, _, _ in BAD_COMMAND_LINE_PARAMETERS} == set(EXPERIMENTS)


@pytest.mark.parametrize(("pipeline", "override", "names"), BAD_COMMAND_LINE_PARAMETERS)
def test_a_bad_parameter_on_the_command_line_gets_a_short_answer_and_no_run(
    project_copy: Path, pipeline: str, override: str, names: list[str]
):
    result = kedro_in_process(*smoke_run(pipeline), "--params", override, cwd=project_copy)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr
    for name in names:
        assert name in message
    assert len(message.strip().splitlines()) <= 8
    assert "RUNNING" not in run_statuses(project_copy)


def test_a_damaged_input_file_is_named_and_nothing_downstream_is_touched(project_copy: Path):
    run_session(project_copy, pipeline_names=["mlp"])
    reports = report_files(project_copy, "mlp")
    training_points = project_copy / "data/05_model_input/mlp/train.csv"
    training_points.write_bytes(training_points.read_bytes()[:500])
    result = kedro_in_process(*smoke_run("mlp"), "--tags", "train", cwd=project_copy)
    assert result.returncode == 65
    assert "Traceback" not in result.stderr
    assert "Invalid data: data/05_model_input/mlp/train.csv cannot be read" in result.stderr
    assert "the last row is cut short" in result.stderr
    assert report_files(project_copy, "mlp") == reports
    assert run_statuses(project_copy)[-1] == "FAILED"
