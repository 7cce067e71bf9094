"""A trained ensemble as an MLflow model: what ``mlflow models serve`` and ``mlflow.pyfunc`` load.

Every child run that trains a network logs it as an MLflow 3 logged model (a pyfunc wrapping
the project's :class:`~dlpipeline.models.checkpoint.TrainedModule`), with a tensor signature
and an input example, linked to the run and its metrics. The catalog's ``.pt`` files stay the
DVC-tracked truth: the logged model holds the same weights, written with the same
:func:`~dlpipeline.models.checkpoint.to_payload`, and :func:`weights_hash` names them.

What it predicts: a configuration is trained as an ensemble of seeds, and the registry ranks
configurations by a metric over all their seeds, so the served model is the whole ensemble:
each input's class probabilities, the mean over members of each member's softmax (defined for
any number of seeds, and the same whichever seed would be called typical).

Logging stays cheap: the environment is given (``pip_requirements``), never inferred, and
the model is loaded in process once only to check its input example. The model is code
(:mod:`dlpipeline.served_entry`) and a weights file, never a pickle.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import Schema, TensorSpec

from dlpipeline.models.checkpoint import TrainedModule, from_payload, to_payload

MODEL_NAME = "model"
"""The logged model's name within its run."""
WEIGHTS_ARTIFACT = "weights"
WEIGHTS_FILE = "model.pt"
WEIGHTS_HASH_TAG = "dlpipeline.weights_sha256"
"""Tag of a logged model and of a model version: which weights it holds."""
CONFIGURATION_TAG = "dlpipeline.configuration"
INPUT_SHAPE_KEY = "input_shape"
"""``model_config`` key: the shape of one input, without the batch dimension."""
EXAMPLE_ROWS = 3
ENTRY_CODE = Path(__file__).with_name("served_entry.py")
"""What MLflow runs to build the pyfunc (models from code): nothing pickled goes into a model."""


@dataclass(frozen=True)
class ServedModel:
    """A trained ensemble to log with a child run, and a few inputs it accepts."""

    trained: TrainedModule
    input_example: np.ndarray
    """A few inputs ``(n, *input_shape)`` as the model takes them, float32."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input, without the batch dimension."""
        return tuple(self.input_example.shape[1:])

    def log(self, name: str) -> str:
        """Log as the active run's model, configuration ``name``; returns the MLflow model id."""
        return log_served_model(self, name)


def served_model(trained: TrainedModule, inputs: np.ndarray) -> ServedModel:
    """``trained`` with its first :data:`EXAMPLE_ROWS` of ``inputs`` as the example, as float32."""
    return ServedModel(trained, np.ascontiguousarray(inputs[:EXAMPLE_ROWS], dtype=np.float32))


def weights_hash(module: torch.nn.Module) -> str:
    """SHA-256 of a module's state (names, shapes, dtypes and values, in order): equal weights, equal hash."""
    digest = hashlib.sha256()
    for key, value in module.state_dict().items():
        tensor = value.detach().cpu().contiguous()
        digest.update(f"{key}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


def ensemble_probabilities(module: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    """``(n, classes)``: each input's class probabilities, the mean over members of their softmax."""
    module.eval()
    dtype = next(module.parameters()).dtype
    with torch.no_grad():
        logits = module(torch.as_tensor(inputs, dtype=dtype))
    return torch.softmax(logits.float(), dim=-1).mean(dim=0).numpy()


def check_inputs(inputs: Any, input_shape: Sequence[int]) -> np.ndarray:
    """``inputs`` as float32 ``(n, *input_shape)``, n >= 1; else an MLflow error (HTTP 400 when served)."""
    try:
        array = np.asarray(inputs, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise _invalid(f"inputs must be numbers: {error}") from error
    expected = ("n", *input_shape)
    if array.ndim != len(expected) or tuple(array.shape[1:]) != tuple(input_shape):
        raise _invalid(f"inputs must have shape {expected}, got {array.shape}")
    if array.shape[0] == 0:
        raise _invalid(f"inputs are empty: send at least one input of shape {tuple(input_shape)}")
    if not np.isfinite(array).all():
        raise _invalid("inputs must be finite numbers (no NaN or infinity)")
    return array


def _invalid(message: str) -> MlflowException:
    """An error MLflow's scoring server turns into HTTP 400 with ``message``."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


class EnsembleClassifier(mlflow.pyfunc.PythonModel):
    """The pyfunc of a trained ensemble: inputs ``(n, *input_shape)`` → mean class probabilities."""

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Rebuild the ensemble from the model's weights file (no code runs from the file)."""
        payload = torch.load(context.artifacts[WEIGHTS_ARTIFACT], weights_only=True)
        (self.trained,) = from_payload(payload).values()
        self.input_shape = tuple(context.model_config[INPUT_SHAPE_KEY])

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: np.ndarray,
        params: dict[str, Any] | None = None,
    ) -> np.ndarray:
        """Class probabilities ``(n, classes)``; malformed input raises ``INVALID_PARAMETER_VALUE``."""
        return ensemble_probabilities(self.trained.module, check_inputs(model_input, self.input_shape))


def signature(served: ServedModel, output: np.ndarray) -> ModelSignature:
    """Tensor specs with a free batch dimension: float32 inputs, float32 probabilities."""
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *served.input_shape))]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, output.shape[-1]))]),
    )


def pip_requirements() -> list[str]:
    """What the model needs besides this project (installed where it is served), pinned as here."""
    torch_version = torch.__version__.split("+")[0]
    return [f"mlflow=={mlflow.__version__}", f"torch=={torch_version}", f"numpy=={np.__version__}"]


def log_served_model(served: ServedModel, configuration: str) -> str:
    """Log ``served`` as the active run's model; returns its MLflow model id.

    The weights file is the payload the catalog's ``ModelDataset`` writes for one model.
    """
    probabilities = ensemble_probabilities(served.trained.module, served.input_example)
    with tempfile.TemporaryDirectory(prefix="dlpipeline-model-") as folder:
        weights = Path(folder) / WEIGHTS_FILE
        torch.save(to_payload({configuration: served.trained}), weights)
        with _no_progress_bars():
            info = mlflow.pyfunc.log_model(
                name=MODEL_NAME,
                python_model=str(ENTRY_CODE),
                artifacts={WEIGHTS_ARTIFACT: str(weights)},
                signature=signature(served, probabilities),
                input_example=served.input_example,
                pip_requirements=pip_requirements(),
                model_config={INPUT_SHAPE_KEY: list(served.input_shape)},
                tags={
                    WEIGHTS_HASH_TAG: weights_hash(served.trained.module),
                    CONFIGURATION_TAG: configuration,
                },
            )
    return info.model_id


@contextlib.contextmanager
def _no_progress_bars() -> Iterator[None]:
    """MLflow's artifact progress bars off for the block: checking the input example downloads the model.

    One bar per logged model would fill the run's output (and wrap past 80 columns).
    """
    variable, previous = (
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
        os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"),
    )
    os.environ[variable] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
