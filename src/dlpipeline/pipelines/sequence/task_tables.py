"""The tables of a text task that keeps its own (``names``, ``tagging``): units beside a baseline, results.

Both read a task's scores table: one row per run (``run``, ``cell``, ``draw``, ``seed``) with a
column per metric, the baseline's runs under its own cell name, once per draw.
"""

from collections.abc import Sequence

import pandas as pd

from dlpipeline.pipelines.sequence.report import PATTERNS
from dlpipeline.pipelines.sequence.units import COLUMNS


def units_beside_baseline(
    scores: pd.DataFrame,
    task: str,
    metrics: Sequence[str],
    seq_len: int,
    baseline: str,
    baseline_name: str,
) -> pd.DataFrame:
    """One row per run but the baseline's, and metric, beside the baseline's value on the same draw."""
    by_draw = scores[scores["cell"] == baseline].set_index("draw")
    others = scores[scores["cell"] != baseline]
    return pd.DataFrame(
        [
            {
                "task": task,
                "cell": row["cell"],
                "seq_len": seq_len,
                "draw": row["draw"],
                "seed": row["seed"],
                "metric": metric,
                "value": row[metric],
                "baseline": by_draw.loc[row["draw"], metric],
                "baseline_name": baseline_name,
            }
            for metric in metrics
            for _, row in others.iterrows()
        ],
        columns=COLUMNS,
    )


def results_by_cell(scores: pd.DataFrame, task: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Per cell (in order of appearance) and metric: median, spread, mean and std over its runs."""
    rows = []
    for (cell, metric), values in scores.melt(
        id_vars=["cell"], value_vars=list(metrics), var_name="metric"
    ).groupby(["cell", "metric"], sort=False)["value"]:
        rows.append(
            {
                "task": task,
                "pattern": PATTERNS[task],
                "cell": cell,
                "metric": metric,
                "runs": len(values),
                "median": round(float(values.median()), 6),
                "min": round(float(values.min()), 6),
                "max": round(float(values.max()), 6),
                "mean": round(float(values.mean()), 6),
                "std": round(float(values.std(ddof=0)), 6),
            }
        )
    return pd.DataFrame(rows)
