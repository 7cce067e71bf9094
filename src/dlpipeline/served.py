"""A trained ensemble as an MLflow model: what ``mlflow models serve`` and ``mlflow.pyfunc`` load.

Every child run that trains a network logs it as an MLflow 3 logged model (a pyfunc wrapping
the project's :class:`~dlpipeline.models.checkpoint.TrainedModule`), with a tensor signature
and an input example, linked to the run and its metrics. The catalog's ``.pt`` files stay the
DVC-tracked truth: the logged model holds the same weights, written with the same
:func:`~dlpipeline.models.checkpoint.to_payload`, and :func:`weights_hash` names them.

What it predicts depends on the model's kind (:data:`ModelKind`, recorded in its
``model_config`` with the method it calls and the inputs' dtype):

- ``classifier`` (mlp, cnn): a configuration is trained as an ensemble of seeds, and the
  registry ranks configurations by a metric over all their seeds, so the served model is the
  whole ensemble: each input's class probabilities, the mean over members of each member's
  softmax (defined for any number of seeds, and the same whichever seed would be called typical).
- ``sequence``: one trained sequence model (one seed): features ``(n, steps, size)`` as float32,
  or token ids ``(n, steps)`` as int64 for a language model, in; its raw outputs (class logits,
  regression values, next-token logits) out.
- ``generator``: an ensemble of generators: latent codes (VAE, GAN) or starting noise
  (diffusion, reversed with a fixed seed) ``(n, size)`` in; every member's sample
  ``(n, members, features)`` out.
- ``autoencoder``: an ensemble of autoencoders: images ``(n, features)`` in; every member's
  reconstruction ``(n, members, features)`` out.
- ``prompted_generator``: an ensemble of text-to-image generators: one row per picture,
  ``(n, latent_dim + 26)``, a standard-normal code then the prompt word's letter counts
  (``a`` … ``z``, :func:`prompted_rows`); every member's picture ``(n, members, features)`` out.
- ``detector``: an ensemble of detectors: scenes ``(n, 1, rows, cols)`` in; every member's
  10 class logits then its box ``x0, y0, x1, y1`` (shares of the canvas side),
  ``(n, members, 14)``, out.
- ``segmenter``: an ensemble of pixel labellers: scenes ``(n, 1, rows, cols)`` in; every
  member's logit per pixel ``(n, members, rows, cols)`` out.

Logging stays cheap: the environment is given (``pip_requirements``), never inferred, and
the input example is checked on the module in process, not by re-loading the logged model. The model is code
(:mod:`dlpipeline.served_entry`) and a weights file, never a pickle.
"""

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import mlflow
import numpy as np
import torch
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
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
KIND_KEY = "kind"
"""``model_config`` key: the model's :data:`ModelKind` (a model logged without it is a classifier)."""
METHOD_KEY = "method"
"""``model_config`` key: which method of the module maps inputs to outputs."""
INPUT_DTYPE_KEY = "input_dtype"
"""``model_config`` key: the inputs' dtype, ``float32`` or ``int64`` (token ids)."""
ModelKind = Literal[
    "classifier", "sequence", "generator", "autoencoder", "prompted_generator", "detector", "segmenter"
]
MEMBERS_KINDS = ("generator", "autoencoder", "prompted_generator", "detector", "segmenter")
"""Kinds that answer every member's output, members second: a mean of samples, boxes or masks is none."""
PROMPT_LETTERS = "abcdefghijklmnopqrstuvwxyz"
"""A ``prompted_generator``'s last columns: how often each of these letters occurs in the prompt word."""
INPUT_DTYPES = ("float32", "int64")
METHODS = ("forward", "decode", "generate", "denoise")
"""The module methods a served model may call (never a name read from elsewhere)."""
GENERATING_METHODS = {
    "VariationalAutoencoder": "decode",
    "GenerativeAdversarialNetwork": "generate",
    "DiffusionModel": "denoise",
    "TextConditionedVAE": "decode",
}
"""What a generator's module serves: the VAE's decoder, the GAN's generator, diffusion's reverse process."""
EXAMPLE_ROWS = 3
ENTRY_CODE = Path(__file__).with_name("served_entry.py")
"""What MLflow runs to build the pyfunc (models from code): nothing pickled goes into a model."""


@dataclass(frozen=True)
class ServedModel:
    """A trained ensemble to log with a child run, and a few inputs it accepts."""

    trained: TrainedModule
    input_example: np.ndarray
    """A few inputs ``(n, *input_shape)`` as the model takes them, float32 (int64: token ids)."""
    kind: ModelKind = "classifier"
    method: str = "forward"
    """The module's method that maps inputs to outputs (one of :data:`METHODS`)."""

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one input, without the batch dimension."""
        return tuple(self.input_example.shape[1:])

    @property
    def input_dtype(self) -> str:
        """``float32``, or ``int64`` for token ids."""
        return str(self.input_example.dtype)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """What the logged model answers for ``inputs``, computed in this process."""
        return served_outputs(self.trained.module, self.kind, self.method, inputs)

    def log(self, name: str) -> str:
        """Log as the active run's model, configuration ``name``; returns the MLflow model id."""
        return log_served_model(self, name)


