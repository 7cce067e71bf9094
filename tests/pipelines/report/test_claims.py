"""The verdict rule on tables built here: an effect against its control, over paired seeds and
draws, supported / contradicted / inconclusive by its interval; not run; not measured; refused."""

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from dlpipeline.pipelines.report.claims import (
    NOT_MEASURED,
    NOT_RUN,
    SUPPORTED,
    evaluate_claim,
    evaluate_claims,
    select_rows,
    timing_verdict_table,
    verdict_table,
)
from dlpipeline.pipelines.report.effects import CONTRADICTED, INCONCLUSIVE
from dlpipeline.pipelines.report.params import Claim, PipelineClaims, RuleParams
from dlpipeline.report_io import NotProduced

RULE = RuleParams(min_seeds=5, min_draws=3, resamples=2000)
DRAWS, SEEDS = 3, 5


def accuracy_units(gain: float, spread: float = 0.01) -> pd.DataFrame:
    """Per draw and seed, the accuracy of 1 neuron (0.6 ± spread) and of 8 (``gain`` above it)."""
    rng = np.random.default_rng(7)
    rows = []
    for draw in range(DRAWS):
        for seed in range(SEEDS):
            base = 0.6 + spread * rng.standard_normal()
            rows.append({"draw": draw, "seed": seed, "hidden_neurons": 1, "test_accuracy": base})
            rows.append({"draw": draw, "seed": seed, "hidden_neurons": 8, "test_accuracy": base + gain})
    return pd.DataFrame(rows)


def side(neurons: int) -> dict:
    """The accuracy of the ``neurons``-wide network, one row per draw and seed."""
    return {"source": "units", "column": "test_accuracy", "where": {"hidden_neurons": neurons}}


EIGHT, ONE = side(8), side(1)


def claim(condition: dict | float = EIGHT, control: dict | float = ONE, **effect) -> Claim:
    """A claim that more neurons give better accuracy: at least 0.05 better than the control."""
    return Claim(
        id="a-claim",
        quote="More neurons, better boundaries.",
        section="a section",
        pipeline="mlp",
        experiment="a sweep",
        effect={
            "measure": "test accuracy",
            "condition": condition,
            "control": control,
            "control_is": "one hidden neuron",
            "units": ["draw", "seed"],
            "side": "greater",
            "min_effect": 0.05,
            "min_effect_why": "one test point in twenty: less would be noise on 90 points",
            **effect,
        },
    )


def verdict_of(a_claim: Claim, table: pd.DataFrame, rule: RuleParams = RULE) -> str:
    """The verdict of ``a_claim`` on ``table``."""
    return evaluate_claim(a_claim, {"units": table}, rule).verdict


def test_an_effect_whose_interval_lies_beyond_the_minimal_effect_is_supported():
    result = evaluate_claim(claim(), {"units": accuracy_units(gain=0.2)}, RULE)
    assert result.verdict == SUPPORTED
    assert result.effect.n == DRAWS * SEEDS
    assert result.effect.effect == pytest.approx(0.2)
    assert result.effect.ci_low > 0.05


def test_swapping_condition_and_control_turns_supported_into_contradicted():
    assert verdict_of(claim(side(8), side(1)), accuracy_units(gain=0.2)) == SUPPORTED
    assert verdict_of(claim(side(1), side(8)), accuracy_units(gain=0.2)) == CONTRADICTED


def test_an_effect_smaller_than_the_minimal_effect_is_inconclusive():
    assert verdict_of(claim(), accuracy_units(gain=0.02, spread=0.001)) == INCONCLUSIVE


def test_noise_around_no_effect_is_inconclusive():
    noisy = accuracy_units(gain=0.0)
    noisy.loc[noisy["hidden_neurons"] == 8, "test_accuracy"] += np.tile([0.1, -0.1, 0.05, -0.05, 0.0], 3)
    assert verdict_of(claim(), noisy) == INCONCLUSIVE


def test_claiming_less_judges_the_other_side():
    assert verdict_of(claim(side="less"), accuracy_units(gain=0.2)) == CONTRADICTED
    assert verdict_of(claim(side(1), side(8), side="less"), accuracy_units(gain=0.2)) == SUPPORTED


def test_a_number_can_be_the_control():
    assert verdict_of(claim(control=0.5), accuracy_units(gain=0.2)) == SUPPORTED  # 0.8 vs chance


def test_a_log_ratio_is_judged_on_its_own_scale():
    ratio = claim(scale="log_ratio", min_effect=float(np.log(1.1)))
    assert verdict_of(ratio, accuracy_units(gain=0.2)) == SUPPORTED  # 0.8 / 0.6 = 1.33 > 1.1


