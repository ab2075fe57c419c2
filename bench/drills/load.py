"""Drill: concurrent load on a running portal; zero errors, latency percentiles per route.

Either points at a portal that is already up (--url http://HOST:PORT), or serves one itself with
gunicorn (production config) on a free port over --database-url, or, by default, over a scratch
database holding the small realistic test dataset (2 targets, 8 drugs, poses).  Clients pick at
random among: a target page, the scores API, a drug page and a drug search.

PASS: at least one request per route and no error (a status other than 200, or a lost connection).

    .venv/bin/python bench/drills/load.py --duration 600 --concurrency 8 [--url URL | --database-url URL]
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._common import REPO, Verdict, drill_parser, run_script, scratch_database
from bench.loadgen import LoadReport, free_port, get, run_load, wait_ready

NAME = "load"


@contextmanager
def serve(db_url: str, workdir: Path, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """gunicorn serving the portal over *db_url* on a free port; yields its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKDB_")}
    env.update({"DOCKDB_DATABASE_URL": db_url, "DOCKDB_ENV": "production", "DOCKDB_SECRET_KEY": os.urandom(16).hex(),
                "DOCKDB_HOME": str(workdir / "load-home")})
    log = open(workdir / "load-gunicorn.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "webapp:create_app()"],
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def route_mix(base_url: str, n: int = 200, seed: int = 1) -> dict[str, list[str]]:
    """Request paths per route, built from what the portal holds (targets, drugs)."""
    status, body = get(base_url, "/api/v1/targets")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/targets answered {status}")
    keys = [t["key"] for t in json.loads(body)["items"]] or ["3clpro"]
    status, body = get(base_url, "/api/v1/drugs?page_size=100")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/drugs answered {status}")
    drugs = json.loads(body)["items"]
    ids = [d["id"] for d in drugs] or [1]
    words = sorted({w[:4].lower() for d in drugs for w in str(d.get("name", "")).split() if len(w) >= 4}) or ["asp"]
    rng = random.Random(seed)
    return {
        "target page (HTML)": [f"/targets/{rng.choice(keys)}?page={rng.randint(1, 3)}" for _ in range(n)],
        "scores API (JSON)": [f"/api/v1/scores?target={rng.choice(keys)}&page={rng.randint(1, 3)}&page_size=50"
                              for _ in range(n)],
        "drug page (HTML)": [f"/drugs/{rng.choice(ids)}" for _ in range(n)],
        "search (HTML)": [f"/search?q={quote(rng.choice(words))}" for _ in range(n)],
    }


def judge(report: LoadReport) -> Verdict:
    v = Verdict(NAME)
    overall = report.overall
    for r in report.routes.values():
        if r.requests == 0:
            v.problems.append(f"{r.name}: no request completed")
        if r.errors:
            v.problems.append(f"{r.name}: {len(r.errors)} errors, e.g. {r.errors[0]}")
    d = overall.as_dict(report.seconds)
    v.details = {"report": report}
    v.summary = (f"{d['requests']} requests in {report.seconds:.0f} s ({d['rps']:.1f}/s), 0 errors; "
                 f"p50 {d['p50']:.1f} ms, p95 {d['p95']:.1f} ms, p99 {d['p99']:.1f} ms")
    return v


def drill(base_url: str, duration_s: float, concurrency: int) -> Verdict:
    """Load the portal at *base_url* (already up)."""
    routes = route_mix(base_url)
    run_load(base_url, {k: v[:10] for k, v in routes.items()}, 2, min(3.0, duration_s / 5))  # warm-up
    return judge(run_load(base_url, routes, concurrency, duration_s))


def drill_on_dataset(db_url: str, workdir: Path, duration_s: float, concurrency: int, workers: int = 2) -> Verdict:
    """Build the small test dataset in the empty database *db_url*, serve it, load it."""
    from bench.drills._dataset import build  # the portal's realistic test dataset
    from dockdb.db import Database
    from dockdb.migrate import upgrade

    db = Database(db_url)
    try:
        upgrade(db.engine)
        build(db)
    finally:
        db.dispose()
    with serve(db_url, workdir, workers) as base:
        return drill(base, duration_s, concurrency)


def main(argv: list[str] | None = None) -> int:
    ap = drill_parser(__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=600, help="seconds of load")
    ap.add_argument("--concurrency", type=int, default=8, help="concurrent keep-alive clients")
    ap.add_argument("--url", default=None, help="base URL of a running portal (nothing is started)")
    ap.add_argument("--database-url", default=None, help="serve the portal over this database (not modified)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers when the drill serves the portal")

    def build(args: Any) -> Verdict:
        args.workdir.mkdir(parents=True, exist_ok=True)
        if args.url:
            v = drill(args.url, args.duration, args.concurrency)
        elif args.database_url:
            with serve(args.database_url, args.workdir, args.workers) as base:
                v = drill(base, args.duration, args.concurrency)
        else:
            with scratch_database(args.backend, args.workdir, args.postgres_url) as url:
                v = drill_on_dataset(url, args.workdir, args.duration, args.concurrency, args.workers)
        print(v.details["report"].table() if "report" in v.details else "(no report)", flush=True)
        return v

    return run_script(NAME, build, ap, argv)


if __name__ == "__main__":
    sys.exit(main())