def served_model(trained: TrainedModule, inputs: np.ndarray, kind: ModelKind = "classifier") -> ServedModel:
    """``trained`` as a ``kind`` model with its first :data:`EXAMPLE_ROWS` of ``inputs`` as the example.

    Integer inputs (token ids) are kept as int64, any other as float32; a generator serves
    the method :data:`GENERATING_METHODS` names for its class, any other module its ``forward``.
    """
    if kind not in get_args(ModelKind):
        raise ValueError(f"unknown model kind {kind!r}: one of {get_args(ModelKind)}")
    rows = np.asarray(inputs)[:EXAMPLE_ROWS]
    dtype = np.int64 if np.issubdtype(rows.dtype, np.integer) else np.float32
    method = "forward"
    if kind in ("generator", "prompted_generator"):
        method = GENERATING_METHODS.get(type(trained.module).__name__, method)
    return ServedModel(trained, np.ascontiguousarray(rows, dtype=dtype), kind, method)


def latent_example(size: int, seed: int = 0) -> np.ndarray:
    """:data:`EXAMPLE_ROWS` standard-normal codes of ``size``: a generator's input example."""
    return np.random.default_rng(seed).standard_normal((EXAMPLE_ROWS, size)).astype(np.float32)


def prompted_rows(codes: np.ndarray, words: Sequence[str]) -> np.ndarray:
    """A ``prompted_generator``'s inputs: each row a code ``(latent_dim,)`` then its word's letter counts.

    ``codes`` is ``(n, latent_dim)``, ``words`` ``n`` prompt words of the letters a-z.
    """
    if len(codes) != len(words):
        raise ValueError(f"one prompt word per code: {len(codes)} codes, {len(words)} words")
    counts = np.zeros((len(words), len(PROMPT_LETTERS)), dtype=np.float32)
    for row, word in enumerate(words):
        for char in word:
            if char not in PROMPT_LETTERS:
                raise ValueError(f"prompts may use the letters a-z only, got {char!r} in {word!r}")
            counts[row, PROMPT_LETTERS.index(char)] += 1
    return np.concatenate([np.asarray(codes, dtype=np.float32), counts], axis=1)


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


def served_outputs(module: torch.nn.Module, kind: ModelKind, method: str, inputs: np.ndarray) -> np.ndarray:
    """What a ``kind`` model answers for checked ``inputs`` (see the module's docstring), as float32.

    An input the network cannot read (a token id outside its vocabulary, a sequence longer
    than it was built for) is refused as malformed, not raised as a server error.
    """
    if method not in METHODS:
        raise ValueError(f"a served model calls one of {METHODS}, not {method!r}")
    if kind == "classifier":
        return ensemble_probabilities(module, inputs)
    if kind == "prompted_generator":
        check_letter_counts(inputs[:, -len(PROMPT_LETTERS) :])
    module.eval()
    tensor = torch.as_tensor(inputs)
    if tensor.is_floating_point():
        tensor = tensor.to(next(module.parameters()).dtype)
    try:
        with torch.no_grad():
            outputs = getattr(module, method)(tensor)
    except (IndexError, RuntimeError, ValueError) as error:
        raise _invalid(f"the network cannot read these inputs: {error}") from error
    if kind in MEMBERS_KINDS:  # (members, n, ...) → each input's row of members
        outputs = outputs.transpose(0, 1)
    return np.ascontiguousarray(outputs.float().numpy())


def check_inputs(inputs: Any, input_shape: Sequence[int], dtype: str = "float32") -> np.ndarray:
    """``inputs`` as ``dtype`` ``(n, *input_shape)``, n >= 1; else an MLflow error (HTTP 400 when served).

    Token ids (``int64``) must be whole numbers; float inputs finite.
    """
    try:
        array = np.asarray(inputs, dtype=np.float64 if dtype == "int64" else np.float32)
    except (TypeError, ValueError) as error:
        raise _invalid(f"inputs must be numbers: {error}") from error
    expected = ("n", *input_shape)
    if array.ndim != len(expected) or tuple(array.shape[1:]) != tuple(input_shape):
        raise _invalid(f"inputs must have shape {expected}, got {array.shape}")
    if array.shape[0] == 0:
        raise _invalid(f"inputs are empty: send at least one input of shape {tuple(input_shape)}")
    if not np.isfinite(array).all():
        raise _invalid("inputs must be finite numbers (no NaN or infinity)")
    if dtype == "int64":
        if not (array == np.round(array)).all():
            raise _invalid("inputs must be token ids: whole numbers")
        return array.astype(np.int64)
    return array


def check_letter_counts(counts: np.ndarray) -> None:
    """A prompt's letter counts must be whole numbers >= 0, at least one letter a row (else HTTP 400)."""
    if (counts < 0).any() or not (counts == np.round(counts)).all():
        raise _invalid(
            f"the last {len(PROMPT_LETTERS)} columns are the prompt's letter counts (a-z): whole numbers >= 0"
        )
    if (counts.sum(axis=1) == 0).any():
        raise _invalid("every row needs a prompt: its letter counts (the last 26 columns) are all 0")


