"""The CNN's "Sensitive to small perturbations in input data", measured against noise of the same size.

Every test image is moved by at most ``ε`` per pixel (a share of the pixel range [0, 1]), in
three ways, and each model's accuracy on the moved images is measured:

* ``attack`` (FGSM, the fast gradient sign method): one step of size ``ε`` along the sign of
  the gradient of the model's loss with respect to the pixels;
* ``attack_pgd`` (projected gradient descent, a stronger attack): ``pgd_steps`` steps of size
  ``2.5 ε / pgd_steps`` along that sign, each projected back to at most ``ε`` from the image;
* ``noise``: every pixel moved by ``+ε`` or ``-ε`` at random (the control: a perturbation of
  the same size that nobody chose).

Pixels stay in [0, 1]. The models are the sweep's trained configurations named in
``cnn.perturbation.configurations`` (every seed; each member is attacked through its own
gradients, not the ensemble's: a model takes one batch of images per member) and a logistic
regression on the raw pixels, the linear model whose gradient is the same everywhere.
"""

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline
from torch.nn import functional

from dlpipeline.data.digits import table_to_images
from dlpipeline.figures.over_seeds import SeedSpread, draw_spread_over_seeds
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.cnn.features import classifier
from dlpipeline.pipelines.cnn.params import ExperimentParams, FeatureParams, PerturbationParams
from dlpipeline.pipelines.cnn.train import as_tensors
from dlpipeline.pipelines.common import median_seed_index
from dlpipeline.tracking import ChildRun

LOGISTIC = "logistic"
"""The model label of the logistic regression on raw pixels."""
PGD_STEP_SHARE = 2.5
"""PGD's total path, in units of ε: long enough to reach any corner of the ε-box from its centre."""
ACCURACY_COLUMNS = ("accuracy_clean", "accuracy_attack", "accuracy_attack_pgd", "accuracy_noise")


class LinearPixels(torch.nn.Module):
    """A fitted scikit-learn pipeline (standardize, logistic regression) as a torch module of one member."""

    def __init__(self, fitted: Pipeline) -> None:
        super().__init__()
        scaler, regression = fitted[0], fitted[-1]
        self.register_buffer("mean", torch.tensor(scaler.mean_, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scaler.scale_, dtype=torch.float32))
        self.register_buffer("weight", torch.tensor(regression.coef_, dtype=torch.float32))
        self.register_buffer("bias", torch.tensor(regression.intercept_, dtype=torch.float32))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``(members, n, classes)`` of images ``(members, n, 1, rows, cols)``, each block alike."""
        standardized = (images.flatten(2) - self.mean) / self.scale
        return standardized @ self.weight.T + self.bias


def loss_gradient_sign(module: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The sign of each member's cross-entropy gradient with respect to its images ``(members, n, ...)``."""
    images = images.detach().requires_grad_(True)
    logits = module(images)
    loss = functional.cross_entropy(logits.flatten(0, 1), labels.repeat(len(logits)), reduction="sum")
    (gradient,) = torch.autograd.grad(loss, images)
    return gradient.sign()


