"""A wrong CNN parameter stops `kedro run` before any node runs; the shipped files cover every study."""

from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.helpers import PROJECT_ROOT, assert_refused_before_any_node

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.cnn.params import (
    Architecture,
    ExperimentParams,
    FeatureParams,
    ImageDataParams,
    ReportParams,
    TrainingParams,
)
from dlpipeline.pipelines.cnn.train import network_spec

BAD_PARAMETERS = [
    # (override under `cnn`, key the message must name, words the message must contain)
    ({"data": {"source": "mnist"}}, "cnn.data", "'digits' or 'idx'"),
    ({"data": {"source": "idx"}}, "cnn.data", "needs idx_files"),
    ({"data": {"idx_files": [{"images": "a"}]}}, "cnn.data", "labels"),
    ({"data": {"val_size": 0.5, "test_size": 0.5}}, "cnn.data", "sum < 1"),
    ({"data": {"max_samples": 5}}, "cnn.data", "greater than or equal to 30"),
    ({"experiments": {"baseline": {"pooling": "min"}}}, "cnn.experiments", "'max', 'avg' or 'none'"),
    ({"experiments": {"baseline": {"kernel_size": 4}}}, "cnn.experiments", "kernel_size must be odd"),
    ({"experiments": {"baseline": {"filters": []}}}, "cnn.experiments", "at least 1 item"),
    ({"experiments": {"configurations": {"x": {"dropout": 1.5}}}}, "cnn.experiments", "less than 1"),
    ({"experiments": {"configurations": {"x": {"filter": [8]}}}}, "cnn.experiments", "Extra inputs"),
    ({"experiments": {"featured": "cnn-large"}}, "cnn.experiments", "'cnn-large' is not one of"),
    ({"experiments": {"featured": "mlp"}}, "cnn.experiments", "must be a cnn"),
    ({"experiments": {"n_seeds": 0}}, "cnn.experiments", "greater than or equal to 1"),
    ({"experiments": {"n_seeds": 101}}, "cnn.experiments", "less than or equal to 100"),
    ({"training": {"augment": "flips"}}, "cnn.training", "'none' or 'shifts'"),
    ({"training": {"train": {"epochs": 0}}}, "cnn.training", "greater than or equal to 1"),
    ({"report": {"max_channels": 0}}, "cnn.report", "greater than or equal to 1"),
    ({"data": {"max_samples": 60, "val_size": 0.1}}, "cnn.data", "needs one image per class"),
    ({"data": {"random_state": -1}}, "cnn.data", "greater than or equal to 0"),
    ({"features": {"inverse_regularization": 0}}, "cnn.features", "greater than 0"),
    ({"features": {"orientations": 1}}, "cnn.features", "greater than or equal to 2"),
]


@pytest.mark.parametrize(("override", "key", "rule"), BAD_PARAMETERS)
def test_a_bad_parameter_stops_the_run_before_any_node(project_copy: Path, override, key, rule):
    assert_refused_before_any_node(project_copy, "cnn", override, key, rule)


def shipped(env: str) -> dict:
    """The ``cnn`` parameters as ``kedro run --env <env>`` reads them."""
    return load_parameters(env, PROJECT_ROOT)["cnn"]


@pytest.mark.parametrize("env", ["base", "smoke"])
def test_the_shipped_parameter_files_are_valid(env):
    parameters = shipped(env)
    ImageDataParams.model_validate(parameters["data"])
    ExperimentParams.model_validate(parameters["experiments"])
    TrainingParams.model_validate(parameters["training"])
    ReportParams.model_validate(parameters["report"])
    FeatureParams.model_validate(parameters["features"])


def test_the_base_experiments_cover_every_study_of_the_issue():
    parameters = shipped("base")
    data = ImageDataParams.model_validate(parameters["data"])
    experiments = ExperimentParams.model_validate(parameters["experiments"])
    architectures = experiments.architectures.values()
    assert data.source == "digits"
    assert experiments.n_seeds >= 5  # the claims' verdicts need at least 5 seeds
    assert {a.model for a in architectures} == {"cnn", "mlp"}  # CNN vs MLP
    assert {a.dropout > 0 for a in architectures if a.model == "cnn"} == {True, False}  # dropout on / off
    assert {a.pooling for a in architectures if a.model == "cnn"} == {"max", "avg", "none"}
    assert len({tuple(a.filters) for a in architectures if a.model == "cnn"}) >= 4  # a filters sweep


def test_the_mlp_baseline_has_the_parameter_count_of_the_featured_cnn():
    architectures = ExperimentParams.model_validate(shipped("base")["experiments"]).architectures
    cnn, mlp = (network_spec(architectures[name], (1, 8, 8), 10) for name in ("cnn", "mlp"))
    assert mlp.n_params == pytest.approx(cnn.n_params, rel=0.01)


def test_a_configuration_changes_only_the_keys_it_names():
    experiments = ExperimentParams(
        baseline=Architecture(filters=[8, 16], pooling="avg", dropout=0.3),
        configurations={"cnn": {}, "wide": {"filters": [32, 64]}, "mlp": {"model": "mlp", "dropout": 0.0}},
        n_seeds=2,
        first_seed=4,
    )
    assert experiments.architectures == {
        "cnn": Architecture(filters=[8, 16], pooling="avg", dropout=0.3),
        "wide": Architecture(filters=[32, 64], pooling="avg", dropout=0.3),
        "mlp": Architecture(model="mlp", filters=[8, 16], pooling="avg", dropout=0.0),
    }
    assert experiments.seeds == [4, 5]


def test_an_even_kernel_in_a_configuration_is_refused_when_the_parameters_are_read():
    with pytest.raises(ValidationError, match="kernel_size must be odd"):
        ExperimentParams(configurations={"cnn": {}, "k4": {"kernel_size": 4}})
