"""The limited-data, hand-made-features and cost studies: their measures on cases with known answers,
their parameters refused when they load, and each study end to end on smoke (tables, child runs, models)."""

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from tests.tracking import logged_models, tracking_at, tracking_client

from dlpipeline.config import load_parameters
from dlpipeline.data.digits import table_to_images
from dlpipeline.pipelines.cnn import cost, hand_features, size
from dlpipeline.pipelines.cnn.operations import macs_per_image
from dlpipeline.pipelines.cnn.params import CostParams, DataSizeParams, ExperimentParams, HandFeatureParams
from dlpipeline.pipelines.cnn.train import network_spec
from dlpipeline.served import weights_hash

# --- size: nested subsets, epochs, the gap ------------------------------------------------


def test_subsets_are_stratified_nested_and_drawn_once():
    labels = np.repeat(np.arange(4), [40, 20, 20, 20])
    subsets = size.nested_subsets(labels, [0.1, 0.5, 1.0], seed=3)
    assert [len(indices) for indices in subsets.values()] == [4 + 2 + 2 + 2, 20 + 10 + 10 + 10, 100]
    assert np.bincount(labels[subsets[0.5]]).tolist() == [20, 10, 10, 10]
    assert set(subsets[0.1]) <= set(subsets[0.5]) <= set(subsets[1.0])
    again = size.nested_subsets(labels, [0.1, 0.5, 1.0], seed=3)
    assert all(np.array_equal(subsets[share], again[share]) for share in subsets)
    other = size.nested_subsets(labels, [0.1, 0.5, 1.0], seed=4)
    assert not np.array_equal(subsets[0.1], other[0.1])


def test_a_tiny_share_keeps_one_image_of_every_class():
    labels = np.repeat(np.arange(3), 10)
    (indices,) = size.nested_subsets(labels, [0.01], seed=0).values()
    assert sorted(labels[indices].tolist()) == [0, 1, 2]


@pytest.mark.parametrize(
    ("n_images", "batch_size", "epochs", "min_steps", "expected"),
    [
        (1077, 128, 16, 100, 16),  # 9 batches x 16 epochs = 144 steps: the sweep's epochs suffice
        (1077, 128, 16, 150, 17),  # 9 x 16 = 144 < 150: one epoch more
        (50, 128, 16, 100, 100),  # one batch an epoch: 100 epochs for 100 steps
        (300, 128, 2, 10, 4),  # 3 batches: ceil(10 / 3) = 4 epochs
        (300, None, 2, 10, 10),  # the full batch: one step an epoch
    ],
)
def test_a_small_subset_trains_enough_epochs_for_the_minimum_steps(
    n_images, batch_size, epochs, min_steps, expected
):
    assert size.epochs_for(n_images, batch_size, epochs, min_steps) == expected


def test_the_ends_of_the_sweep_are_named_for_the_claims():
    shares = [0.05, 0.5, 1.0]
    assert [size.subset_label(share, shares) for share in shares] == ["smallest", "between", "largest"]


class FixedVotes(torch.nn.Module):
    """Two members: the first predicts the class written in the input's first value, the second class 0."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        first = torch.nn.functional.one_hot(inputs.flatten(1)[:, 0].long(), 3).float()
        zero = torch.nn.functional.one_hot(torch.zeros(len(inputs), dtype=torch.long), 3).float()
        return torch.stack([first, zero])


class Trained:
    """What the studies read of a trained ensemble: its module and its members' seeds."""

    def __init__(self, module: torch.nn.Module, seeds: list[int]) -> None:
        self.module = module
        self.trained_record = type("Record", (), {"seeds": seeds})()


def test_the_gap_is_each_members_training_accuracy_minus_its_test_accuracy():
    train_labels = np.array([0, 1, 2, 0])  # member 0 right on all, member 1 on the two zeros
    train_inputs = train_labels.reshape(4, 1, 1, 1).astype(np.float32)
    test_labels = np.array([0, 1, 2, 2, 1])
    test_inputs = np.array([0, 1, 1, 2, 0]).reshape(5, 1, 1, 1).astype(np.float32)  # member 0: 3 of 5
    rows = size.train_test_rows(
        Trained(FixedVotes(), [7, 8]), (train_inputs, train_labels), (test_inputs, test_labels)
    )
    assert [row["seed"] for row in rows] == [7, 8]
    assert [row["train_accuracy"] for row in rows] == [1.0, 0.5]
    assert [row["test_accuracy"] for row in rows] == [0.6, 0.2]
    assert [row["train_test_gap"] for row in rows] == pytest.approx([0.4, 0.3])


