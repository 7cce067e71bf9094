"""The catalog's datasets on object storage: the same tables, figures, JSON and models on s3:// URLs.

moto's S3 API on 127.0.0.1 stands in for the bucket; the keys come from the environment
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``), as a person's would.
"""

import math
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from tests.helpers import copy_project, kedro_cli
from tests.team.servers import start_moto_server, stop

from dlpipeline.datasets import DataValidationError, FigureDataset, JSONDataset, ModelDataset, TableDataset
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.records import Timing

BUCKET = "dlpipeline-data"
POINTS_SCHEMA = {
    "columns": {
        "x1": {"dtype": "float"},
        "x2": {"dtype": "float"},
        "label": {"dtype": "int", "min": 0, "max": 1},
    }
}
# The mlp pipeline's data and models, moved to the bucket by an environment (reports stay local).
S3_CATALOG = {
    "mlp.points": {"filepath": f"s3://{BUCKET}/smoke/01_raw/mlp/points.csv"},
    "mlp.train_points": {"filepath": f"s3://{BUCKET}/smoke/05_model_input/mlp/train.csv"},
    "mlp.test_points": {"filepath": f"s3://{BUCKET}/smoke/05_model_input/mlp/test.csv"},
    "mlp.torch_models": {"filepath": f"s3://{BUCKET}/smoke/06_models/mlp/torch.pt"},
    "mlp.sklearn_models": {"filepath": f"s3://{BUCKET}/smoke/06_models/mlp/sklearn.pt"},
}


def aws_environment(endpoint: str) -> dict[str, str]:
    """What a person exports to reach the bucket; nothing from this machine's AWS settings."""
    empty = Path(tempfile.gettempdir()) / "dlpipeline-empty-aws-config"
    empty.touch()
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "AKIA" + secrets.token_hex(8).upper(),  # made up: moto takes any
        "AWS_SECRET_ACCESS_KEY": secrets.token_hex(20),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """moto's S3 server with an empty bucket; this process's AWS variables point at it."""
    import boto3

    endpoint, process = start_moto_server(tmp_path_factory.mktemp("moto"))
    environment = aws_environment(endpoint)
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key in [key for key in os.environ if key.startswith("AWS_")]:
            monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        try:
            yield environment
        finally:
            stop(process)


def object_bytes(key: str) -> bytes:
    """The content of ``key`` in the bucket."""
    import boto3

    return boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()


def put_object(key: str, content: bytes) -> None:
    """Write ``content`` to ``key`` in the bucket, as another tool would."""
    import boto3

    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=content)


def a_figure() -> Figure:
    """A small line plot."""
    figure = Figure(figsize=(2, 2))
    figure.add_subplot().plot([0, 1, 2], [1, 0, 1])
    return figure


def test_a_table_a_figure_and_a_json_round_trip_through_s3_with_the_bytes_of_a_local_file(
    s3: dict[str, str], tmp_path: Path
):
    points = pd.DataFrame({"x1": [0.25, -1.5], "x2": [2.0, 0.125], "label": [0, 1]})
    report = {"torch": {"5": {"test_accuracy": 0.99}}}
    for root in (f"s3://{BUCKET}/round-trip", str(tmp_path)):
        table = TableDataset(f"{root}/points.csv", schema=POINTS_SCHEMA, save_args={"index": False})
        table.save(points)
        pd.testing.assert_frame_equal(table.load(), points)
        metrics = JSONDataset(filepath=f"{root}/metrics.json", save_args={"indent": 2})
        metrics.save(report)
        assert metrics.load() == report
        plot = FigureDataset(f"{root}/plot.png", save_args={"dpi": 50})
        plot.save(a_figure())
        assert plot.load().startswith(b"\x89PNG")
    for name in ("points.csv", "metrics.json", "plot.png"):
        assert object_bytes(f"round-trip/{name}") == (tmp_path / name).read_bytes(), name


