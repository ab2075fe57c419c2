#!/usr/bin/env bash
# Stage, on this machine, what bench/gpu_check.sh needs on a lent GPU machine (the `device` tool
# sends the working tree and the paths its `carry` names, nothing else):
#   .whl/                            Python 3.12 x86-64 wheels of the engine's packages that the
#                                    device image lacks (platformdirs, rdkit, meeko, gemmi), at the
#                                    versions of this checkout's .venv
#   .gpu/bench_torch/                bench_torch_engine.py's prepared inputs and Vina runs
#   .gpu/mirror/targets/pockets.tsv  the focused pockets' boxes
# Both folders are added to .git/info/exclude, so they travel only when carried. The script ends
# by printing the `run` call to make (carry [".whl", ".gpu"]) and a follow-up call for what the check's
# budget may cut (the CUDA graph path with engine 1.10's CPU schedule), and fails with one line where
# an input is missing or the staged files exceed the tool's 64 MiB.
#
# Usage (repository root; needs the .venv, pip's access to PyPI and a finished bench cache):
#   .venv/bin/python bench/bench_torch_engine.py prep
#   .venv/bin/python bench/bench_torch_engine.py vina --parts parity,screen --cpu 2
#   bench/gpu_stage.sh [WORKDIR]            # WORKDIR: the bench cache, default .dockdb/bench_torch
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
src="${1:-.dockdb/bench_torch}"
mirror="${DOCKDB_MIRROR:-../shared/data}"
die() { echo "error: $*" >&2; exit 2; }
[ -x "$py" ] || die "no .venv here; run scripts/setup-env.sh first"
for f in ligands.json receptors.json vina_parity.json vina_screen.json; do
    [ -f "$src/$f" ] || die "$src/$f is missing; run bench/bench_torch_engine.py prep, then vina --parts parity,screen"
done
[ -f "$mirror/targets/pockets.tsv" ] || die "$mirror/targets/pockets.tsv is missing; set DOCKDB_MIRROR to the data mirror"
touch .git/info/exclude
for d in .whl .gpu; do
    grep -qxF "/$d/" .git/info/exclude || echo "/$d/" >> .git/info/exclude
done
rm -rf .whl .gpu
mkdir -p .whl .gpu/mirror/targets
for pkg in platformdirs rdkit meeko gemmi; do
    ver=$("$py" -c "from importlib.metadata import version; print(version('$pkg'))")
    "$py" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl "$pkg==$ver" || die "no Python 3.12 x86-64 wheel of $pkg $ver on PyPI"
done
cp -r "$src" .gpu/bench_torch
cp "$mirror/targets/pockets.tsv" .gpu/mirror/targets/
size=$(du -sm .whl .gpu | awk '{s += $1} END {print s}')
tree=$(git ls-files -z | xargs -0 du -cm 2>/dev/null | tail -1 | cut -f1)
(( size + tree < 64 )) || die "the staged files (${size} MiB) and the tree (${tree} MiB) exceed the device tool's 64 MiB"
ls .whl
echo "staged: ${size} MiB beside a ${tree} MiB tree. On the device, with carry [\".whl\", \".gpu\"] and timeout_s 600:"
cat <<'EOF'
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit; DOCKDB_MIRROR=$PWD/.gpu/mirror DOCKDB_HOME=/tmp/dockdb PYTHON=python3 bench/gpu_check.sh .gpu/bench_torch
EOF
echo "Then, if device time is left (about 4 minutes) and the log shows gpu_check's tick-2048 stage cut or skipped,"
echo "engine 1.10's CPU schedule on CUDA graphs at 2,048 ligands (same carry, timeout_s 360):"
cat <<'EOF'
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit; DOCKDB_MIRROR=$PWD/.gpu/mirror DOCKDB_HOME=/tmp/dockdb timeout 330 python3 bench/torch_device_check.py --device cuda --workdir .gpu/bench_torch --batch 2048 --ticks 20 --cpu-ticks 0 --graph-ticks 16 --graph-n 160 --pieces off --period 4
EOF
