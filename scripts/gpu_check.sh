#!/usr/bin/env bash
# On a machine with CUDA: every pipeline's smoke and base run on the GPU against the same run with
# CUDA hidden, claim by claim within the seed spread, then the training benchmarks on the GPU.
# Results under gpu-check/ (see scripts/gpu_check.py). Extra arguments go to scripts/gpu_check.py,
# e.g. `bash scripts/gpu_check.sh --envs smoke --pipelines mlp,cnn`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec python "$(dirname "${BASH_SOURCE[0]}")/gpu_check.py" "$@"
