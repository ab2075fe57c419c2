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
# The portal's 3D viewer (3Dmol.js) comes from the npm registry.  Without npm, or when npm
# fails, pages work without the 3D view and its tests skip; with CI=true that is an error.
if [ -x webapp/install_assets.sh ] && ! webapp/install_assets.sh; then
    case "${CI:-}" in
        1|true|TRUE|True|yes) echo "error: 3Dmol.js not installed; install npm and rerun webapp/install_assets.sh" >&2; exit 1 ;;
        *) echo "warning: 3Dmol.js not installed (webapp/install_assets.sh failed); pages work without the 3D view" >&2 ;;
    esac
fi
