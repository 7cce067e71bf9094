"""The CNN family: every block's output shape, parameter counts, per-member seeding, the MLP baseline."""

import pytest
import torch

from dlpipeline.datasets import ModelDataset
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.training import TrainConfig, fit

DIGIT = (1, 8, 8)


def images(n: int = 5, shape: tuple[int, int, int] = DIGIT) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("pooling", "expected"),
    [
        (
            "max",
            [
                ("block 1 conv", (3, 5, 16, 8, 8)),
                ("block 1 ReLU", (3, 5, 16, 8, 8)),
                ("block 1 max pool", (3, 5, 16, 4, 4)),
                ("block 2 conv", (3, 5, 32, 4, 4)),
                ("block 2 ReLU", (3, 5, 32, 4, 4)),
                ("block 2 max pool", (3, 5, 32, 2, 2)),
            ],
        ),
        (
            "avg",
            [
                ("block 1 conv", (3, 5, 16, 8, 8)),
                ("block 1 ReLU", (3, 5, 16, 8, 8)),
                ("block 1 avg pool", (3, 5, 16, 4, 4)),
                ("block 2 conv", (3, 5, 32, 4, 4)),
                ("block 2 ReLU", (3, 5, 32, 4, 4)),
                ("block 2 avg pool", (3, 5, 32, 2, 2)),
            ],
        ),
        (
            "none",
            [
                ("block 1 conv", (3, 5, 16, 8, 8)),
                ("block 1 ReLU", (3, 5, 16, 8, 8)),
                ("block 2 conv", (3, 5, 32, 8, 8)),
                ("block 2 ReLU", (3, 5, 32, 8, 8)),
            ],
        ),
    ],
)
def test_each_block_finds_highlights_and_summarises_with_the_expected_shapes(pooling, expected):
    spec = ConvNetSpec(DIGIT, 10, filters=(16, 32), pooling=pooling)
    model = ConvNetEnsemble(spec, seeds=[0, 1, 2])
    stages = model.trace(images())
    assert [(name, tuple(maps.shape)) for name, maps in stages] == expected
    last_stage_of_each_block = {name.split()[1]: shape[2:] for name, shape in expected}
    assert spec.block_shapes == list(last_stage_of_each_block.values())
    assert model(images()).shape == (3, 5, 10)


def test_relu_zeroes_the_negatives_and_max_pooling_keeps_each_window_maximum():
    model = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=(4,), pooling="max"), seeds=[0])
    (_, conv), (_, relu), (_, pooled) = model.trace(images())
    torch.testing.assert_close(relu, conv.clamp(min=0))
    torch.testing.assert_close(pooled, relu.unflatten(-1, (4, 2)).unflatten(-3, (4, 2)).amax(dim=(-1, -3)))


@pytest.mark.parametrize(("members", "channels"), [(1, 1), (3, 1), (2, 3)])
def test_every_block_runs_in_channels_last_memory_whatever_the_members_and_channels(members, channels):
    # Pooling in the default layout is several times slower on a CPU. With one member and
    # one channel the input's strides fit both layouts, which must not decide for torch.
    spec = ConvNetSpec(in_shape=(channels, 8, 8), n_classes=10, filters=(16, 32))
    stages = ConvNetEnsemble(spec, list(range(members))).trace(images(shape=(channels, 8, 8)))
    for name, maps in stages:  # (members, n, channels, rows, cols): the channels are innermost
        assert maps.stride(2) == 1, name


def test_the_dense_layer_sees_the_flattened_last_feature_maps():
    spec = ConvNetSpec(DIGIT, 10, filters=(32, 64), dense_units=128)
    assert spec.block_shapes == [(32, 4, 4), (64, 2, 2)]
    assert spec.flat_features == 256
    model = ConvNetEnsemble(spec, seeds=[0, 1])
    assert tuple(model.dense_weight.shape) == (2, 256, 128)
    assert tuple(model.out_weight.shape) == (2, 128, 10)


@pytest.mark.parametrize(
    "spec",
    [
        ConvNetSpec(DIGIT, 10, filters=(32, 64), dense_units=128),
        ConvNetSpec(DIGIT, 10, filters=(16, 32), pooling="none", kernel_size=5),
        ConvNetSpec((3, 12, 10), 4, filters=(8, 8, 8)),
        ConvNetSpec(DIGIT, 10, filters=(), dense_units=707),
    ],
)
def test_the_parameter_count_is_that_of_one_member(spec):
    model = ConvNetEnsemble(spec, seeds=[0, 1, 2])
    assert sum(parameter.numel() for parameter in model.parameters()) == 3 * spec.n_params


def test_the_baseline_cnn_and_mlp_are_of_comparable_size():
    cnn = ConvNetSpec(DIGIT, 10, filters=(32, 64), dense_units=128)
    mlp = ConvNetSpec(DIGIT, 10, filters=(), dense_units=707)
    assert (cnn.n_params, mlp.n_params) == (53_002, 53_035)


