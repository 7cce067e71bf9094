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
import operator
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.report.effects import CONTRADICTED, INCONCLUSIVE, Effect, measure_effect
from dlpipeline.pipelines.report.params import (
    Check,
    Claim,
    EffectSpec,
    Figure,
    Measure,
    PipelineClaims,
    RuleParams,
)
from dlpipeline.report_io import NotProduced

SUPPORTED, NOT_SUPPORTED, MIXED = "supported", "not supported", "mixed"
NOT_RUN, NOT_MEASURED = "not run yet", "not measured"
RULE = "supported when every check holds, not supported when none holds, mixed otherwise"
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_SUPPORTED, MIXED, NOT_MEASURED, NOT_RUN)
COUNTED_UNITS = {"seed": "min_seeds", "draw": "min_draws"}
"""Unit columns whose distinct values ``report.rule`` counts, and the setting that bounds each."""
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
EXTREMES = {"max": "idxmax", "min": "idxmin"}

Source = pd.DataFrame | Mapping[str, TrainedModule] | NotProduced


class NotMeasuredError(LookupError):
    """A figure a check needs is not in the tables (its rows were not produced)."""


@dataclass(frozen=True)
class CheckResult:
    """One evaluated comparison: both sides named and measured, and whether it holds."""

    left: str
    left_value: float | None
    op: str
    right: str
    right_value: float | None
    holds: bool | None
    missing: str | None = None


@dataclass(frozen=True)
class ClaimResult:
    """A claim with its measured effect (or evaluated checks) and its verdict.

    ``missing`` says why an effect was not measured; ``timed`` marks a claim about time,
    judged on timings that DVC does not track.
    """

    claim: Claim
    verdict: str
    checks: tuple[CheckResult, ...] = ()
    not_run: tuple[str, ...] = ()
    effect: Effect | None = None
    missing: str | None = None
    timed: bool = False


def as_table(source: pd.DataFrame | Mapping[str, TrainedModule]) -> pd.DataFrame:
    """A table as is; trained models as one row per model: ``name`` and its training facts."""
    if isinstance(source, pd.DataFrame):
        return source
    return pd.DataFrame([{"name": name, **trained.timing.as_dict()} for name, trained in source.items()])


def select_rows(table: pd.DataFrame, where: Mapping[str, Any]) -> pd.DataFrame:
    """The rows matching ``where``: values (as text), lists, globs, then ``max`` / ``min`` picks."""
    rows = table
    extremes = {
        column: value for column, value in where.items() if isinstance(value, str) and value in EXTREMES
    }
    for column, wanted in where.items():
        if column in extremes:
            continue
        if column not in rows.columns:
            raise NotMeasuredError(f"no column {column}")
        text = rows[column].astype(str)
        if isinstance(wanted, list):
            rows = rows[text.isin([str(value) for value in wanted])]
        elif isinstance(wanted, str) and any(mark in wanted for mark in "*?["):
            rows = rows[[fnmatch.fnmatchcase(value, wanted) for value in text]]
        else:
            rows = rows[text == str(wanted)]
    for column, extreme in extremes.items():
        numbers = pd.to_numeric(rows[column], errors="coerce") if column in rows.columns else None
        if numbers is None or numbers.isna().all():
            raise NotMeasuredError(f"no number in column {column}")
        rows = rows[numbers == numbers.loc[getattr(numbers, EXTREMES[extreme])()]]
    return rows


def measure(
    figure: Figure, tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any] | None = None
) -> float:
    """The number ``figure`` names; ``extra`` adds conditions (one value of a check's ``each``)."""
    table = tables[figure.source]
    rows = select_rows(table, {**figure.where, **(extra or {})})
    if figure.column not in rows.columns:
        raise NotMeasuredError(f"{figure.source} has no column {figure.column}")
    values = pd.to_numeric(rows[figure.column], errors="coerce").dropna()
    if values.empty:
        raise NotMeasuredError(f"no row of {figure.source} matches {describe(figure, extra)}")
    if figure.aggregate == "one":
        if len(values) > 1:
            raise ValueError(f"{describe(figure, extra)} matches {len(values)} rows: name an aggregate")
        return float(values.iloc[0])
    return float(getattr(values, figure.aggregate)())


