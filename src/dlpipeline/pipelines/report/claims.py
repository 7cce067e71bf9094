"""Verdicts computed from the experiments' tables: one rule for every claim.

A claim's effect is measured on the tables the experiments wrote: the condition the notes
claim against a control, paired unit by unit (seeds, data draws), its interval bootstrapped
over the units (:mod:`dlpipeline.pipelines.report.effects`). The verdict is ``supported``
when the interval lies beyond the minimal effect on the claimed side, ``contradicted`` when
it lies on the other side of zero, ``inconclusive`` otherwise. A claim whose experiment has
not run is ``not run yet``; one whose tables lack rows it needs, or hold fewer seeds or draws
than ``report.rule`` asks (e.g. the smoke environment), is ``not measured``.

Claims about time read tables the experiments measured for the purpose (their evidence's
``timings``); they are judged by the same rule but shown apart, where DVC does not track
them, so that the tracked report is the same on every run with the same inputs.
"""

import fnmatch
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dlpipeline.pipelines.report.effects import CONTRADICTED, INCONCLUSIVE, SUPPORTED, Effect, measure_effect
from dlpipeline.pipelines.report.params import Claim, EffectSpec, Measure, PipelineClaims, RuleParams
from dlpipeline.report_io import NotProduced

NOT_RUN, NOT_MEASURED = "not run yet", "not measured"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, NOT_RUN)
COUNTED_UNITS = {"seed": "min_seeds", "draw": "min_draws"}
"""Unit columns whose distinct values ``report.rule`` counts, and the setting that bounds each."""
Source = pd.DataFrame | NotProduced


class NotMeasuredError(LookupError):
    """A value an effect needs is not in the tables (its rows were not produced)."""


@dataclass(frozen=True)
class ClaimResult:
    """A claim with its measured effect and its verdict.

    ``missing`` says why an effect was not measured; ``timed`` marks a claim about time,
    judged on timings that DVC does not track.
    """

    claim: Claim
    verdict: str
    not_run: tuple[str, ...] = ()
    effect: Effect | None = None
    missing: str | None = None
    timed: bool = False