def test_without_blocks_it_is_an_mlp_on_the_raw_pixels():
    spec = ConvNetSpec(DIGIT, 10, filters=(), dense_units=20)
    model = ConvNetEnsemble(spec, seeds=[4, 5])
    assert spec.model == "mlp"
    assert spec.flat_features == 64
    assert model.trace(images()) == []
    assert model(images()).shape == (2, 5, 10)
    with pytest.raises(ValueError, match="no filters"):
        model.first_layer_filters()


@pytest.mark.parametrize("filters", [(4, 8), ()], ids=["cnn", "mlp"])
def test_each_member_can_be_shown_its_own_images_and_sees_only_those(filters):
    model = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=filters, dense_units=16), seeds=[0, 1, 2]).eval()
    shared = images()
    torch.testing.assert_close(model(shared.expand(3, *shared.shape)), model(shared))
    own = torch.stack([shared, images(5) * 0.5, shared.flip(-1)])
    for member in range(3):
        torch.testing.assert_close(model(own)[member], model(own[member])[member])


def test_the_first_layer_filters_are_one_kernel_per_filter_and_member():
    model = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=(6, 12), kernel_size=5), seeds=[0, 1])
    assert model.first_layer_filters().shape == (2, 6, 1, 5, 5)


def test_a_member_starts_from_its_own_seed_whatever_its_neighbours():
    spec = ConvNetSpec(DIGIT, 10, filters=(4, 8), dense_units=16)
    alone = ConvNetEnsemble(spec, seeds=[11])
    among_others = ConvNetEnsemble(spec, seeds=[3, 11, 5])
    torch.testing.assert_close(alone(images())[0], among_others(images())[1])
    torch.testing.assert_close(alone.first_layer_filters()[0], among_others.first_layer_filters()[1])


def test_training_a_member_among_others_matches_training_it_alone():
    features = images(64)
    labels = (features.mean(dim=(1, 2, 3)) > 0.5).long()
    spec = ConvNetSpec(DIGIT, 2, filters=(4,), dense_units=8)
    config = TrainConfig(epochs=15, learning_rate=0.01, batch_size=16, device="cpu")
    alone = fit(ConvNetEnsemble(spec, [11]), features, labels, ensemble_cross_entropy, config, seed=0)
    among = fit(ConvNetEnsemble(spec, [3, 11]), features, labels, ensemble_cross_entropy, config, seed=0)
    torch.testing.assert_close(alone.loss[:, 0], among.loss[:, 1], rtol=1e-4, atol=1e-5)


def test_dropout_is_random_in_training_and_off_in_evaluation():
    model = ConvNetEnsemble(ConvNetSpec(DIGIT, 10, filters=(4,), dense_units=64, dropout=0.5), seeds=[0])
    model.train()
    assert not torch.equal(model(images()), model(images()))
    model.eval()
    torch.testing.assert_close(model(images()), model(images()))


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"kernel_size": 4}, "kernel_size must be odd"),
        ({"filters": (8, 0)}, "must be positive and n_classes at least 2"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"filters": (4, 4, 4, 4)}, "4 pooled blocks shrink 8x8 images to nothing"),
    ],
)
def test_impossible_networks_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        ConvNetSpec(DIGIT, 10, **arguments)


def test_without_pooling_any_number_of_blocks_fits():
    assert ConvNetSpec(DIGIT, 10, filters=(4, 4, 4, 4), pooling="none").block_shapes[-1] == (4, 8, 8)


def test_an_ensemble_needs_a_seed():
    with pytest.raises(ValueError, match="at least one seed"):
        ConvNetEnsemble(ConvNetSpec(DIGIT, 10), seeds=[])


def test_an_ensemble_rebuilds_from_its_model_file_with_the_same_logits(tmp_path):
    spec = ConvNetSpec(DIGIT, 10, filters=(4, 8), dense_units=16, dropout=0.5)
    trained = TrainedModule.build(ConvNetEnsemble, spec=spec, seeds=[3, 4])
    dataset = ModelDataset(str(tmp_path / "models.pt"))
    dataset.save({"cnn": trained})
    loaded = dataset.load()["cnn"]
    assert loaded.kwargs == {"spec": spec, "seeds": [3, 4]}
    assert not loaded.module.training  # rebuilt in eval mode: dropout off
    torch.testing.assert_close(loaded.module(images()), trained.module.eval()(images()), rtol=0, atol=0)


def test_the_penultimate_features_are_what_the_output_layer_classifies():
    model = ConvNetEnsemble(
        ConvNetSpec(DIGIT, 10, filters=(4, 8), dense_units=12, dropout=0.5), [0, 1]
    ).eval()
    with torch.no_grad():
        features = model.penultimate(images())
        logits = model(images())
    assert features.shape == (2, 5, 12)  # (members, images, dense units)
    assert (features >= 0).all()  # after ReLU
    torch.testing.assert_close(logits, torch.baddbmm(model.out_bias, features, model.out_weight))
