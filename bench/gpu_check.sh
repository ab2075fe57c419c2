#!/usr/bin/env bash
# Everything the torch engine needs measured on a CUDA GPU, in one run of at most ~8 minutes:
#   0. the compiled search tick against the eager one in float64 from the same state (tick 1
#      must print "all fields within 1e-4"; engine 1.7.2's CUDA gradient was wrong there); where
#      it disagrees, each part of the evaluation compiled alone against eager names the culprit,
#   1. score and local-optimisation parity on CUDA against Vina's cached parity poses,
#   2. the 20-drug agreement set in the focused 3CLpro pocket (balanced mode vs Vina
#      exhaustiveness 8 from the cached Vina run), with compile time reported apart,
#   3. throughput at batches of 512 / 2,048 / 64 ligands, in that order (balanced mode; rates with
#      and without the compile of each new batch shape),
#   4. the tick at 2,048 ligands timed plainly and as CUDA graphs, compiled and eager (its graph
#      comes from the on-disk cache of stage 3, so a search of 2,048 cut short by stage 3's slot
#      still gives a per-tick rate), then, last, with engine 1.10's CPU schedule (bookkeeping every
#      4th tick, compiled line-search ticks between; compiles that tick first): whether it pays on
#      a GPU too (the engine's `--param period=4` on CUDA).
# Each stage has its own time slot and a failed or overrun stage does not stop the next one. The
# slots add up to more than 8 minutes, so the whole run also has a budget, GPU_CHECK_BUDGET seconds
# (default 480): a stage's slot is cut to what the budget has left (less 30 s kept for the report),
# and a stage with under 10 s left is skipped and says so. The run therefore ends within the budget
# plus the final JSON write; what a cut stage had measured is still in its log.
# Writes gpu_check.json, gpu_check.log and gpu_check.md (the rows for docs/benchmarks.md) to
# $OUT (or ./gpu_check/).
#
# Usage (from the repository root):
#   bench/gpu_check.sh [WORKDIR]
# On the `device` tool's machines, stage the inputs and wheels here first with bench/gpu_stage.sh,
# which prints the whole device command (carry [".whl", ".gpu"]).
# WORKDIR is bench_torch_engine.py's cache with prepared inputs and the Vina runs (made on any
# machine by `bench_torch_engine.py prep` and `vina --parts parity,screen`); it is read only,
# the GPU results go to a copy.  PYTHON picks the interpreter (default .venv/bin/python, else
# python3): on a machine whose PyTorch has CUDA but which lacks the project's venv, the
# engine needs numpy, scipy, torch, platformdirs, rdkit, meeko and gemmi besides this checkout.
set -uo pipefail
cd "$(dirname "$0")/.."
src="${1:-.dockdb/bench_torch}"
out="${OUT:-$PWD/gpu_check}"
mkdir -p "$out"
py="${PYTHON:-.venv/bin/python}"
[ -x "$py" ] || py=python3
export PYTHONUNBUFFERED=1
export DOCKDB_MIRROR="${DOCKDB_MIRROR:-$(cd ../shared/data 2>/dev/null && pwd || echo ../shared/data)}"
export DOCKDB_HOME="${DOCKDB_HOME:-$PWD/.dockdb}"
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-$DOCKDB_HOME/torch_inductor}"
log="$out/gpu_check.log"
start=$(date +%s)
budget="${GPU_CHECK_BUDGET:-480}"
[[ "$budget" =~ ^[0-9]+$ ]] || { echo "error: GPU_CHECK_BUDGET=$budget is not a whole number of seconds; set e.g. 480" >&2; exit 2; }
stage() {  # stage NAME SECONDS COMMAND...: run with a time limit, log it, never stop the script
    local name=$1 limit=$2
    shift 2
    local now reserve=30 left
    now=$(date +%s)
    [ "$name" = report ] && reserve=0
    left=$(( budget - (now - start) - reserve ))
    (( limit > left )) && limit=$left
    if (( limit < 10 )); then
        echo "== $name: skipped, the ${budget} s budget is spent (at $(( $(date +%s) - start )) s)" | tee -a "$log"
        return 124
    fi
    echo "== $name (limit ${limit} s, at $(( $(date +%s) - start )) s)" | tee -a "$log"
    timeout "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    [ "$rc" = 0 ] || echo "== $name: exit $rc$([ "$rc" = 124 ] && echo ' (time slot ran out)')" | tee -a "$log"
    return "$rc"
}
if ! "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "error: $py sees no CUDA GPU (torch.cuda.is_available() is False); run this on a machine with one" >&2
    exit 2
fi
for f in ligands.json receptors vina_parity.json vina_screen.json; do
    [ -e "$src/$f" ] || { echo "error: $src/$f missing; make it with bench/bench_torch_engine.py prep and vina --parts parity,screen" >&2; exit 2; }
done
work=$(mktemp -d)
cp -r "$src/ligands.json" "$src/receptors" "$src/vina_parity.json" "$src/vina_screen.json" "$work/"
[ -e "$src/receptors.json" ] && cp "$src/receptors.json" "$work/"
stage environment 60 "$py" -c "
import platform, torch
p = torch.cuda.get_device_properties(0)
print(f'{p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs; torch {torch.__version__}, '
      f'CUDA {torch.version.cuda}; python {platform.python_version()}')"
stage tick-check 150 "$py" bench/torch_device_check.py --device cuda --workdir "$work" --batch 4 --ticks 24 \
    --cpu-ticks 24 --dtype float64 --short-opts --graph-ticks 0
stage parity 40 "$py" bench/bench_torch_engine.py torch --parts parity --device cuda --workdir "$work"
stage agreement 120 "$py" bench/bench_torch_search.py convergence --workdir "$work" --modes balanced \
    --device cuda --targets protease
stage throughput 220 "$py" bench/bench_torch_search.py throughput --workdir "$work" --device cuda \
    --modes balanced --batches 512,2048,64
stage tick-2048 120 "$py" bench/torch_device_check.py --device cuda --workdir "$work" --batch 2048 --ticks 20 \
    --cpu-ticks 0 --graph-ticks 16 --graph-n 160 --pieces off --period 4
stage report 30 bash -c "'$py' bench/bench_torch_engine.py report --workdir '$work' > '$out/gpu_check.md'; \
    '$py' bench/bench_torch_search.py report --workdir '$work' >> '$out/gpu_check.md'; cat '$out/gpu_check.md'"
"$py" -c "
import json, pathlib, sys
w = pathlib.Path(sys.argv[1])
data = {f.stem: json.loads(f.read_text()) for f in (w / 'search_bench.json', w / 'torch_parity.json') if f.exists()}
pathlib.Path(sys.argv[2]).write_text(json.dumps(data, indent=1))" "$work" "$out/gpu_check.json"
echo "gpu_check: $(( $(date +%s) - start )) s; results in $out" | tee -a "$log"
