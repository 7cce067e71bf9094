"""Every kind of trained network logs as an MLflow model that holds the catalog's weights and answers alike.

For each kind (:data:`dlpipeline.served.ModelKind`) a small network of the project is logged
the way its child run logs it, saved the way the catalog saves it (``ModelDataset``), and
loaded back with ``mlflow.pyfunc.load_model``: the weights are the ``.pt`` file's, the
signature and the input example have the inputs' dtype, the pyfunc answers what the module
answers in process, and a malformed input is refused with ``INVALID_PARAMETER_VALUE``.
"""

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import numpy as np
import pytest
import torch
from tests.tracking import tracking_at

from dlpipeline.data.sequences import adding_problem, adding_tensors
from dlpipeline.datasets import ModelDataset
from dlpipeline.models.char_lm import CharLanguageModel
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.models.generative import (
    Autoencoder,
    DiffusionModel,
    GenerativeAdversarialNetwork,
    VariationalAutoencoder,
)
from dlpipeline.models.mlp import MLPEnsemble
from dlpipeline.models.scenes import DetectorEnsemble, FullyConvEnsemble
from dlpipeline.models.sequence import SequenceShape, build_model
from dlpipeline.models.text_to_image import TextConditionedVAE
from dlpipeline.pipelines.generative.report import generator_example
from dlpipeline.pipelines.sequence.gradients import GradientRecordingModel
from dlpipeline.pipelines.sequence.report import input_example
from dlpipeline.pipelines.sequence.training import SequenceRun
from dlpipeline.served import (
    KIND_KEY,
    WEIGHTS_HASH_TAG,
    ServedModel,
    check_inputs,
    prompted_rows,
    served_model,
    weights_hash,
)

SEEDS = [0, 1]


def _sequence(module: TrainedModule, seq_len: int = 5) -> TrainedModule:
    """``module`` with the ``about`` a sequence task gives it."""
    return module.replace(about=SequenceRun("toy", "lstm", seq_len, 0, 4, {}, {"test_mse": 0.0}))


def _classifier() -> ServedModel:
    trained = TrainedModule.build(
        MLPEnsemble, in_features=2, member_widths=[[3], [3]], out_features=3, activation="relu", seeds=SEEDS
    )
    return served_model(trained, np.random.default_rng(0).standard_normal((5, 2)))


def _sequence_features() -> ServedModel:
    shape = SequenceShape(input_size=2, output_size=1, max_len=5, readout="last", masked=True)
    trained = _sequence(build_model("gru", shape, hidden_size=4))
    return served_model(trained, input_example(trained), "sequence")


def _sequence_transformer() -> ServedModel:
    shape = SequenceShape(input_size=2, output_size=3, max_len=5, readout="every")
    trained = _sequence(build_model("transformer", shape, hidden_size=4, n_heads=2, n_layers=1))
    return served_model(trained, input_example(trained), "sequence")


def _language_model() -> ServedModel:
    trained = TrainedModule.build(
        CharLanguageModel, vocab_size=6, embedding_dim=3, cell="lstm", hidden_size=4, max_len=5
    )
    trained = _sequence(trained)
    return served_model(trained, input_example(trained), "sequence")


def _generator(module_class: type, **kwargs) -> Callable[[], ServedModel]:
    def build() -> ServedModel:
        trained = TrainedModule.build(module_class, seeds=SEEDS, **kwargs)
        return served_model(trained, generator_example(trained), "generator")

    return build


def _autoencoder() -> ServedModel:
    trained = TrainedModule.build(
        Autoencoder, n_features=4, code_size=2, hidden=[3], activation="relu", seeds=SEEDS
    )
    return served_model(trained, np.random.default_rng(0).random((5, 4)), "autoencoder")


def _prompted(conditional: bool) -> Callable[[], ServedModel]:
    def build() -> ServedModel:
        trained = TrainedModule.build(
            TextConditionedVAE,
            n_features=4,
            latent_dim=2,
            hidden=[3],
            embed_dim=2,
            seeds=SEEDS,
            conditional=conditional,
        )
        codes = np.random.default_rng(0).standard_normal((3, 2))
        return served_model(trained, prompted_rows(codes, ["zero", "one", "two"]), "prompted_generator")

    return build


def _scenes(n: int = 4, side: int = 12) -> np.ndarray:
    return np.random.default_rng(0).random((n, 1, side, side), dtype=np.float32)


def _detector() -> ServedModel:
    trained = TrainedModule.build(
        DetectorEnsemble, in_shape=(1, 12, 12), n_classes=10, filters=[2, 3], seeds=SEEDS
    )
    return served_model(trained, _scenes(), "detector")


def _segmenter() -> ServedModel:
    trained = TrainedModule.build(FullyConvEnsemble, channels=2, dilations=[1, 2], seeds=SEEDS)
    return served_model(trained, _scenes(), "segmenter")


