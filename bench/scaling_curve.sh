#!/usr/bin/env bash
# Campaign scaling curve: dockings/s, parallel efficiency and overhead at 1, 2, 4, 8 and 14 local
# Dask workers (Vina, cpu=1 per docking), for a machine with 16 cores (the device machine): 14
# workers leave two cores to the client (scheduler, writer) and the OS.  About 6 minutes there.
# Writes $OUT/scaling_curve.json (or ./scaling_curve.json) and prints the table for
# docs/benchmarks.md ("Campaign scaling curve").
#
# Usage (from the repository root, with the venv and the data mirror):
#   bench/scaling_curve.sh [WORKERS]      # WORKERS default 1,2,4,8,14
set -euo pipefail
cd "$(dirname "$0")/.."
workers="${1:-1,2,4,8,14}"
out="${OUT:-.}"
export DOCKDB_MIRROR="${DOCKDB_MIRROR:-$(cd ../shared/data 2>/dev/null && pwd || echo ../shared/data)}"
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
# 4 targets x 10 small approved drugs = 40 dockings per point, exhaustiveness 2, batches of 1
timeout 560 .venv/bin/python bench/bench_campaign_scaling.py --drugs 10 \
    --targets tmprss2,3clpro,spike-rbd,plpro --exhaustiveness 2 --workers "$workers" \
    --json "$out/scaling_curve.json"
