"""Campaign scaling: dockings per second with 1 and 2 local Dask workers, and the overhead of
Dask plus database writes relative to the engine's own time.

    .venv/bin/python bench/bench_campaign_scaling.py [--drugs 6] [--targets tmprss2,3clpro]
        [--exhaustiveness 4] [--workers 1,2] [--database-url URL] [--json FILE]
    .venv/bin/python bench/bench_campaign_scaling.py --write-only \\
        --postgres-url postgresql://postgres@127.0.0.1:5432/test [--feed-s 600] [--write-batches 20,100,500] \\
        [--pose-index-variants]

A PostgreSQL --database-url / --postgres-url is a server: each run works in a fresh schema there
and drops it at the end, so the bench reruns on the same database and leaves nothing behind.

Targets come from the registry (data/targets.yaml via the ingest loader; DOCKDB_MIRROR or
../shared/data for the structures).  Receptors and ligands are prepared once before timing,
so each timed run measures docking, Dask scheduling and result writing only.

Definitions (per run, W workers, wall = first submission to last result written):
  engine_s    sum over dockings of the Vina time (search + its share of the map set-up)
  analysis_s  sum of the interaction analysis (ProLIF) of the best pose, done on the workers
  overhead    1 - (engine_s + analysis_s) / (W * wall): worker time not spent in science,
              i.e. Dask scheduling, data transfer, idle tails and waiting for the writer, and
              on a machine with fewer free cores than workers + 1, waiting for a CPU
  efficiency  rate(W) / (W * rate(1))
  CPU accounting (what Dask and the database consume, whatever the cores; the run uses its own
  LocalCluster of W processes x 1 thread, as `dockdb campaign run` does, reached by address):
  science_cpu_s  worker process CPU inside the engine calls and the interaction analysis
  client_cpu_s   this process: Dask scheduler, client, result writer (SQLite writes included;
                 a PostgreSQL server's own CPU is not)
  worker_other   worker process CPU outside the science: Dask worker, transfers, (de)serialising
  idle_*_pct     Dask's own CPU, % of a core, in this process and per worker, over IDLE_S seconds
                 with the cluster up and nothing to run (measured before each run)
  cpu_overhead   (client_cpu_s + worker_other + in_tasks) / (science_cpu_s - in_tasks), where
                 in_tasks = idle worker rate x task wall time estimates the worker's own Dask
                 threads while a task runs (process CPU cannot tell them from Vina's threads)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dockdb.db import Database

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
    from bench.drills._campaign import add_library
    from dockdb.config import Config
    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from ingest.common import SourceReport
    from ingest.targets import ingest_targets
    from jobs.ligands import store_ligand
    from jobs.receptors import ensure_receptor
    from jobs.tasks import prepare_ligand_task

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


IDLE_S = 10.0  # seconds the cluster idles before each run, to measure Dask's own CPU


def _cpu_s() -> float:
    """CPU seconds (user + system) of the calling process, all its threads."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _run(url: str, name: str, targets: list[str], workers: int, params: dict, seed: int,
         dask_settings: str = "campaign") -> dict:
    from dask import config as dask_config
    from distributed import Client

    from dockdb.db import Database
    from jobs.campaign import CampaignSpec, create_campaign
    from jobs.cluster import campaign_dask_config, start_local_cluster
    from jobs.run import RunOptions, run_campaign

    db = Database(url)
    cid = create_campaign(db, CampaignSpec(name=name, targets=",".join(targets), library="bench",
                                           params=params, seed=seed))
    # the cluster open_cluster gives `--local-workers W`, started here so the workers' CPU can be read;
    # "default": Dask's own settings instead of the campaign's (jobs.cluster.CAMPAIGN_DASK)
    settings = campaign_dask_config() if dask_settings == "campaign" else {}
    with dask_config.set(settings), start_local_cluster(workers)[0] as cluster, Client(cluster) as probe:
        # Dask's own CPU while nothing runs: per second, this process and each worker
        i0, iw0, t_idle = _cpu_s(), probe.run(_cpu_s), time.perf_counter()
        time.sleep(IDLE_S)
        i1, iw1, t_idle = _cpu_s(), probe.run(_cpu_s), time.perf_counter() - t_idle
        idle_client, idle_worker = (i1 - i0) / t_idle, sum(iw1[a] - iw0[a] for a in iw1) / len(iw1) / t_idle
        w0, c0 = probe.run(_cpu_s), _cpu_s()
        summary = run_campaign(db, cid, RunOptions(scheduler=cluster.scheduler_address, progress=False,
                                                   batch_size=1))
        c1, w1 = _cpu_s(), probe.run(_cpu_s)
    db.dispose()
    wall = summary.seconds
    busy = summary.engine_s + summary.extra_s
    client_cpu = c1 - c0
    worker_cpu = sum(w1[a] - w0[a] for a in w1 if a in w0)
    worker_other = worker_cpu - summary.cpu_s
    # the science CPU is process CPU during the tasks (Vina searches on threads of its own), so it
    # includes the worker's own Dask threads meanwhile; estimated at their idle rate and moved over
    in_tasks = idle_worker * (summary.engine_s + summary.extra_s)
    science = summary.cpu_s - in_tasks
    dask_db = client_cpu + worker_other + in_tasks
    return {
        "workers": workers,
        "dask": dask_settings,
        "dockings": summary.done + summary.failed,
        "failed": summary.failed,
        "wall_s": round(wall, 2),
        "dockings_per_s": round(summary.rate, 4),
        "engine_s": round(summary.engine_s, 2),
        "analysis_s": round(summary.extra_s, 2),
        "db_write_s": round(summary.write_s, 3),
        "overhead": round(1 - busy / (workers * wall), 4) if wall else None,
        "write_share": round(summary.write_s / summary.engine_s, 4) if summary.engine_s else None,
        "science_cpu_s": round(summary.cpu_s, 2),
        "client_cpu_s": round(client_cpu, 2),
        "worker_other_cpu_s": round(worker_other, 2),
        "idle_client_pct": round(100 * idle_client, 2),
        "idle_worker_pct": round(100 * idle_worker, 2),
        "cpu_overhead": round(dask_db / science, 4) if science > 0 else None,
    }