KINDS: dict[str, Callable[[], ServedModel]] = {
    "classifier": _classifier,
    "sequence-gru-masked": _sequence_features,
    "sequence-transformer-every-step": _sequence_transformer,
    "sequence-language-model": _language_model,
    "generator-vae": _generator(VariationalAutoencoder, n_features=4, latent_dim=2, hidden=[3]),
    "generator-gan": _generator(GenerativeAdversarialNetwork, n_features=4, latent_dim=2, hidden=[3]),
    "generator-diffusion": _generator(DiffusionModel, n_features=2, hidden=[4], n_steps=4),
    "autoencoder": _autoencoder,
    "prompted-generator": _prompted(conditional=True),
    "prompted-generator-control": _prompted(conditional=False),
    "detector": _detector,
    "segmenter": _segmenter,
}


def module_outputs(served: ServedModel, inputs: np.ndarray) -> np.ndarray:
    """What the module answers in process, written out per kind (not through ``dlpipeline.served``)."""
    module = served.trained.module.eval()
    with torch.no_grad():
        tensor = torch.as_tensor(inputs)
        if served.kind == "classifier":
            return torch.softmax(module(tensor), dim=-1).mean(dim=0).numpy()
        if served.kind == "sequence":
            return module(tensor).numpy()
        if served.kind in ("autoencoder", "detector", "segmenter"):
            return module(tensor).transpose(0, 1).numpy()
        if served.kind == "prompted_generator":
            codes, counts = tensor[:, : module.latent_dim], tensor[:, module.latent_dim :]
            prompt = module.embed(counts)
            rows = torch.cat([codes.expand(len(SEEDS), *codes.shape), prompt], dim=-1)
            return module.decoder(rows).transpose(0, 1).numpy()
        if isinstance(module, DiffusionModel):
            start = tensor.expand(len(SEEDS), *tensor.shape).clone()
            return module.reverse(start, torch.Generator().manual_seed(0))[0].transpose(0, 1).numpy()
        decode = module.decode if isinstance(module, VariationalAutoencoder) else module.generate
        return decode(tensor).transpose(0, 1).numpy()


@pytest.fixture(scope="module")
def tracking(tmp_path_factory) -> Iterator[Path]:
    """A throw-away MLflow store, the tracking URI set to it for the module, then back."""
    folder = tmp_path_factory.mktemp("served_kinds")
    with tracking_at(f"sqlite:///{folder / 'mlflow.db'}"):
        # An experiment of this store (a test before may have left another store's experiment
        # active) whose artifacts stay in the folder: without a location they go to ./mlruns.
        artifacts = (folder / "artifacts").as_uri()
        experiment_id = mlflow.create_experiment("served-kinds", artifact_location=artifacts)
        mlflow.set_experiment(experiment_id=experiment_id)
        yield folder


@pytest.fixture(scope="module", params=sorted(KINDS))
def logged(request, tracking: Path) -> tuple[ServedModel, str, Path]:
    """A network of each kind logged in a run, and saved as the catalog saves it."""
    torch.manual_seed(0)
    served = KINDS[request.param]()
    with mlflow.start_run(run_name=request.param):
        model_id = served.log(request.param)
    pt_file = tracking / f"{request.param}.pt"
    ModelDataset(str(pt_file)).save({request.param: served.trained})
    return served, model_id, pt_file


def test_the_logged_model_and_the_pt_file_hold_the_same_weights(logged):
    served, model_id, pt_file = logged
    (saved,) = ModelDataset(str(pt_file)).load().values()
    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    wrapped = loaded.unwrap_python_model().trained.module
    assert weights_hash(wrapped) == weights_hash(saved.module) == weights_hash(served.trained.module)
    assert mlflow.get_logged_model(model_id).tags[WEIGHTS_HASH_TAG] == weights_hash(saved.module)


def test_the_pyfunc_answers_the_input_example_as_the_module_in_process(logged):
    served, model_id, _ = logged
    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    example = loaded.input_example
    assert example.dtype == served.input_example.dtype
    np.testing.assert_array_equal(example, served.input_example)
    (spec,) = loaded.metadata.signature.inputs.inputs
    assert spec.type == served.input_example.dtype and spec.shape == (-1, *served.input_shape)
    assert loaded.model_config[KIND_KEY] == served.kind
    answer = loaded.predict(example)
    np.testing.assert_allclose(answer, module_outputs(served, example), rtol=1e-5, atol=1e-6)
    (output,) = loaded.metadata.signature.outputs.inputs
    assert output.shape == (-1, *answer.shape[1:])


def served_answer(model_id: str, request: str, folder: Path) -> np.ndarray:
    """What the scoring server answers ``request`` (an ``/invocations`` body), run in this environment."""
    (folder / "request.json").write_text(request)
    mlflow.models.predict(
        f"models:/{model_id}",
        input_path=str(folder / "request.json"),
        content_type="json",
        output_path=str(folder / "answer.json"),
        env_manager="local",
    )
    return np.asarray(json.loads((folder / "answer.json").read_text())["predictions"], dtype=np.float32)


