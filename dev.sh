#!/usr/bin/env bash
# The project's two commands on a fresh machine:
#   ./dev.sh run    build the knowledge base if needed and start the assistant (API + widget + console)
#   ./dev.sh test   install, lint, check the formatting and run the whole test suite (what CI runs)
# Everything else (build, eval, tune, bench) is a sub-command too; ./dev.sh help lists them.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON_311="${PYTHON_311:-}"
VENV=.venv
STAMP="$VENV/.installed"

find_python() {
  if [[ -n "$PYTHON_311" ]]; then echo "$PYTHON_311"; return; fi
  for candidate in python3.11 "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/3.11.7/bin/python" python3; do
    if [[ -x "$(command -v "$candidate" 2>/dev/null)" ]] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "Python 3.11 is required (set PYTHON_311=/path/to/python3.11)" >&2
  exit 1
}

ensure_venv() {
  local wanted
  wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)"
  if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]]; then return; fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "creating $VENV" >&2
    "$(find_python)" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip>=24" >&2
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e '.[dev]' >&2
  echo "$wanted" > "$STAMP"
}

ensure_browser() {
  # The widget and console tests drive Debian's chromium through its chromedriver.
  if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || [[ "${TTHC_SKIP_BROWSER:-}" == 1 ]]; then return; fi
  echo "installing chromium + chromium-driver for the browser tests" >&2
  local sudo=""
  if [[ "$(id -u)" -ne 0 ]]; then sudo="sudo"; fi
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2; then
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >&2
  fi
}

ensure_vendored_js() {
  # The staff dashboard's charts: Chart.js pinned in frontend/package-lock.json, copied into api/static/vendor.
  scripts/vendor_js.sh
}

lint() {
  "$VENV/bin/python" -m ruff check .
  "$VENV/bin/python" -m ruff format --check .
}

ensure_rasa() {
  # Rasa Open Source 3.6 in its own Python 3.10 environment (.venv-rasa); idempotent.
  if [[ "${TTHC_SKIP_RASA:-}" == 1 ]]; then return; fi
  bot/setup_rasa.sh
}

case "${1:-help}" in
  run)
    ensure_venv
    ensure_vendored_js
    ensure_rasa
    shift
    api_port="${ASSISTANT_PORT:-8000}"
    rasa_port="${RASA_PORT:-5005}"
    # Rasa (trained first when the model is missing) calls the custom actions served by the API;
    # until it is up the API answers directly (degraded mode).
    "$VENV/bin/python" -m bot.server --port "$rasa_port" --action-url "http://127.0.0.1:$api_port/rasa/webhook" &
    rasa_pid=$!
    trap 'kill "$rasa_pid" 2>/dev/null || true' EXIT INT TERM
    ASSISTANT_RASA_URL="${ASSISTANT_RASA_URL:-http://127.0.0.1:$rasa_port}" "$VENV/bin/python" -m api serve "$@"
    ;;
  test)
    ensure_venv
    ensure_browser
    ensure_vendored_js
    ensure_rasa
    shift
    lint
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  test-fast)
    # The inner loop: no chromium or Rasa install, lint, then only the tests not marked slow.
    ensure_venv
    ensure_vendored_js
    shift
    lint
    exec "$VENV/bin/python" -m pytest -m "not slow" "$@"
    ;;
  build|refresh|search|ask|show|chat|eval|tune|tune-rerank|training-set|parse-check|model)
    ensure_venv
    exec "$VENV/bin/python" -m knowledge "$@"
    ;;
  rasa-train)
    ensure_venv
    ensure_rasa
    exec "$VENV/bin/python" -m bot.server --train-only
    ;;
  bench-rasa)
    ensure_venv
    ensure_rasa
    shift
    exec "$VENV/bin/python" benchmarks/bench_rasa.py "$@"
    ;;
  bench)
    ensure_venv
    shift
    exec "$VENV/bin/python" benchmarks/bench_search.py "$@"
    ;;
  load)
    ensure_venv
    shift
    exec "$VENV/bin/python" benchmarks/load_api.py "$@"
    ;;
  *)
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    echo "Also: ./dev.sh build | refresh --source F | search Q | ask Q | show CODE | chat | eval FILE | tune FILE"
    echo "      ./dev.sh tune-rerank FILE | parse-check | model | bench | rasa-train | bench-rasa"
    echo "      ./dev.sh load (50 clients on loopback: benchmarks/load_api.py)"
    echo "      ./dev.sh test-fast [pytest args]: lint + the tests not marked slow, installing neither chromium nor Rasa"
    echo "      (TTHC_SKIP_BROWSER=1 skips the browser tests where chromium is missing)"
    ;;
esac
