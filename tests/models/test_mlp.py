"""The batched MLP ensemble: shapes, per-member seeding, independent members, members copied in and out."""

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier
from torch import nn

from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.models.mlp import (
    MLPEnsemble,
    parameters_per_network,
    sklearn_layers,
    units_major_forward,
    width_groups,
)
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


def test_members_copied_out_of_a_padded_ensemble_predict_exactly_what_they_predicted_there():
    """The trimmed matrix products may round differently in the last bit, the labels never."""
    features = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    labels = (features.norm(dim=1) > 1).long()
    mixed = MLPEnsemble(2, [[8], [3], [5], [3]], 2, "relu", seeds=[1, 7, 2, 9])
    fit(mixed, features, labels, ensemble_cross_entropy, TrainConfig(epochs=30, device="cpu"), seed=0)
    narrow = MLPEnsemble.uniform(2, [3], 2, "relu", seeds=[7, 9])
    narrow.load_layers(*mixed.member_layers([1, 3], [3]))
    assert [tuple(weight.shape) for weight in narrow.weights] == [(2, 2, 3), (2, 3, 2)]
    with torch.no_grad():
        alone, among_others = narrow(features), mixed(features)[[1, 3]]
    torch.testing.assert_close(alone, among_others, rtol=1e-6, atol=1e-6)
    assert torch.equal(alone.argmax(dim=-1), among_others.argmax(dim=-1))


def test_layers_that_do_not_fit_are_refused():
    model = MLPEnsemble.uniform(2, [3], 2, "relu", seeds=[0, 1])
    weights, biases = model.member_layers([0], [3])
    with pytest.raises(ValueError, match="does not fit"):
        model.load_layers(weights, biases)
    with pytest.raises(ValueError, match="for 2 layers"):
        model.load_layers(weights[:1], biases)


def test_a_float64_ensemble_starts_from_the_same_draws_as_a_float32_one():
    single = MLPEnsemble.uniform(2, [4], 2, "tanh", seeds=[3])
    double = MLPEnsemble.uniform(2, [4], 2, "tanh", seeds=[3], dtype="float64")
    assert double.dtype == torch.float64
    assert double(torch.randn(5, 2, dtype=torch.float64)).dtype == torch.float64
    torch.testing.assert_close(double.weights[0].float(), single.weights[0], rtol=0, atol=0)


def test_an_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="unknown dtype"):
        MLPEnsemble.uniform(2, [3], 2, "relu", seeds=[0], dtype="float16")


def test_parameters_per_network_counts_weights_and_biases_of_every_layer():
    assert parameters_per_network([2, 5, 2]) == 3 * 5 + 6 * 2
    assert parameters_per_network([2, 4, 4, 1]) == 3 * 4 + 5 * 4 + 5 * 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(("activation", "sklearn_activation"), [("relu", "relu"), ("tanh", "tanh")])
def test_sklearn_classifiers_become_members_that_predict_exactly_their_labels(activation, sklearn_activation):
    generator = np.random.default_rng(0)
    features = generator.normal(size=(120, 2))
    labels = (np.linalg.norm(features, axis=1) > 1).astype(int)
    classifiers = [
        MLPClassifier((4, 3), activation=sklearn_activation, random_state=seed, max_iter=50).fit(
            features, labels
        )
        for seed in (0, 1)
    ]
    model = MLPEnsemble.uniform(2, [4, 3], 2, activation, seeds=[0, 1], dtype="float64")
    model.load_layers(*sklearn_layers([c.coefs_ for c in classifiers], [c.intercepts_ for c in classifiers]))
    grid = generator.uniform(-3, 3, size=(2000, 2))
    with torch.no_grad():
        predicted = model(torch.from_numpy(grid)).argmax(dim=-1).numpy()
    for member, classifier in enumerate(classifiers):
        np.testing.assert_array_equal(predicted[member], classifier.predict(grid))


def _member_as_sequential(model: MLPEnsemble, member: int, activation: nn.Module) -> nn.Sequential:
    """Member ``member`` of ``model`` (no padding) as the plain ``nn.Linear`` stack a user would write."""
    layers: list[nn.Module] = []
    for weight, bias in zip(model.weights, model.biases, strict=True):
        linear = nn.Linear(*weight.shape[1:], dtype=weight.dtype)
        with torch.no_grad():
            linear.weight.copy_(weight[member].T)
            linear.bias.copy_(bias[member, 0])
        layers += [linear, activation]
    return nn.Sequential(*layers[:-1])


@pytest.mark.parametrize(
    ("activation", "module", "widths"),
    [("relu", nn.ReLU(), [5]), ("tanh", nn.Tanh(), [4, 3]), ("sigmoid", nn.Sigmoid(), [6])],
)
@pytest.mark.parametrize("shared_inputs", [True, False])
def test_each_member_computes_its_plain_network_s_logits_and_gradients(
    activation, module, widths, shared_inputs
):
    """Whatever layout the batched products use inside, each member is its own ``nn.Linear`` stack."""
    generator = torch.Generator().manual_seed(3)
    members = 3
    model = MLPEnsemble.uniform(2, widths, 3, activation, seeds=[4, 5, 6], dtype="float64")
    features = torch.randn(*([] if shared_inputs else [members]), 9, 2, generator=generator).double()
    upstream = torch.randn(members, 9, 3, generator=generator).double()
    (model(features) * upstream).sum().backward()
    for member in range(members):
        plain = _member_as_sequential(model, member, module)
        inputs = features if shared_inputs else features[member]
        logits = plain(inputs)
        (logits * upstream[member]).sum().backward()
        torch.testing.assert_close(model(features)[member], logits)
        linears = [layer for layer in plain if isinstance(layer, nn.Linear)]
        for layer, weight, bias in zip(linears, model.weights, model.biases, strict=True):
            torch.testing.assert_close(weight.grad[member], layer.weight.grad.T)
            torch.testing.assert_close(bias.grad[member, 0], layer.bias.grad)


