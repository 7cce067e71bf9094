"""The claims report as one self-contained HTML page: every figure is embedded, nothing is fetched."""

import base64
from collections import Counter
from html import escape

from dlpipeline.pipelines.report.claims import (
    MIXED,
    NOT_MEASURED,
    NOT_RUN,
    NOT_SUPPORTED,
    RULE,
    SUPPORTED,
    CheckResult,
    ClaimResult,
)
from dlpipeline.pipelines.report.params import NotesParams
from dlpipeline.report_io import NotProduced

VERDICT_COLOURS = {
    SUPPORTED: "#1a7f37",
    MIXED: "#9a6700",
    NOT_SUPPORTED: "#cf222e",
    NOT_RUN: "#57606a",
    NOT_MEASURED: "#57606a",
}
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
blockquote { font-size: 1.15rem; border-left: 4px solid #d0d7de; margin: 0.5rem 0; padding: 0.2rem 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
td, th { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; color: white; padding: 0.1rem 0.5rem; border-radius: 0.3rem; }
section { border-top: 1px solid #d0d7de; margin-top: 2rem; }
img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
code { background: #f6f8fa; padding: 0 0.2rem; }
"""

Image = bytes | NotProduced


def verdict_badge(verdict: str) -> str:
    """The verdict as a coloured label."""
    colour = VERDICT_COLOURS[verdict]
    return f'<span class="verdict" style="background: {colour}">{escape(verdict)}</span>'


def _number(value: float | None) -> str:
    """A measured number with four significant digits (— when not measured)."""
    return "—" if value is None else f"{value:.4g}"


def checks_table(checks: tuple[CheckResult, ...]) -> str:
    """The measured figures of a claim, check by check."""
    rows = []
    for check in checks:
        holds = "not measured: " + check.missing if check.holds is None else ("yes" if check.holds else "no")
        rows.append(
            "<tr>"
            f"<td>{escape(check.left)}</td><td class='number'>{_number(check.left_value)}</td>"
            f"<td>{escape(check.op)}</td>"
            f"<td>{escape(check.right)}</td><td class='number'>{_number(check.right_value)}</td>"
            f"<td>{escape(holds)}</td>"
            "</tr>"
        )
    header = "<tr><th>measured</th><th>value</th><th></th><th>against</th><th>value</th><th>holds</th></tr>"
    return f"<table>{header}{''.join(rows)}</table>"


def figure_html(name: str | None, image: Image | None) -> str:
    """The claim's figure embedded as a data URI, or why there is none."""
    if name is None or image is None:
        return "<p><em>No figure for this claim.</em></p>"
    if isinstance(image, NotProduced):
        return f"<p><em>Figure {escape(image.dataset)} not produced yet.</em></p>"
    encoded = base64.b64encode(image).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(name)}">'


def claim_section(result: ClaimResult, image: Image | None) -> str:
    """One claim: the quote, the experiment, the measured figures, the figure and the verdict."""
    claim = result.claim
    if result.verdict == NOT_RUN:
        commands = ", ".join(f"<code>kedro run --pipelines {escape(name)}</code>" for name in result.not_run)
        body = f"<p>{verdict_badge(NOT_RUN)} The experiment has not run yet: run {commands}.</p>"
    else:
        body = (
            f"<h3>Measured</h3>{checks_table(result.checks)}"
            f"<p>Verdict: {verdict_badge(result.verdict)} — rule: {escape(RULE)} "
            f"({len(result.checks)} check(s), {sum(bool(c.holds) for c in result.checks)} held).</p>"
            f"{figure_html(claim.figure, image)}"
        )
    return (
        f'<section id="{escape(claim.id)}" data-verdict="{escape(result.verdict)}">'
        f"<h2>{escape(claim.id)}</h2>"
        f"<blockquote>{escape(claim.quote)}</blockquote>"
        f"<p>The notes, <em>{escape(claim.section)}</em>. Tested by the "
        f"<code>{escape(claim.pipeline)}</code> pipeline: {escape(claim.experiment)}</p>"
        f"{body}</section>"
    )


def summary_table(results: list[ClaimResult]) -> str:
    """Claim → verdict, with a link to each section."""
    rows = "".join(
        f'<tr><td><a href="#{escape(r.claim.id)}">{escape(r.claim.quote)}</a></td>'
        f"<td>{escape(r.claim.pipeline)}</td><td>{verdict_badge(r.verdict)}</td></tr>"
        for r in results
    )
    counts = Counter(result.verdict for result in results)
    tally = ", ".join(f"{count} {name}" for name, count in counts.most_common())
    header = "<tr><th>claim</th><th>pipeline</th><th>verdict</th></tr>"
    return f"<p>{len(results)} claims: {escape(tally)}.</p><table>{header}{rows}</table>"


def untested_list(notes: NotesParams) -> str:
    """The claims of the notes that no experiment tests, and why."""
    items = "".join(f"<li><q>{escape(item.quote)}</q> — {escape(item.why)}</li>" for item in notes.untested)
    return f'<section id="untested"><h2>Claims the experiments do not test</h2><ul>{items}</ul></section>'


def render_report(results: list[ClaimResult], notes: NotesParams, **figures: Image) -> str:
    """The whole page (a node): summary, one section per claim, then what is not tested."""
    sections = "".join(
        claim_section(result, figures.get(result.claim.figure) if result.claim.figure else None)
        for result in results
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        "<title>dlpipeline: the claims of the notes, tested</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>The claims of the notes, tested</h1>"
        "<p>Each section quotes a claim of <em>Deep Learning Foundations</em>, names the experiment "
        "that tests it, lists the figures measured by the pipelines (read from their tables under "
        "<code>data/08_reporting</code>) and gives a verdict computed by one rule: "
        f"{escape(RULE)}.</p>"
        f"{summary_table(results)}{sections}{untested_list(notes)}"
        "</body></html>\n"
    )
