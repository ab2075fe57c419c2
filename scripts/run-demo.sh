#!/usr/bin/env bash
# The README's main-job command: install, migrate an embedded SQLite database, ingest the
# public sources, run a small demo campaign on a local Dask cluster, then serve the portal.
# Usage: scripts/run-demo.sh [--no-serve]
set -euo pipefail
serve=1
[ "${1:-}" = "--no-serve" ] && serve=0
cd "$(dirname "$0")/.."
scripts/setup-env.sh
export DOCKDB_HOME="${DOCKDB_HOME:-$PWD/.dockdb}"
if [ -z "${DOCKDB_MIRROR:-}" ] && [ -d ../shared/data ]; then
    export DOCKDB_MIRROR="$(cd ../shared/data && pwd)"
fi
dockdb=.venv/bin/dockdb
$dockdb db upgrade
# Exit code 4 means "partly done" (a source or a docking failed and was reported): the
# database still holds everything else, so carry on and serve it.
partial_ok() { "$@" || { rc=$?; [ "$rc" -eq 4 ] || exit "$rc"; echo "warning: '$*' finished partly (see above)" >&2; }; }
partial_ok $dockdb ingest all
partial_ok $dockdb campaign demo
# Validation numbers for the portal's Validation page (about 3 minutes in all; the full-size runs
# and their commands are in docs/validation.md). Exit 3 here only means "nothing to measure".
soft() { "$@" || { rc=$?; [ "$rc" -eq 3 ] || [ "$rc" -eq 4 ] || exit "$rc"; echo "note: '$*' exit $rc (see above)" >&2; }; }
soft $dockdb validate agreement --campaign demo --quiet
soft $dockdb validate enrichment --campaign demo --reference dockcov2 --quiet
soft $dockdb validate plausibility --campaign demo --max-rank 1 --quiet
$dockdb stats
echo "results are in ${DOCKDB_HOME}/dockdb.sqlite"
[ "$serve" = 1 ] || exit 0
exec $dockdb serve --host 127.0.0.1 --port "${PORT:-5000}"
