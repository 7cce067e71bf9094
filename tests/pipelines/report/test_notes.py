"""The claims of conf/base/parameters_report.yml: enough of them, quoted, each wired to what it reads."""

import os
import re
from pathlib import Path

import pytest
import yaml
from tests.helpers import PROJECT_ROOT

from dlpipeline.pipelines.report.claims import sources_of
from dlpipeline.pipelines.report.params import NotesParams
from dlpipeline.pipelines.report.pipeline import FIGURES, TABLES

NOTES_FILE = Path(
    os.environ.get("DLPIPELINE_NOTES", PROJECT_ROOT.parent / "shared/seed/deep-learning-foundations.txt")
)
"""The course notes; not shipped with the project (set DLPIPELINE_NOTES to point elsewhere)."""


def notes() -> NotesParams:
    """The claims as the report reads them."""
    parameters = yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_report.yml").read_text())
    return NotesParams.model_validate(parameters["report"]["notes"])


def plain(text: str) -> str:
    """The notes' text without its Markdown marks (bold, escapes) and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"\\(.)", r"\1", text.replace("**", ""))).strip()


def test_at_least_fifteen_claims_each_with_its_own_quote():
    claims = notes().claims
    assert len(claims) >= 15
    quotes = [claim.quote.strip() for claim in claims]
    assert all(quotes)
    assert len(set(quotes)) == len(quotes)


def test_every_claim_reads_inputs_of_the_report_and_shows_one_of_its_figures():
    for claim in notes().claims:
        assert sources_of(claim) <= set(TABLES), claim.id
        assert claim.figure in FIGURES, claim.id
        assert claim.pipeline in {name.split(".")[0] for name in TABLES.values()}, claim.id


@pytest.mark.skipif(not NOTES_FILE.is_file(), reason=f"the course notes are not here ({NOTES_FILE})")
def test_every_quote_is_word_for_word_in_the_notes():
    text = plain(NOTES_FILE.read_text())
    every = notes()
    for quote in [claim.quote for claim in every.claims] + [item.quote for item in every.untested]:
        assert plain(quote) in text, quote
