#!/usr/bin/env bash
# The README's main-job command: install, migrate an embedded SQLite database (.dockdb/), ingest the
# public sources, run a small demo campaign on a local Dask cluster, then serve the portal.
# Usage: scripts/run-demo.sh [--no-serve | --serve-only]
#   --no-serve    fill the database, then stop
#   --serve-only  serve the database an earlier run filled (no install, no ingest)
# The portal is served by gunicorn: no Werkzeug debugger (that needs an explicit `dockdb serve --debug`).
set -euo pipefail
mode="${1:-all}"
case "$mode" in
    all | --no-serve | --serve-only) ;;
    *) echo "error: unknown option $mode; use --no-serve, --serve-only or nothing" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
dockdb=.venv/bin/dockdb
serve() { exec $dockdb serve --host 127.0.0.1 --port "${PORT:-5000}"; }
[ "$mode" = --serve-only ] && serve
# The clone's .dockdb/ holds the database and the download cache; every `dockdb` command run in
# the clone (or below) finds it, so the README's commands act on what this job filled.
mkdir -p .dockdb
scripts/setup-env.sh
if [ -z "${DOCKDB_MIRROR:-}" ] && [ -d ../shared/data ]; then
    export DOCKDB_MIRROR="$(cd ../shared/data && pwd)"
fi
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
echo "results are in ${DOCKDB_HOME:-$PWD/.dockdb}/dockdb.sqlite; dockdb commands run in $PWD use them"
[ "$mode" = --no-serve ] && exit 0
serve
