#!/usr/bin/env sh
# Install the portal's browser libraries (3Dmol.js) from the npm registry into
# webapp/static/vendor/node_modules (git-ignored), pinned by package-lock.json.
# The portal serves them itself; no CDN is used and no copy is committed.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/static/vendor"
if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm not found; install Node.js (e.g. apt-get install -y npm) and rerun $0" >&2
    exit 1
fi
cd "$vendor"
npm ci --no-audit --no-fund --ignore-scripts
test -f node_modules/3dmol/build/3Dmol-min.js || { echo "error: 3Dmol-min.js missing after npm ci" >&2; exit 1; }
echo "3Dmol.js installed in $vendor/node_modules/3dmol"
