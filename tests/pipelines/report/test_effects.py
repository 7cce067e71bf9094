"""The effect rule, on per-seed numbers built here: supported, contradicted, inconclusive; refusals."""

import math

import numpy as np
import pandas as pd
import pytest

from dlpipeline.pipelines.report.effects import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    Effect,
    bootstrap_interval,
    measure_effect,
    paired_effects,
)

SEEDS = pd.Index(range(5), name="seed")


def per_seed(values: list[float], index: pd.Index = SEEDS) -> pd.Series:
    """One number per unit of ``index``."""
    return pd.Series(values, index=index, dtype=float)


CONTROL = per_seed([0.80, 0.82, 0.79, 0.81, 0.80])


def test_an_effect_clearly_beyond_the_minimal_effect_is_supported():
    condition = CONTROL + per_seed([0.10, 0.12, 0.09, 0.11, 0.10])
    effect = measure_effect(condition, CONTROL, "difference", "greater", min_effect=0.05)
    assert effect.verdict == SUPPORTED
    assert effect.effect == pytest.approx(0.104)
    assert effect.ci_low > 0.05
    assert effect.per_unit == pytest.approx((0.10, 0.12, 0.09, 0.11, 0.10))


def test_an_effect_above_zero_but_not_beyond_the_minimal_effect_is_inconclusive():
    condition = CONTROL + per_seed([0.03, 0.04, 0.02, 0.03, 0.05])
    effect = measure_effect(condition, CONTROL, "difference", "greater", min_effect=0.05)
    assert effect.ci_low > 0
    assert effect.verdict == INCONCLUSIVE


def test_an_interval_across_zero_is_inconclusive():
    condition = CONTROL + per_seed([0.05, -0.04, 0.02, -0.03, 0.01])
    effect = measure_effect(condition, CONTROL, "difference", "greater", min_effect=0.0)
    assert effect.ci_low < 0 < effect.ci_high
    assert effect.verdict == INCONCLUSIVE


def test_an_effect_on_the_other_side_of_zero_is_contradicted():
    condition = CONTROL - per_seed([0.02, 0.03, 0.01, 0.02, 0.02])
    effect = measure_effect(condition, CONTROL, "difference", "greater", min_effect=0.05)
    assert effect.ci_high < 0
    assert effect.verdict == CONTRADICTED


def test_swapping_condition_and_control_turns_supported_into_contradicted():
    condition = CONTROL + per_seed([0.10, 0.12, 0.09, 0.11, 0.10])
    claimed = measure_effect(condition, CONTROL, "difference", "greater", min_effect=0.05)
    swapped = measure_effect(CONTROL, condition, "difference", "greater", min_effect=0.05)
    assert (claimed.verdict, swapped.verdict) == (SUPPORTED, CONTRADICTED)
    assert swapped.effect == pytest.approx(-claimed.effect)


def test_claiming_less_flips_the_sign_so_that_positive_is_the_claimed_side():
    loss = per_seed([0.5, 0.6, 0.55, 0.52, 0.58])
    lower = loss * 0.5
    effect = measure_effect(lower, loss, "log_ratio", "less", min_effect=math.log(1.5))
    assert effect.effect == pytest.approx(math.log(2))
    assert effect.verdict == SUPPORTED


@pytest.mark.parametrize("scale", ["difference", "log_ratio"])
def test_equal_values_have_no_effect_on_either_scale(scale):
    effects = paired_effects(CONTROL, CONTROL.copy(), scale, "greater")
    assert (effects == 0).all()
    assert measure_effect(CONTROL, CONTROL.copy(), scale, "greater", min_effect=0.0).verdict == INCONCLUSIVE


def test_the_bounds_are_strict():
    at_the_minimum = Effect(effect=0.1, ci_low=0.05, ci_high=0.15, n=5, per_unit=(), min_effect=0.05)
    touching_zero = Effect(effect=-0.1, ci_low=-0.2, ci_high=0.0, n=5, per_unit=(), min_effect=0.0)
    assert at_the_minimum.verdict == INCONCLUSIVE
    assert touching_zero.verdict == INCONCLUSIVE


