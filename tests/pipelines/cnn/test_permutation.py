"""The locality study: one fixed pixel permutation, an MLP that cannot notice it, and the study end to end
on smoke (each configuration retrained permuted, one row per configuration and seed, a child run each)."""

import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from tests.tracking import logged_models, tracking_client

from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.pipelines.cnn import permutation
from dlpipeline.pipelines.cnn.params import ExperimentParams, PermutationParams

DIGIT = (1, 8, 8)


def digits(n: int = 6) -> torch.Tensor:
    return torch.rand(n, *DIGIT, generator=torch.Generator().manual_seed(0))


def test_the_permutation_moves_every_image_alike_and_keeps_every_pixel():
    order = permutation.pixel_permutation(64, seed=3)
    images = digits()
    moved = permutation.permuted(images, order)
    assert moved.shape == images.shape
    assert not torch.equal(moved, images)
    torch.testing.assert_close(moved.flatten(1).sort().values, images.flatten(1).sort().values)
    torch.testing.assert_close(moved.flatten(1)[:, 5], images.flatten(1)[:, order[5]])
    assert torch.equal(order, permutation.pixel_permutation(64, seed=3))


def test_an_mlp_on_permuted_pixels_is_the_same_mlp_with_its_first_layer_rows_permuted():
    mlp = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=(), dense_units=12), seeds=[0, 1]).eval()
    order = permutation.pixel_permutation(64, seed=1)
    rewired = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=(), dense_units=12), seeds=[0, 1]).eval()
    rewired.load_state_dict(mlp.state_dict())
    with torch.no_grad():
        rewired.dense_weight.copy_(mlp.dense_weight[:, order])
    torch.testing.assert_close(rewired(permutation.permuted(digits(), order)), mlp(digits()))


def test_a_configuration_the_sweep_does_not_train_is_named_with_the_choices():
    experiments = ExperimentParams(configurations={"cnn": {}})
    with pytest.raises(ValueError, match=r"'cnn-huge'.*choose from \['cnn'\]"):
        permutation.train_permuted(
            None, None, experiments, None, PermutationParams(configurations=["cnn-huge"])
        )


def test_no_configuration_to_permute_is_refused_when_the_parameters_load():
    with pytest.raises(ValidationError, match="at least 1 item"):
        PermutationParams(configurations=[])


@pytest.fixture(scope="module")
def table(smoke_run) -> pd.DataFrame:
    return pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/permutation/accuracy.csv")


def test_the_smoke_study_retrains_each_configuration_with_every_seed(table: pd.DataFrame):
    assert list(dict.fromkeys(table.configuration)) == ["cnn", "mlp"]
    assert table.groupby("configuration").seed.apply(sorted).map(tuple).unique().tolist() == [(0, 1)]
    lost = table.test_accuracy - table.permuted_test_accuracy
    assert table.accuracy_lost.to_numpy() == pytest.approx(lost.to_numpy(), abs=2e-6)


def test_the_unpermuted_accuracy_is_the_sweeps_own(smoke_run, table: pd.DataFrame):
    units = pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/units.csv")
    sweep = units.set_index(["configuration", "seed"]).test_accuracy
    study = table.set_index(["configuration", "seed"]).test_accuracy
    pd.testing.assert_series_equal(study, sweep.loc[study.index], check_exact=False, atol=1e-6)


def test_each_retrained_configuration_is_a_child_run_of_the_permutation_study(smoke_run):
    client = tracking_client(smoke_run("cnn"))
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string="params.study = 'permutation'",
    )
    assert sorted(run.data.params["configuration"] for run in runs) == ["cnn", "mlp"]
    for run in runs:
        assert {"test_accuracy", "permuted_test_accuracy", "accuracy_lost", "train_seconds"} <= set(
            run.data.metrics
        )
        assert run.data.params["n_seeds"] == "2"
    assert set(logged_models(client, runs)) == {"permutation-cnn", "permutation-mlp"}  # networks it trained
