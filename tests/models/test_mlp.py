"""The batched MLP ensemble: shapes, per-member seeding and independence of members."""

import pytest
import torch
from torch import nn

from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.training import TrainConfig, fit


def test_every_member_returns_logits_for_every_row():
    model = MLPEnsemble.uniform(2, [5], 2, "relu", seeds=[0, 1, 2])
    assert model(torch.randn(7, 2)).shape == (3, 7, 2)
    assert model(torch.randn(3, 7, 2)).shape == (3, 7, 2)


def test_a_list_of_widths_builds_a_deeper_net():
    model = MLPEnsemble.uniform(2, [8, 8, 4], 3, "tanh", seeds=[0])
    assert [tuple(w.shape) for w in model.weights] == [(1, 2, 8), (1, 8, 8), (1, 8, 4), (1, 4, 3)]


def test_a_member_starts_from_its_own_seed_whatever_its_neighbours():
    alone = MLPEnsemble.uniform(2, [4], 2, "relu", seeds=[11])
    among_others = MLPEnsemble.uniform(2, [4], 2, "relu", seeds=[3, 11, 5])
    for single, batched in zip(alone.weights, among_others.weights, strict=True):
        torch.testing.assert_close(single[0], batched[1])


def test_training_a_member_among_others_matches_training_it_alone():
    features = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    labels = (features.norm(dim=1) > 1).long()
    config = TrainConfig(epochs=50, learning_rate=0.05, device="cpu")
    alone = MLPEnsemble.uniform(2, [4], 2, "relu", seeds=[11])
    among_others = MLPEnsemble.uniform(2, [4], 2, "relu", seeds=[3, 11, 5])
    history_alone = fit(alone, features, labels, ensemble_cross_entropy, config, seed=0)
    history_batched = fit(among_others, features, labels, ensemble_cross_entropy, config, seed=0)
    torch.testing.assert_close(history_alone.loss[:, 0], history_batched.loss[:, 1], rtol=1e-4, atol=1e-5)


def test_a_narrow_member_padded_among_wider_ones_trains_exactly_like_the_narrow_net():
    features = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    labels = (features.norm(dim=1) > 1).long()
    config = TrainConfig(epochs=40, learning_rate=0.05, device="cpu")
    narrow = MLPEnsemble.uniform(2, [3], 2, "relu", seeds=[7])
    mixed = MLPEnsemble(2, [[8], [3], [5]], 2, "relu", seeds=[1, 7, 2])
    torch.testing.assert_close(mixed.weights[0][1, :, :3], narrow.weights[0][0])
    narrow_history = fit(narrow, features, labels, ensemble_cross_entropy, config, seed=0)
    mixed_history = fit(mixed, features, labels, ensemble_cross_entropy, config, seed=0)
    torch.testing.assert_close(narrow_history.loss[:, 0], mixed_history.loss[:, 1], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(mixed(features)[1], narrow(features)[0], rtol=1e-4, atol=1e-5)
    assert mixed.weights[0][1, :, 3:].abs().sum() == 0  # the padding never moves


def test_members_must_share_their_depth():
    with pytest.raises(ValueError, match="same number of hidden layers"):
        MLPEnsemble(2, [[3], [3, 3]], 2, "relu", seeds=[0, 1])


@pytest.mark.parametrize("classes", [2, 3])
def test_the_ensemble_loss_equals_torch_cross_entropy_member_by_member(classes):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 25, classes, generator=generator) * 3
    labels = torch.randint(0, classes, (25,), generator=generator)
    expected = torch.stack([nn.functional.cross_entropy(member, labels) for member in logits])
    torch.testing.assert_close(ensemble_cross_entropy(logits, labels), expected)


def test_the_ensemble_loss_is_one_cross_entropy_per_member():
    logits = torch.zeros(3, 10, 2)
    loss = ensemble_cross_entropy(logits, torch.zeros(10, dtype=torch.long))
    torch.testing.assert_close(loss, torch.full((3,), torch.log(torch.tensor(2.0)).item()))


@pytest.mark.parametrize(
    ("widths", "activation", "message"),
    [
        ([0], "relu", "widths must be >= 1"),
        ([3], "softplus", "unknown activation"),
    ],
)
def test_invalid_architectures_are_refused(widths, activation, message):
    with pytest.raises(ValueError, match=message):
        MLPEnsemble.uniform(2, widths, 2, activation, seeds=[0])


def test_an_ensemble_needs_a_seed():
    with pytest.raises(ValueError, match="at least one seed"):
        MLPEnsemble.uniform(2, [3], 2, "relu", seeds=[])
