"""The notes' interactive "neuron slider": one width of the MLP sweep, trained and drawn on demand.

``notebooks/mlp_slider.ipynb`` calls :func:`train_and_plot` whenever its slider moves. It
only composes the pipeline's own nodes (data → fit → evaluate) and the shared plotting
code, so the slider shows exactly what ``kedro run`` would produce for that one width.
"""

from matplotlib.figure import Figure

from dlpipeline.data.toy2d import features_and_labels
from dlpipeline.pipelines.mlp.nodes import (
    Flavour,
    evaluate_sweep,
    fit_sklearn_sweep,
    fit_torch_sweep,
    generate_points,
    score_text,
    split_points,
)
from dlpipeline.pipelines.mlp.params import SklearnParams, SweepParams, TorchParams, ToyDataParams
from dlpipeline.plotting import decision_boundary_figure


def train_and_plot(
    n_neurons: int,
    flavour: Flavour = "sklearn",
    *,
    data: ToyDataParams,
    sweep: SweepParams,
    torch_params: TorchParams,
    sklearn_params: SklearnParams,
) -> Figure:
    """Train one hidden layer of ``n_neurons`` neurons for every seed of ``sweep`` and draw its boundary.

    ``sweep`` supplies the activation, seeds and grid resolution; its ``hidden_neurons``
    list is replaced by ``[n_neurons]``. ``flavour`` picks the trainer: ``"sklearn"`` is
    the notes' ``MLPClassifier``, ``"torch"`` the project's training loop. The figure
    shows the seed with the median test accuracy (as the pipeline's boundary grid does),
    with that seed's test accuracy and the mean ± std over all seeds in the corner.
    """
    one_width = SweepParams.model_validate({**sweep.model_dump(), "hidden_neurons": [n_neurons]})
    train_points, test_points = split_points(generate_points(data), data)
    if flavour == "torch":
        torch_fits, sklearn_fits = fit_torch_sweep(train_points, one_width, torch_params), []
    elif flavour == "sklearn":
        torch_fits, sklearn_fits = [], fit_sklearn_sweep(train_points, one_width, sklearn_params)
    else:
        raise ValueError(f"unknown flavour {flavour!r}; choose 'sklearn' or 'torch'")
    (result,) = evaluate_sweep(torch_fits, sklearn_fits, train_points, test_points, one_width)
    features, labels = features_and_labels(train_points)
    plural = "" if n_neurons == 1 else "s"
    return decision_boundary_figure(
        result.boundary,
        features,
        labels,
        title=f"{flavour}: {n_neurons} hidden neuron{plural} (seed {result.shown_seed})",
        corner_text=score_text(result),
    )
