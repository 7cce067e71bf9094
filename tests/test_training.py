"""The shared training loop: it learns, it is seeded, it picks its device."""

import functools

import pytest
import torch
from pydantic import ValidationError
from torch import nn

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.records import TrainingRecord
from dlpipeline.training import (
    TrainConfig,
    fit,
    initial_module,
    predict,
    resolve_device,
    seed_everything,
    train_configuration,
)


def separable_problem() -> tuple[torch.Tensor, torch.Tensor]:
    features = torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    return features, (features[:, 0] + features[:, 1] > 0).long()


def mean_cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, targets)


def test_fit_lowers_the_loss_and_records_every_epoch():
    features, labels = separable_problem()
    seed_everything(0)
    model = nn.Linear(2, 2)
    history = fit(
        model, features, labels, mean_cross_entropy, TrainConfig(epochs=100, learning_rate=0.1), seed=0
    )
    assert history.loss.shape == (100,)
    assert history.loss[-1] < history.loss[0] / 4
    accuracy = (predict(model, features).argmax(dim=1) == labels).float().mean()
    assert accuracy > 0.95


@pytest.mark.parametrize("batch_size", [None, 32])
def test_the_same_seed_gives_the_same_history(batch_size):
    features, labels = separable_problem()
    config = TrainConfig(epochs=20, learning_rate=0.05, batch_size=batch_size)
    histories = []
    for _ in range(2):
        seed_everything(3)
        histories.append(fit(nn.Linear(2, 2), features, labels, mean_cross_entropy, config, seed=3).loss)
    torch.testing.assert_close(histories[0], histories[1], rtol=0, atol=0)


def test_the_epoch_evaluator_is_recorded_after_every_epoch_without_gradients():
    features, labels = separable_problem()
    held_out, held_out_labels = features[:50], labels[:50]
    seen_grad_mode = []

    def validation(model: nn.Module) -> dict[str, torch.Tensor]:
        seen_grad_mode.append((torch.is_grad_enabled(), model.training))
        outputs = model(held_out)
        return {
            "val_loss": mean_cross_entropy(outputs, held_out_labels),
            "val_accuracy": (outputs.argmax(dim=1) == held_out_labels).float().mean(),
        }

    seed_everything(0)
    history = fit(
        nn.Linear(2, 2),
        features,
        labels,
        mean_cross_entropy,
        TrainConfig(epochs=6, batch_size=64, learning_rate=0.1),
        seed=0,
        evaluate_epoch=validation,
    )
    assert history.loss.shape == (6,)
    assert history.of("val_accuracy").shape == (6,)
    assert history.of("val_loss")[-1] < history.of("val_loss")[0]
    assert history.test_accuracy is None  # only what the evaluator measured is recorded
    assert seen_grad_mode == [(False, False)] * 6


def test_gradient_clipping_runs_before_every_step_when_asked(monkeypatch: pytest.MonkeyPatch):
    features, labels = separable_problem()
    clip_norms = []
    real_clip = torch.nn.utils.clip_grad_norm_

    def recording_clip(parameters, max_norm):
        clip_norms.append(max_norm)
        return real_clip(parameters, max_norm)

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording_clip)
    config = TrainConfig(epochs=3, batch_size=100, max_grad_norm=0.5)
    fit(nn.Linear(2, 2), features, labels, mean_cross_entropy, config, seed=0)
    assert clip_norms == [0.5] * 6  # 3 epochs x 2 batches
    fit(nn.Linear(2, 2), features, labels, mean_cross_entropy, TrainConfig(epochs=3), seed=0)
    assert len(clip_norms) == 6
    with pytest.raises(ValidationError):
        TrainConfig(max_grad_norm=0)


def test_threads_apply_while_training_and_are_restored_after():
    features, labels = separable_problem()
    before = torch.get_num_threads()
    seen = []

    def record_threads(model: nn.Module) -> dict[str, float]:
        seen.append(torch.get_num_threads())
        return {}

    config = TrainConfig(epochs=2, threads=1)
    fit(nn.Linear(2, 2), features, labels, mean_cross_entropy, config, seed=0, evaluate_epoch=record_threads)
    assert seen == [1, 1]
    assert torch.get_num_threads() == before


def test_auto_prefers_cuda_and_falls_back_to_cpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_asking_for_cuda_without_one_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no CUDA device"):
        resolve_device("cuda")


