#!/usr/bin/env bash
# Set everything up (first time only), lint, and run the test suite on the smoke environment.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k dvc`. The tests are spread over
# every core (pytest-xdist, one file per worker); DLPIPELINE_TEST_WORKERS=0 runs them in one process.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> pytest"
exec pytest -n "${DLPIPELINE_TEST_WORKERS:-auto}" --dist loadfile "$@"
