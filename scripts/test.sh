#!/usr/bin/env bash
# The README's test command: installs everything it needs, then runs the whole suite on
# PostgreSQL and SQLite.  Extra arguments go to pytest (e.g. -m "not slow").
# Outside CI, what cannot be installed (torch, Chromium, 3Dmol.js) is a warning and its tests
# skip with the reason; with CI=true it is an error (see tests/environment.py).
set -euo pipefail
cd "$(dirname "$0")/.."
lacking() {  # lacking WHAT: error under CI=true, warning otherwise
    case "${CI:-}" in
        1|true|TRUE|True|yes) echo "error: $1" >&2; exit 1 ;;
        *) echo "warning: $1" >&2 ;;
    esac
}
# The torch engine's tests need PyTorch: the CPU build (pip finds it on this workplace's
# disk), installed before the project so nothing pulls a CUDA build.
[ -x .venv/bin/python ] || scripts/setup-env.sh
.venv/bin/python -m pip install --quiet "torch==2.13.0" \
    || lacking "torch not installed (pip install torch==2.13.0); the torch engine tests skip"
scripts/setup-env.sh test
# Data mirror: the shared copy beside the checkout unless DOCKDB_MIRROR says otherwise.
if [ -z "${DOCKDB_MIRROR:-}" ] && [ -d ../shared/data ]; then
    export DOCKDB_MIRROR="$(cd ../shared/data && pwd)"
fi
# PostgreSQL: start the local cluster if it is down (Debian layout).
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# Browser tests drive Debian's chromium; install it when we can (root on Debian).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || lacking "could not install chromium (apt-get install -y chromium); the browser tests skip"
fi
[ -x "${DOCKDB_TEST_CHROMIUM:-/usr/bin/chromium}" ] \
    || lacking "no Chromium at ${DOCKDB_TEST_CHROMIUM:-/usr/bin/chromium} (apt-get install -y chromium); the browser tests skip"
# The Slurm campaign test starts munged, slurmctld and slurmd on localhost from Debian's packages.
if [ ! -x /usr/sbin/slurmctld ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null) \
        || lacking "could not install slurm-wlm munge (apt-get install -y slurm-wlm munge); the Slurm test skips"
fi
[ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ] \
    || lacking "no Slurm (apt-get install -y slurm-wlm munge, as root); the Slurm campaign test skips"
.venv/bin/ruff check .
.venv/bin/mypy  # dockdb/ and jobs/, configured in mypy.ini
exec .venv/bin/python -m pytest "$@"
