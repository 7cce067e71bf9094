"""Start-up objects: made without garbage collections, then frozen out of later ones."""

import gc
from collections.abc import Iterator

import pytest

from dlpipeline.heap import FreezeStartUpObjects, long_lived_objects_made


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    """Leave the collector as each test found it: enabled, nothing frozen by the test."""
    was_enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_the_block_runs_without_collections_and_what_it_made_is_frozen():
    gc.enable()
    frozen_before = gc.get_freeze_count()
    with long_lived_objects_made():
        assert not gc.isenabled()
        made = [[index] for index in range(10_000)]  # lists: tracked by the collector
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(made)


def test_a_collector_disabled_before_the_block_stays_disabled():
    gc.disable()
    with long_lived_objects_made():
        pass
    assert not gc.isenabled()


def test_collections_resume_when_the_block_fails():
    gc.enable()
    with pytest.raises(ImportError), long_lived_objects_made():
        raise ImportError("a missing package")
    assert gc.isenabled()


def test_the_hook_freezes_what_the_run_built_before_its_first_node():
    built_by_the_run = [[index] for index in range(10_000)]
    frozen_before = gc.get_freeze_count()
    FreezeStartUpObjects().before_pipeline_run(run_params={})
    assert gc.get_freeze_count() >= frozen_before + len(built_by_the_run)
