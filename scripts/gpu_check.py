"""Check that every pipeline trains on the GPU and gives what the CPU gives, within the seed spread.

    python scripts/gpu_check.py                       # smoke then base, every pipeline
    python scripts/gpu_check.py --envs smoke --pipelines mlp,cnn

For each environment, two copies of the project run ``kedro run`` pipeline by pipeline, then
the claims report: one with CUDA hidden (``CUDA_VISIBLE_DEVICES=""``: the CPU reference) and
one as it is (``device: auto`` picks CUDA where there is one). The report judges every claim
over seeds and data draws, so the two runs agree when each claim's effect on the device lies
inside the CPU's 95 % interval (the spread over seeds and draws), or equals the CPU's where
the effect is a count with no spread, and the verdicts are the same. The training workloads
of ``benchmarks/run.py`` are then timed on the device. Written to ``--output``:
``comparison-<env>.csv`` (one row per claim), ``times-<env>.json`` (seconds per pipeline and
side) and ``benchmarks-<env>.json`` (rows with ``device`` set). Exit 1 when any claim
disagrees. On a machine without CUDA both sides run on the CPU: the check then tests itself.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ("mlp", "cnn", "sequence", "generative")
BENCHMARK_WORKLOADS = "mlp_sweep,cnn,sequence"
VERDICTS = Path("data/08_reporting/report/verdicts.csv")
QUIET_ENV = {
    "KEDRO_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DVC_NO_ANALYTICS": "1",
    "MPLBACKEND": "Agg",
    "OMP_WAIT_POLICY": "PASSIVE",
}
SAME_COUNT_TOLERANCE = 1e-9
"""Relative difference allowed between two effects with no spread (operation counts)."""


@dataclass(frozen=True)
class Side:
    """One of the two runs compared: its name and the environment its processes get."""

    name: str
    env: dict[str, str]


def cuda_device() -> str | None:
    """The CUDA device's name, or ``None`` when torch sees none."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def project_copy(destination: Path) -> Path:
    """The project's shipped files (git's tracked and unignored ones) copied to ``destination``."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listing.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def run_pipelines(project: Path, env_name: str, pipelines: list[str], side: Side) -> dict[str, float]:
    """``kedro run --env env_name --pipelines <p>`` for each pipeline, then the report: seconds of each."""
    seconds = {}
    for pipeline in [*pipelines, "report"]:
        print(f"==> {side.name}: kedro run --env {env_name} --pipelines {pipeline}", flush=True)
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--env", env_name, "--pipelines", pipeline],
            check=False,
            cwd=project,
            env=side.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        seconds[pipeline] = round(time.perf_counter() - started, 2)
        if completed.returncode != 0:
            sys.exit(
                f"gpu_check: `kedro run --pipelines {pipeline}` failed on the {side.name} side "
                f"(exit {completed.returncode}):\n{completed.stderr[-3000:]}"
            )
    return seconds


def effects_agree(device: float, cpu: float, ci_low: float, ci_high: float) -> bool:
    """Whether the device's effect lies within the CPU's interval, or equals a CPU effect with no spread."""
    if ci_high - ci_low <= SAME_COUNT_TOLERANCE * max(1.0, abs(cpu)):
        return math.isclose(device, cpu, rel_tol=SAME_COUNT_TOLERANCE, abs_tol=SAME_COUNT_TOLERANCE)
    return ci_low <= device <= ci_high


def compare_verdicts(cpu: pd.DataFrame, device: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: both effects, the CPU's interval, both verdicts and whether they agree.

    A claim not measured on both sides (too few seeds on smoke) agrees when both say so.
    """
    merged = cpu.merge(device, on="claim", how="outer", suffixes=("_cpu", "_device"), indicator="sides")
    rows = []
    for row in merged.itertuples(index=False):
        measured = not (pd.isna(row.effect_cpu) or pd.isna(row.effect_device))
        same_verdict = row.verdict_cpu == row.verdict_device
        agree = (
            row.sides == "both"
            and same_verdict
            and (
                not measured
                or effects_agree(row.effect_device, row.effect_cpu, row.ci_low_cpu, row.ci_high_cpu)
            )
        )
        rows.append(
            {
                "claim": row.claim,
                "pipeline": row.pipeline_cpu if isinstance(row.pipeline_cpu, str) else row.pipeline_device,
                "effect_cpu": row.effect_cpu,
                "ci_low_cpu": row.ci_low_cpu,
                "ci_high_cpu": row.ci_high_cpu,
                "effect_device": row.effect_device,
                "verdict_cpu": row.verdict_cpu,
                "verdict_device": row.verdict_device,
                "agree": bool(agree),
            }
        )
    return pd.DataFrame(rows)


def benchmark_rows(env_name: str, output: Path) -> None:
    """The training workloads of ``benchmarks/run.py`` timed on this machine's device into ``output``."""
    arguments = ["--workloads", BENCHMARK_WORKLOADS, "--repeats", "3", "--output", str(output)]
    if env_name == "smoke":
        arguments += ["--smoke", "--repeats", "1"]
    subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks/run.py"), *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, **QUIET_ENV},
        stdin=subprocess.DEVNULL,
        check=True,
    )


def check_environment(env_name: str, pipelines: list[str], output: Path, scratch: Path) -> bool:
    """Both sides of one environment run, compared and timed; whether every claim agrees."""
    environment = {**os.environ, **QUIET_ENV}
    sides = [
        Side("cpu", {**environment, "CUDA_VISIBLE_DEVICES": ""}),
        Side("device", environment),
    ]
    verdicts, seconds = {}, {}
    for side in sides:
        project = project_copy(scratch / f"{env_name}-{side.name}")
        seconds[side.name] = run_pipelines(project, env_name, pipelines, side)
        verdicts[side.name] = pd.read_csv(project / VERDICTS)
    compared = compare_verdicts(verdicts["cpu"], verdicts["device"])
    compared = compared[compared["pipeline"].isin(pipelines)]
    compared.to_csv(output / f"comparison-{env_name}.csv", index=False)
    (output / f"times-{env_name}.json").write_text(json.dumps(seconds, indent=2) + "\n")
    disagreeing = compared[~compared["agree"]]
    agreeing = len(compared) - len(disagreeing)
    print(f"{env_name}: {agreeing} of {len(compared)} claims agree; seconds {seconds}")
    for row in disagreeing.itertuples(index=False):
        print(
            f"  {row.claim}: device {row.effect_device} ({row.verdict_device}) against cpu {row.effect_cpu} "
            f"[{row.ci_low_cpu}, {row.ci_high_cpu}] ({row.verdict_cpu})"
        )
    benchmark_rows(env_name, output / f"benchmarks-{env_name}.json")
    return disagreeing.empty


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, check each environment; 0 when every claim agrees, 1 otherwise."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--envs", default="smoke,base", help="comma-separated Kedro environments, in order")
    parser.add_argument("--pipelines", default=",".join(PIPELINES), help="comma-separated pipelines")
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "gpu-check")
    args = parser.parse_args(argv)
    pipelines = [name.strip() for name in args.pipelines.split(",") if name.strip()]
    unknown = sorted(set(pipelines) - set(PIPELINES))
    if unknown:
        parser.error(f"unknown pipeline(s) {unknown}; choose from {list(PIPELINES)}")
    device = cuda_device()
    print(f"gpu_check: device {device or 'cpu (no CUDA: both sides run on the CPU, the check tests itself)'}")
    args.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlpipeline-gpu-check-") as scratch:
        results = [
            check_environment(env_name.strip(), pipelines, args.output, Path(scratch))
            for env_name in args.envs.split(",")
        ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
