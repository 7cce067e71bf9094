"""The generative models: ensembles of independent seeds that the shared loop can train."""

import pytest
import torch

from dlpipeline.models.generative import (
    Autoencoder,
    DiffusionModel,
    EnsembleMLP,
    FeatureClassifier,
    GenerativeAdversarialNetwork,
    VariationalAutoencoder,
    member_generators,
    reconstruction_loss,
)
from dlpipeline.training import TrainConfig, fit


def test_an_ensemble_member_computes_what_it_computes_alone():
    together = EnsembleMLP([3, 5, 2], member_generators([7, 8]), "relu")
    alone = EnsembleMLP([3, 5, 2], member_generators([8]), "relu")
    inputs = torch.randn(4, 3)
    assert torch.allclose(together(inputs)[1], alone(inputs)[0])


def test_a_detached_pass_sends_no_gradient_to_the_weights_but_does_to_the_inputs():
    network = EnsembleMLP([2, 4, 1], member_generators([0]), "leaky_relu")
    inputs = torch.randn(5, 2, requires_grad=True)
    network(inputs, detached=True).sum().backward()
    assert all(weight.grad is None for weight in network.weights)
    assert inputs.grad is not None and inputs.grad.abs().sum() > 0


def test_a_linear_autoencoder_learns_the_pca_subspace_error():
    torch.manual_seed(0)
    data = torch.randn(400, 2) @ torch.tensor([[3.0, 0.0, 0.0], [0.0, 1.0, 0.0]]) + 0.05 * torch.randn(400, 3)
    model = Autoencoder(n_features=3, code_size=2, hidden=[], activation="linear", seeds=[0, 1])
    fit(model, data, data, reconstruction_loss, TrainConfig(epochs=400, learning_rate=0.02), seed=0)
    centred = data - data.mean(dim=0)
    smallest_variance = torch.linalg.svdvals(centred)[-1] ** 2 / (len(data) * 3)
    with torch.no_grad():
        per_member = reconstruction_loss(model(data), data)
    assert per_member.shape == (2,)
    assert torch.all(per_member < 1.5 * smallest_variance)


def test_the_vae_returns_one_finite_negative_elbo_per_member_and_samples_in_shape():
    model = VariationalAutoencoder(n_features=4, latent_dim=2, hidden=[8], seeds=[0, 1, 2])
    objective = model(torch.randn(10, 4))
    assert objective.shape == (3,) and torch.isfinite(objective).all()
    assert model.sample(6, torch.Generator().manual_seed(0), with_noise=True).shape == (3, 6, 4)


def no_gradient(weights) -> bool:
    """Whether none of ``weights`` received a non-zero gradient."""
    return all(weight.grad is None or not weight.grad.any() for weight in weights)


def test_each_gan_player_gets_gradients_from_its_own_loss_only():
    torch.manual_seed(0)
    model = GenerativeAdversarialNetwork(n_features=2, latent_dim=2, hidden=[8], seeds=[0])
    losses = model(torch.randn(16, 2))
    assert losses.shape == (1, 2)
    losses[:, 1].sum().backward()  # the generator's loss alone
    assert no_gradient(model.discriminator.weights)
    assert not no_gradient(model.generator.weights)
    model.zero_grad(set_to_none=True)
    model(torch.randn(16, 2))[:, 0].sum().backward()  # the discriminator's loss alone
    assert no_gradient(model.generator.weights)
    assert not no_gradient(model.discriminator.weights)


def test_diffusion_sampling_keeps_the_states_it_is_asked_for_and_is_seeded():
    model = DiffusionModel(n_features=2, hidden=[8], n_steps=10, seeds=[0, 1])
    assert model(torch.randn(5, 2)).shape == (2,)
    samples, trajectory = model.sample(7, 2, torch.Generator().manual_seed(3), keep_steps=[10, 5, 0])
    again, _ = model.sample(7, 2, torch.Generator().manual_seed(3))
    assert samples.shape == (2, 7, 2)
    assert sorted(trajectory) == [0, 5, 10]
    assert torch.equal(trajectory[0], samples)
    assert torch.equal(samples, again)


def test_the_forward_process_ends_near_pure_noise():
    model = DiffusionModel(n_features=2, hidden=[8], n_steps=1000, seeds=[0])
    assert float(model.alpha_bars[-1]) == pytest.approx(0.0, abs=1e-4)


def test_the_feature_classifier_exposes_its_last_hidden_layer():
    model = FeatureClassifier(n_features=64, hidden=[32, 16], n_classes=10, seed=0)
    inputs = torch.rand(5, 64)
    assert model(inputs).shape == (5, 10)
    assert model.features(inputs).shape == (5, 16)


@pytest.mark.parametrize(
    "build",
    [
        lambda: VariationalAutoencoder(2, 2, [8], [0, 1, 2], decoder_scale=0.1),
        lambda: GenerativeAdversarialNetwork(2, 2, [8], [0, 1, 2]),
        lambda: DiffusionModel(2, [8], 50, [0, 1, 2]),
    ],
    ids=["vae", "gan", "diffusion"],
)
def test_a_batch_with_one_column_per_member_trains_each_member_on_its_own_rows(build):
    model = build()
    shared = torch.randn(6, 2)
    torch.manual_seed(3)
    from_shared = model(shared)
    torch.manual_seed(3)
    from_columns = model(shared.unsqueeze(1).expand(6, 3, 2))
    # the same rows in every column: exactly what the shared batch gives, the same noise drawn
    assert torch.equal(from_shared, from_columns)
    own = shared.unsqueeze(1).repeat(1, 3, 1)
    own[:, 1] += 10.0  # member 1 alone reads other data
    torch.manual_seed(3)
    apart = model(own)
    assert torch.equal(apart[[0, 2]], from_shared[[0, 2]])
    assert not torch.equal(apart[1], from_shared[1])
