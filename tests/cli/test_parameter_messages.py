"""A refused parameter is told in one line: its full key, what is wrong with it, and what was given."""

from dlpipeline.cli import one_line_per_mistake

KEDRO_REPORT = [
    "- Parameter 'cnn.search': Failed to instantiate SearchParams for parameter 'cnn.search': "
    "2 validation errors for SearchParams",
    "space.learning_rate.log-float",
    "  Value error, log-float needs low > 0, got -1.0 [type=value_error, input_value={'type': 'log-float', "
    "'low': -1, 'high': 0.03}, input_type=dict]",
    "trials",
    "  Input should be greater than or equal to 0 [type=greater_than_equal, input_value=-3, input_type=int]",
    "- Parameter 'cnn.executor': Failed to instantiate IsolatedExecutorParams for parameter 'cnn.executor': "
    "1 validation error for IsolatedExecutorParams",
    "  Value error, kind 'threads' would share "
    "[type=value_error, input_value={'kind': 'threads'}, input_type=dict]",
    "- Parameter 'mlp.sweep': something Kedro says in its own words",
]


def test_each_pydantic_error_becomes_one_line_with_the_full_key_and_the_value_given():
    assert one_line_per_mistake(KEDRO_REPORT) == [
        "- cnn.search.space.learning_rate.log-float: log-float needs low > 0, got -1.0",
        "- cnn.search.trials: Input should be greater than or equal to 0 (given: -3)",
        "- cnn.executor: kind 'threads' would share",
        "- Parameter 'mlp.sweep': something Kedro says in its own words",
    ]


def test_lines_of_another_shape_are_kept_as_they_are():
    lines = ["- Parameter 'x': not a model", "  indented detail"]
    assert one_line_per_mistake(lines) == lines
