"""Benchmarks: each workload of dlpipeline against the peer a user would otherwise use.

    python benchmarks/run.py                          # every workload, 3 repetitions each
    python benchmarks/run.py --workloads mlp_sweep,overhead --repeats 5
    python benchmarks/run.py --smoke                  # tiny sizes: checks the harness runs

Each workload is timed ``--repeats`` times (median reported) in the same process and on
the same machine as its peer. The table is printed and written to
``benchmarks/results.json`` (``--output``): a list with one object per workload with ``workload``,
``ours_s``, ``peer``, ``peer_s``, ``ratio`` (= ours_s / peer_s), ``quality_ok`` (ours
reached at least the peer's quality) and the quality figures themselves.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.pipelines.mlp import nodes as mlp_nodes
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, TorchParams, ToyDataParams

PROJECT_ROOT = Path(__file__).resolve().parents[1]

Row = dict[str, Any]
QUIET_ENV = {
    "KEDRO_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "DVC_NO_ANALYTICS": "1",
    "MPLBACKEND": "Agg",
}


def median_seconds(work: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Run ``work`` ``repeats`` times; return the median wall time and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def base_parameters(pipeline: str, smoke: bool) -> dict[str, Any]:
    """``conf/base/parameters_<pipeline>.yml``, with ``conf/smoke``'s overrides if ``smoke``."""
    parameters = yaml.safe_load((PROJECT_ROOT / f"conf/base/parameters_{pipeline}.yml").read_text())[pipeline]
    if smoke:
        overrides = yaml.safe_load((PROJECT_ROOT / f"conf/smoke/parameters_{pipeline}.yml").read_text())
        parameters = deep_merge(parameters, overrides[pipeline])
    return parameters


