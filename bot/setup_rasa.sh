#!/usr/bin/env bash
# Creates (or refreshes) the Rasa Open Source 3.6.21 environment in .venv-rasa (Python 3.10).
# Rasa 3.6 supports Python 3.8–3.10 and pins pydantic 1, numpy 1.23 and sanic 21, so it lives
# apart from the app's Python 3.11 environment; the custom actions run in the app (rasa-sdk).
# Idempotent: the stamp holds the hash of bot/requirements-rasa.txt (the exact versions, written
# by `pip freeze` after the first install); nothing happens while it matches.
#   PYTHON_310=/path/to/python3.10 bot/setup_rasa.sh     (default: python3.10, then pyenv's 3.10.13)
set -euo pipefail
cd "$(dirname "$0")/.."

RASA_VENV="${RASA_VENV:-.venv-rasa}"
REQUIREMENTS=bot/requirements-rasa.txt
STAMP="$RASA_VENV/.installed"
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1

find_python310() {
  if [[ -n "${PYTHON_310:-}" ]]; then echo "$PYTHON_310"; return; fi
  local pyenv_python=""
  if command -v pyenv >/dev/null 2>&1; then pyenv_python="$(pyenv root)/versions/3.10.13/bin/python"; fi
  for candidate in python3.10 "$pyenv_python"; do
    if [[ -n "$candidate" ]] && [[ -x "$(command -v "$candidate" 2>/dev/null)" ]] \
      && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "Python 3.10 is required for Rasa 3.6 (set PYTHON_310=/path/to/python3.10; see README)" >&2
  exit 1
}

wanted="none"
if [[ -f "$REQUIREMENTS" ]]; then wanted="$(sha256sum "$REQUIREMENTS" | cut -c1-16)"; fi
if [[ -x "$RASA_VENV/bin/rasa" && -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then exit 0; fi

if [[ ! -x "$RASA_VENV/bin/python" ]]; then
  echo "creating $RASA_VENV (Python 3.10)" >&2
  "$(find_python310)" -m venv "$RASA_VENV"
fi
"$RASA_VENV/bin/python" -m pip install --quiet --upgrade "pip>=24,<25" >&2
if [[ -f "$REQUIREMENTS" ]]; then
  echo "installing Rasa from $REQUIREMENTS (a few minutes the first time)" >&2
  "$RASA_VENV/bin/python" -m pip install --quiet -r "$REQUIREMENTS" >&2
else
  echo "installing rasa==3.6.21 and writing $REQUIREMENTS" >&2
  "$RASA_VENV/bin/python" -m pip install --quiet "rasa==3.6.21" >&2
  {
    echo "# Exact versions of the Rasa environment (.venv-rasa, Python 3.10), written by bot/setup_rasa.sh."
    "$RASA_VENV/bin/python" -m pip freeze --exclude-editable | grep -v '^pip=='
  } > "$REQUIREMENTS"
  wanted="$(sha256sum "$REQUIREMENTS" | cut -c1-16)"
fi
"$RASA_VENV/bin/rasa" --version >/dev/null
echo "$wanted" > "$STAMP"
echo "Rasa ready in $RASA_VENV" >&2
