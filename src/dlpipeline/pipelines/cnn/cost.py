"""Cost against the training-set size: how much one more training image costs, counted and timed.

"Computationally expensive for large datasets." A dataset is large or small by its images, so
the cost that matters is the slope: what an epoch costs per training image, fitted over the
sizes of the limited-data study (:mod:`.size`), not one point. Two measures:

* counted: the multiply-accumulates of one epoch's forward passes (:mod:`.operations`: MACs per
  image × images). The count is exact and the same on every machine; its slope is the MACs of
  one image, its intercept 0.
* timed: seconds of one training epoch of one network (the first seed), by the project's loop
  on one thread count, at every size, for every configuration of ``cnn.cost.configurations``
  (the CNN, the CNN without pooling: pooling's saving measured the same way; the MLP of the
  same size) and a logistic regression on the raw pixels. Every (configuration, size) is timed
  once per repeat, in turns, the order reversed on every other repeat so that a machine growing
  busier or quieter weighs on all alike; each repeat's seconds are fitted by least squares
  against the sizes, so each repeat is a unit. Clock readings vary from run to run: those
  tables live under ``data/09_timings``, outside DVC.

Each configuration's child run holds, as its MLflow model, the network of its last timed
epoch on the largest training set (one seed, one epoch): what was timed, kept in MLflow only
(a timing's by-product is no result the claims read, so no ``.pt`` file in DVC).
"""

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dlpipeline.data.digits import table_to_images
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.cnn import ConvNetEnsemble, ConvNetSpec, LinearEnsemble
from dlpipeline.models.losses import ensemble_cross_entropy
from dlpipeline.pipelines.cnn.operations import dense_macs, macs_per_image
from dlpipeline.pipelines.cnn.params import CostParams, DataSizeParams, ExperimentParams, TrainingParams
from dlpipeline.pipelines.cnn.size import check_configurations, nested_subsets
from dlpipeline.pipelines.cnn.train import as_tensors, network_spec
from dlpipeline.served import EXAMPLE_ROWS, served_model
from dlpipeline.threads import resolve_threads
from dlpipeline.tracking import ChildRun
from dlpipeline.training import fit

TimedNetworks = dict[str, TrainedModule]
"""Per configuration timed, the network its last timed epoch on the largest training set trained."""
LOGISTIC = "logistic"
"""The linear baseline: a softmax regression on the raw pixels (:class:`LinearEnsemble`)."""


def fit_slope(sizes: np.ndarray, costs: np.ndarray) -> tuple[float, float]:
    """Least-squares line through ``(sizes, costs)``: ``(slope, intercept)``; at least two sizes."""
    if len(np.unique(sizes)) < 2:
        raise ValueError(f"a slope needs at least two distinct sizes, got {sorted(set(sizes.tolist()))}")
    slope, intercept = np.polyfit(np.asarray(sizes, dtype=float), np.asarray(costs, dtype=float), deg=1)
    return float(slope), float(intercept)


def logistic_macs(in_shape: tuple[int, ...], n_classes: int) -> int:
    """MACs per image of a softmax regression: every pixel times every class."""
    return dense_macs(int(np.prod(in_shape)), n_classes)


def cost_specs(
    experiments: ExperimentParams, cost: CostParams, in_shape: tuple[int, int, int], n_classes: int
) -> dict[str, ConvNetSpec]:
    """The network shape of every configuration timed (the logistic regression has none)."""
    check_configurations(cost.configurations, experiments, "cnn.cost.configurations")
    return {
        name: network_spec(experiments.architectures[name], in_shape, n_classes)
        for name in cost.configurations
    }


def subset_sizes(train_images: pd.DataFrame, size: DataSizeParams) -> list[int]:
    """The number of training images of every subset of the limited-data study, ascending."""
    _, labels = table_to_images(train_images)
    return [len(indices) for indices in nested_subsets(labels, size.shares, size.seed).values()]