def deep_merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` applied key by key, recursively (Kedro's soft merge)."""
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


# --- mlp_sweep --------------------------------------------------------------------------


def sklearn_sweep_accuracy(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], sweep: SweepParams, solver: str
) -> dict[str, float]:
    """The plain scikit-learn loop a user would write: median test accuracy per neuron count."""
    medians = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for widths in sweep.architectures:
            scores = [
                MLPClassifier(widths, activation=sweep.activation, solver=solver, random_state=seed)
                .fit(*train)
                .score(*test)
                for seed in sweep.seeds
            ]
            medians["x".join(map(str, widths))] = float(np.median(scores))
    return medians


def mlp_sweep(repeats: int, smoke: bool) -> list[Row]:
    """The circles sweep (torch flavour, base parameters) against scikit-learn's lbfgs and adam loops."""
    parameters = base_parameters("mlp", smoke)
    data = ToyDataParams.model_validate(parameters["data"])
    sweep = SweepParams.model_validate(parameters["sweep"]).model_copy(update={"grid_resolution": 10})
    torch_params = TorchParams.model_validate(parameters["torch"])
    train_points, test_points = mlp_nodes.split_points(mlp_nodes.generate_points(data), data)
    train, test = features_and_labels(train_points), features_and_labels(test_points)

    def ours() -> dict[str, float]:
        fits = mlp_nodes.fit_torch_sweep(train_points, sweep, torch_params)
        results = mlp_nodes.evaluate_sweep(fits, [], train_points, test_points, sweep)
        return {
            "x".join(map(str, r.fitted.hidden_layers)): float(np.median(r.test_accuracy)) for r in results
        }

    ours_s, ours_quality = median_seconds(ours, repeats)
    rows = []
    for solver in ("lbfgs", "adam"):
        peer_s, peer_quality = median_seconds(
            lambda s=solver: sklearn_sweep_accuracy(train, test, sweep, s), repeats
        )
        rows.append(
            {
                "workload": "mlp_sweep",
                "configurations": f"{len(sweep.architectures)} neuron counts x {sweep.n_seeds} seeds",
                "ours_s": round(ours_s, 3),
                "peer": f"sklearn MLPClassifier(solver={solver!r}) loop",
                "peer_s": round(peer_s, 3),
                "ratio": round(ours_s / peer_s, 3),
                "quality_ok": all(ours_quality[key] >= peer_quality[key] for key in peer_quality),
                "quality": {
                    "metric": "median test accuracy over seeds, per neuron count",
                    "ours": ours_quality,
                    "peer": peer_quality,
                },
            }
        )
    return rows


# --- overhead ---------------------------------------------------------------------------


def project_copy(destination: Path) -> Path:
    """Copy what `kedro run` needs (conf, src, pyproject, .telemetry) to ``destination``."""
    for name in ("conf", "src"):
        shutil.copytree(PROJECT_ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(PROJECT_ROOT / name, destination / name)
    (destination / "data").mkdir()
    return destination


def timed_command(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one command; raises with its output if it fails."""
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **QUIET_ENV, **(env or {})},
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return elapsed


def mlp_node_compute(parameters: dict[str, Any]) -> None:
    """Every node of the mlp pipeline called in-process on the given parameters, no Kedro, no MLflow."""
    data = ToyDataParams.model_validate(parameters["data"])
    sweep = SweepParams.model_validate(parameters["sweep"])
    points = mlp_nodes.generate_points(data)
    train, test = mlp_nodes.split_points(points, data)
    torch_fits = mlp_nodes.fit_torch_sweep(train, sweep, TorchParams.model_validate(parameters["torch"]))
    sklearn_fits = mlp_nodes.fit_sklearn_sweep(
        train, sweep, SklearnParams.model_validate(parameters["sklearn"])
    )
    results = mlp_nodes.evaluate_sweep(torch_fits, sklearn_fits, train, test, sweep)
    mlp_nodes.sweep_metrics(mlp_nodes.accuracy_table(results))
    figures = [
        mlp_nodes.plot_accuracy_vs_neurons(results, data),
        mlp_nodes.plot_boundary_grid(results, train),
        mlp_nodes.plot_torch_loss(results),
    ]
    runs = mlp_nodes.build_child_runs(results, train, data, sweep)
    for figure in figures + [f for run in runs for f in run.figures.values()]:
        figure.savefig(os.devnull, format="png")


def overhead(repeats: int, smoke: bool) -> list[Row]:
    """`kedro run --pipelines mlp --env smoke` against the compute time of the same nodes."""
    del smoke  # this workload always uses the smoke environment
    parameters = base_parameters("mlp", smoke=True)
    compute_s, _ = median_seconds(lambda: mlp_node_compute(parameters), repeats)
    python = sys.executable
    imports = "import kedro.framework.session, kedro_mlflow, mlflow, torch, sklearn, matplotlib, pandas"
    with tempfile.TemporaryDirectory() as scratch:
        copy = project_copy(Path(scratch) / "project")
        import_s = statistics.median(timed_command([python, "-c", imports], copy) for _ in range(repeats))
        kedro_run = [python, "-m", "kedro", "run", "--pipelines", "mlp", "--env", "smoke"]
        first_s = timed_command(kedro_run, copy)  # creates mlflow.db (schema migrations)
        warm_s = statistics.median(timed_command(kedro_run, copy) for _ in range(repeats))
    return [
        {
            "workload": "overhead",
            "ours_s": round(warm_s, 3),
            "peer": "the same nodes called in-process (compute only)",
            "peer_s": round(compute_s, 3),
            "ratio": round(warm_s / compute_s, 3),
            "quality_ok": True,
            "quality": {
                "overhead_s": round(warm_s - compute_s, 3),
                "goal_overhead_s": 3.0,
                "python_imports_s": round(import_s, 3),
                "first_run_with_new_mlflow_db_s": round(first_s, 3),
                "rest_s (kedro session, catalog I/O, MLflow logging)": round(
                    warm_s - compute_s - import_s, 3
                ),
            },
        }
    ]


# --- suite ------------------------------------------------------------------------------


def registered_pipelines() -> list[str]:
    """The architectures' pipelines: one folder per pipeline under src/dlpipeline/pipelines."""
    folder = PROJECT_ROOT / "src/dlpipeline/pipelines"
    return sorted(p.name for p in folder.iterdir() if (p / "pipeline.py").exists())


def suite(repeats: int, smoke: bool) -> list[Row]:
    """The whole `kedro run`, one pipeline at a time, on the base environment (smoke if ``smoke``)."""
    del repeats  # minutes per run: timed once
    env = "smoke" if smoke else "base"
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        copy = project_copy(Path(scratch) / "project")
        timed_command(
            [sys.executable, "-m", "kedro", "run", "--pipelines", "mlp", "--env", "smoke", "--tags", "data"],
            copy,
        )  # create the MLflow store outside the timings
        for pipeline in registered_pipelines():
            seconds = timed_command(
                [sys.executable, "-m", "kedro", "run", "--pipelines", pipeline, "--env", env], copy
            )
            metrics_file = copy / f"data/08_reporting/{pipeline}/metrics.json"
            rows.append(
                {
                    "workload": f"suite:{pipeline}",
                    "ours_s": round(seconds, 3),
                    "peer": None,
                    "peer_s": None,
                    "ratio": None,
                    "quality_ok": None,
                    "quality": json.loads(metrics_file.read_text()) if metrics_file.exists() else None,
                }
            )
    total = sum(row["ours_s"] for row in rows)
    rows.append(
        {
            "workload": "suite:total",
            "ours_s": round(total, 3),
            "peer": "goal: 600 s",
            "peer_s": 600.0,
            "ratio": round(total / 600.0, 3),
            "quality_ok": None,
            "quality": None,
        }
    )
    return rows


WORKLOADS: dict[str, Callable[[int, bool], list[Row]]] = {
    "mlp_sweep": mlp_sweep,
    "overhead": overhead,
    "suite": suite,
}


def print_table(rows: list[Row]) -> None:
    """The results as an aligned text table."""
    header = f"{'workload':<16} {'ours_s':>8} {'peer_s':>8} {'ratio':>6} {'quality_ok':>10}  peer"
    print(header)
    print("-" * len(header))
    for row in rows:
        peer_s = "-" if row["peer_s"] is None else f"{row['peer_s']:.2f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
        print(
            f"{row['workload']:<16} {row['ours_s']:>8.2f} {peer_s:>8} {ratio:>6} {row['quality_ok']!s:>10}  "
            f"{row['peer'] or ''}"
        )


def main(argv: list[str] | None = None) -> list[Row]:
    """Parse the command line, run the chosen workloads, print and save the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma-separated: {', '.join(WORKLOADS)}"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="repetitions per measurement (median reported)"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (conf/smoke): checks the harness only"
    )
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "benchmarks/results.json")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.workloads.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {sorted(WORKLOADS)}")
    for name, value in QUIET_ENV.items():
        os.environ.setdefault(name, value)
    rows = []
    for name in chosen:
        print(f"==> {name}", file=sys.stderr, flush=True)
        rows.extend(WORKLOADS[name](args.repeats, args.smoke))
    print_table(rows)
    machine = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "smoke": args.smoke,
    }
    rows = [{**row, "machine": machine} for row in rows]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"written: {args.output}")
    return rows


if __name__ == "__main__":
    main()
