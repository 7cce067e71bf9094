"""Tests that point MLflow at a store put it back exactly: no URI set stays no URI set."""

import os
from pathlib import Path

import mlflow
from tests.tracking import TRACKING_URI_VARIABLE, tracking_at, tracking_state


def test_a_block_with_a_tracking_uri_leaves_nothing_set_when_nothing_was(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(TRACKING_URI_VARIABLE, raising=False)
    mlflow.set_tracking_uri(None)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    with tracking_at(uri):
        assert tracking_state() == (uri, uri)  # set here, and exported to the processes started here

    assert tracking_state() == (None, None)
    assert TRACKING_URI_VARIABLE not in os.environ


def test_a_block_inside_another_gives_the_outer_uri_back(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(TRACKING_URI_VARIABLE, raising=False)
    outer, inner = (f"sqlite:///{tmp_path / name}" for name in ("outer.db", "inner.db"))

    with tracking_at(outer):
        with tracking_at(inner):
            assert mlflow.get_tracking_uri() == inner
        assert tracking_state() == (outer, outer)
    assert tracking_state() == (None, None)
