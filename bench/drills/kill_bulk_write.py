"""Drill: SIGKILL the writing client in the middle of a bulk write transaction, then resume.

A client process writes a campaign's results through the campaign writer's bulk path
(``ResultWriter.write_many``, BATCH results of 9 real-sized poses per transaction; the results
are synthetic, so that a transaction is large enough to be caught open).  The drill watches
PostgreSQL's ``pg_stat_activity`` until that client's transaction has written rows and not yet
committed (``backend_xid`` set), with more than one batch committed before it, and SIGKILLs the
client.  A resumed client writes only the missing pairs, as ``dockdb campaign run`` does.

PASS: at the kill only whole committed batches are stored (the open transaction left nothing),
every stored result has its whole pose set; after the resume exactly the expected number of
results, no duplicate (campaign, receptor, drug) key, no partial pose set, no stray pose.

    .venv/bin/python bench/drills/kill_bulk_write.py [--batch 100] [--drugs 200]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._campaign import campaign_problems, load_targets, n_results, prepare_receptors
from bench.drills._common import Verdict, mirror_dir, postgres_schema, run_script

NAME = "kill_bulk_write"
POSES = 9


def _setup(db_url: str, workdir: Path, receptors: dict[str, dict[str, Any]], n_drugs: int) -> int:
    """Targets, the prepared receptors, a library of *n_drugs* small molecules and a campaign over them."""
    from sqlalchemy import select

    from bench.drills._campaign import add_library
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from dockdb.models import Receptor, Target
    from jobs.campaign import CampaignSpec, create_campaign

    db = Database(db_url)
    try:
        upgrade(db.engine)
        load_targets(db, Config.load(environ={}, home=workdir / "home", database_url=db_url, mirror=mirror_dir()))
        with db.session() as s:
            for key, values in receptors.items():
                tid = s.scalar(select(Target.id).where(Target.key == key))
                s.add(Receptor(target_id=tid, **values))
        # distinct alkanes and alcohols: cheap, valid, each its own InChIKey
        add_library(db, {f"bulk-{i}": "C" * (i // 2 + 1) + ("O" if i % 2 else "") for i in range(n_drugs)},
                    name="bulk-lib")
        return create_campaign(db, CampaignSpec(name="drill-bulk-write", targets=",".join(receptors),
                                                library="bulk-lib", params={"exhaustiveness": 1, "n_poses": POSES}))
    finally:
        db.dispose()


def feed(db_url: str, campaign_id: int, batch: int, seed: int = 0) -> tuple[int, int]:
    """Write a synthetic result for every (receptor, drug) of the campaign not stored yet, *batch*
    per transaction, as a campaign client would: (results written, transactions)."""
    from sqlalchemy import select

    from bench.drills._results import synthetic_outcome
    from dockdb.db import Database
    from dockdb.models import CampaignDrug, CampaignReceptor
    from jobs.writer import ResultWriter

    db = Database(db_url)
    try:
        w = ResultWriter(db, campaign_id)
        with db.session() as s:
            recs = list(s.scalars(select(CampaignReceptor.receptor_id).where(
                CampaignReceptor.campaign_id == campaign_id).order_by(CampaignReceptor.receptor_id)))
            drugs = list(s.scalars(select(CampaignDrug.drug_id).where(
                CampaignDrug.campaign_id == campaign_id).order_by(CampaignDrug.drug_id)))
        existing = w.existing_keys()
        todo = [(r, d) for d in drugs for r in recs if (r, d) not in existing]
        rng = random.Random(seed)
        written = 0
        for i in range(0, len(todo), batch):
            written += len(w.write_many([synthetic_outcome(r, d, rng, POSES) for r, d in todo[i : i + batch]]))
        return written, w.transactions
    finally:
        db.dispose()


def _open_write(admin: Any, app: str) -> bool:
    """True while the client *app* has an open transaction that has written rows (an xid, not committed)."""
    from sqlalchemy import text

    with admin.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :app AND backend_xid IS NOT NULL "
            "AND state IN ('active', 'idle in transaction')"), {"app": app}).scalar_one())


def drill(db_url: str, workdir: Path, receptors: dict[str, dict[str, Any]] | None = None, batch: int = 100,
          n_drugs: int = 200) -> Verdict:
    from sqlalchemy import create_engine

    from dockdb.db import Database

    v = Verdict(NAME)
    if not db_url.startswith("postgresql"):
        v.problems.append("this drill watches PostgreSQL's pg_stat_activity; give a postgresql:// URL")
        return v
    if receptors is None:
        receptors = prepare_receptors(workdir / "receptors", mirror_dir())
    cid = _setup(db_url, workdir, receptors, n_drugs)
    total = len(receptors) * n_drugs
    app = f"dockdb-drill-{uuid.uuid4().hex[:8]}"
    client_url = f"{db_url}{'&' if '?' in db_url else '?'}application_name={app}"
    admin = create_engine(db_url)
    db = Database(db_url)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--feed", client_url, str(cid), "--batch", str(batch)]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        caught = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            # past one and a half batches: a client writing one result per transaction is caught with a
            # count that is not whole batches; a bulk writer has committed two and is inside its third
            if n_results(db, cid) >= batch * 3 // 2 and _open_write(admin, app):
                os.kill(proc.pid, signal.SIGKILL)
                caught = True
                break
            time.sleep(0.005)
        proc.wait()
        if not caught:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            v.problems.append(f"the client ended (exit {proc.returncode}) before a bulk transaction was caught open"
                              f"{': ' + err.splitlines()[-1][:200] if err else ''}")
            return v
        # the server rolls the killed client's transaction back once it sees the socket close
        while _open_write(admin, app) and time.monotonic() < deadline:
            time.sleep(0.05)
        before = n_results(db, cid)
        if before % batch or not batch <= before < total:
            v.problems.append(f"{before} results stored at the kill: not whole batches of {batch} below {total}")
        expected_now = {"done": before, "failed": 0, "skipped": 0}
        v.problems += [f"at the kill: {p}" for p in campaign_problems(db, cid, expected_now, POSES)]
        written, transactions = feed(db_url, cid, batch, seed=1)
        if written != total - before:
            v.problems.append(f"the resume wrote {written} results, expected only the {total - before} missing")
        if transactions != -(-written // batch):
            v.problems.append(f"the resume used {transactions} transactions for {written} results in batches "
                              f"of {batch}: not bulk writes")
        v.problems += campaign_problems(db, cid, {"done": total, "failed": 0, "skipped": 0}, POSES)
        v.details = {"stored_at_kill": before, "batch": batch, "total": total, "resumed": written,
                     "resume_transactions": transactions}
        v.summary = (f"client SIGKILLed inside a bulk transaction with {before}/{total} results committed "
                     f"({before // batch} batches of {batch}; the open one left nothing); the resume wrote the "
                     f"{written} missing in {transactions} transactions; {total} results, 0 duplicates, "
                     "0 partial pose sets")
    finally:
        db.dispose()
        admin.dispose()
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=100, help="results per write transaction")
    ap.add_argument("--drugs", type=int, default=200, help="library size (x 2 receptors = results)")
    ap.add_argument("--backend", choices=("postgres",), default="postgres", help="PostgreSQL only")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/dockdb-drills"))
    ap.add_argument("--feed", nargs=2, metavar=("URL", "CAMPAIGN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.feed:  # the client process the drill kills
        written, transactions = feed(args.feed[0], int(args.feed[1]), args.batch)
        print(f"wrote {written} results in {transactions} transactions")
        return 0

    def build(a: argparse.Namespace) -> Verdict:
        with postgres_schema() as url:
            return drill(url, a.workdir, batch=a.batch, n_drugs=a.drugs)

    return run_script(NAME, build, ap, argv)


if __name__ == "__main__":
    sys.exit(main())