# --- hand-made features --------------------------------------------------------------------


def test_features_are_standardized_by_the_training_subset_alone():
    train = np.array([[1.0, 5.0], [3.0, 5.0]])
    test = np.array([[5.0, 6.0]])
    scaled_train, scaled_test = hand_features.standardized(train, test)
    np.testing.assert_allclose(scaled_train, [[-1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(scaled_test, [[3.0, 1.0]])  # the constant column is only centred


def test_the_head_is_the_cnns_own_without_its_convolutions():
    experiments = ExperimentParams(configurations={"cnn": {}}, baseline={"dense_units": 40, "dropout": 0.25})
    head = hand_features.head_architecture(experiments)
    spec, cnn = (
        network_spec(architecture, (1, 8, 8), 10) for architecture in (head, experiments.architectures["cnn"])
    )
    assert (spec.filters, spec.dense_units, spec.dropout) == ((), 40, 0.25)
    assert (cnn.dense_units, cnn.dropout) == (spec.dense_units, spec.dropout)


# --- cost: slopes ------------------------------------------------------------------------------


def test_a_slope_fitted_on_points_of_a_known_line_is_that_line():
    sizes = np.array([50, 100, 400, 1000])
    assert cost.fit_slope(sizes, 3.0 * sizes + 2.0) == pytest.approx((3.0, 2.0))


def test_a_slope_needs_two_sizes():
    with pytest.raises(ValueError, match="at least two distinct sizes"):
        cost.fit_slope(np.array([50, 50]), np.array([1.0, 2.0]))


def test_a_logistic_regression_multiplies_every_pixel_by_every_class():
    assert cost.logistic_macs((1, 8, 8), 10) == 640


def test_timing_slopes_are_fitted_per_repeat_and_configuration():
    sizes = [50, 100, 200]
    rows = [
        {"repeat": repeat, "configuration": name, "n_train": n, "seconds": per_image * n + 0.1 * (repeat + 1)}
        for repeat in range(2)
        for name, per_image in (("cnn", 2e-4), ("mlp", 5e-5))
        for n in sizes
    ]
    slopes = cost.timing_slopes(pd.DataFrame(rows)).set_index(["repeat", "configuration"])
    assert slopes.loc[(1, "cnn"), "seconds_per_image"] == pytest.approx(2e-4)
    assert slopes.loc[(0, "mlp"), "microseconds_per_image"] == pytest.approx(50.0)
    assert slopes.loc[(1, "mlp"), "seconds_intercept"] == pytest.approx(0.2)


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "values", "words"),
    [
        (DataSizeParams, {"shares": [0.0, 1.0]}, "above 0"),
        (DataSizeParams, {"shares": [0.5, 0.1]}, "increasing"),
        (DataSizeParams, {"shares": [1.0]}, "at least 2"),
        (DataSizeParams, {"min_steps": 0}, "greater than or equal to 1"),
        (CostParams, {"repeats": 0}, "greater than or equal to 1"),
        (CostParams, {"configurations": []}, "at least 1"),
        (HandFeatureParams, {"configuration": ""}, "at least 1 character"),
    ],
)
def test_bad_study_parameters_are_refused_when_they_load(model, values, words):
    with pytest.raises(ValidationError, match=words):
        model(**values)


def test_a_study_of_a_configuration_the_sweep_does_not_define_is_refused_before_training():
    experiments = ExperimentParams(configurations={"cnn": {}})
    with pytest.raises(ValueError, match=r"cnn.data_size.configurations names \['cnn-huge'\]"):
        size.train_sizes(None, None, experiments, None, DataSizeParams(configurations=["cnn-huge"]))
    with pytest.raises(ValueError, match=r"not trained by cnn.data_size"):
        hand_features.train_heads(
            None,
            None,
            ExperimentParams(configurations={"cnn": {}, "cnn-b": {}}),
            None,
            None,
            DataSizeParams(configurations=["cnn"]),
            HandFeatureParams(configuration="cnn-b"),
        )


# --- end to end on smoke --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project(smoke_run):
    return smoke_run("cnn")


@pytest.fixture(scope="module")
def smoke(project) -> dict:
    return load_parameters("smoke", project)["cnn"]


def study_runs(project, study: str) -> list:
    client = tracking_client(project)
    return client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string=f"params.study = '{study}'",
    )


