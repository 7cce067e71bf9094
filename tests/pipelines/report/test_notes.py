"""The claims every experiment lists (``<pipeline>.claims``): enough of them, quoted, each wired to what
its own experiment declares it may read."""

import os
import re
from pathlib import Path

import pytest
from tests.helpers import PROJECT_ROOT

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.report.claims import sources_of
from dlpipeline.pipelines.report.params import Claim, NotesParams, PipelineClaims
from dlpipeline.pipelines.report.pipeline import discovered_evidence

NOTES_FILE = Path(
    os.environ.get("DLPIPELINE_NOTES", PROJECT_ROOT.parent / "shared/seed/deep-learning-foundations.txt")
)
"""The course notes; not shipped with the project (set DLPIPELINE_NOTES to point elsewhere)."""


def claims_by_experiment() -> dict[str, list[Claim]]:
    """Each experiment's claims as the report reads them, by pipeline."""
    parameters = load_parameters("base", PROJECT_ROOT)
    return {
        name: PipelineClaims.model_validate(parameters[name]["claims"]).root for name in discovered_evidence()
    }


def untested() -> NotesParams:
    """The claims no experiment tests, as the report reads them."""
    return NotesParams.model_validate(load_parameters("base", PROJECT_ROOT)["report"]["notes"])


def plain(text: str) -> str:
    """The notes' text without its Markdown marks (bold, escapes) and with single spaces."""
    return re.sub(r"\s+", " ", re.sub(r"\\(.)", r"\1", text.replace("**", ""))).strip()


def test_at_least_fifteen_claims_each_with_its_own_quote():
    claims = [claim for claims in claims_by_experiment().values() for claim in claims]
    assert len(claims) >= 15
    quotes = [claim.quote.strip() for claim in claims]
    assert all(quotes)
    assert len(set(quotes)) == len(quotes)


def test_every_claim_reads_what_its_own_experiment_declares_and_shows_one_of_its_figures():
    evidence = discovered_evidence()
    for pipeline, claims in claims_by_experiment().items():
        for claim in claims:
            assert claim.pipeline == pipeline, claim.id
            readable = {*evidence[pipeline].tables, *evidence[pipeline].timings}
            assert sources_of(claim) <= readable, claim.id
            assert claim.figure in evidence[pipeline].figures, claim.id


@pytest.mark.skipif(not NOTES_FILE.is_file(), reason=f"the course notes are not here ({NOTES_FILE})")
def test_every_quote_is_word_for_word_in_the_notes():
    text = plain(NOTES_FILE.read_text())
    claims = [claim for claims in claims_by_experiment().values() for claim in claims]
    for quote in [claim.quote for claim in claims] + [item.quote for item in untested().untested]:
        assert plain(quote) in text, quote
