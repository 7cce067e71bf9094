"""The page: one section per claim, its figure embedded, nothing fetched, a missing run said so."""

import re

import pandas as pd

from dlpipeline.pipelines.report.claims import NOT_RUN, SUPPORTED, evaluate_claims
from dlpipeline.pipelines.report.params import NotesParams, PipelineClaims
from dlpipeline.pipelines.report.render import render_report
from dlpipeline.report_io import NotProduced

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
TABLE = pd.DataFrame({"configuration": ["cnn", "mlp"], "test_accuracy": [0.99, 0.97]})
CLAIMS = PipelineClaims.model_validate(
    [
        {
            "id": "cnn-beats-mlp",
            "quote": "CNN: Learns local spatial patterns in images/videos.",
            "section": "CNN",
            "pipeline": "cnn",
            "experiment": "cnn <against> mlp",
            "figure": "cnn_experiments",
            "checks": [
                {
                    "left": {"source": "cnn", "column": "test_accuracy", "where": {"configuration": "cnn"}},
                    "op": ">",
                    "right": {"source": "cnn", "column": "test_accuracy", "where": {"configuration": "mlp"}},
                }
            ],
        },
        {
            "id": "rnn-long",
            "quote": "Vanilla RNNs struggle with long-term dependencies.",
            "section": "Sequence Models",
            "pipeline": "sequence",
            "experiment": "the adding problem",
            "figure": "adding",
            "checks": [{"left": {"source": "sequence", "column": "median"}, "op": ">", "right": 0.1}],
        },
    ]
).root
NOTES = NotesParams(untested=[{"quote": "Difficult to interpret.", "why": "no measure"}])


def page() -> str:
    """The page for one claim measured and one whose experiment has not run."""
    results = evaluate_claims(CLAIMS, cnn=TABLE, sequence=NotProduced("sequence.results_table"))
    assert [result.verdict for result in results] == [SUPPORTED, NOT_RUN]
    return render_report(
        results, NOTES, cnn_experiments=PNG, adding=NotProduced("sequence.adding.mse_vs_length_plot")
    )


def test_each_claim_has_a_section_with_its_quote_escaped_and_its_verdict():
    html = page()
    sections = re.findall(r'<section id="([^"]+)" data-verdict="([^"]+)"', html)
    assert sections == [("cnn-beats-mlp", SUPPORTED), ("rnn-long", NOT_RUN)]
    assert "<blockquote>CNN: Learns local spatial patterns in images/videos.</blockquote>" in html
    assert "cnn &lt;against&gt; mlp" in html
    assert "supported when every check holds, not supported when none holds, mixed otherwise" in html


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
