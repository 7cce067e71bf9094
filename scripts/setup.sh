#!/usr/bin/env bash
# Build (or refresh) the project's virtual environment from the pinned requirements.
# Sourced by run.sh and test.sh; the venv lives in $DLPIPELINE_VENV (default: .venv).
set -euo pipefail
project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$project_root"

export DLPIPELINE_VENV="${DLPIPELINE_VENV:-$project_root/.venv}"
# Nothing prompts and nothing phones home: Kedro telemetry, DVC analytics, MLflow.
export KEDRO_DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1 MPLBACKEND=Agg

python_bin="${PYTHON:-}"
if [[ -z "$python_bin" ]]; then
  python_bin="$(command -v python3.11 || command -v python3)"
fi
# 3.11.5 or later: a pinned dependency (soupsieve 4.1.2) refuses older 3.11 releases, and pip's
# own answer to that is a page of version lists.
if ! "$python_bin" -c 'import sys; sys.exit(not ((3, 11, 5) <= sys.version_info[:3] < (3, 12)))'; then
  echo "dlpipeline needs Python 3.11.5 or later 3.11; $python_bin is $("$python_bin" --version 2>&1). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi

# The installer, pinned like everything else: uv fetches and installs the ~300 pinned wheels in
# parallel (seconds where pip takes minutes). uv reads no pip configuration, so it is handed
# pip's indexes and find-links (where a machine may keep its CPU build of torch), and, like pip,
# takes each pin from whichever of them has it. Where uv cannot be had or fails, pip installs
# the same pins.
uv_version="0.13.9"

source "$project_root/scripts/install_sources.sh"

install_pinned() {
  local python="$1"
  if "$python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"; then
    local uv="$(dirname "$python")/uv"
    local sources=()
    mapfile -t sources < <(uv_sources "$python")
    if "$uv" pip install --quiet --compile-bytecode --index-strategy unsafe-best-match \
      --python "$python" "${sources[@]}" -r requirements.lock \
      && "$uv" pip install --quiet --python "$python" --no-deps -e .; then
      return 0
    fi
    echo "==> uv could not install the pinned dependencies; pip installs them (a few minutes)" >&2
  fi
  "$python" -m pip install --quiet --disable-pip-version-check -r requirements.lock
  "$python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
}

if [[ ! -x "$DLPIPELINE_VENV/bin/python" ]]; then
  echo "==> creating virtual environment in $DLPIPELINE_VENV"
  "$python_bin" -m venv "$DLPIPELINE_VENV"
fi

stamp="$DLPIPELINE_VENV/.dlpipeline-requirements.lock"
if ! cmp -s requirements.lock "$stamp" 2>/dev/null; then
  echo "==> installing pinned dependencies (requirements.lock)"
  install_pinned "$DLPIPELINE_VENV/bin/python"
  cp requirements.lock "$stamp"
fi
export PATH="$DLPIPELINE_VENV/bin:$PATH"
