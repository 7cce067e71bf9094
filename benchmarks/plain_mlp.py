"""The mlp pipeline's nodes as a plain script: no Kedro session, no catalog, no MLflow runs.

    python benchmarks/plain_mlp.py          # the smoke parameters, as `kedro run --env smoke` uses

The benchmark's ``overhead`` workload runs it in a fresh interpreter as the peer of
``kedro run --pipelines mlp --env smoke``: both import what the nodes need and call the
same nodes on the same parameters, so the difference is what Kedro, kedro-mlflow and
MLflow's bookkeeping add. Figures are rendered to PNG as the catalog's would be, then dropped.
"""

import os
from pathlib import Path
from typing import Any

from dlpipeline.config import load_parameters
from dlpipeline.pipelines.mlp import data as mlp_data
from dlpipeline.pipelines.mlp import evaluate as mlp_evaluate
from dlpipeline.pipelines.mlp import report as mlp_report
from dlpipeline.pipelines.mlp import sklearn_flavour, torch_flavour
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, TorchParams, ToyDataParams

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def mlp_node_compute(parameters: dict[str, Any]) -> None:
    """Every node of the mlp pipeline called in-process on the given parameters, no Kedro, no MLflow."""
    data = ToyDataParams.model_validate(parameters["data"])
    sweep = SweepParams.model_validate(parameters["sweep"])
    points = mlp_data.generate_points(data)
    train, test = mlp_data.split_points(points, data)
    torch_fits = torch_flavour.fit_torch_sweep(train, sweep, TorchParams.model_validate(parameters["torch"]))
    sklearn_fits = sklearn_flavour.fit_sklearn_sweep(
        train, sweep, SklearnParams.model_validate(parameters["sklearn"])
    )
    results = mlp_evaluate.evaluate_sweep(torch_fits, sklearn_fits, train, test, sweep)
    mlp_report.sweep_metrics(mlp_report.accuracy_table(results))
    figures = [
        mlp_report.plot_accuracy_vs_neurons(results, data),
        mlp_report.plot_boundary_grid(results, train),
        mlp_report.plot_torch_loss(results),
    ]
    runs = mlp_report.build_child_runs(results, train, data)
    for figure in figures + [f for run in runs for f in run.figures.values()]:
        figure.savefig(os.devnull, format="png")


if __name__ == "__main__":
    mlp_node_compute(load_parameters("smoke", PROJECT_ROOT)["mlp"])