# ---------------------------------------------------------------- result writes (--write-only)


def _write_setup(url: str, n_receptors: int, n_drugs: int) -> tuple[list[int], list[int]]:
    """A migrated scratch database with one target, *n_receptors* receptor rows and *n_drugs* drugs."""
    import uuid

    from dockdb.db import Database
    from dockdb.migrate import upgrade
    from dockdb.models import Drug, Receptor, Target

    db = Database(url)
    upgrade(db.engine)
    tag = uuid.uuid4().hex[:10]
    with db.session() as s:
        target = Target(key=f"write-bench-{tag}", name="write bench")
        s.add(target)
        s.flush()
        recs = [Receptor(target_id=target.id, input_hash=f"{tag}-{i}", protocol_version="bench", pdb="", pdbqt="")
                for i in range(n_receptors)]
        drugs = [Drug(name=f"d{i}", name_lower=f"d{i}", smiles="C", inchikey=f"{tag}{i:017d}"[:27])
                 for i in range(n_drugs)]
        s.add_all([*recs, *drugs])
        s.flush()
        out = [r.id for r in recs], [d.id for d in drugs]
    db.dispose()
    return out


def _campaign(db: object) -> int:
    from dockdb.models import Campaign

    with db.session() as s:  # type: ignore[attr-defined]
        c = Campaign(name=f"write-bench-{time.time_ns()}", engine="vina", seed=1)
        s.add(c)
        s.flush()
        return int(c.id)


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


BEFORE_REV = "5af9e74"  # the last commit with the one-transaction-per-result writer
BULK_BEFORE_REV = "c50544b"  # the last commit with the first bulk writer (SQLAlchemy upsert, text COPY)