def select_rows(table: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """The rows matching ``where``: a value (compared as text), a list of values, or a glob."""
    rows = table
    for column, wanted in where.items():
        if column not in rows.columns:
            raise NotMeasuredError(f"no column {column}")
        text = rows[column].astype(str)
        if isinstance(wanted, list):
            rows = rows[text.isin([str(value) for value in wanted])]
        elif isinstance(wanted, str) and any(mark in wanted for mark in "*?["):
            rows = rows[[fnmatch.fnmatchcase(value, wanted) for value in text]]
        else:
            rows = rows[text == str(wanted)]
    return rows


def _shown(value: Any) -> str:
    """A ``where`` value as text (a list as ``a|b``)."""
    return "|".join(str(item) for item in value) if isinstance(value, list) else str(value)


def unit_values(measure: Measure, units: Sequence[str], tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """``measure``'s values indexed by unit (the ``units`` columns, as text), one row per unit."""
    rows = select_rows(tables[measure.source], measure.where)
    absent = [column for column in [*units, measure.column] if column not in rows.columns]
    if absent:
        raise NotMeasuredError(f"{measure.source} has no column {', '.join(absent)}")
    if rows.empty:
        raise NotMeasuredError(f"no row of {measure.source} matches {describe_measure(measure)}")
    index = pd.MultiIndex.from_frame(rows[list(units)].astype(str))
    return pd.Series(pd.to_numeric(rows[measure.column], errors="coerce").to_numpy(), index=index)


def describe_measure(measure: Measure | float) -> str:
    """A side of an effect as the report shows it, e.g. ``mlp_units.test_accuracy [hidden_neurons=1]``."""
    if not isinstance(measure, Measure):
        return f"{measure:g}"
    where = ", ".join(f"{column}={_shown(value)}" for column, value in measure.where.items())
    return f"{measure.source}.{measure.column}" + (f" [{where}]" if where else "")


def too_few_units(units: pd.Index, rule: RuleParams) -> str | None:
    """Why the paired units are too few for ``rule`` (seeds, data draws), or ``None``."""
    for column, setting in COUNTED_UNITS.items():
        if column in units.names:
            found, needed = units.get_level_values(column).nunique(), getattr(rule, setting)
            if found < needed:
                return f"{found} {column}(s) paired, {needed} needed (report.rule.{setting})"
    return None


def measured_effect(spec: EffectSpec, tables: Mapping[str, pd.DataFrame], rule: RuleParams) -> Effect:
    """The claim's paired effect over its units, or :class:`NotMeasuredError` naming what is short."""
    condition = unit_values(spec.condition, spec.units, tables)
    if isinstance(spec.control, Measure):
        control = unit_values(spec.control, spec.units, tables)
    else:
        control = pd.Series(spec.control, index=condition.index)
    paired = condition.index.intersection(control.index)
    if paired.empty:
        raise NotMeasuredError(f"no unit ({', '.join(spec.units)}) on both sides")
    shortfall = too_few_units(paired, rule)
    if shortfall:
        raise NotMeasuredError(shortfall)
    return measure_effect(
        condition,
        control,
        spec.scale,
        spec.side,
        spec.min_effect,
        seed=rule.seed,
        confidence=rule.confidence,
        resamples=rule.resamples,
    )


def sources_of(claim: Claim) -> set[str]:
    """The tables a claim reads."""
    sides = [claim.effect.condition, claim.effect.control]
    return {side.source for side in sides if isinstance(side, Measure)}


def evaluate_claim(
    claim: Claim,
    sources: Mapping[str, Source],
    rule: RuleParams | None = None,
    timed_sources: Collection[str] = (),
) -> ClaimResult:
    """A claim's verdict from the sources, or which pipelines must run first.

    ``timed_sources`` names the tables of timings: a claim reading one is a claim about time.
    """
    read = sources_of(claim)
    unknown = read - set(sources)
    if unknown:
        raise KeyError(f"claim {claim.id} reads {sorted(unknown)}: not inputs of the report")
    timed = bool(read & set(timed_sources))
    missing = sorted({source.pipeline for name in read if isinstance(source := sources[name], NotProduced)})
    if missing:
        return ClaimResult(claim, NOT_RUN, not_run=tuple(missing), timed=timed)
    tables = {name: sources[name] for name in read}
    try:
        effect = measured_effect(claim.effect, tables, rule or RuleParams())
    except NotMeasuredError as short:
        return ClaimResult(claim, NOT_MEASURED, missing=str(short), timed=timed)
    return ClaimResult(claim, effect.verdict, effect=effect, timed=timed)


def experiment_claims(claims: PipelineClaims) -> list[Claim]:
    """One experiment's claims, validated before any node runs (a node)."""
    return list(claims.root)


def gather_claims(*per_experiment: list[Claim]) -> list[Claim]:
    """Every experiment's claims in one list; each claim needs its own id and its own quote (a node)."""
    claims = [claim for claims in per_experiment for claim in claims]
    for attribute in ("id", "quote"):
        values = [getattr(claim, attribute) for claim in claims]
        repeated = sorted({value for value in values if values.count(value) > 1})
        if repeated:
            raise ValueError(f"every claim needs its own {attribute}: {repeated} appear more than once")
    return claims


def evaluate_claims(
    claims: list[Claim], rule: RuleParams, timed_sources: Collection[str] = (), **sources: Source
) -> list[ClaimResult]:
    """Every claim evaluated on the tables (a node); ``timed_sources`` as in :func:`evaluate_claim`."""
    return [evaluate_claim(claim, sources, rule, timed_sources) for claim in claims]


VERDICT_COLUMNS = [
    "claim",
    "quote",
    "pipeline",
    "verdict",
    "effect",
    "ci_low",
    "ci_high",
    "n",
    "control",
    "min_effect",
]


def verdict_row(result: ClaimResult) -> dict[str, Any]:
    """A claim's row of the verdict table; the effect's numbers are empty when it was not measured."""
    effect = result.effect.as_row() if result.effect else {}
    spec = result.claim.effect
    return {
        "claim": result.claim.id,
        "quote": result.claim.quote,
        "pipeline": result.claim.pipeline,
        "verdict": result.verdict,
        **{column: effect.get(column) for column in ("effect", "ci_low", "ci_high", "n")},
        "control": spec.control_is,
        "min_effect": spec.min_effect,
    }


def verdict_rows(results: list[ClaimResult], timed: bool) -> pd.DataFrame:
    """The rows of the claims about time (``timed``) or of every other claim."""
    rows = [verdict_row(result) for result in results if result.timed == timed]
    numbers = dict.fromkeys(["effect", "ci_low", "ci_high", "min_effect"], "float64")
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS).astype({**numbers, "n": "Int64"})


def verdict_table(results: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim not about time: its verdict, effect, interval, units and control (a node)."""
    return verdict_rows(results, timed=False)


def timing_verdict_table(results: list[ClaimResult]) -> pd.DataFrame:
    """The same rows for the claims about time, kept where DVC does not track them (a node)."""
    return verdict_rows(results, timed=True)
