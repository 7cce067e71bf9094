"""Properties of the data generators and models, for any parameters a user could write.

Hypothesis draws valid parameter blocks, built through the pydantic classes behind
``conf/*/parameters_*.yml``, and small sizes; each test checks the shapes, columns,
dtypes, labels and determinism that the docstrings promise. Every run draws the same
examples (``derandomize=True``, no example database), so CI is reproducible.
"""

from typing import TypeVar, get_args

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from dlpipeline.data.digits import LABEL_COLUMN, pixel_columns
from dlpipeline.data.sequences import adding_tensors, digit_rows, generation_tensors, padded_windows
from dlpipeline.data.toy2d import ToyDatasetName
from dlpipeline.models.cnn import ConvNetEnsemble, PoolingName
from dlpipeline.models.mlp import ActivationName, MLPEnsemble
from dlpipeline.pipelines.cnn.data import load_images, split_images
from dlpipeline.pipelines.cnn.params import Architecture, ImageDataParams
from dlpipeline.pipelines.cnn.train import network_spec
from dlpipeline.pipelines.mlp.data import generate_points, split_points
from dlpipeline.pipelines.mlp.params import SweepParams, ToyDataParams
from dlpipeline.pipelines.sequence.data import (
    generate_adding,
    generate_series,
    generate_waves,
    load_digits,
    make_windows,
    split_adding,
    split_digits,
    split_waves,
)
from dlpipeline.pipelines.sequence.params import (
    AddingDataParams,
    DigitsRowsDataParams,
    ForecastDataParams,
    GenerateDataParams,
    ModelName,
    ModelParams,
)
from dlpipeline.pipelines.sequence.training import TaskKind, TaskTensors, new_model
from dlpipeline.training import MAX_SEED

reproducible = settings(max_examples=20, deadline=None, derandomize=True, database=None)
"""Twenty examples, the same ones every run, with no time limit per example."""

N_DIGITS = 1797
"""Images in scikit-learn's digits set."""

DIGIT_COLUMNS = [LABEL_COLUMN, *(f"px_{row}_{col}" for row in range(8) for col in range(8))]
"""Columns of a digits table: the label, then the 8×8 pixels row by row."""

unit_interval = st.floats(0, 1, exclude_min=True, exclude_max=True)
"""A share strictly between 0 and 1."""

seeds = st.integers(0, MAX_SEED)
"""Any ``random_state`` or seed the parameters accept."""

image_models = st.sampled_from(["cnn", "mlp"])
"""A network with convolution blocks, or the MLP baseline without."""

poolings = st.sampled_from(get_args(PoolingName))
"""Any pooling of the convolution blocks."""

TOKEN_KINDS = ("language_model", "tagging")
"""Tasks whose models read token ids (see tests/models/test_char_lm.py and the tagging tests)."""
task_kinds = st.sampled_from([kind for kind in get_args(TaskKind) if kind not in TOKEN_KINDS])
"""Any kind of sequence task that reads numbers: regression, classification or masked (padded) regression."""


# --- strategies ----------------------------------------------------------------------


Params = TypeVar("Params", bound=BaseModel)


def valid(params: type[Params], **fields: object) -> Params:
    """``params`` built from ``fields``; a combination its validators refuse is not drawn."""
    try:
        return params(**fields)
    except ValidationError:
        reject()


@st.composite
def toy_data_params(
    draw: st.DrawFn, min_samples: int = 10, shares: st.SearchStrategy[float] = unit_interval
) -> ToyDataParams:
    """A valid ``mlp.data`` block of at most 400 points; ``test_size`` drawn from ``shares``."""
    return valid(
        ToyDataParams,
        name=draw(st.sampled_from(get_args(ToyDatasetName))),
        n_samples=draw(st.integers(min_samples, 400)),
        noise=draw(st.floats(0, 10)),
        factor=draw(unit_interval),
        random_state=draw(seeds),
        test_size=draw(shares),
    )


