"""The notes' interactive "neuron slider": one width of the MLP sweep, trained and drawn on demand.

``notebooks/mlp_slider.ipynb`` calls :func:`train_and_plot` whenever its slider moves. It
only composes the pipeline's own nodes (data → fit → evaluate → boundary figure), so the
slider shows exactly what ``kedro run`` would produce for that one width.
"""

from matplotlib.figure import Figure

from dlpipeline.pipelines.mlp.data import generate_points, split_points
from dlpipeline.pipelines.mlp.evaluate import evaluate_sweep
from dlpipeline.pipelines.mlp.params import Flavour, SklearnParams, SweepParams, TorchParams, ToyDataParams
from dlpipeline.pipelines.mlp.report import boundary_figure
from dlpipeline.pipelines.mlp.sklearn_flavour import fit_sklearn_sweep
from dlpipeline.pipelines.mlp.torch_flavour import fit_torch_sweep


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
        torch_models, sklearn_models = fit_torch_sweep(train_points, one_width, torch_params), {}
    elif flavour == "sklearn":
        torch_models, sklearn_models = {}, fit_sklearn_sweep(train_points, one_width, sklearn_params)
    else:
        raise ValueError(f"unknown flavour {flavour!r}; choose 'sklearn' or 'torch'")
    (result,) = evaluate_sweep(torch_models, sklearn_models, train_points, test_points, one_width)
    return boundary_figure(result, train_points)
