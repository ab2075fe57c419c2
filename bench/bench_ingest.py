"""Time `ingest all` into a fresh SQLite file and a fresh PostgreSQL schema (target: < 60 s).

Usage: python bench/bench_ingest.py [--mirror DIR] [--postgres URL] [--no-postgres] [--warm]

Each run starts from an empty database and an empty standardisation cache (``--warm`` keeps
the cache of the first run, timing the common case of a re-ingest into a new database), then
runs a second `ingest all` to time the idempotent no-op pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGET_S = 60.0


def _run(url: str, mirror: Path, home: Path) -> tuple[float, float, str]:
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from ingest.steps import ingest_all

    db = Database(url)
    upgrade(db.engine)
    config = Config.load(environ={}, home=home, database_url=url, mirror=mirror)
    t0 = time.perf_counter()
    first = ingest_all(db, config)
    t1 = time.perf_counter()
    second = ingest_all(db, config)
    t2 = time.perf_counter()
    db.dispose()
    if not first.ok:
        raise SystemExit(f"ingest failed: {[(s.name, s.error) for s in first.failed]}")
    assert second.inserted == 0 and second.updated == 0, "second run changed rows"
    return t1 - t0, t2 - t1, first.table()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mirror", default=os.environ.get("DOCKDB_MIRROR", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--postgres", default="postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--warm", action="store_true", help="keep the standardisation cache between backends")
    args = ap.parse_args()
    mirror = Path(args.mirror)
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        runs = [("sqlite", f"sqlite:///{tmp / 'bench.sqlite'}")]
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = None
        if not args.no_postgres:
            admin = create_engine(args.postgres)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in args.postgres else "?"
            runs.append(("postgresql", f"{args.postgres}{sep}options=-csearch_path%3D{schema}"))
        try:
            for i, (name, url) in enumerate(runs):
                home = tmp / ("home" if args.warm else f"home{i}")
                first, second, table = _run(url, mirror, home)
                verdict = "OK" if first < TARGET_S else "OVER"
                print(f"\n== {name}: first ingest {first:.1f} s ({verdict} vs {TARGET_S:.0f} s target), "
                      f"second (no-op) {second:.1f} s, load now {os.getloadavg()[0]:.2f}")
                print(table)
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
