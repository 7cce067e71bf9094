"""The MLP sweep's trained models: what each flavour saves, and that the saved models are the trained ones."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.helpers import PROJECT_ROOT
from tests.pipelines.mlp.conftest import SKLEARN_MAX_ITER, TORCH_EPOCHS

from dlpipeline.config import load_parameters
from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.datasets import DataValidationError, ModelDataset
from dlpipeline.figures.boundaries import mesh_over
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.pipelines.mlp import data as data_nodes
from dlpipeline.pipelines.mlp import torch_flavour
from dlpipeline.pipelines.mlp.evaluate import evaluate_sweep, predicted_labels
from dlpipeline.pipelines.mlp.params import SweepParams, TorchParams, ToyDataParams
from dlpipeline.pipelines.mlp.sklearn_flavour import classifiers_as_module, fit_classifiers


def test_the_split_follows_the_test_size(split, data):
    train, test = split
    assert len(test) == round(data.n_samples * data.test_size)
    assert len(train) + len(test) == data.n_samples


def test_each_flavour_saves_one_model_per_configuration_with_one_member_per_seed(
    torch_models, sklearn_models, sweep
):
    assert list(torch_models) == ["torch-1", "torch-6x6"]
    assert list(sklearn_models) == ["sklearn-1", "sklearn-6x6"]
    for trained in [*torch_models.values(), *sklearn_models.values()]:
        assert isinstance(trained.module, MLPEnsemble)
        assert trained.module.members == sweep.n_seeds
        assert trained.trained_record.seeds == tuple(sweep.seeds)
    assert torch_models["torch-6x6"].about.hidden_layers == (6, 6)
    assert [tuple(w.shape) for w in torch_models["torch-1"].module.weights] == [(3, 2, 1), (3, 1, 2)]


def test_torch_models_record_the_loss_history_and_restart_of_each_kept_member(
    torch_models, sweep, torch_params
):
    trained = torch_models["torch-1"]
    assert trained.trained_history.loss.shape == (TORCH_EPOCHS, sweep.n_seeds)
    assert len(trained.about.kept_restarts) == sweep.n_seeds
    assert set(trained.about.kept_restarts) <= set(range(torch_params.restarts))
    assert trained.trained_record.settings == {"restarts": torch_params.restarts}
    assert trained.trained_record.n_params == 2 * 1 + 1 + 1 * 2 + 2  # 2 inputs → 1 neuron → 2 classes
    assert trained.timing.train_seconds > 0


def test_sklearn_models_record_the_solver_and_how_many_seeds_hit_max_iter(sklearn_models, sweep):
    trained = sklearn_models["sklearn-1"]
    assert trained.trained_record.settings == {"solver": "adam", "max_iter": SKLEARN_MAX_ITER}
    assert trained.trained_record.optimizer == "adam"
    assert 0 <= trained.about.unconverged_seeds <= sweep.n_seeds
    assert trained.timing.train_seconds > 0
    assert trained.history is None  # scikit-learn keeps no per-epoch history


def test_the_best_restart_is_the_lowest_final_training_loss_of_each_seed():
    final_losses = torch.tensor([0.5, 0.1, 0.3, 0.2, 0.9, 0.4])  # 2 seeds x 3 restarts
    assert torch_flavour._best_restarts(final_losses, n_seeds=2, restarts=3).tolist() == [1, 3]
    two_configurations = torch.cat([final_losses, final_losses.flip(0)])  # the second: [.4 .9 .2 .3 .1 .5]
    assert torch_flavour.kept_member_indices(two_configurations, 1, n_seeds=2, restarts=3).tolist() == [8, 10]


def test_the_saved_torch_members_predict_what_the_batched_ensemble_predicted(
    torch_models, split, sweep, torch_params
):
    """Retrain the batch (deterministic) and compare its kept members with the saved models."""
    train, test = split
    features, labels = torch_flavour.as_tensors(train)
    test_features = torch.tensor(features_and_labels(test)[0], dtype=torch.float32)
    depths = torch_flavour._by_depth(sweep.architectures)
    for architectures in depths:
        batched = torch_flavour._train_as_one_batch(architectures, features, labels, sweep, torch_params)
        losses = batched.trained_history.loss
        for index, widths in enumerate(architectures):
            kept = torch_flavour.kept_member_indices(losses[-1], index, sweep.n_seeds, torch_params.restarts)
            saved = torch_models["torch-" + "x".join(map(str, widths))]
            with torch.no_grad():
                expected = batched.module(test_features)[kept].argmax(dim=-1).numpy()
            np.testing.assert_array_equal(predicted_labels(saved, test_features.numpy()), expected)


def test_the_saved_sklearn_models_predict_exactly_what_mlpclassifier_predicts(split, sweep, sklearn_params):
    train, test = split
    features, labels = features_and_labels(train)
    xx, yy = mesh_over(features, 100)
    mesh = np.column_stack([xx.ravel(), yy.ravel()])
    for widths in sweep.architectures:
        classifiers = fit_classifiers(features, labels, widths, sweep, sklearn_params)
        saved = classifiers_as_module(classifiers, sweep)
        for points in (features_and_labels(test)[0], mesh):
            expected = np.stack([classifier.predict(points) for classifier in classifiers])
            np.testing.assert_array_equal(predicted_labels(saved, points), expected)


def test_the_sigmoid_activation_is_mlpclassifiers_logistic(split, sklearn_params):
    train, test = split
    features, labels = features_and_labels(train)
    sweep = SweepParams(hidden_neurons=[3], activation="sigmoid", n_seeds=2)
    classifiers = fit_classifiers(
        features, labels, (3,), sweep, sklearn_params.model_copy(update={"max_iter": 50})
    )
    assert {classifier.activation for classifier in classifiers} == {"logistic"}
    test_features = features_and_labels(test)[0]
    np.testing.assert_array_equal(
        predicted_labels(classifiers_as_module(classifiers, sweep), test_features),
        np.stack([classifier.predict(test_features) for classifier in classifiers]),
    )


@pytest.mark.parametrize("flavour", ["torch", "sklearn"])
def test_a_model_file_loads_back_modules_that_predict_the_same_labels(
    flavour, torch_models, sklearn_models, split, tmp_path: Path
):
    models = {"torch": torch_models, "sklearn": sklearn_models}[flavour]
    dataset = ModelDataset(str(tmp_path / f"{flavour}.pt"))
    dataset.save(models)
    loaded = dataset.load()
    features = features_and_labels(split[1])[0]
    assert list(loaded) == list(models)
    for name, trained in models.items():
        assert loaded[name].kwargs == trained.kwargs
        # Training times are kept outside the model file (see ModelDataset): only those differ.
        assert (loaded[name].record, loaded[name].about) == (trained.record, trained.about)
        assert math.isnan(loaded[name].timing.train_seconds)
        np.testing.assert_array_equal(
            predicted_labels(loaded[name], features), predicted_labels(trained, features)
        )


def test_a_truncated_model_file_is_refused_in_one_line_naming_it(torch_models, tmp_path: Path):
    path = tmp_path / "torch.pt"
    ModelDataset(str(path)).save(torch_models)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataValidationError) as error:
        ModelDataset(str(path)).load()
    message = str(error.value)
    assert str(path) in message or "torch.pt" in message
    assert "\n" not in message


def test_the_base_configuration_separates_the_circles_with_five_or_more_neurons():
    """The bar on the real base parameters (torch flavour): mean test accuracy >= 0.97 from 5 neurons on."""
    base = load_parameters("base", PROJECT_ROOT)["mlp"]
    data = ToyDataParams.model_validate(base["data"])
    sweep = SweepParams.model_validate(
        {**base["sweep"], "hidden_neurons": [1, 3, 5, 8], "grid_resolution": 10}
    )
    train, test = data_nodes.split_points(data_nodes.generate_points(data), data)
    models = torch_flavour.fit_torch_sweep(train, sweep, TorchParams.model_validate(base["torch"]))
    accuracy = {
        r.hidden_layers[0]: r.test_accuracy.mean() for r in evaluate_sweep(models, {}, train, test, sweep)
    }
    assert accuracy[5] >= 0.97
    assert accuracy[8] >= 0.97
    assert accuracy[1] + 0.15 < accuracy[3] < accuracy[5]
