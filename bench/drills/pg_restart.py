"""Drill: lose the PostgreSQL server in the middle of a campaign, then resume with `dockdb campaign run`.

By default the client reaches the server through a TCP proxy that is cut for --outage seconds
(the same outage the test suite makes; the server itself keeps serving other users).  With
--real-restart the server is restarted with `pg_ctlcluster --skip-systemctl-redirect VERSION main
restart` instead: only do that on a machine where nothing else uses the server.

PASS: the campaign ends with exactly 6 results (4 done, 2 failed), no duplicate
(campaign, receptor, drug) key and no half-written pose set, whatever the interrupted run did.

    .venv/bin/python bench/drills/pg_restart.py [--outage 5] [--real-restart]
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._campaign import (
    campaign_problems,
    n_results,
    open_campaign,
    reap,
    resume,
    resume_problems,
    start_run,
    wait_for_results,
)
from bench.drills._common import TcpProxy, Verdict, drill_parser, postgres_schema, run_script

NAME = "pg_restart"


def restart_server() -> str:
    """Restart the local PostgreSQL cluster `main` (the only one under /etc/postgresql)."""
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    if not versions:
        raise RuntimeError("no PostgreSQL cluster under /etc/postgresql; --real-restart needs a local server")
    cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return " ".join(cmd)


def _wait_stored(db: Any, cid: int, timeout_s: float = 60) -> int:
    """Results stored, read again until the server answers (it may be restarting)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return n_results(db, cid)
        except Exception:
            if time.monotonic() > deadline:
                raise
            db.engine.dispose()
            time.sleep(0.5)


def drill(db_url: str, workdir: Path, receptors: dict[str, dict[str, Any]] | None = None,
          outage_s: float = 5.0, real_restart: bool = False) -> Verdict:
    v = Verdict(NAME)
    db, cid, env = open_campaign(db_url, workdir, "drill-pg-restart", receptors)
    proxy: TcpProxy | None = None
    try:
        run_env = dict(env)
        if not real_restart:
            parts = urlsplit(db_url)
            proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
            run_env["DOCKDB_DATABASE_URL"] = proxy.url_for(db_url)
        proc = start_run(cid, run_env, batch_size=1)
        try:
            if not wait_for_results(db, cid, proc):
                v.problems.append(f"the client ended (exit {proc.poll()}) or stalled before storing a result")
                return v
            at_cut = n_results(db, cid)
            if proc.poll() is not None:
                v.problems.append(f"the run ended (exit {proc.returncode}) before the outage; nothing was tested")
            if proxy is not None:
                proxy.cut()
                threading.Timer(outage_s, proxy.restore).start()
                how = f"proxy cut for {outage_s:g} s"
            else:
                how = restart_server()
                db.engine.dispose()
            try:
                out_b, err_b = proc.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                out_b, err_b = b"", b"timed out after 600 s"
                v.problems.append("the interrupted run neither finished nor gave up within 600 s")
        finally:
            reap(proc)
        first = (out_b.decode(errors="replace").strip() or err_b.decode(errors="replace").strip()
                 or "(no output)").splitlines()[-1]
        stored = _wait_stored(db, cid)
        rc, out, err = resume(cid, env)
        v.problems += resume_problems(rc, out, err)
        v.problems += campaign_problems(db, cid)
        v.details = {"outage": how, "stored_at_outage": at_cut, "first_run_exit": proc.returncode,
                     "first_run": first, "stored_after_first_run": stored, "resume": out.strip()}
        v.summary = (f"{how} with {at_cut}/6 results stored, mid-run;"
                     f" interrupted run exit {proc.returncode}, {stored}/6 stored; resume exit {rc}; 6 results "
                     "(4 done, 2 failed), 0 duplicates, 0 partial pose sets")
    finally:
        if proxy is not None:
            proxy.close()
        db.dispose()
    return v


def main(argv: list[str] | None = None) -> int:
    ap = drill_parser(__doc__.splitlines()[0], backends=("postgres",))
    ap.add_argument("--outage", type=float, default=5.0, help="seconds the proxy stays cut")
    ap.add_argument("--real-restart", action="store_true",
                    help="restart the PostgreSQL server itself (pg_ctlcluster) instead of cutting a proxy")

    def build(args: Any) -> Verdict:
        with postgres_schema(args.postgres_url) as url:
            return drill(url, args.workdir, outage_s=args.outage, real_restart=args.real_restart)

    return run_script(NAME, build, ap, argv)


if __name__ == "__main__":
    sys.exit(main())
