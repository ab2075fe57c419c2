#!/usr/bin/env bash
# Everything the torch engine needs measured on a CUDA GPU, in one run of at most ~8 minutes:
# score parity (the CUDA path of the scoring and local-optimisation tests), the 20-drug
# agreement set in the focused 3CLpro pocket (balanced mode vs Vina exhaustiveness 8 from the
# cached Vina run), and throughput at batch 64 / 512 / 2,048 ligands (balanced mode).
# Writes $OUT/gpu_check.json (or ./gpu_check.json) and prints the rows for docs/benchmarks.md.
#
# Usage (on the device machine, from the repository root, with the venv carried):
#   bench/gpu_check.sh [WORKDIR]        # WORKDIR: bench_torch_engine.py's cache (prepared inputs)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-.dockdb/bench_torch}"
out="${OUT:-.}"
py=.venv/bin/python
export DOCKDB_MIRROR="${DOCKDB_MIRROR:-$(cd ../shared/data 2>/dev/null && pwd || echo ../shared/data)}"
export DOCKDB_HOME="${DOCKDB_HOME:-$PWD/.dockdb}"
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-$DOCKDB_HOME/torch_inductor}"
$py -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU visible'; print(torch.cuda.get_device_name(0))"
start=$(date +%s)
[ -f "$work/ligands.json" ] || timeout 180 $py bench/bench_torch_engine.py prep --workdir "$work"
# 1. score parity and local optimisation against Vina, on CUDA
DOCKDB_TORCH_DEVICE=cuda timeout 150 $py -m pytest -q -x tests/docking/test_torch_scoring.py \
    tests/docking/test_torch_search.py -p no:cacheprovider | tail -n 3
# 2. agreement with Vina exh 8 (3CLpro, 20 drugs) and 3. throughput
timeout 120 $py bench/bench_torch_search.py convergence --workdir "$work" --modes balanced --device cuda \
    --targets protease || echo "agreement: not finished in its time slot"
timeout 200 $py bench/bench_torch_search.py throughput --workdir "$work" --device cuda --modes balanced \
    --batches 64,512,2048 || echo "throughput: not finished in its time slot"
cp "$work/search_bench.json" "$out/gpu_check.json"
$py bench/bench_torch_search.py report --workdir "$work"
echo "gpu_check: $(( $(date +%s) - start )) s"
