"""The cnn sweep on a Dask cluster: every task trains on the driver's torch threads, and a
configuration that fails on a worker is named, its MLflow run is FAILED and nothing stays RUNNING."""

from pathlib import Path

import pytest
import torch
from tests.helpers import run_session
from tests.tracking import runs

from dlpipeline.executor import TaskFailedError
from dlpipeline.training import TrainConfig, with_fixed_threads


def on_dask(**executor: str) -> dict:
    return {"cnn": {"executor": {"kind": "dask", **executor}}}


def test_every_configuration_trains_on_the_drivers_torch_threads_unless_threads_are_set():
    assert with_fixed_threads(TrainConfig(threads=None)).threads == torch.get_num_threads()
    assert with_fixed_threads(TrainConfig(threads=3)).threads == 3


def test_a_configuration_that_fails_on_a_worker_is_named_and_its_run_is_failed(
    project_copy: Path, dask_scheduler: str
):
    too_deep = {"experiments": {"configurations": {"cnn-too-deep": {"filters": [4, 8, 8, 8]}}}}
    parameters = on_dask(address=dask_scheduler)
    parameters["cnn"].update(too_deep)  # four pooled blocks shrink the 8x8 digits to nothing

    with pytest.raises(TaskFailedError) as failure:
        run_session(project_copy, pipeline_names=["cnn"], runtime_params=parameters)

    assert str(failure.value) == (
        "configuration 'cnn-too-deep' failed on a Dask worker: "
        "ValueError: 4 pooled blocks shrink 8x8 images to nothing"
    )
    assert [status for _, status, _ in runs(project_copy)] == ["FAILED"]