def splittable_toy_data_params() -> st.SearchStrategy[ToyDataParams]:
    """Toy sets of ≥ 50 points split 5–95 %: each part gets ≥ 2 points, room for both classes.

    Smaller sets or more extreme shares can leave a part too small for both classes, which
    scikit-learn's stratified split refuses.
    """
    return toy_data_params(min_samples=50, shares=st.floats(0.05, 0.95))


@st.composite
def image_data_params(draw: st.DrawFn) -> ImageDataParams:
    """A ``cnn.data`` block on the digits: all or ≤ 1500 of them, split so each split can hold all ten."""
    return ImageDataParams(
        max_samples=draw(st.none() | st.integers(200, 1500)),
        val_size=draw(st.floats(0.1, 0.4)),
        test_size=draw(st.floats(0.1, 0.4)),
        random_state=draw(seeds),
    )


@st.composite
def adding_data_params(draw: st.DrawFn) -> AddingDataParams:
    """A ``sequence.adding.data`` block with a few distinct short lengths and few sequences."""
    return AddingDataParams(
        seq_lens=draw(st.lists(st.integers(2, 24), min_size=1, max_size=3, unique=True)),
        n_train=draw(st.integers(1, 12)),
        n_test=draw(st.integers(1, 12)),
        random_state=draw(seeds),
    )


@st.composite
def forecast_data_params(draw: st.DrawFn) -> ForecastDataParams:
    """A ``sequence.forecast.data`` block whose windows (≤ 20 steps + horizon ≤ 10) fit both parts."""
    max_len = draw(st.integers(1, 20))
    return ForecastDataParams(
        n_steps=draw(st.integers(100, 400)),
        train_share=draw(st.floats(0.3, 0.7)),
        n_train=draw(st.integers(1, 15)),
        n_test=draw(st.integers(1, 15)),
        min_len=draw(st.integers(1, max_len)),
        max_len=max_len,
        horizon=draw(st.integers(1, 10)),
        random_state=draw(seeds),
    )


@st.composite
def generate_data_params(draw: st.DrawFn) -> GenerateDataParams:
    """A ``sequence.generate.data`` block with short waves and an ω range within (0, 3]."""
    omega_min = draw(st.floats(0.01, 2))
    return GenerateDataParams(
        seq_len=draw(st.integers(2, 30)),
        n_train=draw(st.integers(1, 10)),
        n_test=draw(st.integers(1, 10)),
        omega_min=omega_min,
        omega_max=omega_min + draw(st.floats(0.01, 1)),
        random_state=draw(seeds),
    )


@st.composite
def sweep_params(draw: st.DrawFn) -> SweepParams:
    """An ``mlp.sweep`` block of up to three configurations of one depth (a bare int is one layer)."""
    depth = draw(st.integers(1, 3))
    widths = st.lists(st.integers(1, 12), min_size=depth, max_size=depth)
    entry = st.integers(1, 12) | widths if depth == 1 else widths
    return SweepParams(
        hidden_neurons=draw(st.lists(entry, min_size=1, max_size=3)),
        activation=draw(st.sampled_from(get_args(ActivationName))),
        n_seeds=draw(st.integers(1, 3)),
        first_seed=draw(st.integers(0, 10**6)),
    )


@st.composite
def architectures(
    draw: st.DrawFn, models: st.SearchStrategy[str] = image_models, pooling: st.SearchStrategy[str] = poolings
) -> Architecture:
    """One ``cnn.experiments`` architecture with at most three small blocks and 16 dense units."""
    return Architecture(
        model=draw(models),
        filters=draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)),
        kernel_size=draw(st.sampled_from([1, 3, 5, 7])),
        pooling=draw(pooling),
        dense_units=draw(st.integers(1, 16)),
        dropout=draw(st.floats(0, 1, exclude_max=True)),
    )


