#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install DockDB.
# Usage: scripts/setup-env.sh [EXTRAS]   e.g. scripts/setup-env.sh test
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
extras=${1:-}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
.venv/bin/python -m pip install --quiet -e "$spec"
# The portal's 3D viewer (3Dmol.js) comes from the npm registry; skip quietly without npm.
if [ -x webapp/install_assets.sh ] && command -v npm >/dev/null 2>&1; then
    webapp/install_assets.sh || echo "warning: 3D viewer assets not installed (npm failed); pages work without the 3D view" >&2
fi
