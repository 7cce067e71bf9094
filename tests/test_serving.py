"""The champion served for real: ``mlflow models serve`` answers JSON on 127.0.0.1 as the model in process.

Each pipeline's smoke run registers ``dlpipeline-<pipeline>@champion`` in its project's store;
the test starts ``mlflow models serve -m models:/dlpipeline-<pipeline>@champion --env-manager
local`` on a free port (its own process group, stopped whole at the end), posts the model's
input example as ``{"inputs": ...}`` and compares the answer with the model loaded in process.
Malformed requests get HTTP 400 with a message, and the server keeps answering.
"""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pytest
import requests
from tests.helpers import project_env
from tests.team.servers import HOST, free_port, start_in_background, stop, wait_until
from tests.tracking import tracking_at

SERVER_START_TIMEOUT_S = 180.0
MALFORMED = {
    "wrong shape": {"inputs": [[0.5, 0.5, 0.5]]},
    "wrong type": {"inputs": [["a", "b"]]},
    "empty inputs": {"inputs": []},
    "no inputs": {},
    "not a number": {"inputs": "NaN"},
}


def serve_command(model_uri: str, port: int) -> list[str]:
    """The command a user types to serve ``model_uri`` with the project's own environment."""
    return [
        *[sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri],
        *["--env-manager", "local", "-p", str(port), "-h", HOST],
    ]


def answers(url: str) -> bool:
    """Whether the scoring server answers its health check."""
    try:
        return requests.get(f"{url}/ping", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@contextmanager
def serving(model_uri: str, folder: Path, env: dict[str, str]) -> Iterator[str]:
    """``mlflow models serve`` of ``model_uri`` on a free port of 127.0.0.1 until the block ends.

    Yields its URL once it answers; its whole process group is stopped after.
    """
    port = free_port()
    log = folder / "serve.log"
    process = start_in_background(serve_command(model_uri, port), log, cwd=folder, env=env)
    url = f"http://{HOST}:{port}"
    try:
        wait_until(lambda: answers(url), process, SERVER_START_TIMEOUT_S, "mlflow models serve", log)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module", params=["cnn", "mlp"])
def pipeline(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def tracking_uri(smoke_run, pipeline) -> str:
    return f"sqlite:///{smoke_run(pipeline) / 'mlflow.db'}"


@pytest.fixture(scope="module")
def champion_uri(pipeline) -> str:
    return f"models:/dlpipeline-{pipeline}@champion"


@pytest.fixture(scope="module")
def server(smoke_run, pipeline, tracking_uri, champion_uri, tmp_path_factory) -> Iterator[str]:
    """The champion served on a free port of 127.0.0.1; its whole process group is stopped after."""
    project = smoke_run(pipeline)
    folder = tmp_path_factory.mktemp(f"serve_{pipeline}")
    env = {**project_env(project), "MLFLOW_TRACKING_URI": tracking_uri, "TMPDIR": str(folder)}
    with serving(champion_uri, folder, env) as url:
        yield url


@pytest.fixture(scope="module")
def in_process(tracking_uri, champion_uri) -> mlflow.pyfunc.PyFuncModel:
    """The same champion loaded in this process."""
    with tracking_at(tracking_uri):  # the registry follows it
        return mlflow.pyfunc.load_model(champion_uri)


def invoke(url: str, body: object) -> requests.Response:
    """POST ``body`` as JSON to the scoring server's ``/invocations``."""
    return requests.post(f"{url}/invocations", json=body, timeout=60)


def test_the_served_champion_predicts_what_the_model_in_process_predicts(server, in_process):
    example = in_process.input_example
    response = invoke(server, {"inputs": example.tolist()})
    assert response.status_code == 200, response.text
    served = np.asarray(response.json()["predictions"], dtype=np.float32)
    expected = in_process.predict(example)
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(served.argmax(axis=1), expected.argmax(axis=1))
    assert np.allclose(served.sum(axis=1), 1.0, atol=1e-5)  # class probabilities


@pytest.mark.parametrize("mistake", sorted(MALFORMED))
def test_a_malformed_request_gets_400_with_a_message_and_the_server_stays_up(server, mistake):
    response = invoke(server, MALFORMED[mistake])
    assert response.status_code == 400, response.text
    assert response.json()["message"]
    assert answers(server)


def test_a_body_that_is_not_json_gets_400(server):
    response = requests.post(
        f"{server}/invocations", data=b"not json", headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 400
    assert "JSON" in json.loads(response.text)["message"]