def fgsm(module: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Images moved by ``epsilon`` along the sign of the loss gradient (one step), kept in [0, 1]."""
    return (images + epsilon * loss_gradient_sign(module, images, labels)).clamp(0.0, 1.0)


def pgd(
    module: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, epsilon: float, steps: int
) -> torch.Tensor:
    """``steps`` signed-gradient steps from the images, each projected to within ``epsilon``, in [0, 1]."""
    step = PGD_STEP_SHARE * epsilon / steps
    moved = images
    for _ in range(steps):
        moved = moved + step * loss_gradient_sign(module, moved, labels)
        moved = torch.minimum(torch.maximum(moved, images - epsilon), images + epsilon).clamp(0.0, 1.0)
    return moved


def sign_noise(images: torch.Tensor, epsilon: float, seeds: list[int]) -> torch.Tensor:
    """Every pixel moved by ``+epsilon`` or ``-epsilon`` at random (member ``i`` drawn with ``seeds[i]``)."""
    signs = [
        torch.randint(0, 2, images.shape[1:], generator=torch.Generator().manual_seed(seed)) * 2.0 - 1.0
        for seed in seeds
    ]
    return (images + epsilon * torch.stack(signs)).clamp(0.0, 1.0)


@torch.no_grad()
def member_accuracy(module: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Each member's share of its images classified as ``labels``."""
    predictions = module(images).argmax(-1)
    return (predictions == labels).float().mean(dim=1).numpy()


def accuracy_by_epsilon(
    module: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    seeds: list[int],
    perturbation: PerturbationParams,
) -> list[dict[str, float | int]]:
    """One row per ε and member: accuracy on the clean, attacked (FGSM, PGD) and noisy images."""
    module = module.cpu().eval()
    per_member = images.unsqueeze(0).expand(len(seeds), *images.shape).contiguous()
    clean = member_accuracy(module, per_member, labels)
    rows = []
    for epsilon in perturbation.epsilons:
        accuracies = {
            "accuracy_clean": clean,
            "accuracy_attack": member_accuracy(module, fgsm(module, per_member, labels, epsilon), labels),
            "accuracy_attack_pgd": member_accuracy(
                module, pgd(module, per_member, labels, epsilon, perturbation.pgd_steps), labels
            ),
            "accuracy_noise": member_accuracy(module, sign_noise(per_member, epsilon, seeds), labels),
        }
        rows += [
            {
                "seed": seed,
                "epsilon": epsilon,
                **{name: round(float(values[member]), 6) for name, values in accuracies.items()},
            }
            for member, seed in enumerate(seeds)
        ]
    return rows


def perturbation_table(
    models: dict[str, TrainedModule],
    train_images: pd.DataFrame,
    test_images: pd.DataFrame,
    experiments: ExperimentParams,
    features: FeatureParams,
    perturbation: PerturbationParams,
) -> pd.DataFrame:
    """One row per model, ε and seed: accuracy clean, under FGSM, under PGD and under sign noise.

    Columns ``model`` (the configuration's name, or ``logistic``), ``kind`` (cnn, mlp or
    logistic), ``seed``, ``epsilon`` and the four accuracies. The logistic regression is fitted
    once (it has no seed) and paired with every seed of the sweep, each with its own noise.
    """
    missing = [name for name in perturbation.configurations if name not in models]
    if missing:
        raise ValueError(
            f"cnn.perturbation.configurations names {missing}, which the sweep did not train: "
            f"choose from {sorted(models)}"
        )
    images, labels = as_tensors(*table_to_images(test_images))
    seeds = list(experiments.seeds)
    rows = []
    for name in perturbation.configurations:
        trained = models[name]
        kind = experiments.architectures[name].model
        for row in accuracy_by_epsilon(
            trained.module, images, labels, list(trained.trained_record.seeds), perturbation
        ):
            rows.append({"model": name, "kind": kind, **row})
    train_x, train_y = table_to_images(train_images)
    fitted = classifier(features).fit(train_x.reshape(len(train_x), -1), train_y)
    for row in accuracy_by_epsilon(LinearPixels(fitted), images, labels, seeds, perturbation):
        rows.append({"model": LOGISTIC, "kind": LOGISTIC, **row})
    return pd.DataFrame(rows)


def perturbation_child_runs(table: pd.DataFrame) -> list[ChildRun]:
    """One MLflow child run per model and ε (param ``study``: ``perturbation``): mean accuracy over seeds."""
    runs = []
    for (model, epsilon), rows in table.groupby(["model", "epsilon"], sort=False):
        runs.append(
            ChildRun(
                name=f"perturbation-{model}-eps{epsilon:g}",
                params={
                    "study": "perturbation",
                    "model": str(model),
                    "kind": str(rows["kind"].iloc[0]),
                    "epsilon": float(epsilon),
                    "n_seeds": len(rows),
                },
                metrics={column: float(rows[column].mean()) for column in ACCURACY_COLUMNS},
            )
        )
    return runs


SERIES = {"accuracy_attack": "FGSM", "accuracy_attack_pgd": "PGD", "accuracy_noise": "random sign noise"}


def plot_perturbation(table: pd.DataFrame) -> Figure:
    """Accuracy against ε for every model: under the two attacks and under noise of the same size."""
    models = list(dict.fromkeys(table["model"]))
    epsilons = sorted(table["epsilon"].unique())
    figure = Figure(figsize=(4.2 * len(models), 4.2), layout="constrained")
    for ax, model in zip(figure.subplots(1, len(models), squeeze=False)[0], models, strict=True):
        rows = table[table["model"] == model]
        series = [
            SeedSpread(
                label,
                range(len(epsilons)),
                [rows.loc[rows["epsilon"] == e, column].to_numpy() for e in epsilons],
            )
            for column, label in SERIES.items()
        ]
        draw_spread_over_seeds(ax, series)
        ax.set_xticks(range(len(epsilons)), [f"{e:g}" for e in epsilons])
        ax.set_xlabel("ε (share of the pixel range)")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{model} ({rows['kind'].iloc[0]})")
    figure.suptitle("Perturbations of the test digits of at most ε per pixel: chosen (attacks) or random")
    return figure


def plot_adversarial_digits(
    models: dict[str, TrainedModule], test_images: pd.DataFrame, perturbation: PerturbationParams
) -> Figure:
    """Test digits, clean and after FGSM at ``shown_epsilon``, with the first configuration's predictions.

    The member shown is the median seed by accuracy under that attack, not the best or worst.
    """
    name = perturbation.configurations[0]
    trained = models[name]
    module = trained.module.cpu().eval()
    images, labels = as_tensors(*table_to_images(test_images))
    shown = perturbation.shown_images
    per_member = images[:shown].unsqueeze(0).expand(module.members, *images[:shown].shape).contiguous()
    attacked = fgsm(module, per_member, labels[:shown], perturbation.shown_epsilon)
    with torch.no_grad():
        clean_predictions = module(per_member).argmax(-1)
        attacked_predictions = module(attacked).argmax(-1)
    member = median_seed_index((attacked_predictions == labels[:shown]).float().mean(dim=1).numpy())
    figure = Figure(figsize=(1.2 * shown + 1.2, 3.0), layout="constrained")
    axes = figure.subplots(2, shown, squeeze=False)
    for row, (label, batch, predictions) in enumerate(
        [
            ("clean", per_member, clean_predictions),
            (f"FGSM ε={perturbation.shown_epsilon:g}", attacked, attacked_predictions),
        ]
    ):
        for column in range(shown):
            ax = axes[row][column]
            ax.imshow(batch[member, column, 0].numpy(), cmap="gray_r", vmin=0.0, vmax=1.0)
            predicted, true = int(predictions[member, column]), int(labels[column])
            ax.set_title(f"{true}→{predicted}", fontsize=9, color="black" if predicted == true else "red")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(label, fontsize=9)
    seed = trained.trained_record.seeds[member]
    figure.suptitle(f"{name}, seed {seed}: true→predicted digit (red: wrong)")
    return figure