def test_the_size_study_trains_every_configuration_on_every_subset_with_every_seed(project, smoke):
    table = pd.read_csv(project / "data/08_reporting/cnn/data_size/accuracy.csv")
    shares, seeds = smoke["data_size"]["shares"], smoke["experiments"]["n_seeds"]
    assert len(table) == len(smoke["data_size"]["configurations"]) * len(shares) * seeds
    assert sorted(table["share"].unique()) == shares
    assert table.groupby("share")["n_train"].first().is_monotonic_increasing
    assert set(table["subset"]) == {"smallest", "largest"}
    gap = table["train_accuracy"] - table["test_accuracy"]
    assert table["train_test_gap"].to_numpy() == pytest.approx(gap.to_numpy(), abs=2e-6)
    assert (table["epochs"] >= smoke["training"]["train"]["epochs"]).all()


def test_each_size_is_a_child_run_with_its_ensemble_logged(project, smoke):
    runs = study_runs(project, "data_size")
    expected = len(smoke["data_size"]["configurations"]) * len(smoke["data_size"]["shares"])
    assert len(runs) == expected
    client = tracking_client(project)
    for run in runs:
        assert {"train_test_gap", "test_accuracy", "train_seconds"} <= set(run.data.metrics)
        assert client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run.info.run_id}'"
        )


def test_the_hand_features_study_pairs_the_cnn_with_its_head_on_other_inputs(project, smoke):
    table = pd.read_csv(project / "data/08_reporting/cnn/hand_features/accuracy.csv")
    assert set(table["features"]) == {"learned", "handmade", "raw_pixels"}
    sizes = pd.read_csv(project / "data/08_reporting/cnn/data_size/accuracy.csv")
    cnn = sizes[sizes["configuration"] == "cnn"].set_index(["share", "seed"])["test_accuracy"]
    learned = table[table["features"] == "learned"].set_index(["share", "seed"])["test_accuracy"]
    pd.testing.assert_series_equal(learned, cnn.loc[learned.index], check_names=False)
    assert table.loc[table["features"] == "handmade", "gain_over_handmade"].abs().max() == 0
    inputs = table.groupby("features")["n_inputs"].first()
    assert inputs["raw_pixels"] == 64 and inputs["handmade"] > 64
    runs = study_runs(project, "hand_features")
    assert sorted({run.data.params["features"] for run in runs}) == ["handmade", "raw_pixels"]
    assert len(runs) == 2 * len(smoke["data_size"]["shares"])


def test_the_cost_study_counts_each_image_and_times_every_size_in_turns(project, smoke):
    operations = pd.read_csv(project / "data/08_reporting/cnn/cost/operations.csv").set_index("configuration")
    experiments = ExperimentParams.model_validate(smoke["experiments"])
    for name in smoke["cost"]["configurations"]:
        per_image = macs_per_image(network_spec(experiments.architectures[name], (1, 8, 8), 10))
        assert operations.loc[name, "macs_slope"] == pytest.approx(per_image)
        assert operations.loc[name, "macs_intercept"] == pytest.approx(0, abs=1e-3)
    assert operations.loc["logistic", "macs_per_image"] == 640
    timings = pd.read_csv(project / "data/09_timings/cnn/cost_epochs.csv")
    repeats = smoke["cost"]["repeats"]
    assert timings.groupby(["configuration", "n_train"]).size().eq(repeats).all()
    slopes = pd.read_csv(project / "data/09_timings/cnn/cost_slopes.csv")
    assert len(slopes) == repeats * (len(smoke["cost"]["configurations"]) + 1)
    runs = study_runs(project, "cost")
    assert sorted(run.data.params["configuration"] for run in runs) == sorted(
        [*smoke["cost"]["configurations"], "logistic"]
    )


def test_each_timed_configuration_logs_the_network_of_its_last_timed_epoch(project, smoke):
    runs = study_runs(project, "cost")
    client = tracking_client(project)
    logged = logged_models(client, runs)
    assert set(logged) == {run.info.run_name for run in runs}
    images, _ = table_to_images(pd.read_csv(project / "data/05_model_input/cnn/train.csv").head(3))
    with tracking_at(client.tracking_uri):
        for model in logged.values():
            loaded = mlflow.pyfunc.load_model(f"models:/{model.model_id}")
            network = loaded.unwrap_python_model().trained
            first_seed = ExperimentParams.model_validate(smoke["experiments"]).first_seed
            assert network.kwargs["seeds"] == [first_seed]  # the one network timed
            untrained = type(network.module)(**network.kwargs)
            assert weights_hash(untrained) != weights_hash(network.module)  # it trained an epoch
            np.testing.assert_array_equal(loaded.input_example, images[:, None])
            np.testing.assert_allclose(loaded.predict(loaded.input_example).sum(axis=1), 1.0, rtol=1e-5)