def image_side(architecture: Architecture) -> st.SearchStrategy[int]:
    """Rows or columns of an image that every pooled block of ``architecture`` can still halve."""
    pooled_blocks = len(architecture.filters) if architecture.model == "cnn" else 0
    smallest = 2**pooled_blocks if architecture.pooling != "none" else 1
    return st.integers(smallest, smallest + 5)


@st.composite
def model_params(draw: st.DrawFn) -> ModelParams:
    """A ``sequence.<task>.model`` block of any cells, ≤ 18 hidden units (heads dividing them), one seed."""
    n_heads = draw(st.integers(1, 3))
    return ModelParams(
        cells=draw(st.lists(st.sampled_from(get_args(ModelName)), min_size=1, max_size=4, unique=True)),
        hidden_size=n_heads * draw(st.integers(1, 6)),
        n_heads=n_heads,
        n_layers=draw(st.integers(1, 2)),
        first_seed=draw(seeds),
    )


@st.composite
def sequence_tasks(draw: st.DrawFn, kinds: st.SearchStrategy[TaskKind] = task_kinds) -> TaskTensors:
    """A task of ≤ 4 random sequences of ≤ 8 steps; a masked task right-pads each to a drawn length."""
    kind = draw(kinds)
    n_sequences, steps, inputs = draw(st.integers(1, 4)), draw(st.integers(1, 8)), draw(st.integers(1, 3))
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**32 - 1)))
    features = torch.randn(n_sequences, steps, inputs, generator=generator)
    if kind == "masked_regression":
        lengths = torch.tensor(
            draw(st.lists(st.integers(1, steps), min_size=n_sequences, max_size=n_sequences))
        )
        mask = (torch.arange(steps) < lengths[:, None]).float().unsqueeze(-1)
        features = torch.cat([features * mask, mask], dim=-1)
    output_size = draw(st.integers(1, 3))
    targets = torch.zeros(n_sequences, output_size)
    return TaskTensors(
        "drawn",
        features,
        targets,
        features,
        targets,
        kind=kind,
        output_size=output_size,
        readout=draw(st.sampled_from(["last", "every"])),
        causal=draw(st.booleans()),
    )


def seeded_model(cell: ModelName, task: TaskTensors, params: ModelParams) -> torch.nn.Module:
    """``new_model``'s network, initialised as training does: torch seeded with the first seed.

    The global generator is restored afterwards, so no other test sees the seeding.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(params.first_seed)
        return new_model(cell, task, params).module


def sorted_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` in a canonical order, with a fresh index."""
    return table.sort_values(list(table.columns)).reset_index(drop=True)


def valid_lengths(task: TaskTensors) -> list[int]:
    """Each sequence's number of valid steps (its mask channel's sum)."""
    return task.train_features[..., -1].sum(dim=1).long().tolist()


# --- 2-D toy points ------------------------------------------------------------------


@reproducible
@given(toy_data_params())
def test_every_generated_toy_dataset_has_the_requested_size_and_binary_labels(data: ToyDataParams):
    points = generate_points(data)
    assert list(points.columns) == ["x1", "x2", "label"]
    assert points.dtypes.tolist() == [np.float64, np.float64, np.int64]
    assert len(points) == data.n_samples
    assert set(points.label) <= {0, 1}
    assert np.isfinite(points[["x1", "x2"]].to_numpy()).all()
    if data.name != "xor":  # XOR is balanced only in expectation
        assert (points.label == 0).sum() == data.n_samples // 2
        assert (points.label == 1).sum() == data.n_samples - data.n_samples // 2


@reproducible
@given(toy_data_params())
def test_the_same_toy_parameters_always_give_the_same_points(data: ToyDataParams):
    pd.testing.assert_frame_equal(generate_points(data), generate_points(data), check_exact=True)


