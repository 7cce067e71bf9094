#!/usr/bin/env bash
# Set everything up (first time only) and run the experiments: `kedro run` on the embedded
# defaults. Extra arguments go to `kedro run`, e.g. `bash scripts/run.sh --pipelines mlp`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Idle OpenMP threads sleep rather than spin on a shared CPU (dlpipeline sets it too, if torch
# has not loaded first); the user's own setting wins.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec kedro run "$@"