def operation_slopes(
    train_images: pd.DataFrame, experiments: ExperimentParams, size: DataSizeParams, cost: CostParams
) -> pd.DataFrame:
    """One row per configuration and the logistic regression: MACs of an epoch's forward passes, fitted.

    Columns ``configuration``, ``model``, ``image_shape`` (the unit claims pair on), ``sizes``
    (the training-set sizes fitted), ``macs_per_image``, ``macs_slope`` (MACs per training
    image of an epoch) and ``macs_intercept``.
    """
    images, labels = table_to_images(train_images)
    in_shape = (1, *images.shape[1:])
    n_classes = int(labels.max()) + 1
    specs = cost_specs(experiments, cost, in_shape, n_classes)
    per_image = {name: macs_per_image(spec) for name, spec in specs.items()}
    models: dict[str, str] = {name: spec.model for name, spec in specs.items()}
    per_image[LOGISTIC], models[LOGISTIC] = logistic_macs(in_shape, n_classes), LOGISTIC
    sizes = np.array(subset_sizes(train_images, size))
    rows = []
    for name, macs in per_image.items():
        slope, intercept = fit_slope(sizes, macs * sizes)
        rows.append(
            {
                "configuration": name,
                "model": models[name],
                "image_shape": "x".join(map(str, in_shape)),
                "sizes": " ".join(map(str, sizes)),
                "macs_per_image": macs,
                "macs_slope": round(slope, 3),
                "macs_intercept": round(intercept, 3) + 0.0,  # no "-0.0"
            }
        )
    return pd.DataFrame(rows)


def epoch_timings(
    train_images: pd.DataFrame,
    experiments: ExperimentParams,
    training: TrainingParams,
    size: DataSizeParams,
    cost: CostParams,
) -> tuple[pd.DataFrame, TimedNetworks]:
    """One row per repeat, configuration and size: seconds of one training epoch of one network.

    Columns ``repeat``, ``configuration``, ``n_train``, ``seconds``, ``threads``. An untimed
    epoch of every configuration first loads its kernels. Beside the table, every
    configuration's network of its last timed epoch on the largest set (its child run's model).
    """
    images, labels = table_to_images(train_images)
    subsets = list(nested_subsets(labels, size.shares, size.seed).values())
    tensors = [as_tensors(images[indices], labels[indices]) for indices in subsets]
    in_shape = tuple(tensors[0][0].shape[1:])
    n_classes = int(labels.max()) + 1
    builders = network_builders(cost_specs(experiments, cost, in_shape, n_classes), in_shape, n_classes)
    threads = resolve_threads(training.train.threads) or torch.get_num_threads()
    train = training.train.model_copy(update={"epochs": 1, "threads": threads})
    seed = experiments.first_seed
    largest = len(tensors) - 1
    kept: TimedNetworks = {}

    def seconds_for(name: str, features: torch.Tensor, targets: torch.Tensor) -> float:
        model = builders[name](seed)  # built before the clock starts
        started = time.perf_counter()
        fit(model.module, features, targets, ensemble_cross_entropy, train, seed)
        seconds = time.perf_counter() - started
        if len(targets) == len(tensors[largest][1]):
            kept[name] = model.replace(module=model.module.cpu())  # after the clock: served on the CPU
        return seconds

    turns = [(name, index) for name in builders for index in range(len(tensors))]
    for name in builders:
        seconds_for(name, *tensors[0])  # untimed: the first epoch pays for loading kernels
    rows = []
    for repeat in range(cost.repeats):
        for name, index in turns if repeat % 2 == 0 else turns[::-1]:
            rows.append(
                {
                    "repeat": repeat,
                    "configuration": name,
                    "n_train": len(tensors[index][1]),
                    "seconds": seconds_for(name, *tensors[index]),
                    "threads": threads,
                }
            )
    table = pd.DataFrame(rows).sort_values(["repeat", "configuration", "n_train"], ignore_index=True)
    return table, kept


def network_builders(
    specs: dict[str, ConvNetSpec], in_shape: tuple[int, ...], n_classes: int
) -> dict[str, Callable[[int], TrainedModule]]:
    """Per configuration timed, a function of a seed building one fresh network of it (rebuildable)."""
    builders: dict[str, Callable[[int], TrainedModule]] = {
        name: (lambda seed, spec=spec: TrainedModule.build(ConvNetEnsemble, spec=spec, seeds=[seed]))
        for name, spec in specs.items()
    }
    builders[LOGISTIC] = lambda seed: TrainedModule.build(
        LinearEnsemble, in_shape=tuple(in_shape), n_classes=n_classes, seeds=[seed]
    )
    return builders


