"""What the detection and segmentation studies share: scenes as tensors and a study's child run."""

import pandas as pd
import torch
from matplotlib.figure import Figure

from dlpipeline.data.scenes import Scenes
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.pipelines.common import RunContent, child_run
from dlpipeline.served import ModelKind, served_model
from dlpipeline.tracking import ChildRun

Models = dict[str, TrainedModule]
"""A study's trained network by its model label (the catalog writes every model file as a mapping)."""


def scene_images(scenes: Scenes) -> torch.Tensor:
    """The scenes' canvases as float32 ``(n, 1, side, side)``."""
    return torch.tensor(scenes.images).unsqueeze(1)


def study_child_run(
    study: str,
    trained: TrainedModule,
    table: pd.DataFrame,
    scores: tuple[str, ...],
    figure: Figure,
    served: tuple[Scenes, ModelKind],
) -> list[ChildRun]:
    """The one MLflow child run of a study's network (param ``study``), named ``<study>-<model>``.

    ``served``: scenes whose first few canvases are the input example of the run's MLflow model,
    and the model's kind (``detector``, ``segmenter``).

    ``table`` holds one row per model and seed, the network's rows first: its median ``scores``
    over seeds are the run's metrics, every other model's (the control's) beside them under
    ``<control>_<score>``; the figure is logged as ``<study>.png``.
    """
    models = list(dict.fromkeys(table["model"]))
    medians = table.groupby("model")[list(scores)].median()
    metrics = {name: float(medians.loc[models[0], name]) for name in scores}
    for control in models[1:]:
        metrics |= {
            f"{control.replace('-', '_')}_{name}": float(medians.loc[control, name]) for name in scores
        }
    scenes, kind = served
    content = RunContent(
        params={"study": study, "model": models[0]},
        metrics=metrics,
        figures={f"{study}.png": figure},
        model=served_model(trained, scene_images(scenes).numpy(), kind),
    )
    return [child_run(f"{study}-{models[0]}", trained.trained_record, trained.timing, content)]
