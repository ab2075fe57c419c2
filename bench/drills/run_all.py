"""Run the fast reliability drills (or all of them with --all) and print their verdicts.

Each drill runs as its own process; its last output line is its verdict.  Exit 0 when every
drill passes, 1 otherwise.

    .venv/bin/python bench/drills/run_all.py [--all] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAST: list[tuple[str, list[str]]] = [
    ("bad_inputs", []),
    ("schemathesis_api", ["--max-examples", "25", "--seed", "0"]),
    ("load", ["--duration", "10", "--concurrency", "4"]),
]
SLOW: list[tuple[str, list[str]]] = [
    ("kill_worker", []),
    ("kill_client", []),
    ("kill_bulk_write", []),
    ("pg_restart", []),  # the proxy cut; the real server restart only by hand (--real-restart)
]


def run_drill(name: str, args: list[str], backend: str, verbose: bool) -> tuple[str, int, float]:
    """(verdict line, exit code, seconds) of bench/drills/NAME.py."""
    if name in ("pg_restart", "kill_bulk_write"):
        backend = "postgres"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--backend", backend, *args],
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    if verbose:
        print("\n".join(lines[:-1]), flush=True)
    verdict = next((ln for ln in reversed(lines) if ln.startswith(f"DRILL {name}:")), "")
    if not verdict:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        verdict = f"DRILL {name}: FAIL no verdict line (exit {proc.returncode}): {tail[:200]}"
    return verdict, proc.returncode, time.monotonic() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--all", action="store_true", help="also the kill drills (a few minutes each)")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--verbose", action="store_true", help="print each drill's table, not only its verdict")
    args = ap.parse_args(argv)
    drills = FAST + (SLOW if args.all else [])
    failed = 0
    for name, extra in drills:
        verdict, rc, seconds = run_drill(name, extra, args.backend, args.verbose)
        if rc != 0 or f"DRILL {name}: PASS" not in verdict:
            failed += 1
        print(f"{verdict}  [{seconds:.0f} s]", flush=True)
    print(f"{len(drills) - failed}/{len(drills)} drills passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
