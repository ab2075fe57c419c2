"""Campaign scaling: dockings per second with 1 and 2 local Dask workers, and the overhead of
Dask plus database writes relative to the engine's own time.

    .venv/bin/python bench/bench_campaign_scaling.py [--drugs 6] [--targets tmprss2,3clpro]
        [--exhaustiveness 4] [--workers 1,2] [--database-url URL] [--json FILE]

Targets come from the registry (data/targets.yaml via the ingest loader; DOCKDB_MIRROR or
../shared/data for the structures).  Receptors and ligands are prepared once before timing,
so each timed run measures docking, Dask scheduling and result writing only.

Definitions (per run, W workers, wall = first submission to last result written):
  engine_s    sum over dockings of the Vina time (search + its share of the map set-up)
  analysis_s  sum of the interaction analysis (ProLIF) of the best pose, done on the workers
  overhead    1 - (engine_s + analysis_s) / (W * wall): worker time not spent in science,
              i.e. Dask scheduling, data transfer, idle tails and waiting for the writer
  efficiency  rate(W) / (W * rate(1))
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# Small approved drugs (public structures), 10-22 heavy atoms, few rotatable bonds.
DRUGS = {
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "acetylsalicylic acid": "CC(=O)Oc1ccccc1C(=O)O",
    "ibuprofen": "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O",
    "captopril": "C[C@H](CS)C(=O)N1CCC[C@H]1C(=O)O",
    "ribavirin": "NC(=O)c1ncn(n1)[C@@H]1O[C@H](CO)[C@@H](O)[C@H]1O",
    "niclosamide": "Oc1ccc(Cl)cc1C(=O)Nc1ccc(cc1Cl)[N+]([O-])=O",
    "amantadine": "NC12CC3CC(CC(C3)C1)C2",
    "isoniazid": "NNC(=O)c1ccncc1",
    "famotidine": "NC(N)=Nc1nc(CSCC/C(N)=N/S(N)(=O)=O)cs1",
    "baricitinib": "CCS(=O)(=O)N1CC(CC#N)(C1)n1cc(cn1)-c1ncnc2[nH]ccc12",
}


def _setup(url: str, home: Path, targets: list[str], n_drugs: int, seed: int) -> None:
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from ingest.common import SourceReport
    from ingest.targets import ingest_targets
    from jobs.ligands import store_ligand
    from jobs.receptors import ensure_receptor
    from jobs.tasks import prepare_ligand_task
    from tests.jobs.conftest import add_library

    mirror = os.environ.get("DOCKDB_MIRROR") or str(REPO.parent / "shared" / "data")
    config = Config.load(environ={}, home=home, database_url=url, mirror=mirror)
    db = Database(url)
    upgrade(db.engine)
    with db.session() as s:
        ingest_targets(s, config, SourceReport("targets"))
    drugs = dict(list(DRUGS.items())[:n_drugs])
    add_library(db, drugs, name="bench")
    for key in targets:
        t0 = time.perf_counter()
        ensure_receptor(db, key)
        print(f"receptor {key}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    from dockdb.models import Drug

    with db.session() as s:
        rows = [(d.id, d.smiles) for d in s.query(Drug).order_by(Drug.id)]
    for drug_id, smiles in rows:
        prep = prepare_ligand_task(drug_id, smiles, seed)
        with db.session() as s:
            store_ligand(s, prep)
    db.dispose()


def _run(url: str, name: str, targets: list[str], workers: int, params: dict, seed: int) -> dict:
    from dockdb.db import Database
    from jobs.campaign import CampaignSpec, create_campaign
    from jobs.run import RunOptions, run_campaign

    db = Database(url)
    cid = create_campaign(db, CampaignSpec(name=name, targets=",".join(targets), library="bench",
                                           params=params, seed=seed))
    summary = run_campaign(db, cid, RunOptions(local_workers=workers, progress=False, batch_size=1))
    db.dispose()
    wall = summary.seconds
    busy = summary.engine_s + summary.extra_s
    return {
        "workers": workers,
        "dockings": summary.done + summary.failed,
        "failed": summary.failed,
        "wall_s": round(wall, 2),
        "dockings_per_s": round(summary.rate, 4),
        "engine_s": round(summary.engine_s, 2),
        "analysis_s": round(summary.extra_s, 2),
        "db_write_s": round(summary.write_s, 3),
        "overhead": round(1 - busy / (workers * wall), 4) if wall else None,
        "write_share": round(summary.write_s / summary.engine_s, 4) if summary.engine_s else None,
    }


def write_rate(url: str, n: int = 300, poses: int = 9) -> dict:
    """Results (each with *poses* poses of realistic size) written per second by one ResultWriter."""
    from dockdb.db import Database
    from dockdb.models import Campaign, Drug, Receptor, Target
    from jobs.writer import DockingOutcome, PoseRecord, ResultWriter

    db = Database(url)
    with db.session() as s:
        target = s.query(Target).first()
        rec = Receptor(target_id=target.id, input_hash=f"w{time.time()}", protocol_version="bench", pdb="",
                       pdbqt="")
        c = Campaign(name=f"write-bench-{time.time()}", engine="vina", seed=1)
        s.add_all([rec, c])
        s.flush()
        drug_ids = [d.id for d in s.query(Drug).order_by(Drug.id)]
        cid, rid = c.id, rec.id
    pdbqt, sdf = "ATOM" + " " * 75 + "\n" * 1, "x" * 60
    pose_pdbqt, pose_sdf = pdbqt * 40, (sdf + "\n") * 60  # ~3 kB PDBQT, ~4 kB SDF per pose
    w = ResultWriter(db, cid)
    t0 = time.perf_counter()
    for i in range(n):
        rid_i = rid
        o = DockingOutcome(rid_i, drug_ids[i % len(drug_ids)], "done", runtime_s=1.0, ligand_smiles="C",
                           poses=[PoseRecord(rank=k + 1, score=-7.0 + k / 10, pdbqt=pose_pdbqt, sdf=pose_sdf,
                                             score_terms={"inter": -7.0}, interactions=[{"type": "HBDonor"}])
                                  for k in range(poses)])
        w.write(o)  # the same few keys again and again: upserts replacing whole pose sets
    wall = time.perf_counter() - t0
    db.dispose()
    return {"backend": url.split(":")[0], "results": n, "poses_per_result": poses,
            "results_per_s": round(n / wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drugs", type=int, default=6)
    ap.add_argument("--targets", default="tmprss2,3clpro")
    ap.add_argument("--exhaustiveness", type=int, default=4)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--json", default=None, help="Write the results here as JSON.")
    ap.add_argument("--write-only", action="store_true", help="Only measure the result write rate.")
    ap.add_argument("--postgres-url", default=None, help="Also measure the write rate on this PostgreSQL.")
    args = ap.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    tmp = Path(tempfile.mkdtemp(prefix="dockdb-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    if args.write_only:
        _setup(url, tmp, [], args.drugs, args.seed)
        rates = [write_rate(url)]
        if args.postgres_url:
            _setup(args.postgres_url, tmp, [], args.drugs, args.seed)
            rates.append(write_rate(args.postgres_url))
        for r in rates:
            print(json.dumps(r))
        return
    _setup(url, tmp, targets, args.drugs, args.seed)
    params = {"exhaustiveness": args.exhaustiveness, "n_poses": 5}
    rows = []
    for w in (int(x) for x in args.workers.split(",")):
        rows.append(_run(url, f"bench-w{w}-{int(time.time())}", targets, w, params, args.seed))
        print(json.dumps(rows[-1]), file=sys.stderr)
    base = rows[0]["dockings_per_s"] / rows[0]["workers"] if rows and rows[0]["dockings_per_s"] else None
    for r in rows:
        r["efficiency"] = round(r["dockings_per_s"] / (r["workers"] * base), 3) if base else None
    load = os.getloadavg()
    print(f"\n{len(targets)} targets x {args.drugs} drugs, Vina exhaustiveness {args.exhaustiveness}, "
          f"cpu=1 per docking; host {os.cpu_count()} CPUs, load average {load[0]:.1f}")
    cols = ("workers", "dockings", "wall_s", "dockings_per_s", "efficiency", "engine_s", "analysis_s",
            "db_write_s", "overhead")
    print(" | ".join(f"{c:>14}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]!s:>14}" for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "load_avg": load, "targets": targets,
                                               "drugs": args.drugs, "params": params}, indent=2))


if __name__ == "__main__":
    main()