def test_fewer_seeds_or_draws_than_the_rule_asks_are_not_measured():
    table = accuracy_units(gain=0.2)
    result = evaluate_claim(claim(), {"units": table[table["seed"] < 4]}, RULE)
    assert result.verdict == NOT_MEASURED
    assert result.missing == "4 seed(s) paired, 5 needed (report.rule.min_seeds)"
    one_draw = table[table["draw"] == 0]
    assert "1 draw(s) paired, 3 needed" in evaluate_claim(claim(), {"units": one_draw}, RULE).missing
    assert verdict_of(claim(), one_draw, RuleParams(min_seeds=5, min_draws=1)) == SUPPORTED


def test_a_side_missing_from_the_tables_is_not_measured_rather_than_guessed():
    result = evaluate_claim(claim(control=side(64)), {"units": accuracy_units(gain=0.2)}, RULE)
    assert result.verdict == NOT_MEASURED
    assert "no row of units matches units.test_accuracy [hidden_neurons=64]" in result.missing


def test_a_side_with_two_rows_for_one_unit_is_refused():
    doubled = accuracy_units(gain=0.2)
    doubled = pd.concat([doubled, doubled])
    with pytest.raises(ValueError, match="more than one value for the units"):
        evaluate_claim(claim(), {"units": doubled}, RULE)


def test_a_claim_whose_experiment_has_not_run_says_which_pipeline_to_run():
    result = evaluate_claim(claim(), {"units": NotProduced("mlp.claim_units")}, RULE)
    assert result.verdict == NOT_RUN
    assert result.not_run == ("mlp",)


def test_a_claim_reading_a_table_the_report_does_not_take_is_refused():
    with pytest.raises(KeyError, match="not inputs of the report"):
        evaluate_claim(claim(), {}, RULE)


@pytest.mark.parametrize("missing", ["control", "control_is", "min_effect", "min_effect_why"])
def test_a_claim_without_its_control_or_minimal_effect_is_refused_naming_it(missing: str):
    declared = claim().model_dump()
    del declared["effect"][missing]
    declared["id"] = "one-neuron"
    with pytest.raises(ValidationError, match=f"claim 'one-neuron' declares no {missing}"):
        PipelineClaims.model_validate([declared])


def test_a_claim_without_an_effect_is_refused_naming_it():
    declared = claim().model_dump()
    del declared["effect"]
    with pytest.raises(ValidationError, match="claim 'a-claim' needs an effect"):
        PipelineClaims.model_validate([declared])


def test_a_claim_comparing_a_figure_with_itself_is_refused():
    with pytest.raises(ValidationError, match="the control is the condition itself"):
        claim(side(8), side(8))


def test_a_negative_minimal_effect_is_refused():
    with pytest.raises(ValidationError, match="min_effect"):
        claim(min_effect=-0.1)


def test_rows_are_chosen_by_value_list_and_glob():
    names = pd.DataFrame({"name": ["text-rnn-s0", "text-rnn-s1", "text-gru-s0"], "seconds": [1.0, 3.0, 9.0]})
    assert select_rows(names, {"name": "text-rnn-*"})["seconds"].tolist() == [1.0, 3.0]
    assert select_rows(names, {"name": ["text-gru-s0", "text-rnn-s1"]})["seconds"].tolist() == [3.0, 9.0]


def test_the_verdict_table_has_the_effect_its_interval_units_control_and_minimal_effect():
    measured = evaluate_claim(claim(), {"units": accuracy_units(gain=0.2)}, RULE)
    (row,) = verdict_table([measured]).to_dict("records")
    assert row["verdict"] == SUPPORTED
    assert row["n"] == 15
    assert row["control"] == "one hidden neuron"
    assert row["min_effect"] == 0.05
    assert row["ci_low"] < row["effect"] < row["ci_high"]


def test_claims_about_time_are_tabled_apart_from_the_others():
    timed = claim().model_copy(update={"id": "timed"})
    results = evaluate_claims(
        [claim(), timed], RULE, timed_sources=set(), units=accuracy_units(gain=0.2)
    ) + evaluate_claims([timed], RULE, timed_sources={"units"}, units=accuracy_units(gain=0.2))
    assert verdict_table(results)["claim"].tolist() == ["a-claim", "timed"]
    assert timing_verdict_table(results)["claim"].tolist() == ["timed"]


def test_the_report_is_the_same_on_every_evaluation():
    first = verdict_table(evaluate_claims([claim()], RULE, units=accuracy_units(gain=0.03)))
    again = verdict_table(evaluate_claims([claim()], RULE, units=accuracy_units(gain=0.03)))
    pd.testing.assert_frame_equal(first, again)
