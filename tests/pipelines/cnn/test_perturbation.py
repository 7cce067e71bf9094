"""The perturbation study: attacks with their closed forms on a linear model, noise of the same size, and
the study end to end on smoke (a table per model, ε and seed; a child run per model and ε)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tests.tracking import tracking_client

from dlpipeline.pipelines.cnn import perturbation
from dlpipeline.pipelines.cnn.params import PerturbationParams

ACCURACIES = list(perturbation.ACCURACY_COLUMNS)


@pytest.fixture(scope="module")
def linear() -> tuple[perturbation.LinearPixels, torch.Tensor, torch.Tensor]:
    """A logistic regression on 3x3 'images' of three classes, as a torch module, with test images."""
    generator = np.random.default_rng(0)
    pixels = generator.uniform(0, 1, size=(120, 9))
    labels = np.argmax(pixels[:, :3], axis=1)
    fitted = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(pixels, labels)
    images = torch.tensor(pixels[:20], dtype=torch.float32).reshape(1, 20, 1, 3, 3)
    return perturbation.LinearPixels(fitted), images, torch.tensor(labels[:20])


def test_fgsm_on_a_linear_model_moves_each_pixel_by_the_sign_of_its_closed_form_gradient(linear):
    model, images, labels = linear
    epsilon = 0.05
    flat = images.reshape(20, 9)
    probabilities = torch.softmax((flat - model.mean) / model.scale @ model.weight.T + model.bias, dim=1)
    # d(cross-entropy)/dx = (p - onehot(y)) W / scale, for a standardized linear softmax
    gradient = (probabilities - torch.eye(3)[labels]) @ model.weight / model.scale
    expected = (flat + epsilon * gradient.sign()).clamp(0, 1).reshape(images.shape)
    torch.testing.assert_close(perturbation.fgsm(model, images, labels, epsilon), expected)


def test_one_pgd_step_is_fgsm_and_more_steps_stay_within_epsilon_and_the_pixel_range(linear):
    model, images, labels = linear
    epsilon = 0.1
    one_step = perturbation.pgd(model, images, labels, epsilon, steps=1)
    torch.testing.assert_close(one_step, perturbation.fgsm(model, images, labels, epsilon))
    many = perturbation.pgd(model, images, labels, epsilon, steps=7)
    assert (many - images).abs().max() <= epsilon + 1e-6
    assert many.min() >= 0 and many.max() <= 1


def test_the_attack_costs_a_linear_model_more_accuracy_than_noise_of_the_same_size(linear):
    model, images, labels = linear
    epsilon = 0.2
    attacked = perturbation.member_accuracy(model, perturbation.fgsm(model, images, labels, epsilon), labels)
    noisy = perturbation.member_accuracy(model, perturbation.sign_noise(images, epsilon, [0]), labels)
    assert attacked[0] < noisy[0]


def test_sign_noise_moves_every_pixel_by_epsilon_unless_clipped_and_each_seed_draws_its_own():
    images = torch.full((2, 4, 1, 8, 8), 0.5)
    noisy = perturbation.sign_noise(images, 0.1, [3, 4])
    torch.testing.assert_close((noisy - images).abs(), torch.full_like(images, 0.1))
    assert not torch.equal(noisy[0], noisy[1])
    torch.testing.assert_close(perturbation.sign_noise(images, 0.1, [3, 4]), noisy)
    assert perturbation.sign_noise(torch.ones(1, 1, 1, 2, 2), 0.3, [0]).max() <= 1


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"epsilons": [0.1, 0.05]}, "must be increasing"),
        ({"epsilons": [0.0, 1.5]}, "less than or equal to 1"),
        ({"pgd_steps": 0}, "greater than or equal to 1"),
        ({"configurations": []}, "at least 1 item"),
    ],
)
def test_impossible_perturbation_settings_are_refused_when_the_parameters_load(override, message):
    with pytest.raises(ValidationError, match=message):
        PerturbationParams(**override)


def test_a_configuration_the_sweep_did_not_train_is_named_with_the_choices():
    params = PerturbationParams(configurations=["cnn-huge"])
    with pytest.raises(ValueError, match=r"'cnn-huge'.*choose from \['cnn'\]"):
        perturbation.perturbation_table({"cnn": None}, None, None, None, None, params)


@pytest.fixture(scope="module")
def table(smoke_run) -> pd.DataFrame:
    return pd.read_csv(smoke_run("cnn") / "data/08_reporting/cnn/perturbation/accuracy.csv")


def test_the_smoke_table_has_every_model_epsilon_and_seed_once(table: pd.DataFrame):
    assert list(dict.fromkeys(table.model)) == ["cnn", "mlp", "logistic"]
    assert table.groupby(["model", "epsilon"]).seed.apply(sorted).map(tuple).unique().tolist() == [(0, 1)]
    assert sorted(table.epsilon.unique()) == [0.0, 0.1]
    assert table[ACCURACIES].apply(lambda column: column.between(0, 1)).all().all()


def test_at_epsilon_zero_nothing_moves_and_every_accuracy_is_the_clean_one(table: pd.DataFrame):
    unmoved = table[table.epsilon == 0]
    for column in ACCURACIES:
        assert (unmoved[column] == unmoved.accuracy_clean).all(), column


def test_each_model_and_epsilon_is_a_child_run_of_the_perturbation_study(smoke_run, table: pd.DataFrame):
    client = tracking_client(smoke_run("cnn"))
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string="params.study = 'perturbation'",
    )
    assert len(runs) == table.groupby(["model", "epsilon"]).ngroups
    for run in runs:
        assert set(ACCURACIES) <= set(run.data.metrics)
        assert {"model", "epsilon", "n_seeds"} <= set(run.data.params)


def test_the_figures_are_drawn(smoke_run):
    folder: Path = smoke_run("cnn") / "data/08_reporting/cnn/perturbation"
    assert (folder / "accuracy.png").stat().st_size > 0
    assert (folder / "adversarial_digits.png").stat().st_size > 0
