"""The suite's workers get the longest test files first, and a full run can record how long each took."""

import json
from pathlib import Path

from tests.scheduling import UNKNOWN_FILE_SECONDS, file_of, longest_files_first, recorded_seconds


class FakeItem:
    """Just what the ordering reads of a collected test: its id."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def ids(items: list[FakeItem]) -> list[str]:
    return [item.nodeid for item in items]


def test_the_file_of_a_test_id_is_everything_before_the_first_double_colon():
    assert file_of("tests/test_dvc.py::test_x[a::b]") == "tests/test_dvc.py"


def test_files_are_ordered_longest_first_and_keep_their_tests_in_order():
    items = [FakeItem(nodeid) for nodeid in ["a.py::one", "b.py::one", "a.py::two", "c.py::one", "b.py::two"]]
    ordered = longest_files_first(items, {"a.py": 1.0, "b.py": 300.0, "c.py": 20.0})
    assert ids(ordered) == ["b.py::one", "b.py::two", "c.py::one", "a.py::one", "a.py::two"]


def test_a_file_without_a_recorded_time_counts_as_one_minute():
    items = [FakeItem("short.py::t"), FakeItem("new.py::t"), FakeItem("long.py::t")]
    seconds = {"short.py": UNKNOWN_FILE_SECONDS - 1, "long.py": UNKNOWN_FILE_SECONDS + 1}
    assert ids(longest_files_first(items, seconds)) == ["long.py::t", "new.py::t", "short.py::t"]


def test_without_a_table_the_collection_order_is_kept(tmp_path: Path):
    items = [FakeItem("b.py::t"), FakeItem("a.py::t")]
    assert ids(longest_files_first(items, recorded_seconds(tmp_path / "missing.json"))) == [
        "b.py::t",
        "a.py::t",
    ]


def test_the_committed_table_names_existing_test_files_only():
    root = Path(__file__).parent.parent
    table = recorded_seconds()
    assert table, "tests/file_seconds.json is missing: record it with DLPIPELINE_RECORD_TEST_SECONDS=1"
    missing = [file for file in table if not (root / file).is_file()]
    assert not missing, f"file_seconds.json names test files that are gone (rename or drop them): {missing}"
    assert all(isinstance(seconds, float | int) and seconds >= 0 for seconds in table.values())


def test_a_recorded_table_is_read_as_seconds_per_file(tmp_path: Path):
    table = tmp_path / "file_seconds.json"
    table.write_text(json.dumps({"tests/test_x.py": 12.5}))
    assert recorded_seconds(table) == {"tests/test_x.py": 12.5}