@pytest.mark.parametrize(
    "bad",
    [{"epochs": 0}, {"learning_rate": -1}, {"device": "tpu"}, {"epoch": 3}, {"adam_betas": (1.0, 0.999)}],
)
def test_train_config_refuses_bad_values(bad):
    with pytest.raises(ValidationError):
        TrainConfig(**bad)


def test_adams_decay_rates_reach_the_optimiser(monkeypatch: pytest.MonkeyPatch):
    seen = []
    original = torch.optim.Adam

    def recording_adam(*args, **kwargs):
        seen.append(kwargs["betas"])
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    features, labels = separable_problem()
    config = TrainConfig(epochs=1, adam_betas=(0.5, 0.99))
    fit(nn.Linear(2, 2), features, labels, mean_cross_entropy, config, seed=0)
    assert seen == [(0.5, 0.99)]


@pytest.mark.parametrize("fused", [False, True])
def test_fused_adam_is_asked_for_only_when_configured(monkeypatch: pytest.MonkeyPatch, fused):
    seen = []
    original = torch.optim.Adam

    def recording_adam(*args, **kwargs):
        seen.append(kwargs.get("fused"))
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", recording_adam)
    features, labels = separable_problem()
    fit(
        nn.Linear(2, 2), features, labels, mean_cross_entropy, TrainConfig(epochs=1, fused_adam=fused), seed=0
    )
    assert seen == [True if fused else None]  # None: torch's own default, as before the option


def test_fused_adam_trains_to_the_weights_of_the_per_parameter_loop():
    """One fused kernel computes Adam's update; only the float rounding of the step may differ."""
    features, labels = separable_problem()
    trained = []
    for fused in (False, True):
        seed_everything(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
        config = TrainConfig(epochs=50, learning_rate=0.05, fused_adam=fused, device="cpu")
        fit(model, features, labels, mean_cross_entropy, config, seed=0)
        trained.append(torch.cat([parameter.detach().flatten() for parameter in model.parameters()]))
    torch.testing.assert_close(trained[1], trained[0], rtol=1e-4, atol=1e-5)
    assert not torch.equal(trained[0], torch.cat([p.flatten() for p in _initial_stack()]))


def _initial_stack() -> list[torch.Tensor]:
    seed_everything(0)
    return [p.detach() for p in nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2)).parameters()]


def test_train_configuration_seeds_builds_fits_and_records_what_it_used():
    features, labels = separable_problem()
    config = TrainConfig(epochs=4, batch_size=32, learning_rate=0.05, threads=1, weight_decay=0.001)
    trained = train_configuration(
        functools.partial(TrainedModule.build, nn.Linear, in_features=2, out_features=2),
        features,
        labels,
        mean_cross_entropy,
        config,
        [7],
        "linear",
        settings={"purpose": "test"},
    )
    assert trained.record == TrainingRecord(
        seeds=(7,),
        epochs=4,
        epochs_run=4,
        learning_rate=0.05,
        batch_size=32,
        optimizer="adam",
        n_train=len(features),
        n_params=6,
        device="cpu",
        threads=1,
        weight_decay=0.001,
        settings={"purpose": "test"},
    )
    assert trained.history.loss.shape == (4,)
    assert trained.timing.train_seconds > 0


def test_the_initial_module_is_the_one_training_started_from():
    features, labels = separable_problem()
    build = functools.partial(TrainedModule.build, nn.Linear, in_features=2, out_features=2)
    seed_everything(3)
    before = build().module.state_dict()
    trained = train_configuration(
        build, features, labels, mean_cross_entropy, TrainConfig(epochs=2), [3], "linear"
    )
    rebuilt = initial_module(trained).state_dict()
    assert all(before[key].equal(rebuilt[key]) for key in before)
    assert not trained.module.weight.equal(rebuilt["weight"])  # training moved the weights


def test_an_epoch_measurement_outside_the_shared_names_is_refused():
    features, labels = separable_problem()
    with pytest.raises(ValueError, match=r"\['val_acc'\] have no place in History"):
        fit(
            nn.Linear(2, 2),
            features,
            labels,
            mean_cross_entropy,
            TrainConfig(epochs=1),
            seed=0,
            evaluate_epoch=lambda model: {"val_acc": 1.0},
        )


def test_a_full_batch_is_recorded_as_the_number_of_training_rows():
    features, labels = separable_problem()
    trained = train_configuration(
        functools.partial(TrainedModule.build, nn.Linear, in_features=2, out_features=2),
        features,
        labels,
        mean_cross_entropy,
        TrainConfig(epochs=1, batch_size=None),
        [0],
        "linear",
    )
    assert trained.trained_record.batch_size == len(features)
