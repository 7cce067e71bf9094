"""The claims report as one self-contained HTML page: every figure is embedded, nothing is fetched."""

import base64
from collections import Counter
from html import escape

from dlpipeline.pipelines.report.claims import (
    MIXED,
    NOT_MEASURED,
    NOT_RUN,
    NOT_SUPPORTED,
    SUPPORTED,
    CheckResult,
    ClaimResult,
    describe_measure,
)
from dlpipeline.pipelines.report.effects import CONTRADICTED, INCONCLUSIVE, RULE, Effect
from dlpipeline.pipelines.report.params import EffectSpec, NotesParams
from dlpipeline.report_io import NotProduced

VERDICT_COLOURS = {
    SUPPORTED: "#1a7f37",
    INCONCLUSIVE: "#9a6700",
    CONTRADICTED: "#cf222e",
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
TIMINGS_PAGE = "data/09_timings/report/timings.html"
STRIP_WIDTH, STRIP_HEIGHT, STRIP_MARGIN = 420, 48, 10


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


def effect_strip(effect: Effect) -> str:
    """Each unit's effect as a dot, the interval as a bar, zero dashed and the minimal effect in green."""
    marks = [*effect.per_unit, effect.ci_low, effect.ci_high, 0.0, effect.min_effect]
    low, high = min(marks), max(marks)
    span = (high - low) or 1.0

    def x(value: float) -> str:
        return f"{STRIP_MARGIN + (value - low) / span * (STRIP_WIDTH - 2 * STRIP_MARGIN):.1f}"

    dots = "".join(
        f'<circle cx="{x(value)}" cy="{8 + (index % 5) * 5}" r="2.5" fill="#0969da" fill-opacity="0.6"/>'
        for index, value in enumerate(effect.per_unit)
    )
    bar = (
        f'<line x1="{x(effect.ci_low)}" x2="{x(effect.ci_high)}" y1="38" y2="38" '
        'stroke="#24292f" stroke-width="4"/>'
    )
    zero = f'<line x1="{x(0.0)}" x2="{x(0.0)}" y1="2" y2="46" stroke="#57606a" stroke-dasharray="3,2"/>'
    least = f'<line x1="{x(effect.min_effect)}" x2="{x(effect.min_effect)}" y1="2" y2="46" stroke="#1a7f37"/>'
    label = "effect of each unit, its interval, zero and the minimal effect"
    return (
        f'<svg width="{STRIP_WIDTH}" height="{STRIP_HEIGHT}" role="img" aria-label="{label}">'
        f"{zero}{least}{bar}{dots}</svg>"
    )


def effect_table(spec: EffectSpec, effect: Effect | None, missing: str | None) -> str:
    """What the claim measures, on which condition against which control, and the effect found."""
    scale = "log-ratio" if spec.scale == "log_ratio" else "difference"
    claimed = ">" if spec.side == "greater" else "<"
    rows = [
        ("measure", escape(spec.measure)),
        ("condition (the notes' claim)", f"<code>{escape(describe_measure(spec.condition))}</code>"),
        ("control", f"{escape(spec.control_is)}: <code>{escape(describe_measure(spec.control))}</code>"),
        ("claimed", f"condition {claimed} control, paired by {escape(', '.join(spec.units))}"),
        ("minimal effect", f"{spec.min_effect:.4g} ({scale}): {escape(spec.min_effect_why)}"),
    ]
    if effect is None:
        rows.append(("effect", f"not measured: {escape(missing or '')}"))
    else:
        rows += [
            (
                "effect",
                f"{effect.effect:.4g} ({scale}, positive = the claimed side), over n = {effect.n} units",
            ),
            ("95 % interval", f"[{effect.ci_low:.4g}, {effect.ci_high:.4g}]"),
            ("each unit", effect_strip(effect)),
        ]
    body = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows)
    return f"<table>{body}</table>"


def measured_html(result: ClaimResult) -> str:
    """A claim's measurement: its effect, or (until every claim has one) its checks."""
    if result.claim.effect is not None:
        return effect_table(result.claim.effect, result.effect, result.missing)
    return checks_table(result.checks)


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
            f"<h3>Measured</h3>{measured_html(result)}"
            f"<p>Verdict: {verdict_badge(result.verdict)} — rule: {escape(RULE)}.</p>"
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


def page(title: str, body: str) -> str:
    """A self-contained HTML page."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def timed_note(results: list[ClaimResult]) -> str:
    """Where the claims about time are judged, if any claim is about time."""
    timed = sum(result.timed for result in results)
    if not timed:
        return ""
    return (
        f"<p>{timed} claim(s) about time are judged by the same rule on timings measured for the "
        f"purpose, which differ from run to run: see <code>{TIMINGS_PAGE}</code>.</p>"
    )


def render_report(results: list[ClaimResult], notes: NotesParams, **figures: Image) -> str:
    """The whole page (a node): summary, one section per claim not about time, then what is not tested."""
    shown = [result for result in results if not result.timed]
    sections = "".join(
        claim_section(result, figures.get(result.claim.figure) if result.claim.figure else None)
        for result in shown
    )
    intro = (
        "<h1>The claims of the notes, tested</h1>"
        "<p>Each section quotes a claim of <em>Deep Learning Foundations</em>, names the experiment "
        "that tests it, measures the condition the notes claim against a control that could make it "
        "false, paired seed by seed (and data draw by data draw), on the tables the pipelines wrote "
        "under <code>data/08_reporting</code>, and gives a verdict computed by one rule: "
        f"{escape(RULE)}.</p>"
    )
    return page(
        "dlpipeline: the claims of the notes, tested",
        f"{intro}{timed_note(results)}{summary_table(shown)}{sections}{untested_list(notes)}",
    )


def render_timings(results: list[ClaimResult]) -> str:
    """The claims about time on their own page (a node), beside the timings they read."""
    timed = [result for result in results if result.timed]
    sections = "".join(claim_section(result, None) for result in timed)
    intro = (
        "<h1>The claims about time, tested</h1>"
        "<p>Judged by the rule of the claims report on timings measured for the purpose (paired, in "
        f"turns); they differ from run to run, so DVC does not track this page. Rule: {escape(RULE)}.</p>"
    )
    return page("dlpipeline: the claims about time", f"{intro}{summary_table(timed)}{sections}")
