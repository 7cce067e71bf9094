"""The edges study: orientation selectivity with known answers (a Sobel kernel, a constant, a grating),
filters read from both kinds of network, bad parameters refused, and the study end to end on smoke."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from tests.tracking import tracking_client

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.pipelines.cnn import edges
from dlpipeline.pipelines.cnn.params import EdgesParams

SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
"""Answers to brightness changing along x (a vertical edge)."""
PARAMS = EdgesParams()


def selectivity(kernels: np.ndarray) -> np.ndarray:
    return edges.tuning(kernels, PARAMS)[1]


def preferred_degrees(kernel: np.ndarray) -> float:
    curves, _ = edges.tuning(kernel, PARAMS)
    return float(np.degrees(edges.orientations(PARAMS.n_angles))[curves.argmax()])


def test_a_sobel_kernel_is_selective_for_the_direction_it_differentiates_along():
    assert selectivity(SOBEL) == pytest.approx(0.378, abs=0.005)
    assert preferred_degrees(SOBEL) == 0
    assert preferred_degrees(SOBEL.T) == 90
    assert selectivity(SOBEL.T) == pytest.approx(selectivity(SOBEL))


def test_a_random_kernel_is_about_half_as_selective_as_sobel_on_average():
    random = np.random.default_rng(0).uniform(-1, 1, (4000, 3, 3))
    assert selectivity(random).mean() == pytest.approx(0.18, abs=0.01)


@pytest.mark.parametrize(
    "kernel",
    [np.ones((3, 3)), np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]), np.zeros((3, 3)), np.ones((8, 8))],
    ids=["constant", "laplacian", "zero", "constant-8x8"],
)
def test_a_filter_with_a_quarter_turn_symmetry_has_no_orientation_selectivity(kernel: np.ndarray):
    assert selectivity(kernel) == pytest.approx(0.0, abs=1e-12)


def test_a_grating_shaped_unit_answers_its_own_orientation_almost_only():
    rows = np.arange(8)[:, None] * np.ones((1, 8))
    grating = np.cos(2 * np.pi * 0.25 * rows)
    assert selectivity(grating) > 0.8
    assert preferred_degrees(grating) == 90


def test_the_response_is_the_peak_over_phases_of_the_kernel_applied_to_the_grating():
    kernel = np.random.default_rng(1).normal(size=(3, 3))
    angle, frequency = np.radians(30.0), 0.25
    y, x = np.mgrid[-1:2, -1:2]
    phases = np.linspace(0, 2 * np.pi, 3601)
    gratings = np.cos(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)) + phases[:, None, None])
    brute_force = (gratings * kernel).sum(axis=(1, 2)).max()
    response = edges.grating_responses(kernel, np.array([angle]), [frequency])
    assert response[0, 0] == pytest.approx(brute_force, rel=1e-5)


def test_a_tuning_curve_answering_one_orientation_only_has_selectivity_one():
    angles = edges.orientations(8)
    assert edges.orientation_selectivity(np.eye(8)[2], angles) == pytest.approx(1.0)
    assert edges.orientation_selectivity(np.ones(8), angles) == pytest.approx(0.0, abs=1e-12)


def ensemble(filters: tuple[int, ...]) -> TrainedModule:
    return TrainedModule.build(
        ConvNetEnsemble, spec=ConvNetSpec((1, 8, 8), 10, filters=filters, dense_units=6), seeds=[3, 4]
    )


def test_first_layer_filters_are_the_cnn_kernels_or_the_mlp_units_as_images():
    cnn, mlp = ensemble((5, 7)).module, ensemble(()).module
    assert edges.first_layer_kernels(cnn).shape == (2, 5, 3, 3)
    units = edges.first_layer_kernels(mlp)
    assert units.shape == (2, 6, 8, 8)
    np.testing.assert_array_equal(units[1, 4].ravel(), mlp.dense_weight[1, :, 4].detach().numpy())


def test_the_untrained_control_is_the_same_architecture_and_seeds_at_initialisation():
    trained = ensemble((5, 7))
    initial = edges.first_layer_kernels(trained.module).copy()
    trained.module.conv_weights[0].data += 1.0  # as if trained
    np.testing.assert_array_equal(edges.first_layer_kernels(edges.untrained(trained)), initial)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_angles": 7}, "multiple of 2"),
        ({"frequencies": [0.25, 0.75]}, "less than or equal to 0.5"),
        ({"frequencies": [0.25, 0.125]}, "increasing"),
        ({"configurations": []}, "at least 1 item"),
    ],
)
def test_bad_parameters_are_refused_when_they_load(changes: dict, message: str):
    with pytest.raises(ValidationError, match=message):
        EdgesParams(**changes)


def test_a_configuration_the_sweep_did_not_train_is_named_with_the_choices():
    with pytest.raises(ValueError, match=r"'cnn-huge'.*choose from \['cnn'\]"):
        edges.tune_models({"cnn": ensemble((5,))}, EdgesParams(configurations=["cnn-huge"]))


@pytest.fixture(scope="module")
def table(smoke_run) -> pd.DataFrame:
    return pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/edges/selectivity.csv")


def test_the_smoke_study_scores_every_configuration_trained_and_untrained_for_every_seed(smoke_run, table):
    counts = table.groupby(["configuration", "state"]).seed.apply(sorted).map(tuple)
    assert counts.to_dict() == {
        (name, state): (0, 1) for name in ("cnn", "mlp") for state in ("trained", "untrained")
    }
    assert table.selectivity.between(0, 1).all()
    assert (smoke_run("cnn") / "data/08_reporting/cnn/edges/tuning.png").stat().st_size > 0


def test_each_configuration_is_a_child_run_of_the_edges_study(smoke_run):
    client = tracking_client(smoke_run("cnn"))
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string="params.study = 'edges'",
    )
    assert sorted(run.data.params["configuration"] for run in runs) == ["cnn", "mlp"]
    assert all({"selectivity_trained", "selectivity_untrained"} <= set(run.data.metrics) for run in runs)
