"""Trained models as data: what rebuilds a module (its class and arguments), its weights, its record.

A pipeline wraps each trained network in a :class:`TrainedModule` and returns a
``{name: TrainedModule}`` mapping; the catalog's ``ModelDataset`` writes it as one file
and reads it back with ``torch.load(weights_only=True)``, so evaluation, plots, the
notebook and reports use the trained weights without retraining, and loading a model file
never runs code from it. Only classes of :mod:`dlpipeline` are rebuilt.

Beside the weights, a trained module carries typed facts (:mod:`dlpipeline.records`): how
it was trained (:class:`~dlpipeline.records.TrainingRecord`), what it measured per epoch
(:class:`~dlpipeline.records.History`), the pipeline's own description of the
configuration (``about``, a dataclass of that pipeline) and, outside the file, its
:class:`~dlpipeline.records.Timing`.
"""

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import torch
from torch import nn

from dlpipeline.records import History, Timing, TrainingRecord

FORMAT_VERSION = 2
REBUILDABLE_PACKAGE = "dlpipeline."
"""Classes (modules, their spec dataclasses and records) are imported from this package only."""

About = TypeVar("About")


@dataclass(frozen=True)
class TrainedModule(Generic[About]):
    """A trained torch module, the constructor arguments that rebuild it, and the facts of its training."""

    module: nn.Module
    kwargs: Mapping[str, Any]
    record: TrainingRecord | None = None
    """How it was trained; ``None`` only for a module not trained yet."""
    history: History | None = None
    """Per-epoch measurements; ``None`` when training recorded none (scikit-learn)."""
    about: About | None = None
    """The pipeline's own description of the configuration (a frozen dataclass of that pipeline)."""
    timing: Timing = field(default_factory=Timing)
    """Training times on this machine: never written into the model file."""

    @classmethod
    def build(cls, module_class: type[nn.Module], **kwargs: Any) -> "TrainedModule":
        """A fresh ``module_class(**kwargs)``, remembering ``kwargs`` so it can be rebuilt later."""
        return cls(module_class(**kwargs), kwargs)

    def replace(self, **changes: Any) -> "TrainedModule[About]":
        """The same trained module with ``changes`` to its fields (``record``, ``about``, ``timing``, …)."""
        return dataclasses.replace(self, **changes)

    @property
    def trained_record(self) -> TrainingRecord:
        """:attr:`record`, which every saved model has; an error for a module never trained."""
        if self.record is None:
            raise ValueError(f"{type(self.module).__name__} has no training record: it was never trained")
        return self.record

    @property
    def trained_history(self) -> History:
        """:attr:`history`; an error naming the module when training recorded none."""
        if self.history is None:
            raise ValueError(f"{type(self.module).__name__} has no per-epoch history")
        return self.history


class OfTrainedModel:
    """A result computed from one trained model (``model``): how it was trained is read from the model."""

    model: TrainedModule

    @property
    def record(self) -> TrainingRecord:
        """How the model was trained."""
        return self.model.trained_record

    @property
    def history(self) -> History:
        """What training measured per epoch, each ``(epochs, seeds)``."""
        return self.model.trained_history

    @property
    def seeds(self) -> tuple[int, ...]:
        """The seeds the model was trained with, one per ensemble member."""
        return self.record.seeds


def to_payload(models: Mapping[str, TrainedModule]) -> dict[str, Any]:
    """Everything :func:`torch.save` needs to store ``models``: plain containers and CPU tensors."""
    return {
        "format": FORMAT_VERSION,
        "models": {
            name: {
                "class": _class_path(type(trained.module)),
                "kwargs": _encode(dict(trained.kwargs)),
                "state_dict": {
                    key: value.detach().cpu() for key, value in trained.module.state_dict().items()
                },
                "record": _encode(trained.record),
                "history": _encode(trained.history),
                "about": _encode(trained.about),
            }
            for name, trained in models.items()
        },
    }


def from_payload(payload: Any) -> dict[str, TrainedModule]:
    """Rebuild the modules of a payload written by :func:`to_payload`, in eval mode on the CPU.

    Raises ``ValueError`` when the payload is not a dlpipeline model file of this format.
    """
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ValueError(f"not a dlpipeline model file (format {FORMAT_VERSION})")
    models = {}
    for name, entry in payload["models"].items():
        kwargs = _decode(entry["kwargs"])
        module = _import(entry["class"])(**kwargs)
        module.load_state_dict(entry["state_dict"])
        models[name] = TrainedModule(
            module.eval(),
            kwargs,
            record=_decode(entry["record"]),
            history=_decode(entry["history"]),
            about=_decode(entry["about"]),
        )
    return models


def count_parameters(module: nn.Module, members: int = 1) -> int:
    """Trainable parameters of one network of ``module`` (an ensemble of ``members`` shares them out)."""
    return sum(parameter.numel() for parameter in module.parameters() if parameter.requires_grad) // members


def _class_path(cls: type) -> str:
    """``package.module.ClassName`` of ``cls``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _import(path: str) -> type:
    """The class at ``path``, which must belong to this project."""
    if not path.startswith(REBUILDABLE_PACKAGE):
        raise ValueError(f"refusing to rebuild {path!r}: only classes of {REBUILDABLE_PACKAGE[:-1]} are")
    module_name, _, class_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def _encode(value: Any) -> Any:
    """``value`` as containers ``torch.load(weights_only=True)`` accepts (dataclasses and arrays tagged)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {item.name: _encode(getattr(value, item.name)) for item in dataclasses.fields(value)}
        encoded: Any = {"__dataclass__": _class_path(type(value)), "fields": fields}
    elif isinstance(value, np.ndarray):
        encoded = {"__ndarray__": torch.from_numpy(np.ascontiguousarray(value))}
    elif isinstance(value, torch.Tensor):
        encoded = value.detach().cpu()
    elif isinstance(value, Mapping):
        encoded = {key: _encode(item) for key, item in value.items()}
    elif isinstance(value, list | tuple):
        encoded = type(value)(_encode(item) for item in value)
    elif isinstance(value, np.generic):
        encoded = value.item()
    else:
        encoded = value
    return encoded


def _decode(value: Any) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(value, dict):
        if "__dataclass__" in value:
            return _import(value["__dataclass__"])(**_decode(value["fields"]))
        if "__ndarray__" in value:
            return value["__ndarray__"].numpy()
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_decode(item) for item in value)
    return value
