"""The page: one section per claim with its effect, its figure embedded, nothing fetched, a missing
run said so, the claims about time on their own page."""

import re

import pandas as pd

from dlpipeline.pipelines.report.claims import NOT_RUN, SUPPORTED, evaluate_claims
from dlpipeline.pipelines.report.effects import RULE
from dlpipeline.pipelines.report.params import NotesParams, PipelineClaims, RuleParams
from dlpipeline.pipelines.report.render import render_report, render_timings
from dlpipeline.report_io import NotProduced

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TABLE = pd.DataFrame(
    {
        "configuration": ["cnn"] * 5 + ["mlp"] * 5,
        "seed": [*range(5), *range(5)],
        "test_accuracy": [0.99, 0.985, 0.99, 0.98, 0.99, 0.97, 0.965, 0.97, 0.96, 0.975],
    }
)


def effect(source: str, control: dict | float, control_is: str) -> dict:
    """Test accuracy of the CNN against ``control``, by seed, at least 0.005 better."""
    return {
        "measure": "test accuracy",
        "condition": {"source": source, "column": "test_accuracy", "where": {"configuration": "cnn"}},
        "control": control,
        "control_is": control_is,
        "units": ["seed"],
        "side": "greater",
        "min_effect": 0.005,
        "min_effect_why": "two test images in 450",
    }


MLP = {"source": "cnn", "column": "test_accuracy", "where": {"configuration": "mlp"}}
CLAIMS = PipelineClaims.model_validate(
    [
        {
            "id": "cnn-beats-mlp",
            "quote": "CNN: Learns local spatial patterns in images/videos.",
            "section": "CNN",
            "pipeline": "cnn",
            "experiment": "cnn <against> mlp",
            "figure": "cnn_experiments",
            "effect": effect("cnn", MLP, "an MLP of as many parameters"),
        },
        {
            "id": "rnn-long",
            "quote": "Vanilla RNNs struggle with long-term dependencies.",
            "section": "Sequence Models",
            "pipeline": "sequence",
            "experiment": "the adding problem",
            "figure": "adding",
            "effect": effect("sequence", 0.5, "chance"),
        },
        {
            "id": "timed",
            "quote": "Computationally expensive for large datasets.",
            "section": "CNN",
            "pipeline": "cnn",
            "experiment": "seconds per epoch",
            "effect": effect("seconds", MLP | {"source": "seconds"}, "the MLP"),
        },
    ]
).root
NOTES = NotesParams(untested=[{"quote": "Difficult to interpret.", "why": "no measure"}])


def results() -> list:
    """One claim measured, one whose experiment has not run, one about time."""
    measured = evaluate_claims(
        CLAIMS,
        RuleParams(),
        timed_sources={"seconds"},
        cnn=TABLE,
        sequence=NotProduced("sequence.results_table"),
        seconds=TABLE,
    )
    assert [result.verdict for result in measured] == [SUPPORTED, NOT_RUN, SUPPORTED]
    return measured


def page() -> str:
    """The tracked page for those claims."""
    return render_report(
        results(), NOTES, cnn_experiments=PNG, adding=NotProduced("sequence.adding.mse_vs_length_plot")
    )


def test_each_claim_has_a_section_with_its_quote_escaped_and_its_verdict():
    html = page()
    sections = re.findall(r'<section id="([^"]+)" data-verdict="([^"]+)"', html)
    assert sections == [("cnn-beats-mlp", SUPPORTED), ("rnn-long", NOT_RUN)]
    assert "<blockquote>CNN: Learns local spatial patterns in images/videos.</blockquote>" in html
    assert "cnn &lt;against&gt; mlp" in html
    assert RULE in html


def test_each_measured_claim_shows_its_control_effect_interval_and_every_seed():
    html = page()
    section = html[html.index('<section id="cnn-beats-mlp"') : html.index('<section id="rnn-long"')]
    assert "an MLP of as many parameters: <code>cnn.test_accuracy [configuration=mlp]</code>" in section
    assert "0.005 (difference): two test images in 450" in section
    assert "over n = 5 units" in section
    assert section.count("<circle") == 5


def test_claims_about_time_are_shown_on_their_own_page_only():
    html = page()
    assert 'id="timed"' not in html
    assert "1 claim(s) about time" in html
    timings = render_timings(results())
    assert re.findall(r'<section id="([^"]+)"', timings) == ["timed"]


def test_the_figure_is_embedded_and_nothing_is_fetched_from_elsewhere():
    html = page()
    assert re.findall(r'src="([^"]{0,22})', html) == ["data:image/png;base64,"]
    assert "http://" not in html and "https://" not in html


def test_a_claim_whose_experiment_has_not_run_says_which_command_runs_it():
    html = page()
    section = html[html.index('<section id="rnn-long"') :]
    assert "not run yet" in section
    assert "<code>kedro run --pipelines sequence</code>" in section


def test_the_claims_no_experiment_tests_are_listed_with_why():
    assert "<q>Difficult to interpret.</q> — no measure" in page()
