#!/usr/bin/env bash
# The README's main-job command: install, migrate an embedded SQLite database, ingest the
# public sources, run a small demo campaign on a local Dask cluster, then serve the portal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export DOCKDB_HOME="${DOCKDB_HOME:-$PWD/.dockdb}"
if [ -z "${DOCKDB_MIRROR:-}" ] && [ -d ../shared/data ]; then
    export DOCKDB_MIRROR="$(cd ../shared/data && pwd)"
fi
dockdb=.venv/bin/dockdb
$dockdb db upgrade
if $dockdb ingest --help >/dev/null 2>&1; then
    $dockdb ingest all
fi
if $dockdb campaign --help >/dev/null 2>&1; then
    $dockdb campaign demo
fi
$dockdb stats
if $dockdb serve --help >/dev/null 2>&1 && [ -z "${DOCKDB_NO_SERVE:-}" ]; then
    exec $dockdb serve --host 127.0.0.1 --port "${PORT:-5000}"
fi
echo "results are in ${DOCKDB_HOME}/dockdb.sqlite (inspect with: .venv/bin/dockdb stats)"
