"""The GPU check compares the device's claims with the CPU's within the seed spread, and runs without CUDA."""

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest
from tests.helpers import PROJECT_ROOT, run_command


@pytest.fixture
def gpu_check(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``scripts/gpu_check.py`` as a module."""
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "scripts"))
    return importlib.import_module("gpu_check")


def verdicts(*rows: tuple[str, float | None, float | None, float | None, str]) -> pd.DataFrame:
    """A verdicts table of claims ``(claim, effect, ci_low, ci_high, verdict)`` of the mlp pipeline."""
    return pd.DataFrame(
        [
            {"claim": c, "pipeline": "mlp", "effect": e, "ci_low": lo, "ci_high": hi, "verdict": v}
            for c, e, lo, hi, v in rows
        ]
    )


def test_an_effect_inside_the_cpu_interval_agrees_and_one_outside_does_not(gpu_check):
    assert gpu_check.effects_agree(device=0.31, cpu=0.30, ci_low=0.28, ci_high=0.32)
    assert not gpu_check.effects_agree(device=0.35, cpu=0.30, ci_low=0.28, ci_high=0.32)


def test_a_count_with_no_spread_must_be_equal_on_both_sides(gpu_check):
    assert gpu_check.effects_agree(device=0.6931, cpu=0.6931, ci_low=0.6931, ci_high=0.6931)
    assert not gpu_check.effects_agree(device=0.6932, cpu=0.6931, ci_low=0.6931, ci_high=0.6931)


def test_each_claim_is_compared_and_a_changed_verdict_or_a_missing_claim_disagrees(gpu_check):
    cpu = verdicts(
        ("inside", 0.30, 0.28, 0.32, "supported"),
        ("flipped", 0.30, 0.28, 0.32, "supported"),
        ("unmeasured", None, None, None, "not measured"),
        ("only-on-cpu", 0.1, 0.0, 0.2, "inconclusive"),
    )
    device = verdicts(
        ("inside", 0.29, 0.27, 0.31, "supported"),
        ("flipped", 0.29, 0.20, 0.35, "inconclusive"),
        ("unmeasured", None, None, None, "not measured"),
    )

    compared = gpu_check.compare_verdicts(cpu, device).set_index("claim")["agree"].to_dict()

    assert compared == {"inside": True, "flipped": False, "unmeasured": True, "only-on-cpu": False}


def test_without_cuda_the_check_runs_both_sides_on_the_cpu_and_every_claim_agrees(tmp_path: Path):
    output = tmp_path / "gpu-check"

    result = run_command(
        sys.executable,
        "scripts/gpu_check.py",
        "--envs",
        "smoke",
        "--pipelines",
        "mlp",
        "--output",
        str(output),
        cwd=PROJECT_ROOT,
        timeout=900,
    )

    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    compared = pd.read_csv(output / "comparison-smoke.csv")
    assert len(compared) > 0 and set(compared["pipeline"]) == {"mlp"}
    assert compared["agree"].all()
    times = json.loads((output / "times-smoke.json").read_text())
    assert set(times) == {"cpu", "device"} and set(times["cpu"]) == {"mlp", "report"}
    rows = json.loads((output / "benchmarks-smoke.json").read_text())
    assert {row["workload"] for row in rows} == {"mlp_sweep", "cnn", "sequence"}
    assert all(row["device"] == "cpu" for row in rows)
