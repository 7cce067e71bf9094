"""The interpretability study: saliency maps with their closed form on a linear model, agreement across
seeds on constructed maps, deletion curves of a known model, and the study end to end on smoke."""

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from tests.tracking import logged_models, tracking_client

from dlpipeline.models.cnn import LinearEnsemble
from dlpipeline.pipelines.cnn import saliency
from dlpipeline.pipelines.cnn.params import SaliencyParams

SHAPE = (1, 2, 2)


def test_a_linear_models_map_is_its_closed_form_gradient():
    model = LinearEnsemble(SHAPE, n_classes=3, seeds=[0, 1])
    images = torch.rand(5, *SHAPE, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 1, 0])
    maps = saliency.saliency_maps(model, images, labels)
    with torch.no_grad():
        for member in range(2):
            weight = model.weight[member].T  # (classes, pixels)
            probabilities = torch.softmax(model(images)[member], dim=-1)
            # d log p_y / dx = W_y - sum_k p_k W_k
            expected = (weight[labels] - probabilities @ weight).abs().reshape(5, 2, 2)
            torch.testing.assert_close(maps[member], expected)


def test_identical_maps_agree_fully_and_unrelated_maps_hardly_at_all():
    generator = np.random.default_rng(0)
    one = generator.random((1, 200, 4, 4))
    assert saliency.map_agreement(np.repeat(one, 3, axis=0)) == pytest.approx([1, 1, 1])
    unrelated = saliency.map_agreement(generator.random((3, 200, 4, 4)))
    assert np.abs(unrelated).max() < 0.1


def test_agreement_is_each_seeds_mean_over_the_other_seeds():
    base = np.arange(16, dtype=float).reshape(1, 1, 4, 4)
    maps = np.concatenate([base, base, -base])  # seeds 0 and 1 agree, seed 2 is their opposite
    assert saliency.map_agreement(maps) == pytest.approx([0.0, 0.0, -1.0])


def test_blanking_the_one_pixel_a_model_reads_first_costs_everything_at_once():
    class ReadsTopLeft(torch.nn.Module):
        """Class 1 when the top-left pixel is on, else class 0."""

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            pixel = images.flatten(-3)[..., :1]
            return torch.cat([0.5 - pixel, pixel - 0.5], dim=-1)

    images = torch.zeros(4, *SHAPE)
    images[:, 0, 0, 0] = 1.0  # every digit is class 1
    images[:, 0, 1, 1] = 0.3  # a pixel the model ignores
    labels = torch.ones(4, dtype=torch.long)
    maps = torch.zeros(1, 4, 2, 2)
    maps[..., 0, 0] = 1.0
    curve = saliency.deletion_curve(ReadsTopLeft(), images, labels, maps, [0.0, 0.25], (0,))
    salient = curve[curve.order == "salient"].set_index("fraction").accuracy
    assert salient.tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"deletion_fractions": [0.5, 0.1]}, "must be increasing"),
        ({"deletion_fractions": [0.0, -0.1]}, "greater than or equal to 0"),
        ({"deletion_fractions": [0.0]}, "at least 2 items"),
        ({"configurations": []}, "at least 1 item"),
    ],
)
def test_impossible_saliency_settings_are_refused_when_the_parameters_load(override, message):
    with pytest.raises(ValidationError, match=message):
        SaliencyParams(**override)


def test_a_configuration_the_sweep_did_not_train_is_named_with_the_choices():
    with pytest.raises(ValueError, match=r"'cnn-huge'.*choose from \['cnn'\]"):
        saliency.explain_models({"cnn": None}, {}, None, SaliencyParams(configurations=["cnn-huge"]))


@pytest.fixture(scope="module")
def agreement(smoke_run) -> pd.DataFrame:
    return pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/saliency/agreement.csv")


def test_the_smoke_study_explains_each_model_with_every_seed_and_the_linear_control(agreement: pd.DataFrame):
    assert list(dict.fromkeys(agreement.model)) == ["cnn", "mlp", "linear"]
    assert agreement.groupby("model").seed.apply(sorted).map(tuple).unique().tolist() == [(0, 1)]
    assert agreement.agreement.between(-1, 1).all()


def test_the_smoke_deletion_curves_start_from_the_clean_accuracy_for_both_orders(smoke_run):
    deletion = pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/saliency/deletion.csv")
    start = deletion[deletion.fraction == 0].pivot_table(
        index=["model", "seed"], columns="order", values="accuracy"
    )
    assert (start.salient == start.random).all()


def test_each_explained_model_is_a_child_run_of_the_saliency_study(smoke_run, agreement: pd.DataFrame):
    client = tracking_client(smoke_run("cnn"))
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string="params.study = 'saliency'",
    )
    assert sorted(run.data.params["model"] for run in runs) == sorted(agreement.model.unique())
    for run in runs:
        assert {"agreement", "deletion_salient", "deletion_random"} <= set(run.data.metrics)
    assert set(logged_models(client, runs)) == {"saliency-linear"}  # the one network the study trains
