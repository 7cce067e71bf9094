"""What the sequence claims read: data draws paired with seeds, the units table, and sequential steps."""

import pandas as pd
import pytest
import torch

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.pipelines.sequence import adding, data, generate, parallelism, units
from dlpipeline.pipelines.sequence.params import (
    AddingDataParams,
    DerivedUnitRow,
    GenerateDataParams,
    ModelParams,
    ParallelismParams,
    UnitsParams,
)
from dlpipeline.pipelines.sequence.training import SequenceRun, seed_draws, train_models
from dlpipeline.records import Timing
from dlpipeline.training import TrainConfig

ONE_EPOCH = TrainConfig(epochs=1, learning_rate=0.01, batch_size=16, threads=1)


# --- data draws ---------------------------------------------------------------------------


def test_draw_zero_is_the_data_a_single_draw_gives_and_each_further_draw_is_new():
    one = data.generate_adding(AddingDataParams(seq_lens=[4, 6], n_train=8, n_test=4))
    three = data.generate_adding(AddingDataParams(seq_lens=[4, 6], n_train=8, n_test=4, n_draws=3))
    pd.testing.assert_frame_equal(three[three["draw"] == 0].reset_index(drop=True), one)
    values = [three[three["draw"] == draw]["value"].to_numpy() for draw in range(3)]
    assert not (values[0] == values[1]).all() and not (values[1] == values[2]).all()


def test_seed_i_trains_on_draw_i_cycling_through_the_draws():
    assert seed_draws([0, 1, 2, 3, 4], [0, 0, 1, 1, 2, 2]) == {0: 0, 1: 1, 2: 2, 3: 0, 4: 1}
    assert seed_draws([7, 8], [0]) == {7: 0, 8: 0}


def test_each_seed_is_trained_and_tested_on_its_own_draw_once_per_length():
    params = AddingDataParams(seq_lens=[4, 6], n_train=16, n_test=8, n_draws=2)
    train, test = data.split_adding(data.generate_adding(params), params)
    models = train_models(
        adding.adding_tasks(train, test), ModelParams(cells=["rnn"], hidden_size=4, n_seeds=2), ONE_EPOCH
    )
    assert {(m.about.seq_len, m.about.seed, m.about.draw) for m in models.values()} == {
        (4, 0, 0),
        (6, 0, 0),
        (4, 1, 1),
        (6, 1, 1),
    }


def test_a_cell_trains_only_at_the_lengths_named_for_it():
    params = AddingDataParams(seq_lens=[4, 6], n_train=16, n_test=8)
    train, test = data.split_adding(data.generate_adding(params), params)
    model_params = ModelParams(
        cells=["rnn", "transformer"], hidden_size=4, n_seeds=1, cell_seq_lens={"transformer": [6]}
    )
    models = train_models(adding.adding_tasks(train, test), model_params, ONE_EPOCH)
    assert set(models) == {"adding-rnn-T4-s0", "adding-rnn-T6-s0", "adding-transformer-T6-s0"}


# --- baselines on the same unit ------------------------------------------------------------


def test_predicting_the_training_mean_scores_about_the_variance_of_the_sum_on_every_draw():
    params = AddingDataParams(seq_lens=[10], n_train=2000, n_test=2000, n_draws=2)
    train, test = data.split_adding(data.generate_adding(params), params)
    baselines = adding.mean_predictor_mse(train, test)
    assert set(baselines) == {(0, 10), (1, 10)}
    assert list(baselines.values()) == pytest.approx([1 / 6, 1 / 6], rel=0.1)
    assert baselines[(0, 10)] != baselines[(1, 10)]


def test_the_mean_wave_is_what_a_generator_blind_to_omega_would_write():
    params = GenerateDataParams(seq_len=5, n_train=50, n_test=10, n_draws=2)
    train, test = data.split_waves(data.generate_waves(params), params)
    baselines = generate.mean_wave_mse(train, test)
    assert set(baselines) == {(0, 5), (1, 5)}
    first = test[test["draw"] == 0]
    mean_wave = train[train["draw"] == 0].groupby("step")["value"].mean()
    by_hand = ((first["value"] - first["step"].map(mean_wave)) ** 2).mean()
    assert baselines[(0, 5)] == pytest.approx(by_hand)
    # predicting zero ignores that every wave starts rising: the mean wave does better
    assert baselines[(0, 5)] < (first["value"] ** 2).mean()


# --- the units table -----------------------------------------------------------------------


def scored(task: str, cell: str, seed: int, metric: str, value: float, draw: int = 0) -> TrainedModule:
    """A stand-in trained model of ``cell`` that scored ``metric`` = ``value``."""
    run = SequenceRun(task, cell, 8, seed, 4, {}, {metric: value}, draw=draw)
    return TrainedModule(torch.nn.Identity(), {}, about=run, timing=Timing(1.0, 1.0))


def digits_units() -> pd.DataFrame:
    """Two seeds of four cells' accuracies, beside a majority baseline of 0.1."""
    accuracies = {"rnn": (0.90, 0.95), "gru": (0.93, 0.91), "lstm": (0.96, 0.92), "transformer": (0.94, 0.97)}
    models = {
        f"{cell}-{seed}": scored("digits_rows", cell, seed, "test_accuracy", value)
        for cell, values in accuracies.items()
        for seed, value in enumerate(values)
    }
    return units.unit_rows(models, 0.1, "majority class")


