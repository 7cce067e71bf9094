"""A wrong parameter stops `kedro run` before any node runs, with a message naming the key."""

from pathlib import Path

import pytest
from tests.helpers import PROJECT_ROOT, assert_refused_before_any_node

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.mlp.params import (
    SklearnParams,
    SweepParams,
    ThroughputParams,
    TorchParams,
    ToyDataParams,
    UnitsParams,
    model_name,
)

BAD_PARAMETERS = [
    # (override under `mlp`, key the message must name, words the message must contain)
    ({"sweep": {"hidden_neurons": [0]}}, "mlp.sweep", "greater than 0"),
    ({"sweep": {"hidden_neurons": []}}, "mlp.sweep", "at least 1 item"),
    ({"sweep": {"hidden_neurons": [3, [8, -1]]}}, "mlp.sweep", "greater than 0"),
    ({"sweep": {"activation": "softplus"}}, "mlp.sweep", "'relu', 'tanh', 'sigmoid' or 'identity'"),
    ({"sweep": {"n_seeds": 0}}, "mlp.sweep", "greater than or equal to 1"),
    ({"data": {"noise": -1}}, "mlp.data", "greater than or equal to 0"),
    ({"data": {"name": "swirls"}}, "mlp.data", "'circles', 'moons', 'xor', 'blobs' or 'spiral'"),
    ({"data": {"test_size": 1.5}}, "mlp.data", "less than 1"),
    ({"data": {"n_samples": "many"}}, "mlp.data", "valid integer"),
    ({"data": {"nosie": 0.2}}, "mlp.data", "Extra inputs are not permitted"),
    ({"torch": {"train": {"epochs": 0}}}, "mlp.torch", "greater than or equal to 1"),
    ({"torch": {"train": {"device": "tpu"}}}, "mlp.torch", "'auto', 'cpu' or 'cuda'"),
    ({"sklearn": {"solver": "newton"}}, "mlp.sklearn", "'adam', 'lbfgs' or 'sgd'"),
    ({"data": {"n_samples": 10, "test_size": 0.05}}, "mlp.data", "fewer than 2 points (one per class)"),
    ({"data": {"random_state": 2**32}}, "mlp.data", "less than or equal to 4294967295"),
    ({"data": {"n_draws": 0}}, "mlp.data", "greater than or equal to 1"),
    ({"data": {"random_state": 2**32 - 1, "n_draws": 2}}, "mlp.data", "random_state + n_draws - 1"),
    ({"units": {"sklearn_seeds": 0}}, "mlp.units", "greater than or equal to 1"),
    ({"units": {"groups": {"3-4": []}}}, "mlp.units", "at least 1 item"),
    ({"throughput": {"batch_sizes": [0]}}, "mlp.throughput", "greater than 0"),
    (
        {"neurons": {"study": {"activation": "swish"}}},
        "mlp.neurons.study",
        "'relu', 'tanh', 'sigmoid' or 'identity'",
    ),
    ({"neurons": {"study": {"noise_factor": {"factor": [1.5]}}}}, "mlp.neurons.study", "less than 1"),
    ({"neurons": {"study": {"n_seeds": 0}}}, "mlp.neurons.study", "greater than or equal to 1"),
]


@pytest.mark.parametrize(("override", "key", "rule"), BAD_PARAMETERS)
def test_a_bad_parameter_stops_the_run_before_any_node(project_copy: Path, override, key, rule):
    assert_refused_before_any_node(project_copy, "mlp", override, key, rule)


def test_the_shipped_parameter_files_are_valid_and_match_the_notes():
    base = load_parameters("base", PROJECT_ROOT)["mlp"]
    data = ToyDataParams.model_validate(base["data"])
    sweep = SweepParams.model_validate(base["sweep"])
    TorchParams.model_validate(base["torch"])
    SklearnParams.model_validate(base["sklearn"])
    assert (data.name, data.n_samples, data.noise, data.factor) == ("circles", 300, 0.1, 0.5)
    assert sweep.architectures == [(n,) for n in range(1, 9)]
    assert sweep.n_seeds >= 10
    assert sweep.activation == "relu"


def test_the_claims_are_judged_on_at_least_3_draws_and_5_seeds_of_each_flavour():
    base = load_parameters("base", PROJECT_ROOT)["mlp"]
    data = ToyDataParams.model_validate(base["data"])
    units = UnitsParams.model_validate(base["units"])
    assert data.n_draws >= 3
    assert min(units.sklearn_seeds, SweepParams.model_validate(base["sweep"]).n_seeds) >= 5
    assert units.groups == {"1": [1], "2": [2], "3-4": [3, 4], "5-6": [5, 6]}  # the notes' lines
    assert 1 in ThroughputParams.model_validate(base["throughput"]).batch_sizes


@pytest.mark.parametrize("env", ["base", "smoke"])
def test_every_environment_sets_the_number_of_seeds_explicitly(env):
    assert "n_seeds" in load_parameters(env, PROJECT_ROOT)["mlp"]["sweep"]


def test_the_smoke_environment_overrides_base_as_kedro_run_does():
    smoke = load_parameters("smoke", PROJECT_ROOT)["mlp"]
    assert SweepParams.model_validate(smoke["sweep"]).architectures == [
        (1,),
        (2,),
        (3,),
        (4,),
        (5,),
        (6,),
        (8,),
        (7, 7),
    ]
    assert smoke["data"] == load_parameters("base", PROJECT_ROOT)["mlp"]["data"]


def test_a_bare_int_is_one_hidden_layer_and_a_list_is_a_deeper_net():
    sweep = SweepParams(hidden_neurons=[3, [8, 8]], n_seeds=2, first_seed=5)
    assert sweep.architectures == [(3,), (8, 8)]
    assert sweep.seeds == [5, 6]
    assert [model_name("torch", widths) for widths in sweep.architectures] == ["torch-3", "torch-8x8"]
