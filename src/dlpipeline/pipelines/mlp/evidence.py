"""The tables and figures of the mlp experiment that its claims (``mlp.claims``) may read."""

from dlpipeline.evidence import Evidence

EVIDENCE = Evidence(
    tables={
        "mlp_accuracy": "mlp.accuracy_table",
        "mlp_units": "mlp.claim_units",
        "mlp_groups": "mlp.claim_groups",
        "mlp_losses": "mlp.claim_losses",
        "mlp_neurons": "mlp.neurons.units",
        "mlp_noise_factor": "mlp.neurons.noise_factor_units",
    },
    timings={"mlp_batch_throughput": "mlp.batch_throughput"},
    figures={
        "mlp_accuracy_vs_neurons": "mlp.accuracy_vs_neurons_plot",
        "mlp_boundary_grid": "mlp.boundary_grid_plot",
        "mlp_torch_loss": "mlp.torch_loss_plot",
        "mlp_accuracy_vs_width": "mlp.neurons.accuracy_vs_width_plot",
        "mlp_accuracy_vs_noise": "mlp.neurons.accuracy_vs_noise_plot",
    },
)