def test_each_model_is_one_row_beside_the_baseline_of_its_own_draw():
    models = {
        "a": scored("adding", "rnn", 0, "test_mse", 0.05, draw=0),
        "b": scored("adding", "rnn", 1, "test_mse", 0.07, draw=1),
    }
    table = units.unit_rows(models, {(0, 8): 0.16, (1, 8): 0.17}, "predict the mean")
    assert list(table.columns) == units.COLUMNS
    assert table[["seed", "draw", "value", "baseline"]].values.tolist() == [
        [0, 0, 0.05, 0.16],
        [1, 1, 0.07, 0.17],
    ]


def test_a_derived_row_picks_per_unit_the_worst_or_best_cell_by_the_metrics_direction():
    derived = UnitsParams(
        derived=[
            DerivedUnitRow(task="digits_rows", name="worst rnn/gru", cells=["rnn", "gru"], pick="worst"),
            DerivedUnitRow(
                task="digits_rows", name="best lstm/tf", cells=["lstm", "transformer"], pick="best"
            ),
        ]
    )
    table = units.claim_units(derived, digits_units())
    worst = table[table.cell == "worst rnn/gru"].set_index("seed")["value"]
    best = table[table.cell == "best lstm/tf"].set_index("seed")["value"]
    assert worst.to_dict() == {0: 0.90, 1: 0.91}
    assert best.to_dict() == {0: 0.96, 1: 0.97}
    assert table[table.cell == "worst rnn/gru"].baseline.eq(0.1).all()
    nll = {f"{c}": scored("text", c, 0, "test_nll", v) for c, v in {"rnn": 2.0, "lstm": 2.1}.items()}
    text = units.claim_units(
        UnitsParams(derived=[DerivedUnitRow(task="text", name="w", cells=["rnn", "lstm"], pick="worst")]),
        units.unit_rows(nll, 2.4, "count bigram"),
    )
    assert text[text.cell == "w"].value.tolist() == [2.1]  # a higher NLL is worse


def test_a_gap_row_is_the_difference_of_two_rows_on_each_unit_beside_no_gap():
    derived = UnitsParams(
        derived=[
            DerivedUnitRow(task="digits_rows", name="worst", cells=["rnn", "gru"], pick="worst"),
            DerivedUnitRow(task="digits_rows", name="best", cells=["lstm", "transformer"], pick="best"),
            DerivedUnitRow(task="digits_rows", name="gap", cells=["best", "worst"], pick="gap"),
        ]
    )
    table = units.claim_units(derived, digits_units())
    gap = table[table.cell == "gap"].set_index("seed")
    assert gap["value"].to_dict() == pytest.approx({0: 0.06, 1: 0.06})
    assert set(gap["baseline"]) == {0.0} and set(gap["metric"]) == {"test_accuracy gap"}


def test_a_unit_missing_one_of_the_cells_has_no_derived_row():
    table = digits_units()
    table = table[~((table.cell == "gru") & (table.seed == 1))]
    rows = units.derived_rows(
        table, DerivedUnitRow(task="digits_rows", name="w", cells=["rnn", "gru"], pick="worst")
    )
    assert rows.seed.tolist() == [0]


def test_a_gap_needs_exactly_two_rows():
    with pytest.raises(ValueError, match="exactly two"):
        DerivedUnitRow(task="t", name="g", cells=["a", "b", "c"], pick="gap")


# --- sequential steps ------------------------------------------------------------------------


def test_the_critical_path_counts_operations_in_turn_not_side_by_side():
    inputs = torch.ones(3, requires_grad=True)
    chain = ((inputs * 2).exp() + 1).sum()  # four operations one after another
    side_by_side = (inputs * 2 + inputs.exp() + inputs.sin()).sum()  # three branches of one operation
    assert parallelism.critical_path(chain, inputs) == 4
    assert parallelism.critical_path(side_by_side, inputs) == 4  # one branch, an add of branches, a sum


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_recurrent_cells_sequential_steps_grow_by_the_same_count_every_time_step(cell):
    shape = SequenceShape(input_size=2, output_size=1, max_len=12)
    model = build_model(cell, shape, hidden_size=4).module
    counts = [parallelism.sequential_steps(model, length) for length in (4, 8, 12)]
    assert counts[1] - counts[0] == counts[2] - counts[1] > 0


def test_a_transformers_sequential_steps_do_not_depend_on_the_length_but_on_its_layers():
    counts = parallelism.sequential_steps_table(
        ParallelismParams(cells=["transformer"], seq_lens=[4, 16, 64], hidden_size=8)
    )
    assert counts.sequential_steps.nunique() == 1 and counts.growth.eq(1).all()
    deeper = parallelism.sequential_steps_table(
        ParallelismParams(cells=["transformer"], seq_lens=[4, 16], hidden_size=8, n_layers=4)
    )
    assert deeper.sequential_steps.iloc[0] > counts.sequential_steps.iloc[0]


def test_the_growth_is_each_count_over_the_same_cells_count_at_the_shortest_length():
    table = parallelism.sequential_steps_table(
        ParallelismParams(cells=["rnn"], seq_lens=[5, 10, 20], hidden_size=4)
    )
    assert table.growth.tolist() == pytest.approx(
        (table.sequential_steps / table.sequential_steps.iloc[0]).tolist()
    )
    # a constant count per step, plus the few operations before and after the loop: up to T / T_0
    assert 1 < table.growth.iloc[1] < table.growth.iloc[2] <= 20 / 5