def timing_slopes(timings: pd.DataFrame) -> pd.DataFrame:
    """One row per repeat and configuration: the seconds of an epoch fitted against the training images.

    Columns ``repeat``, ``configuration``, ``seconds_per_image`` (the slope),
    ``seconds_intercept`` (what an epoch costs whatever its size) and ``microseconds_per_image``.
    """
    rows = []
    for (repeat, name), rows_of in timings.groupby(["repeat", "configuration"], sort=False):
        slope, intercept = fit_slope(rows_of["n_train"].to_numpy(), rows_of["seconds"].to_numpy())
        rows.append(
            {
                "repeat": int(repeat),
                "configuration": str(name),
                "seconds_per_image": slope,
                "seconds_intercept": intercept,
                "microseconds_per_image": slope * 1e6,
            }
        )
    return pd.DataFrame(rows)


def cost_child_runs(
    operations: pd.DataFrame, slopes: pd.DataFrame, networks: TimedNetworks, train_images: pd.DataFrame
) -> list[ChildRun]:
    """One MLflow child run per configuration timed (``study``: ``cost``): its slopes, counted and timed.

    Its MLflow model is the configuration's network of its last timed epoch (``networks``), a
    ``classifier`` of one seed, with the first training images as its input example.
    """
    images, _ = table_to_images(train_images.head(EXAMPLE_ROWS))
    example = images[:, None].astype(np.float32)
    timed = slopes.groupby("configuration")
    runs = []
    for row in operations.to_dict("records"):
        name = str(row["configuration"])
        runs.append(
            ChildRun(
                name=f"cost-{name}",
                params={"study": "cost", "configuration": name, "sizes": str(row["sizes"])},
                metrics={
                    "macs_per_image": float(row["macs_per_image"]),
                    "macs_slope": float(row["macs_slope"]),
                    "seconds_per_image": float(timed.get_group(name)["seconds_per_image"].median()),
                    "seconds_intercept": float(timed.get_group(name)["seconds_intercept"].median()),
                    "repeats": float(timed.get_group(name)["repeat"].nunique()),
                },
                model=served_model(networks[name], example),
            )
        )
    return runs


def plot_operations(operations: pd.DataFrame) -> Figure:
    """Forward MACs of one epoch against the training images, every configuration a line (log-log)."""
    figure = Figure(figsize=(5.5, 3.8), layout="constrained")
    axes = figure.subplots()
    for row in operations.to_dict("records"):
        sizes = np.array([int(value) for value in str(row["sizes"]).split()])
        axes.plot(sizes, row["macs_per_image"] * sizes, marker="o", label=str(row["configuration"]))
    axes.set_xscale("log")  # on both log scales a cost proportional to the images is a line of slope 1,
    axes.set_yscale("log")  # and the gap between two lines is the ratio of their costs per image
    axes.set_ylabel("forward MACs per epoch (log scale)")
    return _finished(figure, axes)


def plot_timings(timings: pd.DataFrame) -> Figure:
    """Seconds of one training epoch against the training images: every repeat a dot, medians joined."""
    figure = Figure(figsize=(5.5, 3.8), layout="constrained")
    axes = figure.subplots()
    for name, rows in timings.groupby("configuration", sort=False):
        medians = rows.groupby("n_train")["seconds"].median()
        (line,) = axes.plot(medians.index, medians.to_numpy(), marker="o", label=str(name))
        axes.scatter(rows["n_train"], rows["seconds"], s=8, alpha=0.4, color=line.get_color())
    axes.set_ylabel("seconds per training epoch")
    return _finished(figure, axes)


def _finished(figure: Figure, axes: Axes) -> Figure:
    """``figure`` with its axes labelled by training images, a grid and a legend."""
    axes.set_xlabel("training images" if axes.get_xscale() == "linear" else "training images (log scale)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    return figure
