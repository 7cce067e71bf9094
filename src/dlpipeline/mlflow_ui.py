"""What the MLflow UI shows of a ``kedro run``: the experiment's kind, the parent's name, the link.

MLflow 3's UI has two faces, "GenAI" (traces, an Overview page) and "Model training"
(the runs table). This project trains models, so:

- its experiment carries MLflow's experiment-kind tag ``mlflow.experimentKind`` with the
  value ``custom_model_development`` ("Model training"), the tag MLflow's own UI writes
  when a user picks the kind;
- the link a run prints opens the runs table directly: MLflow 3.17 takes the face from the
  ``workflowType`` query parameter of the URL before the one last chosen in the browser
  (GenAI by default), so the link names ``machine_learning``;
- a ``kedro run`` of every pipeline is named after them (``cnn+generative+mlp+report+sequence``),
  not after Kedro's registry key ``__default__``.
"""

from collections.abc import Iterable
from urllib.parse import quote, urlencode

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"
WORKFLOW_TYPE = "machine_learning"
ALL_PIPELINES = "__default__"


def run_name(requested: Iterable[str], registered: Iterable[str]) -> str:
    """The parent run's name: the pipelines run, ``+``-joined, ``__default__`` spelled out.

    >>> run_name(["__default__"], ["__default__", "mlp", "cnn"])
    'cnn+mlp'
    >>> run_name(["mlp", "cnn"], ["__default__", "mlp", "cnn"])
    'mlp+cnn'
    """
    everything = sorted(name for name in registered if name != ALL_PIPELINES)
    names: list[str] = []
    for name in requested or [ALL_PIPELINES]:
        names.extend(everything if name == ALL_PIPELINES else [name])
    return "+".join(dict.fromkeys(names))


def runs_page_url(ui_url: str, experiment_id: str, search_filter: str = "") -> str:
    """The UI's runs table of ``experiment_id`` (optionally filtered), on its "Model training" face.

    >>> runs_page_url("http://127.0.0.1:5000", "1")
    'http://127.0.0.1:5000/#/experiments/1/runs?workflowType=machine_learning'
    """
    query = {"workflowType": WORKFLOW_TYPE}
    if search_filter:
        query["searchFilter"] = search_filter
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs?{urlencode(query, quote_via=quote)}"


def mark_model_training(client: MlflowClient, experiment_id: str) -> None:
    """Tag the experiment as "Model training", tolerating a teammate's run that tags it at the same moment.

    Two runs starting together against one tracking server both see the tag missing; the
    second insert then violates the tag table's key. Only a tag still missing afterwards is an error.
    """
    if _experiment_kind(client, experiment_id) == MODEL_TRAINING:
        return
    try:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)
    except MlflowException:
        if _experiment_kind(client, experiment_id) != MODEL_TRAINING:
            raise


def _experiment_kind(client: MlflowClient, experiment_id: str) -> str | None:
    """The experiment's ``mlflow.experimentKind`` tag, if any."""
    return client.get_experiment(experiment_id).tags.get(EXPERIMENT_KIND_TAG)