def test_models_and_their_timings_round_trip_through_s3(s3: dict[str, str], network: TrainedModule):
    models = ModelDataset(f"s3://{BUCKET}/models/net.pt", timings_filepath=f"s3://{BUCKET}/timings/net.json")
    models.save({"net": network.replace(timing=Timing(train_seconds=1.5))})
    loaded = models.load()["net"]
    assert loaded.timing.train_seconds == 1.5
    for mine, theirs in zip(
        network.module.state_dict().values(), loaded.module.state_dict().values(), strict=True
    ):
        assert mine.equal(theirs)
    assert math.isnan(ModelDataset(f"s3://{BUCKET}/models/net.pt").load()["net"].timing.train_seconds)


def test_a_bad_table_on_s3_is_named_by_its_url_and_column_and_a_missing_one_by_its_url(s3: dict[str, str]):
    put_object("bad/points.csv", b"x1,x2,label\n0.5,1.5,0\n0.5,1.5,7\n")
    refusal = rf"^s3://{BUCKET}/bad/points\.csv is not valid: column 'label'"
    with pytest.raises(DataValidationError, match=refusal):
        TableDataset(f"s3://{BUCKET}/bad/points.csv", schema=POINTS_SCHEMA).load()
    put_object("bad/cut.csv", b"x1,x2,label\n0.5,1.5,0\n0.5,1.")
    with pytest.raises(DataValidationError, match=r"cut\.csv cannot be read: the last row is cut short"):
        TableDataset(f"s3://{BUCKET}/bad/cut.csv", schema=POINTS_SCHEMA).load()
    with pytest.raises(DataValidationError, match=rf"^s3://{BUCKET}/bad/none\.csv does not exist"):
        TableDataset(f"s3://{BUCKET}/bad/none.csv").load()
    invalid = pd.DataFrame({"x1": [0.5], "x2": [1.5], "label": [3]})
    with pytest.raises(DataValidationError, match=r"was not written.*column 'label'"):
        TableDataset(f"s3://{BUCKET}/bad/never.csv", schema=POINTS_SCHEMA).save(invalid)
    assert not TableDataset(f"s3://{BUCKET}/bad/never.csv").exists()


def test_a_smoke_run_keeps_its_data_and_models_in_the_bucket_and_a_damaged_object_exits_65(
    s3: dict[str, str], tmp_path: Path
):
    project = copy_project(tmp_path / "project")
    (project / "conf/smoke/catalog_s3.yml").write_text(yaml.safe_dump(S3_CATALOG))
    result = kedro_cli("run", "--env", "smoke", "--pipelines", "mlp", cwd=project, env=s3)
    assert result.returncode == 0, result.stderr[-3000:]
    for dataset in S3_CATALOG.values():
        assert object_bytes(dataset["filepath"].removeprefix(f"s3://{BUCKET}/")), dataset
    assert not (project / "data/01_raw/mlp").exists()
    assert not (project / "data/06_models/mlp").exists()
    assert (project / "data/08_reporting/mlp/accuracy_table.csv").is_file()
    train = TableDataset(S3_CATALOG["mlp.train_points"]["filepath"], schema=POINTS_SCHEMA).load()
    assert len(train) > 0

    key = "smoke/05_model_input/mlp/train.csv"
    put_object(key, object_bytes(key)[:200].rstrip(b"\n"))  # cut mid-row
    damaged = kedro_cli("run", "--env", "smoke", "--pipelines", "mlp", "--tags", "train", cwd=project, env=s3)
    assert damaged.returncode == 65, damaged.stderr[-3000:]
    assert f"Invalid data: s3://{BUCKET}/{key} cannot be read" in damaged.stderr
    assert "Traceback" not in damaged.stderr


def test_keys_from_the_catalog_credentials_reach_the_bucket_without_the_environment(
    s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key)
    credentials = {  # what conf/local/credentials.yml would hold
        "key": s3["AWS_ACCESS_KEY_ID"],
        "secret": s3["AWS_SECRET_ACCESS_KEY"],
        "client_kwargs": {"endpoint_url": s3["AWS_ENDPOINT_URL"]},
    }
    report = JSONDataset(filepath=f"s3://{BUCKET}/credentials/metrics.json", credentials=credentials)
    report.save({"test_accuracy": 0.99})
    assert report.load() == {"test_accuracy": 0.99}