def _invalid(message: str) -> MlflowException:
    """An error MLflow's scoring server turns into HTTP 400 with ``message``."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


class ServedNetwork(mlflow.pyfunc.PythonModel):
    """The pyfunc of a trained network: inputs ``(n, *input_shape)`` → what its kind answers.

    A model logged before kinds were recorded is a classifier (float inputs, ``forward``).
    """

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        """Rebuild the network from the model's weights file (no code runs from the file)."""
        payload = torch.load(context.artifacts[WEIGHTS_ARTIFACT], weights_only=True)
        (self.trained,) = from_payload(payload).values()
        config = context.model_config
        self.input_shape = tuple(config[INPUT_SHAPE_KEY])
        self.kind: ModelKind = config.get(KIND_KEY, "classifier")
        self.method = str(config.get(METHOD_KEY, "forward"))
        self.input_dtype = str(config.get(INPUT_DTYPE_KEY, "float32"))
        if self.kind not in get_args(ModelKind) or self.method not in METHODS:
            raise ValueError(f"model_config names an unknown kind or method: {self.kind}, {self.method}")

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: np.ndarray,
        params: dict[str, Any] | None = None,
    ) -> np.ndarray:
        """The kind's outputs, float32; malformed input raises ``INVALID_PARAMETER_VALUE``."""
        inputs = check_inputs(model_input, self.input_shape, self.input_dtype)
        return served_outputs(self.trained.module, self.kind, self.method, inputs)


EnsembleClassifier = ServedNetwork
"""The name of :class:`ServedNetwork` when it served classifiers only.

A logged model holds a copy of its entry code, and models logged before kinds existed import
this name: kept, they still load (as classifiers, their ``model_config`` naming no kind).
"""


def signature(served: ServedModel, output: np.ndarray) -> ModelSignature:
    """Tensor specs with a free batch dimension: the inputs' dtype in, float32 outputs of any row shape."""
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(served.input_dtype), (-1, *served.input_shape))]),
        outputs=Schema([TensorSpec(np.dtype(np.float32), (-1, *output.shape[1:]))]),
    )


def pip_requirements() -> list[str]:
    """What the model needs besides this project (installed where it is served), pinned as here."""
    torch_version = torch.__version__.split("+")[0]
    return [f"mlflow=={mlflow.__version__}", f"torch=={torch_version}", f"numpy=={np.__version__}"]


def log_served_model(served: ServedModel, configuration: str) -> str:
    """Log ``served`` as the active run's model; returns its MLflow model id.

    The weights file is the payload the catalog's ``ModelDataset`` writes for one model. The
    input example is checked here, in process (its outputs make the signature), not by MLflow
    re-loading the logged model and scoring it as a server would: that doubles the time a
    model takes to log, and a pipeline logs one per child run (``mlflow.pyfunc.log_model``
    cannot turn it off; :meth:`mlflow.models.Model.log`, which it calls, can, with a flavor
    that takes the switch: :class:`_PyfuncFlavor`).
    """
    outputs = served.predict(served.input_example)
    with tempfile.TemporaryDirectory(prefix="dlpipeline-model-") as folder:
        weights = Path(folder) / WEIGHTS_FILE
        torch.save(to_payload({configuration: served.trained}), weights)
        with _no_progress_bars():
            info = Model.log(
                artifact_path=None,
                name=MODEL_NAME,
                flavor=_PyfuncFlavor,
                flavor_name="pyfunc.ModelFromCode",
                python_model=str(ENTRY_CODE),
                artifacts={WEIGHTS_ARTIFACT: str(weights)},
                signature=signature(served, outputs),
                input_example=served.input_example,
                pip_requirements=pip_requirements(),
                model_config={
                    INPUT_SHAPE_KEY: list(served.input_shape),
                    KIND_KEY: served.kind,
                    METHOD_KEY: served.method,
                    INPUT_DTYPE_KEY: served.input_dtype,
                },
                tags={
                    WEIGHTS_HASH_TAG: weights_hash(served.trained.module),
                    CONFIGURATION_TAG: configuration,
                },
                validate_serving_input=False,
            )
    return info.model_id


class _PyfuncFlavor:
    """MLflow's pyfunc flavor, saving exactly as ``mlflow.pyfunc.save_model`` does.

    ``Model.log`` hands its ``validate_serving_input`` switch to the flavor's ``save_model``
    too, which pyfunc's refuses as an unknown argument: this one takes it and drops it.
    """

    __name__ = "mlflow.pyfunc"

    @staticmethod
    def save_model(
        path: str, mlflow_model: Model, validate_serving_input: bool = True, **kwargs: Any
    ) -> None:
        """``mlflow.pyfunc.save_model`` (the switch was read by ``Model.log`` already)."""
        mlflow.pyfunc.save_model(path=path, mlflow_model=mlflow_model, **kwargs)


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