def _writer_at(rev: str, tmp: Path) -> type | None:
    """``ResultWriter`` of jobs/writer.py as it was at git revision *rev* (None without git)."""
    import importlib.util
    import subprocess

    try:
        src = subprocess.run(["git", "show", f"{rev}:jobs/writer.py"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"no writer at {rev} ({e}); the 'before' row is left out", file=sys.stderr)
        return None
    path = tmp / f"writer_{rev}.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location(f"writer_{rev}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.ResultWriter


POSE_INDEX = "ix_pose_result_id"  # dropped by migration 0006: redundant with uq_pose_result_id_rank


def _set_pose_index(db: Database, present: bool | None, analyze: bool) -> None:
    """Create or drop :data:`POSE_INDEX` on ``pose`` (the schema variant a run writes into; None:
    leave it), then with *analyze* refresh the planner's statistics of ``pose``."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        if present is not None:
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {POSE_INDEX} ON pose (result_id)" if present
                              else f"DROP INDEX IF EXISTS {POSE_INDEX}"))
        if analyze:
            conn.execute(text("ANALYZE pose"))


class _BackendCpu:
    """CPU seconds (user + system) of the PostgreSQL backends behind *engine*'s connections, read
    from /proc: ``None`` where the server is not on this host, or the backend is SQLite."""

    def __init__(self, engine: Engine) -> None:
        from sqlalchemy import event

        self.pids: set[int] = set()
        if engine.dialect.name == "postgresql":
            event.listen(engine, "connect", self._remember)

    def _remember(self, dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SELECT pg_backend_pid()")
        self.pids.add(int(cur.fetchone()[0]))
        cur.close()

    def seconds(self) -> float | None:
        total = 0
        for pid in self.pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK") if self.pids else None


def write_rates(url: str, n: int, poses: int, batches: list[int], repeats: int, before: type | None,
                rev: str = BEFORE_REV, bulk_before: type | None = None, bulk_rev: str = BULK_BEFORE_REV,
                index_variants: bool = False, analyze: bool = False) -> list[dict]:
    """Results/s written by one writer, side by side: the writer of *rev* (one transaction per
    result, plain INSERTs), today's ``write`` (one per transaction), and ``write_many`` with each
    batch size, by the writer of *bulk_rev* (when given) and by today's; the modes alternate
    *repeats* times, each on fresh keys of a new campaign.  Besides the rate, each mode's client
    CPU time (this process) per result, so a run on a shared machine shows where time went, and
    on a local PostgreSQL server its backends' CPU per result.  With *index_variants*, each mode
    runs twice in a row, on ``pose`` with and without :data:`POSE_INDEX` (same writer, same data;
    which goes first swaps every repeat): the schema change of migration 0006, measured alone.
    With *analyze*, ``ANALYZE pose`` before each run (a server without autovacuum never does)."""
    import dataclasses
    import itertools
    import random
    import statistics

    from bench.drills._results import synthetic_outcome
    from dockdb.db import Database
    from jobs.writer import ResultWriter

    modes: list[tuple[str, int]] = ([(f"before ({rev}): 1 per transaction", 1)] if before else [])
    modes += [("now: 1 per transaction", 1)]
    for b in batches:
        modes += ([(f"before ({bulk_rev}): bulk {b} per transaction", b)] if bulk_before else [])
        modes += [(f"now: bulk {b} per transaction", b)]
    variants: list[bool | None] = [True, False] if index_variants else [None]
    runs = [(f"{m}, {'with' if v else 'without'} {POSE_INDEX}" if v is not None else m, size, v)
            for m, size in modes for v in variants]
    n_rec = max(1, -(-n // 500))
    recs, drugs = _write_setup(url, n_rec, 500)
    keys = list(itertools.product(recs, drugs))[:n]
    rng = random.Random(7)
    templates = [synthetic_outcome(0, 0, rng, poses) for _ in range(50)]
    outcomes = [dataclasses.replace(templates[i % len(templates)], receptor_id=r, drug_id=d)
                for i, (r, d) in enumerate(keys)]
    mb = sum(len(p.pdbqt) + len(p.sdf or "") for p in templates[0].poses) / 2**20
    db = Database(url)
    server = _BackendCpu(db.engine)
    rows: dict[str, list[float]] = {m: [] for m, _, _ in runs}
    cpu: dict[str, list[float]] = {m: [] for m, _, _ in runs}
    server_cpu: dict[str, list[float]] = {m: [] for m, _, _ in runs}
    try:
        for rep in range(repeats):
            # each mode's two schema variants in a row, which goes first swapped every other repeat
            order = [runs[k ^ 1] for k in range(len(runs))] if index_variants and rep % 2 else runs
            for m, size, index in order:
                _set_pose_index(db, index, analyze)
                cid = _campaign(db)
                s0 = server.seconds()
                t0, c0 = time.perf_counter(), time.process_time()
                writer = (bulk_before if size > 1 else before) if m.startswith("before") else ResultWriter
                w = writer(db, cid)  # type: ignore[misc]
                if size == 1:
                    for o in outcomes:
                        w.write(o)
                else:
                    for i in range(0, len(outcomes), size):
                        w.write_many(outcomes[i : i + size])
                rows[m].append(len(outcomes) / (time.perf_counter() - t0))
                cpu[m].append(1000 * (time.process_time() - c0) / len(outcomes))
                s1 = server.seconds()
                if s0 is not None and s1 is not None:
                    server_cpu[m].append(1000 * (s1 - s0) / len(outcomes))
    finally:
        db.dispose()
    backend = url.split(":")[0].split("+")[0]
    base = max(rows[runs[0][0]])
    return [{"backend": backend, "mode": m, "results": n, "poses_per_result": poses,
             "results_per_s": round(max(rows[m]), 1), "median_per_s": round(statistics.median(rows[m]), 1),
             "all_runs": [round(x, 1) for x in rows[m]],
             "vs_first": round(max(rows[m]) / base, 2), "text_mb_per_s": round(max(rows[m]) * mb, 1),
             "client_cpu_ms": round(min(cpu[m]), 2),
             "server_cpu_ms": round(min(server_cpu[m]), 2) if server_cpu[m] else None,
             "server_cpu_median_ms": round(statistics.median(server_cpu[m]), 2) if server_cpu[m] else None,
             "server_cpu_runs": [round(x, 2) for x in server_cpu[m]]}
            for m, _, _ in runs]


def memory_feed(url: str, seconds: float, rate: float, batch: int, poses: int = 9) -> dict:
    """Feed ``write_many`` *rate* results/s for *seconds* (every 0.1 s what arrived since): RSS
    of this process sampled every 5 s.  Keys cycle over 5,000 (receptor, drug) pairs, so the
    database stays bounded while every write still replaces a whole pose set."""
    import dataclasses
    import itertools
    import random

    from bench.drills._results import synthetic_outcome
    from dockdb.db import Database
    from jobs.writer import ResultWriter

    recs, drugs = _write_setup(url, 10, 500)
    keys = itertools.cycle(list(itertools.product(recs, drugs)))
    rng = random.Random(11)
    templates = [synthetic_outcome(0, 0, rng, poses) for _ in range(50)]
    db = Database(url)
    w = ResultWriter(db, _campaign(db))
    samples: list[tuple[float, float]] = []
    written = 0
    lag_max = 0.0
    t0 = time.perf_counter()
    next_sample = 0.0
    try:
        while (now := time.perf_counter() - t0) < seconds:
            due = int(now * rate) - written
            if due > 0:
                arrived = [dataclasses.replace(templates[(written + i) % 50], receptor_id=r, drug_id=d)
                           for i, (r, d) in zip(range(min(due, batch)), keys, strict=False)]
                written += len(w.write_many(arrived))
                lag_max = max(lag_max, due / rate)
            if now >= next_sample:
                samples.append((round(now, 1), round(_rss_mb(), 1)))
                next_sample += 5.0
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0 - now)))
    finally:
        db.dispose()
    warm = [mb for t, mb in samples if t >= min(30.0, seconds / 4)] or [samples[-1][1]]
    return {"backend": url.split(":")[0].split("+")[0], "seconds": seconds, "rate": rate,
            "results": written, "achieved_per_s": round(written / (time.perf_counter() - t0), 1),
            "max_backlog_s": round(lag_max, 2), "rss_start_mb": warm[0], "rss_end_mb": warm[-1],
            "rss_max_mb": max(warm), "rss_first_sample_mb": samples[0][1], "samples": samples}


def _server(url: str) -> str:
    """*url* with DockDB's PostgreSQL driver named (for engines created outside dockdb.db)."""
    return "postgresql+psycopg2://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


def _write_only(args: argparse.Namespace, tmp: Path) -> None:
    from bench.drills._common import postgres_schema

    batches = [int(x) for x in args.write_batches.split(",") if x]
    before = _writer_at(args.before_rev, tmp) if args.before_rev else None
    bulk_before = _writer_at(args.bulk_before_rev, tmp) if args.bulk_before_rev else None
    urls = [] if args.skip_sqlite else [args.database_url or f"sqlite:///{tmp / 'write.sqlite'}"]
    load0 = os.getloadavg()
    out: dict[str, list[dict]] = {"rates": [], "feeds": []}
    for url in urls:
        out["rates"] += write_rates(url, args.write_results, 9, batches, args.repeats, before,
                                    args.before_rev, bulk_before, args.bulk_before_rev, args.pose_index_variants,
                                    args.analyze)
        if args.feed_s:
            out["feeds"].append(memory_feed(url, args.feed_s, args.feed_rate, max(batches)))
    if args.postgres_url:  # a fresh schema each run: rerunnable on the same database, nothing left behind
        with postgres_schema(_server(args.postgres_url), prefix="write_bench") as url:
            out["rates"] += write_rates(url, args.write_results, 9, batches, args.repeats, before,
                                        args.before_rev, bulk_before, args.bulk_before_rev,
                                        args.pose_index_variants, args.analyze)
            if args.feed_s:
                out["feeds"].append(memory_feed(url, args.feed_s, args.feed_rate, max(batches)))
    load1 = os.getloadavg()
    print(f"\nresult writes: {args.write_results} results x 9 poses (~8 kB of PDBQT + SDF text each), one "
          f"ResultWriter; host {os.cpu_count()} CPUs, load average {load0[0]:.1f} before, {load1[0]:.1f} after")
    cols = ("backend", "mode", "results_per_s", "median_per_s", "vs_first", "text_mb_per_s", "client_cpu_ms",
            "server_cpu_ms", "server_cpu_median_ms", "all_runs", "server_cpu_runs")
    print("| " + " | ".join(cols) + " |")
    for r in out["rates"]:
        print("| " + " | ".join(f"{r[c]!s}" for c in cols) + " |")
    by_mode = {(r["backend"], r["mode"]): r for r in out["rates"]}
    for r in out["rates"]:  # each bulk size: the earlier bulk writer beside today's, from the same run
        old = by_mode.get((r["backend"], r["mode"].replace("now:", f"before ({args.bulk_before_rev}):")))
        if r["mode"].startswith("now: bulk") and old:
            print(f"{r['backend']} {r['mode'][5:]}: {old['results_per_s']}/s before ({args.bulk_before_rev}) -> "
                  f"{r['results_per_s']}/s now ({r['results_per_s'] / old['results_per_s']:.2f}x); client CPU "
                  f"{old['client_cpu_ms']} -> {r['client_cpu_ms']} ms per result")
    for r in out["rates"]:  # each mode: the pose table with ix_pose_result_id beside the one without
        old = by_mode.get((r["backend"], r["mode"].replace(f"without {POSE_INDEX}", f"with {POSE_INDEX}")))
        if r["mode"].endswith(f"without {POSE_INDEX}") and old:
            print(f"{r['backend']} {r['mode'].rsplit(',', 1)[0]}: median {old['median_per_s']}/s with {POSE_INDEX}"
                  f" -> {r['median_per_s']}/s without ({r['median_per_s'] / old['median_per_s']:.2f}x; best "
                  f"{old['results_per_s']} -> {r['results_per_s']}); backend CPU median "
                  f"{old['server_cpu_median_ms']} -> {r['server_cpu_median_ms']} ms per result")
    for f in out["feeds"]:
        print(f"memory feed {f['backend']}: {f['results']} results in {f['seconds']:.0f} s at {f['rate']:.0f}/s "
              f"asked, {f['achieved_per_s']}/s achieved, max backlog {f['max_backlog_s']} s; RSS "
              f"{f['rss_start_mb']} MB after warm-up -> {f['rss_end_mb']} MB at the end (max {f['rss_max_mb']})")
    if args.json:
        Path(args.json).write_text(json.dumps({**out, "load_avg_before": load0, "load_avg_after": load1}, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--drugs", type=int, default=6)
    ap.add_argument("--targets", default="tmprss2,3clpro")
    ap.add_argument("--exhaustiveness", type=int, default=4)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dask-settings", default="campaign",
                    help="comma-separated: 'campaign' (jobs.cluster.CAMPAIGN_DASK, as dockdb runs) and/or "
                         "'default' (Dask's own settings); each worker count runs with each, side by side")
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--json", default=None, help="Write the results here as JSON.")
    ap.add_argument("--write-only", action="store_true", help="Only measure the result write rate.")
    ap.add_argument("--postgres-url", default=None,
                    help="Also measure writes on this PostgreSQL server (in a fresh schema, dropped afterwards).")
    ap.add_argument("--before-rev", default=BEFORE_REV,
                    help="--write-only: also time jobs/writer.py of this git revision ('' to skip).")
    ap.add_argument("--bulk-before-rev", default=BULK_BEFORE_REV,
                    help="--write-only: also time write_many of jobs/writer.py of this git revision ('' to skip).")
    ap.add_argument("--skip-sqlite", action="store_true", help="--write-only: PostgreSQL only.")
    ap.add_argument("--pose-index-variants", action="store_true",
                    help=f"--write-only: run each mode on the pose table with and then without {POSE_INDEX} "
                         "(the index migration 0006 drops), same writer and data.")
    ap.add_argument("--analyze", action="store_true",
                    help="--write-only: ANALYZE the pose table before each run (fresh planner statistics).")
    ap.add_argument("--write-results", type=int, default=1000, help="--write-only: results per mode.")
    ap.add_argument("--write-batches", default="20,100,500",
                    help="--write-only: bulk batch sizes to compare (a campaign writes up to 500 per transaction).")
    ap.add_argument("--repeats", type=int, default=2, help="--write-only: alternations of the modes (best kept).")
    ap.add_argument("--feed-s", type=float, default=600.0,
                    help="--write-only: seconds of the memory feed (0: none; the goal is stated for 600).")
    ap.add_argument("--feed-rate", type=float, default=200.0, help="--write-only: results/s of the memory feed.")
    args = ap.parse_args()
    bad = set(args.dask_settings.split(",")) - {"campaign", "default"}
    if bad:
        ap.error(f"--dask-settings: unknown {', '.join(sorted(bad))}; use campaign and/or default")
    targets = [t for t in args.targets.split(",") if t]
    tmp = Path(tempfile.mkdtemp(prefix="dockdb-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    if args.write_only:
        _write_only(args, tmp)
        return
    params = {"exhaustiveness": args.exhaustiveness, "n_poses": 5}
    rows: list[dict] = []
    with ExitStack() as stack:
        if url.startswith("postgresql"):
            from bench.drills._common import postgres_schema

            url = stack.enter_context(postgres_schema(_server(url), prefix="scaling_bench"))
        _setup(url, tmp, targets, args.drugs, args.seed)
        for w in (int(x) for x in args.workers.split(",")):
            for setting in args.dask_settings.split(","):
                rows.append(_run(url, f"bench-w{w}-{setting}-{int(time.time())}", targets, w, params, args.seed,
                                 setting))
                print(json.dumps(rows[-1]), file=sys.stderr)
    for r in rows:  # efficiency against the first 1-worker row of the same Dask settings
        one = next((o for o in rows if o["dask"] == r["dask"]), None)
        base = one["dockings_per_s"] / one["workers"] if one and one["dockings_per_s"] else None
        r["efficiency"] = round(r["dockings_per_s"] / (r["workers"] * base), 3) if base else None
    load = os.getloadavg()
    print(f"\n{len(targets)} targets x {args.drugs} drugs, Vina exhaustiveness {args.exhaustiveness}, "
          f"cpu=1 per docking; host {os.cpu_count()} CPUs, load average {load[0]:.1f}")
    cols = ("workers", "dask", "dockings", "wall_s", "dockings_per_s", "efficiency", "engine_s", "analysis_s",
            "db_write_s", "overhead", "science_cpu_s", "client_cpu_s", "worker_other_cpu_s", "idle_client_pct",
            "idle_worker_pct", "cpu_overhead")
    print(" | ".join(f"{c:>14}" for c in cols))
    for r in rows:
        print(" | ".join(f"{r[c]!s:>14}" for c in cols))
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "load_avg": load, "targets": targets,
                                               "drugs": args.drugs, "params": params}, indent=2))


if __name__ == "__main__":
    main()
