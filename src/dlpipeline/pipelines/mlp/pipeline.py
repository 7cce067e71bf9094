"""Wiring of the MLP experiment; every name below is a catalog entry or a parameter."""

from kedro.pipeline import Pipeline

from dlpipeline.pipelines.mlp import (
    data,
    evaluate,
    neurons,
    neurons_report,
    noise_factor,
    report,
    sklearn_flavour,
    throughput,
    torch_flavour,
    units,
)
from dlpipeline.pipelines.wiring import part, step


def create_pipeline() -> Pipeline:
    """Data → torch / sklearn sweeps (saved models) → evaluation → report, under the ``mlp`` namespace.

    The claims' units add the sweep on more data draws and their table; the batch-throughput
    timing (tag ``timing``) belongs to no DVC stage: its clock readings stay outside DVC.
    """
    data_nodes = Pipeline(
        [
            step(data.generate_points, "params:data", "points"),
            step(data.split_points, ["points", "params:data"], ["train_points", "test_points"]),
            step(data.draw_points, "params:data", "draws"),
        ],
        tags="data",
    )
    sweep = ["train_points", "params:sweep"]
    train_nodes = Pipeline(
        [
            step(torch_flavour.fit_torch_sweep, [*sweep, "params:torch"], "torch_models"),
            step(sklearn_flavour.fit_sklearn_sweep, [*sweep, "params:sklearn"], "sklearn_models"),
            step(
                evaluate.evaluate_sweep,
                ["torch_models", "sklearn_models", "train_points", "test_points", "params:sweep"],
                "results",
            ),
        ],
        tags="train",
    )
    report_nodes = Pipeline(
        [
            step(report.accuracy_table, "results", "accuracy_table"),
            step(report.sweep_metrics, "accuracy_table", "sweep_metrics"),
            step(report.plot_accuracy_vs_neurons, ["results", "params:data"], "accuracy_vs_neurons_plot"),
            step(report.plot_boundary_grid, ["results", "train_points"], "boundary_grid_plot"),
            step(report.plot_torch_loss, "results", "torch_loss_plot"),
            step(report.build_child_runs, ["results", "train_points", "params:data"], "child_runs"),
        ],
        tags="train",
    )
    drawn = ["draws", "params:sweep"]
    both_flavours = ["torch_draw_models", "sklearn_draw_models"]
    unit_nodes = Pipeline(
        [
            step(
                torch_flavour.fit_torch_draws, ["torch_models", *drawn, "params:torch"], "torch_draw_models"
            ),
            step(
                sklearn_flavour.fit_sklearn_draws,
                ["sklearn_models", *drawn, "params:sklearn", "params:units"],
                "sklearn_draw_models",
            ),
            step(units.claim_units, [*both_flavours, "draws", "params:data", "params:sweep"], "claim_units"),
            step(units.claim_groups, ["claim_units", "params:units"], "claim_groups"),
            step(units.claim_losses, "torch_draw_models", "claim_losses"),
        ],
        tags="train",
    )
    timing_nodes = Pipeline(
        [
            step(
                throughput.batch_throughput,
                ["train_points", "params:sweep", "params:torch", "params:throughput"],
                "batch_throughput",
            )
        ],
        tags="timing",
    )
    experiment = Pipeline([data_nodes, train_nodes, report_nodes, unit_nodes, timing_nodes], namespace="mlp")
    return experiment + neurons_pipeline()


def neurons_pipeline() -> Pipeline:
    """The neurons study (``mlp.neurons``): activation, bias, a perceptron, and noise × factor.

    It reads the sweep's draws and its ReLU networks on every draw (the comparisons' other
    side, not retrained) and trains its own variants the way the sweep trains (``mlp.torch``).
    """
    study = ["params:mlp.sweep", "params:mlp.torch", "params:study"]
    data_nodes = [step(data.noise_factor_draws, ["params:mlp.data", "params:study"], "noise_factor_draws")]
    train_nodes = [
        step(neurons.fit_variants, ["mlp.draws", *study], "variant_models"),
        step(neurons.fit_linear_baselines, ["mlp.draws", "params:mlp.sweep", "params:study"], "linear_fits"),
        step(
            neurons.neuron_units,
            [
                "mlp.torch_draw_models",
                "variant_models",
                "linear_fits",
                "mlp.draws",
                "params:mlp.sweep",
                "params:study",
            ],
            "units",
        ),
        step(neurons.neuron_summary, "units", "summary"),
        step(noise_factor.fit_noise_factor, ["noise_factor_draws", *study], "noise_factor_models"),
        step(
            noise_factor.noise_factor_units,
            ["noise_factor_models", "noise_factor_draws"],
            "noise_factor_units",
        ),
        step(noise_factor.noise_factor_summary, "noise_factor_units", "noise_factor_summary"),
        step(neurons_report.plot_accuracy_vs_width, "units", "accuracy_vs_width_plot"),
        step(neurons_report.plot_accuracy_vs_noise, "noise_factor_units", "accuracy_vs_noise_plot"),
        step(
            neurons_report.neuron_child_runs,
            [
                "variant_models",
                "linear_fits",
                "noise_factor_models",
                "units",
                "noise_factor_units",
                "mlp.draws",
            ],
            "child_runs",
        ),
    ]
    return part(
        data_nodes,
        train_nodes,
        "mlp.neurons",
        None,
        shared={"mlp.draws", "mlp.torch_draw_models"},
        shared_parameters={"params:mlp.data", "params:mlp.sweep", "params:mlp.torch"},
    )
