#!/usr/bin/env bash
# Where pip would look for packages, as options for uv (which reads no pip configuration).
# Sourced by setup.sh; `uv_sources PYTHON` prints one option or value per line.

# pip's setting $2 (e.g. find-links) for the interpreter $1: its PIP_ environment variable,
# else pip's configuration.
pip_setting() {
  local python="$1" name="$2"
  local variable="PIP_$(echo "$name" | tr 'a-z-' 'A-Z_')"
  if [[ -n "${!variable:-}" ]]; then
    echo "${!variable}"
  else
    "$python" -m pip config get "global.$name" 2>/dev/null || true
  fi
}

# uv's options for pip's indexes and find-links; a local (file://) one that is not there is left
# out, as pip leaves it out with a warning.
uv_sources() {
  local python="$1" option name location
  for option in index-url extra-index-url find-links; do
    for location in $(pip_setting "$python" "$option"); do
      name="${location#file://}"
      if [[ "$location" == file://* || "$location" == /* ]] && [[ ! -e "$name" ]]; then
        continue
      fi
      printf '%s\n' "--$option" "$location"
    done
  done
}