def test_a_member_trained_in_the_ensemble_ends_where_its_plain_network_trained_by_adam_ends():
    """The batched sweep trains each member exactly as a plain torch loop trains it alone."""
    features = torch.randn(40, 2, generator=torch.Generator().manual_seed(1))
    labels = (features.norm(dim=1) > 1).long()
    config = TrainConfig(epochs=30, learning_rate=0.05, device="cpu")
    model = MLPEnsemble(2, [[8], [3]], 2, "relu", seeds=[1, 2], dtype="float64")
    plains = [_member_as_sequential(model, member, nn.ReLU()) for member in range(2)]
    fit(model, features.double(), labels, ensemble_cross_entropy, config, seed=0)
    for member, plain in enumerate(plains):
        optimiser = torch.optim.Adam(plain.parameters(), lr=config.learning_rate)
        for _ in range(config.epochs):
            optimiser.zero_grad()
            nn.functional.cross_entropy(plain(features.double()), labels).backward()
            optimiser.step()
        torch.testing.assert_close(model(features.double())[member], plain(features.double()))


def test_the_two_class_loss_hands_a_units_major_output_a_contiguous_gradient():
    """The backward products of the last layer read the gradient row by row (``(members, classes, n)``)."""
    units_major = torch.randn(4, 2, 9, requires_grad=True)
    labels = torch.randint(0, 2, (9,))
    ensemble_cross_entropy(units_major.transpose(1, 2), labels).sum().backward()
    assert units_major.grad.is_contiguous()
    rows_major = units_major.detach().transpose(1, 2).contiguous()
    torch.testing.assert_close(
        ensemble_cross_entropy(units_major.transpose(1, 2), labels),
        ensemble_cross_entropy(rows_major, labels),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize(
    ("activation", "member_widths", "bias"),
    [
        ("relu", [[3], [3], [8], [5], [5]], True),
        ("sigmoid", [[4, 2], [4, 2], [6, 3]], True),
        ("tanh", [[2], [7], [7]], True),
        ("identity", [[1], [4]], True),
        ("relu", [[3], [6]], False),
    ],
)
@pytest.mark.parametrize("shared_inputs", [True, False])
def test_the_written_out_backward_gives_autograd_s_gradients_of_the_same_forward(
    activation, member_widths, bias, shared_inputs
):
    """The ensemble's own backward equals autograd run through its forward, padding, inputs and all."""
    generator = torch.Generator().manual_seed(5)
    members = len(member_widths)
    model = MLPEnsemble(
        2, member_widths, 3, activation, seeds=list(range(members)), dtype="float64", bias=bias
    )
    features = torch.randn(*([] if shared_inputs else [members]), 11, 2, generator=generator).double()
    features.requires_grad_(True)
    upstream = torch.randn(members, 11, 3, generator=generator).double()
    trained = [features, *(parameter for parameter in model.parameters() if parameter.requires_grad)]
    written = torch.autograd.grad((model(features) * upstream).sum(), trained)
    masks = [getattr(model, f"mask{layer}") for layer in range(1, len(model.weights))]
    logits, _ = units_major_forward(
        features, activation, model.groups, masks, list(model.weights), list(model.biases)
    )
    reference = torch.autograd.grad((logits.transpose(1, 2) * upstream).sum(), trained)
    for ours, autograd in zip(written, reference, strict=True):
        torch.testing.assert_close(ours, autograd)
    first_weights = written[1]
    assert first_weights[0, :, member_widths[0][0] :].abs().sum() == 0  # padded units get no gradient


def test_members_of_the_same_widths_in_a_row_compute_as_one_group():
    assert width_groups([[2, 3, 2], [2, 3, 2], [2, 5, 2], [2, 3, 2]]) == [
        (0, 2, (2, 3, 2)),
        (2, 3, (2, 5, 2)),
        (3, 4, (2, 3, 2)),
    ]
    model = MLPEnsemble(2, [[1], [1], [4], [4], [4]], 2, "relu", seeds=[0, 1, 2, 3, 4])
    assert model.groups == [(0, 2, (2, 1, 2)), (2, 5, (2, 4, 2))]


def test_the_two_class_loss_has_the_gradient_of_torch_cross_entropy_member_by_member():
    generator = torch.Generator().manual_seed(2)
    logits = (torch.randn(4, 25, 2, generator=generator) * 3).double().requires_grad_(True)
    labels = torch.randint(0, 2, (25,), generator=generator)
    weights = torch.rand(4, generator=generator).double()  # a different upstream gradient per member
    ours = torch.autograd.grad((ensemble_cross_entropy(logits, labels) * weights).sum(), logits)[0]
    per_member = torch.stack([nn.functional.cross_entropy(member, labels) for member in logits])
    expected = torch.autograd.grad((per_member * weights).sum(), logits)[0]
    torch.testing.assert_close(ours, expected)