def describe(figure: Figure | float, extra: Mapping[str, Any] | None = None) -> str:
    """A figure as the report shows it, e.g. ``median of cnn_experiments.test_accuracy [model=cnn]``."""
    if not isinstance(figure, Figure):
        return f"{figure:g}"
    conditions = {**figure.where, **(extra or {})}
    where = ", ".join(f"{column}={_shown(value)}" for column, value in conditions.items())
    name = f"{figure.source}.{figure.column}" + (f" [{where}]" if where else "")
    return name if figure.aggregate == "one" else f"{figure.aggregate} of {name}"


def _shown(value: Any) -> str:
    """A ``where`` value as text (a list as ``a|b``)."""
    return "|".join(str(item) for item in value) if isinstance(value, list) else str(value)


def each_values(check: Check, tables: Mapping[str, pd.DataFrame]) -> list[Any]:
    """The values of ``check.each`` found on the left side (and on the right, if it is a table)."""
    sides = [check.left] + ([check.right] if isinstance(check.right, Figure) else [])
    found: list[set[str]] = []
    order: list[str] = []
    for side in sides:
        rows = select_rows(tables[side.source], side.where)
        if check.each not in rows.columns:
            raise NotMeasuredError(f"{side.source} has no column {check.each}")
        values = [str(value) for value in rows[check.each]]
        found.append(set(values))
        order = order or list(dict.fromkeys(values))
    shared = set.intersection(*found)
    return [value for value in order if value in shared]


def evaluate_check(check: Check, tables: Mapping[str, pd.DataFrame]) -> list[CheckResult]:
    """A check's comparisons (one per value of ``each``, else one)."""
    try:
        extras = [{check.each: value} for value in each_values(check, tables)] if check.each else [{}]
    except NotMeasuredError as missing:
        extras, reason = [], str(missing)
    else:
        reason = f"no value of {check.each} on both sides"
    if not extras:
        return [CheckResult(describe(check.left), None, check.op, describe(check.right), None, None, reason)]
    return [_compare(check, tables, extra) for extra in extras]


def _compare(check: Check, tables: Mapping[str, pd.DataFrame], extra: Mapping[str, Any]) -> CheckResult:
    """``left op times × right`` for one value of ``each``."""
    left_name = describe(check.left, extra)
    right_name = describe(check.right, extra if isinstance(check.right, Figure) else None)
    if check.times != 1:
        right_name = f"{check.times:g} × {right_name}"
    try:
        left = measure(check.left, tables, extra)
        right = check.right if not isinstance(check.right, Figure) else measure(check.right, tables, extra)
    except NotMeasuredError as missing:
        return CheckResult(left_name, None, check.op, right_name, None, None, str(missing))
    right = check.times * right
    return CheckResult(left_name, left, check.op, right_name, right, COMPARE[check.op](left, right))


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


def verdict(results: list[CheckResult]) -> str:
    """The one rule: every check holds, none holds, or some do."""
    if any(result.holds is None for result in results):
        return NOT_MEASURED
    held = sum(result.holds for result in results)
    if held == len(results):
        return SUPPORTED
    return NOT_SUPPORTED if held == 0 else MIXED


def sources_of(claim: Claim) -> set[str]:
    """The tables a claim reads."""
    if claim.effect is not None:
        sides = [claim.effect.condition, claim.effect.control]
        return {side.source for side in sides if isinstance(side, Measure)}
    figures = [
        side for check in claim.checks or () for side in (check.left, check.right) if isinstance(side, Figure)
    ]
    return {figure.source for figure in figures}


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
    tables = {name: as_table(sources[name]) for name in read}
    if claim.effect is None:
        results = [result for check in claim.checks or () for result in evaluate_check(check, tables)]
        return ClaimResult(claim, verdict(results), tuple(results), timed=timed)
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
        "control": spec.control_is if spec else None,
        "min_effect": spec.min_effect if spec else None,
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
