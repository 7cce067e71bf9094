#!/usr/bin/env bash
# Set everything up (first time only) and run the experiments: `kedro run` on the embedded
# defaults. Extra arguments go to `kedro run`, e.g. `bash scripts/run.sh --pipelines mlp`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec kedro run "$@"
