"""Trust in data: every table read from disk is checked, a bad file is named, and writes are atomic."""

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.framework.project import pipelines as registered
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DatasetError, MemoryDataset
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from tests.helpers import copy_project, run_session

from dlpipeline.data.text import CharTokenizer, CountBigram, bigram_counts
from dlpipeline.datasets import (
    BigramDataset,
    DataValidationError,
    FigureDataset,
    JSONDataset,
    ModelDataset,
    PcaDataset,
    TableDataset,
    atomic_path,
)
from dlpipeline.models.checkpoint import TrainedModule
from dlpipeline.records import Timing
from dlpipeline.tracking import MlflowChildRunsDataset

Corruption = Callable[[Path], None]


def _rewrite(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    """Replace the table at ``path`` by ``change`` of it, in the same format."""
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    changed = change(frame)
    if path.suffix == ".csv":
        changed.to_csv(path, index=False)
    else:
        changed.to_parquet(path)


BOUNDED_COLUMNS = ("label", "marker", "step")


def _above_every_bound(frame: pd.DataFrame) -> pd.DataFrame:
    """The first row's bounded integer columns pushed far out of range (labels, markers, steps)."""
    copy = frame.copy()
    bounded = [name for name in BOUNDED_COLUMNS if name in copy]
    copy.loc[0, bounded[0]] = -5
    return copy


def _truncate(path: Path) -> None:
    """Cut the file a third of the way in, in the middle of a row (as an interrupted copy would)."""
    content = path.read_bytes()
    cut = len(content) // 3
    while content[cut - 1 : cut] == b"\n":
        cut -= 1
    path.write_bytes(content[:cut])


def _text_in_last_column(frame: pd.DataFrame) -> pd.DataFrame:
    """The first value of the last column replaced by a word."""
    copy = frame.astype({frame.columns[-1]: str})
    copy.loc[0, frame.columns[-1]] = "oops"
    return copy


def _missing_first_value(frame: pd.DataFrame) -> pd.DataFrame:
    """The first value of the last column left empty."""
    copy = frame.astype({frame.columns[-1]: object})
    copy.iloc[0, -1] = None
    return copy


def applies(corruption: str, path: Path) -> bool:
    """Whether ``corruption`` can be made in the table at ``path`` (a table of names has no number)."""
    frame = pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    if corruption == "a value out of range":
        return any(name in frame for name in BOUNDED_COLUMNS)
    if corruption == "text in a numeric column":
        return pd.api.types.is_numeric_dtype(frame[frame.columns[-1]])
    return True


CORRUPTIONS: dict[str, Corruption] = {
    "empty file": lambda path: path.write_bytes(b""),
    "truncated file": _truncate,
    "not a table": lambda path: path.write_bytes(b"\x00\x01 this is not a table\n\xff\xfe"),
    "header only": lambda path: _rewrite(path, lambda frame: frame.iloc[:0]),
    "a missing column": lambda path: _rewrite(path, lambda frame: frame.iloc[:, 1:]),
    "an unexpected column": lambda path: _rewrite(path, lambda frame: frame.assign(extra=1.0)),
    "a missing value": lambda path: _rewrite(path, _missing_first_value),
    "a value out of range": lambda path: _rewrite(path, _above_every_bound),
    "text in a numeric column": lambda path: _rewrite(path, _text_in_last_column),
}


@pytest.fixture(scope="module")
def generated_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project copy in which every pipeline's data nodes ran once (smoke sizes)."""
    project = copy_project(tmp_path_factory.mktemp("data") / "project")
    previous = Path.cwd()
    os.chdir(project)
    try:
        run_session(project, tags=["data"])
    finally:
        os.chdir(previous)
    return project


def tables_with_schema(project: Path) -> dict[str, TableDataset]:
    """Every table of the catalog that has a schema, by name."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="smoke") as session:
        catalog = session.load_context().catalog
    tables = {name: catalog.get(name) for name in catalog}
    return {
        name: table for name, table in tables.items() if isinstance(table, TableDataset) and table._schema
    }


def checked_tables(project: Path) -> dict[str, TableDataset]:
    """The tables with a schema that the data nodes wrote, by name."""
    return {
        name: table for name, table in tables_with_schema(project).items() if Path(table._filepath).is_file()
    }


def datasets_read_by_nodes(project: Path) -> dict[str, object]:
    """Every dataset some node of a registered pipeline takes as input, by name."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="smoke") as session:
        catalog = session.load_context().catalog
    names = {
        name
        for pipeline in registered.values()
        for node in pipeline.nodes
        for name in node.inputs
        if not name.startswith("params:")
    }
    return {name: catalog.get(name) for name in names}


def test_every_table_the_pipelines_read_from_disk_has_a_schema(
    generated_data: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(generated_data)  # the session's MLflow store is the working directory's project's
    read = datasets_read_by_nodes(generated_data)
    tables = {name for name, dataset in read.items() if isinstance(dataset, TableDataset)}
    assert tables, "no pipeline reads a table"
    # each read table as the catalog resolves it: a dataset factory's too, which listing misses
    without_schema = sorted(name for name in tables if not read[name]._schema)
    assert not without_schema, f"tables read without a schema: {without_schema}"
    unchecked = {
        name: type(dataset).__name__
        for name, dataset in read.items()
        if dataset is not None  # not in the catalog: handed on in memory
        and not isinstance(
            dataset, TableDataset | ModelDataset | FigureDataset | PcaDataset | BigramDataset | MemoryDataset
        )
        # the champion reads the run's child runs back from MLflow's store, not from a file
        and not isinstance(dataset, MlflowChildRunsDataset)
    }
    assert not unchecked, f"read from disk without a check on load: {unchecked}"


def test_the_generated_datasets_pass_their_schemas(generated_data: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(generated_data)
    for name, table in checked_tables(generated_data).items():
        assert len(table.load()) > 0, name


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_bad_file_is_refused_with_its_path_and_is_left_as_it_was(
    generated_data: Path, monkeypatch: pytest.MonkeyPatch, corruption: str
):
    monkeypatch.chdir(generated_data)
    tables = {
        name: table
        for name, table in checked_tables(generated_data).items()
        if applies(corruption, Path(table._filepath))
    }
    assert tables  # every corruption is tried on some table
    for name, table in tables.items():
        path = Path(table._filepath)
        original = path.read_bytes()
        try:
            CORRUPTIONS[corruption](path)
            corrupted = path.read_bytes()
            with pytest.raises(DataValidationError) as error:
                table.load()
            message = str(error.value)
            assert message.startswith(str(path.relative_to(generated_data))), (name, message)
            assert len(message) < 400, (name, message)
            assert path.read_bytes() == corrupted, name
        finally:
            path.write_bytes(original)


def test_a_missing_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataValidationError, match=r"^data/points\.csv does not exist"):
        TableDataset("data/points.csv").load()


def test_an_invalid_table_is_never_written_and_the_last_good_file_stays(tmp_path: Path):
    table = TableDataset(
        str(tmp_path / "points.csv"),
        schema={"columns": {"x": {"dtype": "float"}, "label": {"dtype": "int", "min": 0, "max": 1}}},
        save_args={"index": False},
    )
    good = pd.DataFrame({"x": [0.5, 1.5], "label": [0, 1]})
    table.save(good)
    refusal = r"was not written.*column 'label' fails less_than_or_equal_to\(1\) \(e\.g\. 7 in row 1\)"
    with pytest.raises(DataValidationError, match=refusal):
        table.save(good.assign(label=[0, 7]))
    pd.testing.assert_frame_equal(table.load(), good)


def test_a_write_that_fails_halfway_leaves_the_previous_file_and_no_debris(tmp_path: Path):
    target = tmp_path / "report.json"
    target.write_text('{"accuracy": 0.99}')
    with pytest.raises(OSError, match="disk full"), atomic_path(target) as partial:
        partial.write_text('{"accur')
        raise OSError("disk full")
    assert target.read_text() == '{"accuracy": 0.99}'
    assert list(tmp_path.iterdir()) == [target]


def test_a_figure_that_fails_to_render_leaves_the_previous_image(tmp_path: Path):
    image = FigureDataset(str(tmp_path / "plot.png"))
    image.save(Figure())
    previous = Path(image._filepath).read_bytes()
    broken = Figure()
    broken.add_subplot().text(0, 0, "$\\unknowncommand$")  # mathtext fails while rendering
    with pytest.raises(Exception, match="unknowncommand"):
        image.save(broken)
    assert Path(image._filepath).read_bytes() == previous
    assert [path.name for path in tmp_path.iterdir()] == ["plot.png"]


def test_a_json_report_that_fails_halfway_leaves_the_previous_file_and_no_debris(tmp_path: Path):
    report = JSONDataset(filepath=str(tmp_path / "metrics.json"))
    report.save({"accuracy": 0.99})
    previous = (tmp_path / "metrics.json").read_bytes()
    with pytest.raises(DatasetError, match="not JSON serializable"):  # json.dump has begun writing
        report.save({"accuracy": 0.5, "model": object()})
    assert (tmp_path / "metrics.json").read_bytes() == previous
    assert [path.name for path in tmp_path.iterdir()] == ["metrics.json"]


def test_json_reports_round_trip_and_a_damaged_one_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    report = JSONDataset(filepath="metrics.json", save_args={"indent": 2})
    report.save({"torch": {"5": {"test_accuracy": 0.99}}})
    assert report.load() == {"torch": {"5": {"test_accuracy": 0.99}}}
    Path("metrics.json").write_text('{"torch": {"5": ')
    with pytest.raises(DataValidationError, match=r"^metrics\.json cannot be read as JSON"):
        report.load()


def test_a_model_file_holds_no_clock_readings_and_its_timings_come_back_beside_it(
    tmp_path: Path, network: TrainedModule
):
    dataset = ModelDataset(str(tmp_path / "models.pt"), timings_filepath=str(tmp_path / "timings.json"))
    dataset.save({"net": network.replace(timing=Timing(train_seconds=1.5))})
    first = (tmp_path / "models.pt").read_bytes()
    dataset.save({"net": network.replace(timing=Timing(train_seconds=2.5))})
    assert (tmp_path / "models.pt").read_bytes() == first  # what DVC tracks never changes with the clock
    assert dataset.load()["net"].timing.train_seconds == 2.5
    assert math.isnan(ModelDataset(str(tmp_path / "models.pt")).load()["net"].timing.train_seconds)


def test_a_figure_reads_back_as_its_png_bytes_and_a_foreign_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    FigureDataset("plot.png").save(figure)
    assert FigureDataset("plot.png").load() == Path("plot.png").read_bytes()
    Path("fake.png").write_text("not an image")
    with pytest.raises(DataValidationError, match=r"fake\.png does not start as a PNG image does"):
        FigureDataset("fake.png").load()
    with pytest.raises(DataValidationError, match=r"absent\.png cannot be read"):
        FigureDataset("absent.png").load()


def test_pca_fits_come_back_from_plain_json_and_transform_bit_for_bit(tmp_path: Path):
    rng = np.random.default_rng(0)
    train, test = rng.random((120, 64)), rng.random((30, 64))
    fits = {size: PCA(n_components=size, svd_solver="full").fit(train) for size in (2, 8)}
    dataset = PcaDataset(filepath=str(tmp_path / "pca.json"))
    dataset.save(fits)
    loaded = dataset.load()
    assert sorted(loaded) == [2, 8]
    for size, pca in fits.items():
        codes = pca.transform(test)
        np.testing.assert_array_equal(loaded[size].transform(test), codes)
        np.testing.assert_array_equal(loaded[size].inverse_transform(codes), pca.inverse_transform(codes))
        assert (loaded[size].n_components_, loaded[size].n_samples_) == (size, 120)
    first = (tmp_path / "pca.json").read_bytes()
    dataset.save(loaded)
    assert (tmp_path / "pca.json").read_bytes() == first  # what DVC tracks is the same bytes every run


def test_a_count_bigram_comes_back_from_plain_json_with_its_vocabulary_and_counts(tmp_path: Path):
    names = ["emma", "ava", "zoe"]
    tokenizer = CharTokenizer.from_texts(names)
    bigram = CountBigram(tokenizer, bigram_counts(names, tokenizer))
    dataset = BigramDataset(filepath=str(tmp_path / "bigram.json"))
    dataset.save(bigram)
    loaded = dataset.load()
    assert loaded.tokenizer == tokenizer
    np.testing.assert_array_equal(loaded.counts, bigram.counts)
    assert loaded.counts.dtype == bigram.counts.dtype


def test_baseline_files_are_plain_json_not_pickles_and_a_damaged_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    PcaDataset(filepath="pca.json").save({2: PCA(n_components=2).fit(np.eye(4))})
    tokenizer = CharTokenizer(("a",))
    BigramDataset(filepath="bigram.json").save(CountBigram(tokenizer, bigram_counts(["a"], tokenizer)))
    for name in ("pca.json", "bigram.json"):
        assert isinstance(json.loads(Path(name).read_text()), dict), name  # a pickle is never JSON
    Path("bigram.json").write_text('{"characters": ["a"]}')
    no_counts = r"^bigram\.json cannot be read as a count bigram: KeyError\('counts'\)"
    with pytest.raises(DataValidationError, match=no_counts):
        BigramDataset(filepath="bigram.json").load()
    Path("pca.json").write_text('{"2": {"parameters": {"n_components": 2}, "fitt')
    with pytest.raises(DataValidationError, match=r"^pca\.json cannot be read as JSON"):
        PcaDataset(filepath="pca.json").load()