def test_an_invocations_request_of_the_input_example_gets_the_in_process_answer(logged, tmp_path: Path):
    served, model_id, _ = logged
    request = json.dumps({"inputs": served.input_example.tolist()})  # the body /invocations takes
    answer = served_answer(model_id, request, tmp_path)
    np.testing.assert_allclose(answer, served.predict(served.input_example), rtol=1e-5, atol=1e-6)


def test_a_malformed_input_is_refused_with_mlflows_invalid_parameter_error(logged):
    served, model_id, _ = logged
    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    wrong_shape = np.zeros((2, *served.input_shape, 2), dtype=served.input_example.dtype)
    for malformed in (wrong_shape, served.input_example[:0], [["a"] * served.input_shape[-1]]):
        with pytest.raises(mlflow.exceptions.MlflowException) as refused:
            loaded.unwrap_python_model().predict(None, malformed)
        assert refused.value.error_code == "INVALID_PARAMETER_VALUE"
        assert refused.value.message


@pytest.mark.parametrize(("inputs", "words"), [([[0.5, 1.0]], "whole numbers"), ([[1.0, np.nan]], "finite")])
def test_token_ids_must_be_whole_finite_numbers(inputs, words):
    with pytest.raises(mlflow.exceptions.MlflowException, match=words) as refused:
        check_inputs(inputs, (2,), "int64")
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_token_id_outside_the_vocabulary_is_refused_not_a_server_error(tracking):
    served = _language_model()
    with mlflow.start_run(run_name="vocabulary"):
        model_id = served.log("vocabulary")
    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    outside = np.full((1, served.input_shape[0]), 6, dtype=np.int64)  # vocab_size is 6
    with pytest.raises(mlflow.exceptions.MlflowException) as refused:
        loaded.unwrap_python_model().predict(None, outside)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_diverged_network_is_logged_as_it_is_and_answers_non_finite_outputs(tracking):
    # an unclipped RNN at a large gain (the exploding-gradients study) may end with weights not finite
    trained = TrainedModule.build(
        GradientRecordingModel, cell="rnn", input_size=2, hidden_size=4, output_size=1, gain=3.0
    )
    with torch.no_grad():
        trained.module.recurrent.weight_hh_l0.fill_(math.inf)
        trained.module.recurrent.bias_hh_l0.fill_(math.nan)
    features, _ = adding_tensors(adding_problem(3, 5, seed=0))
    served = served_model(trained, features.numpy(), "sequence")
    with mlflow.start_run(run_name="diverged"):
        model_id = served.log("explosion-rnn-gain3-s0")
    loaded = mlflow.pyfunc.load_model(f"models:/{model_id}")
    np.testing.assert_array_equal(loaded.input_example, features.numpy())
    assert mlflow.get_logged_model(model_id).tags[WEIGHTS_HASH_TAG] == weights_hash(trained.module)
    answer = loaded.predict(loaded.input_example)
    assert answer.shape == (3, 1) and not np.isfinite(answer).any()


def test_a_prompted_generator_draws_what_sampling_draws_from_the_same_codes():
    served = _prompted(conditional=True)()
    module = served.trained.module
    words = ["seven", "one"]
    sampled = module.sample(words, 1, torch.Generator().manual_seed(3))  # (members, words, 1, features)
    codes = torch.randn(len(SEEDS), len(words), 2, generator=torch.Generator().manual_seed(3))
    for member in range(len(SEEDS)):
        answer = served.predict(prompted_rows(codes[member].numpy(), words))
        np.testing.assert_allclose(answer[:, member], sampled[member, :, 0].numpy(), rtol=1e-5, atol=1e-6)


def test_the_prompt_reaches_the_prompted_generator_and_not_its_control():
    codes = np.zeros((2, 2))
    for conditional in (True, False):
        served = _prompted(conditional)()
        seven, one = served.predict(prompted_rows(codes, ["seven", "one"]))
        assert np.abs(seven - one).max() > 1e-4 if conditional else np.array_equal(seven, one)


@pytest.mark.parametrize(
    ("counts", "words"),
    [(-1.0, "whole numbers >= 0"), (0.5, "whole numbers >= 0"), (0.0, "needs a prompt")],
)
def test_letter_counts_that_are_no_word_are_refused(tracking: Path, counts: float, words: str):
    served = _prompted(conditional=True)()
    rows = served.input_example.copy()
    rows[0, 2:] = 0.0
    rows[0, 2] = counts
    with pytest.raises(mlflow.exceptions.MlflowException, match=words) as refused:
        served.predict(rows)
    assert refused.value.error_code == "INVALID_PARAMETER_VALUE"


def test_a_prompt_of_other_characters_cannot_be_written_as_a_row():
    with pytest.raises(ValueError, match="letters a-z"):
        prompted_rows(np.zeros((1, 2)), ["Seven"])
