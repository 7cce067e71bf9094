#!/usr/bin/env bash
# Set everything up (first time only), lint, and run the test suite on the smoke environment.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k dvc`. The tests are spread over
# every core (pytest-xdist) with `--dist loadfile`: each test file runs whole on one worker, so
# its module fixtures (a reproduced clone, a server) are set up once; a file that takes minutes
# is better split in two. Smoke runs and the kedro-viz build are shared by the workers through a
# lock (tests/shared_runs.py). Not `--dist loadgroup`: with pytest 9 it ignores `xdist_group`
# marks (pytest-xdist 3.8 renames tests through an attribute pytest no longer reads).
# `--no-loadscope-reorder` keeps the order tests/scheduling.py gives: the longest files first
# (seconds from tests/file_seconds.json; refresh it with DLPIPELINE_RECORD_TEST_SECONDS=1).
# DLPIPELINE_TEST_WORKERS=0 runs them in one process. --durations=25 lists the slowest tests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> pytest"
exec pytest -n "${DLPIPELINE_TEST_WORKERS:-auto}" --dist loadfile --no-loadscope-reorder --durations=25 "$@"
