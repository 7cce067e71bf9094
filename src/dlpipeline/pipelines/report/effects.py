"""Effects with intervals: the statistical core of the rule that judges a claim by its effect.

A claim names what it measures, the condition the notes claim, a *control* that would make
it false, and a *minimal effect* worth the name. The effect is paired: each unit (a seed, or
a ``(draw, seed)`` pair where the data is generated) gives one difference ``condition -
control`` or one log-ratio ``log(condition / control)``, signed so that positive is the side
the notes claim; 0 means no effect, whatever the scale. The effect is the mean over units;
its 95 % interval is a percentile bootstrap of that mean over the units, from a seeded
generator, so the report is deterministic.

The verdict, with ``[ci_low, ci_high]`` the interval and ``min_effect >= 0`` on the
effect's scale:

* ``supported`` when ``ci_low > min_effect``: the whole interval lies beyond the minimal
  effect, on the claimed side;
* ``contradicted`` when ``ci_high < 0``: the whole interval lies on the other side of zero;
* ``inconclusive`` otherwise.

Both bounds are strict: an interval that touches the minimal effect (or zero) has not
excluded it, so with ``min_effect = 0`` an interval ending at exactly 0 is inconclusive.

How many units are enough (≥ 5 seeds, × ≥ 3 draws where the data is drawn) is the caller's
to enforce: this module counts the paired units (``Effect.n``) but does not know which
index level is a seed.
"""

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
RULE = (
    "supported when the interval lies beyond the minimal effect on the claimed side, "
    "contradicted when it lies on the other side of zero, inconclusive otherwise"
)
COLUMNS = ["effect", "ci_low", "ci_high", "n", "min_effect"]

Scale = Literal["difference", "log_ratio"]
Side = Literal["greater", "less"]


@dataclass(frozen=True)
class Effect:
    """A paired effect: its mean over units, its bootstrap interval, and each unit's value.

    ``effect``, the bounds, ``per_unit`` and ``min_effect`` share one scale (a difference or a
    log-ratio), signed so that positive is the claimed side. ``n`` counts the paired units.
    """

    effect: float
    ci_low: float
    ci_high: float
    n: int
    per_unit: tuple[float, ...]
    min_effect: float

    @property
    def verdict(self) -> str:
        """Supported beyond the minimal effect, contradicted below zero (both strict), else inconclusive."""
        if self.ci_low > self.min_effect:
            return SUPPORTED
        if self.ci_high < 0:
            return CONTRADICTED
        return INCONCLUSIVE

    def as_row(self) -> dict[str, float | int]:
        """The numbers ``verdicts.csv`` shows for this effect (the caller adds ``control``)."""
        return {column: getattr(self, column) for column in COLUMNS}


def paired_effects(condition: pd.Series, control: pd.Series, scale: Scale, side: Side) -> pd.Series:
    """Each paired unit's effect, positive on the claimed side, in the order of the units.

    ``condition`` and ``control`` are indexed by the unit (a seed, or a ``(draw, seed)``
    MultiIndex); units found in only one of them are left out. Units are sorted so that the
    bootstrap, which resamples by position, does not depend on the order the rows came in.
    """
    if scale not in ("difference", "log_ratio"):
        raise ValueError(f"scale must be 'difference' or 'log_ratio', not {scale!r}")
    if side not in ("greater", "less"):
        raise ValueError(f"side must be 'greater' or 'less', not {side!r}")
    # Index levels are matched by position: differently named levels would pair a seed with a draw.
    if list(condition.index.names) != list(control.index.names):
        raise ValueError(
            f"condition and control are indexed by different units: "
            f"{list(condition.index.names)} and {list(control.index.names)}"
        )
    for name, values in (("condition", condition), ("control", control)):
        repeated = values.index[values.index.duplicated()].unique()
        if len(repeated):
            raise ValueError(f"{name} has more than one value for the units {list(repeated)}")
    pairs = pd.concat(
        [condition.rename("condition"), control.rename("control")], axis=1, join="inner"
    ).sort_index()
    if pairs.empty:
        raise ValueError("no unit is in both condition and control: nothing to pair")
    pairs = pairs.apply(pd.to_numeric, errors="coerce")
    missing = pairs.index[pairs.isna().any(axis=1) | ~np.isfinite(pairs).all(axis=1)]
    if len(missing):
        raise ValueError(f"the units {list(missing)} have no finite value")
    if scale == "log_ratio":
        non_positive = pairs.index[(pairs <= 0).any(axis=1)]
        if len(non_positive):
            raise ValueError(f"a log-ratio needs positive values; the units {list(non_positive)} are not")
        effects = np.log(pairs["condition"]) - np.log(pairs["control"])
    else:
        effects = pairs["condition"] - pairs["control"]
    return (effects if side == "greater" else -effects).rename("effect")


def bootstrap_interval(
    effects: pd.Series | np.ndarray, confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean over units, the same for the same ``seed``.

    Units are resampled with replacement, ``resamples`` times, in one draw of indices. With
    one unit every resample is that unit, so the interval collapses to its value: the caller
    must require enough units for the interval to mean anything.
    """
    values = np.asarray(effects, dtype=float)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("the bootstrap needs a non-empty list of per-unit effects")
    if not np.isfinite(values).all():
        raise ValueError("the bootstrap needs finite per-unit effects")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (resamples, values.size))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def measure_effect(
    condition: pd.Series,
    control: pd.Series,
    scale: Scale,
    side: Side,
    min_effect: float,
    seed: int = 0,
    confidence: float = 0.95,
    resamples: int = 10_000,
) -> Effect:
    """The paired effect of ``condition`` over ``control``, its 95 % interval, and the minimal effect.

    ``min_effect`` is on the effect's scale (a difference, or a log-ratio: ``log(1.1)`` for
    10 %) and measured on the claimed side, so it is never negative.
    """
    if not min_effect >= 0:
        raise ValueError(f"min_effect must be >= 0 (on the claimed side), not {min_effect}")
    effects = paired_effects(condition, control, scale, side)
    low, high = bootstrap_interval(effects, confidence, resamples, seed)
    return Effect(
        effect=float(effects.mean()),
        ci_low=low,
        ci_high=high,
        n=len(effects),
        per_unit=tuple(float(value) for value in effects),
        min_effect=float(min_effect),
    )