def test_the_interval_is_the_same_on_every_call_and_contains_the_mean():
    effects = per_seed([0.3, -0.1, 0.25, 0.05, 0.4, 0.12, -0.02], pd.Index(range(7), name="seed"))
    first, second = bootstrap_interval(effects), bootstrap_interval(effects)
    assert first == second
    assert first[0] <= effects.mean() <= first[1]
    assert first[0] < first[1]
    assert bootstrap_interval(effects, seed=1) != first


def test_the_interval_does_not_depend_on_the_order_of_the_rows():
    condition = CONTROL + per_seed([0.3, -0.1, 0.25, 0.05, 0.4])
    shuffled = measure_effect(condition.iloc[::-1], CONTROL.iloc[[2, 0, 4, 1, 3]], "difference", "greater", 0)
    assert shuffled == measure_effect(condition, CONTROL, "difference", "greater", 0)


def test_one_unit_collapses_the_interval_to_its_value():
    assert bootstrap_interval(np.array([0.7])) == (0.7, 0.7)


def test_a_wider_confidence_gives_a_wider_interval():
    effects = np.array([0.3, -0.1, 0.25, 0.05, 0.4, 0.12])
    narrow, wide = bootstrap_interval(effects, confidence=0.5), bootstrap_interval(effects, confidence=0.99)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


def test_n_counts_the_paired_units_seeds_times_draws():
    units = pd.MultiIndex.from_product([range(3), range(5)], names=["draw", "seed"])
    control = pd.Series(np.linspace(1.0, 2.0, 15), index=units)
    effect = measure_effect(control * 1.2, control, "log_ratio", "greater", min_effect=0.1)
    assert effect.n == 15 == len(effect.per_unit)
    assert effect.effect == pytest.approx(math.log(1.2))
    assert effect.verdict == SUPPORTED


def test_units_in_only_one_side_are_left_out_of_the_pairs():
    condition = per_seed([1.0, 2.0, 3.0], pd.Index([0, 1, 2], name="seed"))
    control = per_seed([0.5, 0.5, 0.5], pd.Index([1, 2, 3], name="seed"))
    effects = paired_effects(condition, control, "difference", "greater")
    assert list(effects.index) == [1, 2]
    assert list(effects) == [1.5, 2.5]


def test_no_paired_unit_is_refused():
    condition = per_seed([1.0, 2.0], pd.Index([0, 1], name="seed"))
    control = per_seed([1.0, 2.0], pd.Index([2, 3], name="seed"))
    with pytest.raises(ValueError, match="no unit is in both condition and control"):
        measure_effect(condition, control, "difference", "greater", min_effect=0.0)


def test_a_unit_measured_twice_is_refused():
    control = per_seed([1.0, 2.0, 3.0], pd.Index([0, 1, 1], name="seed"))
    with pytest.raises(ValueError, match=r"control has more than one value for the units \[1\]"):
        paired_effects(CONTROL, control, "difference", "greater")


def test_sides_indexed_by_different_units_are_refused():
    draws = CONTROL.rename_axis("draw")
    with pytest.raises(ValueError, match="indexed by different units"):
        paired_effects(CONTROL, draws, "difference", "greater")


def test_a_negative_minimal_effect_is_refused():
    with pytest.raises(ValueError, match="min_effect must be >= 0"):
        measure_effect(CONTROL, CONTROL, "difference", "greater", min_effect=-0.01)


def test_a_log_ratio_of_non_positive_values_is_refused():
    control = per_seed([0.8, 0.0, 0.79, -0.1, 0.8])
    with pytest.raises(ValueError, match=r"log-ratio needs positive values; the units \[1, 3\]"):
        paired_effects(CONTROL, control, "log_ratio", "greater")


def test_a_missing_value_is_refused():
    control = per_seed([0.8, float("nan"), 0.79, 0.81, 0.8])
    with pytest.raises(ValueError, match=r"the units \[1\] have no finite value"):
        paired_effects(CONTROL, control, "difference", "greater")


def test_the_row_of_verdicts_csv():
    effect = measure_effect(CONTROL + 0.1, CONTROL, "difference", "greater", min_effect=0.05)
    assert list(effect.as_row()) == ["effect", "ci_low", "ci_high", "n", "min_effect"]
    assert effect.as_row()["n"] == 5
