"""The verdict rule, on tables built here: every check holds, none, some; not run; not measured."""

import pandas as pd
import pytest

from dlpipeline.pipelines.report.claims import (
    MIXED,
    NOT_MEASURED,
    NOT_RUN,
    NOT_SUPPORTED,
    SUPPORTED,
    evaluate_claim,
    select_rows,
    verdict_table,
)
from dlpipeline.pipelines.report.params import Claim
from dlpipeline.report_io import NotProduced

ACCURACY = pd.DataFrame(
    {
        "flavour": ["torch", "torch", "torch", "sklearn", "sklearn", "sklearn"],
        "hidden_neurons": [1, 2, 8, 1, 2, 8],
        "test_accuracy": [0.6, 0.8, 0.99, 0.5, 0.55, 0.9],
    }
)


def claim(*checks: dict) -> Claim:
    """A claim tested by ``checks`` on the table ``accuracy``."""
    return Claim(
        id="a-claim",
        quote="More neurons, better boundaries.",
        section="a section",
        pipeline="mlp",
        experiment="a sweep",
        checks=list(checks),
    )


def accuracy(where: dict, aggregate: str = "one") -> dict:
    """The test accuracy of the rows matching ``where``."""
    return {"source": "accuracy", "column": "test_accuracy", "where": where, "aggregate": aggregate}


def test_every_check_holding_is_supported_and_the_figures_are_reported():
    result = evaluate_claim(
        claim({"left": accuracy({"flavour": "torch", "hidden_neurons": 8}), "op": ">=", "right": 0.95}),
        {"accuracy": ACCURACY},
    )
    assert result.verdict == SUPPORTED
    (check,) = result.checks
    assert (check.left_value, check.right_value, check.holds) == (0.99, 0.95, True)
    assert check.left == "accuracy.test_accuracy [flavour=torch, hidden_neurons=8]"


def test_no_check_holding_is_not_supported():
    result = evaluate_claim(
        claim({"left": accuracy({"flavour": "sklearn", "hidden_neurons": 8}), "op": ">=", "right": 0.95}),
        {"accuracy": ACCURACY},
    )
    assert result.verdict == NOT_SUPPORTED


def test_some_checks_holding_is_mixed_and_each_repeats_a_check_per_value():
    result = evaluate_claim(
        claim({"each": "flavour", "left": accuracy({}, "max"), "op": ">=", "right": 0.95}),
        {"accuracy": ACCURACY},
    )
    assert result.verdict == MIXED
    assert [(check.left, check.holds) for check in result.checks] == [
        ("max of accuracy.test_accuracy [flavour=torch]", True),
        ("max of accuracy.test_accuracy [flavour=sklearn]", False),
    ]


def test_a_check_compares_two_figures_scaled_by_times():
    widest = accuracy({"hidden_neurons": "max"})
    one = accuracy({"hidden_neurons": 1})
    scaled = {"each": "flavour", "left": widest, "op": ">", "right": one, "times": 1.7}
    result = evaluate_claim(claim(scaled), {"accuracy": ACCURACY})
    assert [check.right_value for check in result.checks] == pytest.approx([1.02, 0.85])
    assert result.verdict == MIXED  # torch: 0.99 > 1.02 fails; sklearn: 0.9 > 0.85 holds


def test_rows_are_chosen_by_value_list_glob_and_extreme():
    names = pd.DataFrame({"name": ["text-rnn-s0", "text-rnn-s1", "text-gru-s0"], "seconds": [1.0, 3.0, 9.0]})
    assert select_rows(names, {"name": "text-rnn-*"})["seconds"].tolist() == [1.0, 3.0]
    listed = select_rows(ACCURACY, {"hidden_neurons": [1, 2], "flavour": "torch"})
    assert listed["test_accuracy"].tolist() == [0.6, 0.8]
    smallest = select_rows(ACCURACY, {"flavour": "sklearn", "hidden_neurons": "min"})
    assert smallest["test_accuracy"].tolist() == [0.5]


def test_a_claim_whose_experiment_has_not_run_says_which_pipeline_to_run():
    result = evaluate_claim(
        claim({"left": accuracy({"hidden_neurons": 1}, "mean"), "op": "<", "right": 0.75}),
        {"accuracy": NotProduced("mlp.accuracy_table")},
    )
    assert result.verdict == NOT_RUN
    assert result.not_run == ("mlp",)
    assert result.checks == ()


def test_a_figure_missing_from_the_tables_is_not_measured_rather_than_guessed():
    result = evaluate_claim(
        claim(
            {"left": accuracy({"flavour": "torch", "hidden_neurons": 8}), "op": ">=", "right": 0.95},
            {"left": accuracy({"flavour": "torch", "hidden_neurons": 64}), "op": ">=", "right": 0.95},
        ),
        {"accuracy": ACCURACY},
    )
    assert result.verdict == NOT_MEASURED
    assert result.checks[1].holds is None
    assert "no row of accuracy" in result.checks[1].missing


def test_a_figure_matching_several_rows_needs_an_aggregate():
    with pytest.raises(ValueError, match="matches 2 rows: name an aggregate"):
        evaluate_claim(
            claim({"left": accuracy({"hidden_neurons": 1}), "op": "<", "right": 0.75}), {"accuracy": ACCURACY}
        )


def test_a_claim_reading_a_table_the_report_does_not_take_is_refused():
    with pytest.raises(KeyError, match="not inputs of the report"):
        evaluate_claim(claim({"left": accuracy({}, "max"), "op": "<", "right": 1}), {})


def test_the_verdict_table_has_one_row_per_claim():
    results = [
        evaluate_claim(claim({"left": accuracy({}, "max"), "op": ">", "right": 0.9}), {"accuracy": ACCURACY}),
    ]
    table = verdict_table(results)
    assert table.to_dict("records") == [
        {
            "claim": "a-claim",
            "quote": "More neurons, better boundaries.",
            "pipeline": "mlp",
            "verdict": SUPPORTED,
            "checks": 1,
            "checks_held": 1,
        }
    ]