@reproducible
@given(splittable_toy_data_params())
def test_the_stratified_split_uses_every_point_once_and_keeps_every_class_in_both_parts(
    data: ToyDataParams,
):
    points = generate_points(data)
    train, test = split_points(points, data)
    assert len(train) + len(test) == data.n_samples
    assert abs(len(test) - data.test_size * data.n_samples) < 1
    pd.testing.assert_frame_equal(sorted_rows(pd.concat([train, test])), sorted_rows(points))
    assert set(train.label) == set(test.label) == set(points.label)
    for label, count in points.label.value_counts().items():
        assert abs((test.label == label).sum() - len(test) * count / data.n_samples) < 1


# --- digits --------------------------------------------------------------------------


@settings(reproducible, max_examples=10)
@given(image_data_params())
def test_every_digits_split_holds_all_ten_digits_with_pixels_scaled_into_0_1(data: ImageDataParams):
    images = load_images(data)
    splits = split_images(images, data)
    expected = N_DIGITS if data.max_samples is None else data.max_samples
    assert len(images) == expected
    assert sum(len(split) for split in splits) == expected
    train, val, test = splits
    assert abs(len(val) - data.val_size * expected) < 2
    assert abs(len(test) - data.test_size * expected) < 1
    for split in splits:
        assert split.columns.tolist() == DIGIT_COLUMNS
        assert split[LABEL_COLUMN].dtype == np.int64
        assert set(split[LABEL_COLUMN]) == set(range(10))
        pixels = split[pixel_columns(split)].to_numpy()
        assert pixels.dtype == np.float64
        assert pixels.min() >= 0
        assert pixels.max() <= 1
    assert train[pixel_columns(train)].to_numpy().max() == 1


@settings(reproducible, max_examples=10)
@given(image_data_params())
def test_the_same_image_parameters_always_give_the_same_splits(data: ImageDataParams):
    first_splits = split_images(load_images(data), data)
    for first, again in zip(first_splits, split_images(load_images(data), data), strict=True):
        pd.testing.assert_frame_equal(first, again, check_exact=True)


@settings(reproducible, max_examples=10)
@given(st.builds(DigitsRowsDataParams, test_size=st.floats(0.05, 0.95), random_state=seeds))
def test_digits_read_row_by_row_are_eight_steps_of_the_eight_pixels_of_each_row(data: DigitsRowsDataParams):
    parts = split_digits(load_digits(), data)
    assert sum(len(part) for part in parts) == N_DIGITS
    for part in parts:
        features, labels = digit_rows(part)
        assert features.shape == (len(part), 8, 8)
        assert features.dtype == torch.float32
        assert labels.dtype == torch.int64
        assert set(labels.tolist()) == set(range(10))
        expected = part[pixel_columns(part)].to_numpy(np.float32).reshape(len(part), 8, 8) / 16
        torch.testing.assert_close(features, torch.from_numpy(expected), rtol=0, atol=0)
        assert 0 <= features.min() <= features.max() <= 1


# --- sequence tasks ------------------------------------------------------------------


