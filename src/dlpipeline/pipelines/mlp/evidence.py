"""The tables and figures of the mlp experiment that its claims (``mlp.claims``) may read."""

from dlpipeline.evidence import Evidence

EVIDENCE = Evidence(
    tables={
        "mlp_accuracy": "mlp.accuracy_table",
        "mlp_units": "mlp.claim_units",
        "mlp_groups": "mlp.claim_groups",
        "mlp_losses": "mlp.claim_losses",
    },
    timings={"mlp_batch_throughput": "mlp.batch_throughput"},
    figures={
        "mlp_accuracy_vs_neurons": "mlp.accuracy_vs_neurons_plot",
        "mlp_boundary_grid": "mlp.boundary_grid_plot",
        "mlp_torch_loss": "mlp.torch_loss_plot",
    },
)
