#!/usr/bin/env bash
# Vendor the browser libraries the pages load (Chart.js for the staff dashboard) from npm into
# api/static/vendor/, pinned by frontend/package-lock.json. The API serves them itself: the pages'
# content security policy allows scripts from this origin only, and the service must not depend on a CDN.
# Cheap when nothing changed: `npm ci` runs only when the lock file is newer than the installed tree.
set -euo pipefail
cd "$(dirname "$0")/.."

FRONTEND=frontend
VENDOR=api/static/vendor
INSTALLED="$FRONTEND/node_modules/.package-lock.json"  # npm writes this after every install
SOURCE="$FRONTEND/node_modules/chart.js/dist/chart.umd.js"
TARGET="$VENDOR/chart.umd.js"

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is required to vendor Chart.js for the staff dashboard (install Node.js 18+)" >&2
  exit 1
fi

if [[ ! -f "$INSTALLED" || ! -f "$SOURCE" || "$FRONTEND/package-lock.json" -nt "$INSTALLED" ]]; then
  echo "installing the pinned browser libraries (npm ci in $FRONTEND)" >&2
  npm ci --prefix "$FRONTEND" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
fi

mkdir -p "$VENDOR"
if [[ ! -f "$TARGET" ]] || ! cmp -s "$SOURCE" "$TARGET"; then
  cp "$SOURCE" "$TARGET"
  version="$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$FRONTEND/node_modules/chart.js/package.json" | head -1)"
  echo "vendored chart.js $version -> $TARGET" >&2
fi