@reproducible
@given(adding_data_params())
def test_every_adding_sequence_marks_one_step_in_each_half_and_its_target_sums_their_values(
    data: AddingDataParams,
):
    table = generate_adding(data)
    assert table.columns.tolist() == ["draw", "seq_len", "sequence", "step", "value", "marker"]
    assert len(table) == (data.n_train + data.n_test) * sum(data.seq_lens)
    for part, n_sequences in zip(split_adding(table, data), (data.n_train, data.n_test), strict=True):
        for seq_len in data.seq_lens:
            features, targets = adding_tensors(part[part.seq_len == seq_len])
            assert features.shape == (n_sequences, seq_len, 2)
            assert targets.shape == (n_sequences, 1)
            values, markers = features[..., 0], features[..., 1]
            assert ((values >= 0) & (values < 1)).all()
            assert set(markers.unique().tolist()) <= {0.0, 1.0}
            assert (markers[:, : seq_len // 2].sum(dim=1) == 1).all()
            assert (markers[:, seq_len // 2 :].sum(dim=1) == 1).all()
            marked = values[markers == 1].reshape(n_sequences, 2)
            torch.testing.assert_close(targets, marked.sum(dim=1, keepdim=True))


@settings(reproducible, max_examples=15)
@given(forecast_data_params())
def test_every_forecast_window_has_an_allowed_length_and_targets_horizon_steps_ahead(
    data: ForecastDataParams,
):
    series = generate_series(data)
    assert series.step.tolist() == list(range(data.n_steps))
    for part, n_windows in zip(make_windows(series, data), (data.n_train, data.n_test), strict=True):
        assert part.columns.tolist() == ["window", "step", "value", "target"]
        lengths = part.groupby("window").size()
        assert lengths.index.tolist() == list(range(n_windows))
        assert lengths.between(data.min_len, data.max_len).all()
        for _, window in part.groupby("window"):
            assert window.step.tolist() == list(range(len(window)))
            np.testing.assert_array_equal(
                window.target.to_numpy()[: -data.horizon], window.value[data.horizon :]
            )
        features, targets = padded_windows(part, data.max_len)
        assert features.shape == targets.shape == (n_windows, data.max_len, 2)
        mask = (torch.arange(data.max_len) < torch.tensor(lengths.to_numpy())[:, None]).float()
        assert torch.equal(features[..., 1], mask)
        assert torch.equal(targets[..., 1], mask)
        assert not features[..., 0][mask == 0].any()
        assert not targets[..., 0][mask == 0].any()


@reproducible
@given(generate_data_params())
def test_every_sine_wave_feeds_omega_first_then_the_previous_value_of_sin_omega_t(data: GenerateDataParams):
    table = generate_waves(data)
    assert table.columns.tolist() == ["draw", "sequence", "step", "omega", "value"]
    assert len(table) == (data.n_train + data.n_test) * data.seq_len
    assert table.omega.between(data.omega_min, data.omega_max).all()
    np.testing.assert_allclose(table.value, np.sin(table.omega * (table.step + 1)))
    for part, n_sequences in zip(split_waves(table, data), (data.n_train, data.n_test), strict=True):
        features, targets = generation_tensors(part)
        assert features.shape == (n_sequences, data.seq_len, 2)
        assert targets.shape == (n_sequences, data.seq_len, 1)
        omegas = part.groupby("sequence").omega.first().to_numpy(np.float32)
        assert torch.equal(features[:, 0, 0], torch.from_numpy(omegas))
        assert not features[:, 1:, 0].any()
        assert not features[:, 0, 1].any()
        assert torch.equal(features[:, 1:, 1], targets[:, :-1, 0])


@settings(reproducible, max_examples=10)
@given(adding_data_params(), forecast_data_params(), generate_data_params())
def test_the_same_sequence_parameters_always_give_the_same_tables(
    adding: AddingDataParams, forecast: ForecastDataParams, generate: GenerateDataParams
):
    pd.testing.assert_frame_equal(generate_adding(adding), generate_adding(adding), check_exact=True)
    pd.testing.assert_frame_equal(generate_waves(generate), generate_waves(generate), check_exact=True)
    series = generate_series(forecast)
    for first, again in zip(make_windows(series, forecast), make_windows(series, forecast), strict=True):
        pd.testing.assert_frame_equal(first, again, check_exact=True)


# --- models --------------------------------------------------------------------------


@reproducible
@given(sweep_params(), st.integers(2, 4), st.integers(1, 5))
def test_an_mlp_sweep_gives_every_member_logits_for_every_row_and_each_member_is_its_own_net(
    sweep: SweepParams, n_classes: int, batch: int
):
    member_widths = [widths for widths in sweep.architectures for _ in sweep.seeds]
    member_seeds = [seed for _ in sweep.architectures for seed in sweep.seeds]
    model = MLPEnsemble(2, member_widths, n_classes, sweep.activation, member_seeds)
    features = torch.randn(batch, 2, generator=torch.Generator().manual_seed(sweep.first_seed))
    logits = model(features)
    assert model.members == len(member_seeds)
    assert logits.shape == (len(member_seeds), batch, n_classes)
    torch.testing.assert_close(model(features.expand(model.members, batch, 2)), logits)
    for member, (widths, seed) in enumerate(zip(member_widths, member_seeds, strict=True)):
        alone = MLPEnsemble.uniform(2, widths, n_classes, sweep.activation, [seed])
        torch.testing.assert_close(logits[member], alone(features)[0])


@settings(reproducible, max_examples=25)
@given(st.data())
def test_a_convnet_ensemble_gives_logits_per_member_and_feature_maps_of_the_spec_shapes(data: st.DataObject):
    architecture = data.draw(architectures(), label="architecture")
    in_shape = (
        data.draw(st.integers(1, 2), label="channels"),
        data.draw(image_side(architecture), label="rows"),
        data.draw(image_side(architecture), label="cols"),
    )
    n_classes = data.draw(st.integers(2, 5), label="n_classes")
    seeds = data.draw(st.lists(st.integers(0, 1000), min_size=1, max_size=3), label="seeds")
    batch = data.draw(st.integers(1, 3), label="batch")
    spec = network_spec(architecture, in_shape, n_classes)
    model = ConvNetEnsemble(spec, seeds)
    images = torch.rand(batch, *in_shape, generator=torch.Generator().manual_seed(seeds[0]))
    assert spec.model == architecture.model
    assert model(images).shape == (len(seeds), batch, n_classes)
    assert sum(parameter.numel() for parameter in model.parameters()) == len(seeds) * spec.n_params
    stages_per_block = 2 if spec.pooling == "none" else 3
    stages = model.trace(images)
    assert len(stages) == stages_per_block * len(spec.filters)
    block_outputs = [stage for _, stage in stages[stages_per_block - 1 :: stages_per_block]]
    for maps, block_shape in zip(block_outputs, spec.block_shapes, strict=True):
        assert maps.shape == (len(seeds), batch, *block_shape)


@reproducible
@given(st.data())
def test_a_cnn_whose_pooled_blocks_would_shrink_the_image_to_nothing_is_refused(data: st.DataObject):
    architecture = data.draw(architectures(models=st.just("cnn"), pooling=st.sampled_from(["max", "avg"])))
    too_small = 2 ** len(architecture.filters) - 1
    rows, cols = data.draw(
        st.tuples(st.integers(1, too_small), st.integers(1, 16))
        | st.tuples(st.integers(1, 16), st.integers(1, too_small))
    )
    with pytest.raises(ValueError, match="shrink"):
        network_spec(architecture, (1, rows, cols), n_classes=10)


@reproducible
@given(model_params(), sequence_tasks())
def test_every_sequence_model_reads_out_one_output_per_sequence_or_per_step(
    params: ModelParams, task: TaskTensors
):
    n_sequences, steps = task.train_features.shape[:2]
    expected = (
        (n_sequences, task.output_size) if task.readout == "last" else (n_sequences, steps, task.output_size)
    )
    for cell in params.cells:
        outputs = seeded_model(cell, task, params)(task.train_features)
        assert outputs.shape == expected, cell
        assert torch.isfinite(outputs).all(), cell


@reproducible
@given(model_params(), sequence_tasks(kinds=st.just("masked_regression")))
def test_padding_after_a_sequence_never_changes_what_any_sequence_model_reads_out(
    params: ModelParams, task: TaskTensors
):
    for cell in params.cells:
        model = seeded_model(cell, task, params)
        outputs = model(task.train_features)
        for row, length in enumerate(valid_lengths(task)):
            alone = model(task.train_features[row : row + 1, :length])[0]
            expected = outputs[row] if task.readout == "last" else outputs[row, :length]
            torch.testing.assert_close(alone, expected, rtol=1e-5, atol=1e-5, msg=cell)
