"""Running a campaign on Dask: the graph, writing results as they arrive, progress, the summary.

The graph of one run: each receptor is loaded once, each missing ligand prepared once (and
cached), then dockings run in batches per receptor sized for the engine.  Only
(receptor, drug) pairs with no stored result are submitted, so running a campaign again after
a crash finishes exactly what is missing.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import CampaignError, one_line
from dockdb.models import Campaign, CampaignDrug, CampaignReceptor, Drug, Pocket, Receptor, Target
from dockdb.models.base import utcnow
from jobs.campaign import get_campaign, is_live, result_counts, runner_id
from jobs.cluster import ClusterHandle, open_cluster
from jobs.ligands import cached_ligands, ligand_protocol, store_ligand
from jobs.scoring import compute_size_scores
from jobs.tasks import LigandPrep, ReceptorInput, dock_batch, prepare_ligand_task
from jobs.writer import DockingOutcome, ResultWriter, with_db_retry

__all__ = ["HEARTBEAT_S", "RunOptions", "RunSummary", "run_campaign"]

HEARTBEAT_S = 5.0
WRITE_BATCH = 500  # results per write transaction at most (~30 MB of poses)
log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    """How to run a campaign: which Dask cluster (local, scheduler or Slurm), progress, retries, batch size."""
    local_workers: int | None = None
    scheduler: str | None = None
    slurm: str | None = None
    home: Path | None = None
    progress: bool = True
    max_attempts: int = 3
    batch_size: int | None = None
    retry_failed: bool = False
    with_interactions: bool = True
    interaction_poses: int = 20
    db_max_wait_s: float = 600.0


@dataclass
class RunSummary:
    """What one run of a campaign did: dockings to do, done, failed and skipped, time, cluster and stored totals."""
    campaign_id: int
    name: str
    total: int
    todo: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    engine_s: float = 0.0
    extra_s: float = 0.0
    cpu_s: float = 0.0  # worker process CPU spent in the engine and the analysis (bench/bench_campaign_scaling.py)
    write_s: float = 0.0
    workers: int = 0
    cluster: str = ""
    status: str = ""
    cancelled: bool = False
    stored: dict[str, int] = field(default_factory=dict)
    size_scored: int = 0  # results given size-aware scores when the run finished (jobs.scoring)

    @property
    def rate(self) -> float:
        """Dockings finished (done or failed) per second of the run."""
        return (self.done + self.failed) / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 everything done, 3 nothing done, 4 partly done (some failed, missing or cancelled).
        The campaign's stored results count, not only this run's: a resume that docks the rest
        of a campaign whose earlier run stored failures ends partial, as its status says."""
        failed = max(self.failed, self.stored.get("failed", 0))
        if self.todo == 0:
            return 0 if failed == 0 else 4
        if self.done == 0:
            return 3
        missing = self.total - sum(self.stored.values())
        return 0 if failed == 0 and missing == 0 and not self.cancelled else 4

    def line(self) -> str:
        """The run as one summary line (or 'nothing to do' with the stored counts)."""
        if self.todo == 0:
            return (f"campaign {self.campaign_id} ({self.name}): nothing to do, all {self.total} dockings stored "
                    f"({self.stored.get('done', 0)} done, {self.stored.get('failed', 0)} failed)")
        tail = " (cancelled)" if self.cancelled else ""
        return (
            f"campaign {self.campaign_id} ({self.name}): {self.done} done, {self.failed} failed, "
            f"{self.skipped} skipped in {self.seconds:.1f} s ({self.rate:.3f} dockings/s on {self.cluster}); "
            f"stored {sum(self.stored.values())}/{self.total}, status {self.status}{tail}"
        )


@dataclass
class _Plan:
    campaign_id: int
    name: str
    engine: str
    params: dict[str, Any]
    seed: int
    receptors: dict[int, ReceptorInput]
    drugs: dict[int, str]
    todo: list[tuple[int, int]]
    total: int


def _plan(db: Database, campaign_id: int | str, retry_failed: bool) -> _Plan:
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        if is_live(c) and c.runner != runner_id():
            raise CampaignError(
                f"campaign {c.id} is being run by {c.runner} (heartbeat within the last minute); "
                "wait for it, or `dockdb campaign cancel` it first"
            )
        receptors: dict[int, ReceptorInput] = {}
        for rec, pocket in s.execute(
            select(Receptor, Pocket)
            .join(CampaignReceptor, CampaignReceptor.receptor_id == Receptor.id)
            .join(Pocket, CampaignReceptor.pocket_id == Pocket.id)
            .join(Target, Target.id == Receptor.target_id)
            .where(CampaignReceptor.campaign_id == c.id)
            .order_by(Target.id)
        ):
            receptors[rec.id] = ReceptorInput(rec.id, rec.pdbqt, rec.pdb, pocket.center, pocket.size)
        drugs = dict(
            s.execute(
                select(Drug.id, Drug.smiles)
                .join(CampaignDrug, CampaignDrug.drug_id == Drug.id)
                .where(CampaignDrug.campaign_id == c.id)
                .order_by(Drug.id)
            ).all()
        )
        plan = _Plan(c.id, c.name, c.engine, dict(c.params or {}), c.seed, receptors, drugs, [],
                     len(receptors) * len(drugs))
    writer = ResultWriter(db, plan.campaign_id)
    existing = writer.existing_keys(("done", "skipped") if retry_failed else ("done", "failed", "skipped"))
    # drug-major order: every receptor sees the first drugs early, and each ligand is ready early
    plan.todo = [(r, d) for d in plan.drugs for r in plan.receptors if (r, d) not in existing]
    return plan


def _engine_traits(engine: str, params: dict[str, Any]) -> tuple[int, bool]:
    from docking.engines import get_engine

    eng = get_engine(engine, **params)
    return max(1, int(eng.preferred_batch)), bool(eng.uses_gpu)


def _work(plan: _Plan) -> dict[int, float]:
    """Each drug's estimated search work (:func:`docking.ligand.search_work`, from its SMILES)."""
    from docking.ligand import search_work

    return {d: search_work(plan.drugs[d]) for d in {d for _, d in plan.todo} if d in plan.drugs}


def _batches(plan: _Plan, engine_batch: int, n_workers: int,
             work: dict[int, float] | None = None) -> list[tuple[int, list[int]]]:
    """(receptor_id, [drug_id...]) batches: at most *engine_batch* ligands, enough to feed every worker.
    With ``work`` (:func:`_work`) each receptor's drugs are taken largest search first, so a batch
    holds ligands of similar size: a batched engine pays for a batch's longest search in every
    slot (docs/benchmarks.md, "Campaign batches by search size"), and the longest tasks start first."""
    per_receptor: dict[int, list[int]] = {}
    for r, d in plan.todo:
        per_receptor.setdefault(r, []).append(d)
    if work is not None:
        for drugs in per_receptor.values():
            drugs.sort(key=lambda d: -work.get(d, 0.0))  # stable: equal estimates keep the plan's order
    size = max(1, min(engine_batch, math.ceil(len(plan.todo) / max(1, n_workers))))
    out: list[tuple[int, list[int]]] = []
    for r, drugs in per_receptor.items():
        out.extend((r, drugs[i : i + size]) for i in range(0, len(drugs), size))
    return out


class _Heartbeat(threading.Thread):
    """Stamps the campaign's heartbeat; notices a `campaign cancel` from another process."""

    def __init__(self, db: Database, campaign_id: int, on_cancel: Callable[[], None],
                 on_beat: Callable[[], None] | None = None) -> None:
        super().__init__(name=f"dockdb-heartbeat-{campaign_id}", daemon=True)
        self.db, self.campaign_id, self.on_cancel, self.on_beat = db, campaign_id, on_cancel, on_beat
        self.stop_event = threading.Event()
        self.cancelled = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(HEARTBEAT_S):
            if self.on_beat is not None:
                try:
                    self.on_beat()
                except Exception as e:  # e.g. sbatch refused a replacement job: try again next beat
                    log.warning("could not keep the cluster up: %s", one_line(e))
            try:
                with Session(self.db.engine) as s, s.begin():
                    status = s.scalar(select(Campaign.status).where(Campaign.id == self.campaign_id))
                    if status == "cancelled":
                        self.cancelled.set()
                    else:
                        s.execute(update(Campaign).where(Campaign.id == self.campaign_id)
                                  .values(heartbeat_at=utcnow()))
            except Exception as e:  # a lost database pauses the heartbeat, not the run
                log.warning("heartbeat skipped: %s", type(e).__name__)
                continue
            if self.cancelled.is_set():
                self.on_cancel()
                return


def _set_campaign(db: Database, campaign_id: int, **values: Any) -> None:
    def fn(s: Session) -> None:
        s.execute(update(Campaign).where(Campaign.id == campaign_id).values(**values))

    with_db_retry(db, fn)


def _final_status(stored: dict[str, int], total: int, cancelled: bool) -> str:
    if cancelled:
        return "cancelled"
    n = sum(stored.values())
    if n >= total and stored.get("failed", 0) == 0:
        return "done"
    if stored.get("done", 0) == 0 and n >= total:
        return "failed"
    return "partial"


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"campaign {name}", unit="dock", file=sys.stderr, disable=not enabled,
                smoothing=0.05, dynamic_ncols=True, mininterval=0.5)


def run_campaign(db: Database, campaign_id: int | str, options: RunOptions | None = None,
                 echo: Callable[[str], None] | None = None) -> RunSummary:
    """Run what is missing of the campaign; returns the summary of this run. When the campaign has done
    results at the end, their size-aware scores (:func:`jobs.scoring.compute_size_scores`) are recomputed
    and stored once (``summary.size_scored`` results)."""
    opts = options or RunOptions()
    db.check_connection()
    plan = _plan(db, campaign_id, opts.retry_failed)
    summary = RunSummary(plan.campaign_id, plan.name, plan.total, len(plan.todo))
    if not plan.todo:
        with db.session() as s:
            summary.stored = result_counts(s, plan.campaign_id)
            c = s.get_one(Campaign, plan.campaign_id)
            if c.status not in ("cancelled",):
                c.status = _final_status(summary.stored, plan.total, False)
            summary.status = c.status
    else:
        engine_batch, gpu = _engine_traits(plan.engine, plan.params)
        if opts.batch_size:
            engine_batch = opts.batch_size
        with open_cluster(opts.local_workers, opts.scheduler, opts.slurm, opts.home, gpu=gpu) as handle:
            if echo:
                echo(f"campaign {plan.campaign_id} ({plan.name}): {len(plan.todo)} of {plan.total} dockings to "
                     f"run on {handle.description}")
            _run_on(db, handle, plan, opts, summary, engine_batch, gpu)
    if summary.stored.get("done", 0):
        summary.size_scored = with_db_retry(db, lambda s: compute_size_scores(s, plan.campaign_id))
    return summary


def _run_on(db: Database, handle: ClusterHandle, plan: _Plan, opts: RunOptions, summary: RunSummary,
            engine_batch: int, gpu: bool) -> None:
    from distributed import as_completed

    client = handle.client
    # Slurm workers join as their jobs start: size the batches for the workers to come
    n_workers = max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})), handle.expected_workers)
    summary.workers, summary.cluster = n_workers, handle.kind + f"/{n_workers} workers"
    writer = ResultWriter(db, plan.campaign_id, max_wait_s=opts.db_max_wait_s)
    _set_campaign(db, plan.campaign_id, status="running", started_at=utcnow(), heartbeat_at=utcnow(),
                  finished_at=None, runner=runner_id())
    token = uuid.uuid4().hex[:8]
    live: set[Any] = set()  # futures not yet written; a written one is dropped, so Dask frees its result
    lock = threading.Lock()

    def cancel_live() -> None:
        with lock:
            pending = list(live)
        client.cancel(pending)

    hb = _Heartbeat(db, plan.campaign_id, cancel_live, handle.keep_up)
    t0 = time.perf_counter()
    bar = _progress(len(plan.todo), plan.name, opts.progress)
    try:
        # 1. receptors: one task each, kept in worker memory and recomputable if a worker dies
        needed_r = {r for r, _ in plan.todo}
        rec_f = {r: client.submit(_identity, plan.receptors[r], key=f"receptor-{plan.campaign_id}-{r}-{token}")
                 for r in needed_r}
        # 2. ligands: cached ones travel with the batches, missing ones are prepared once each
        work = _work(plan)
        needed_d = sorted({d for _, d in plan.todo}, key=lambda d: (-work.get(d, 0.0), d))  # as the batches
        protocol = ligand_protocol()
        with db.session() as s:
            cached = cached_ligands(s, ((d, plan.drugs[d]) for d in needed_d), plan.seed, protocol)
        lig: dict[int, Any] = dict(cached)
        prep_f: dict[Any, int] = {}
        for d in needed_d:
            if d not in cached:
                f = client.submit(prepare_ligand_task, d, plan.drugs[d], plan.seed,
                                  key=f"ligand-{plan.campaign_id}-{d}-{token}", retries=1)
                lig[d] = f
                prep_f[f] = d
        # 3. docking batches
        batch_of: dict[Any, tuple[int, list[int]]] = {}
        resources = {"GPU": 1} if gpu else None
        for i, (r, drugs) in enumerate(_batches(plan, engine_batch, n_workers, work)):
            f = client.submit(
                dock_batch, plan.engine, plan.params, rec_f[r], [lig[d] for d in drugs], plan.seed,
                opts.max_attempts, opts.with_interactions, opts.interaction_poses,
                key=f"dock-{plan.campaign_id}-{r}-{i}-{token}", resources=resources, retries=1,
            )
            batch_of[f] = (r, drugs)
        with lock:
            live.update(prep_f)
            live.update(batch_of)
        hb.start()
        # everything finished since the last write is written in one transaction (up to WRITE_BATCH
        # results); a result counts as done only once that transaction has committed
        # tracked on this client's loop: as_completed's default is the process's default client, which
        # may be another one (a notebook's own Client) running its own loop
        for ready in as_completed(list(live), loop=client.loop).batches():
            if hb.cancelled.is_set():
                break
            arrived: list[DockingOutcome] = []
            for f in ready:
                if f in prep_f:
                    _store_prep(db, f)
                    continue
                r, drugs = batch_of.pop(f)
                arrived.extend(_batch_outcomes(f, r, drugs, opts.max_attempts))
            for i in range(0, len(arrived), WRITE_BATCH):
                for outcome in writer.write_many(arrived[i : i + WRITE_BATCH]):
                    summary.engine_s += outcome.runtime_s or 0.0
                    summary.extra_s += outcome.extra_s
                    summary.cpu_s += outcome.cpu_s
                    setattr(summary, outcome.status, getattr(summary, outcome.status) + 1)
                    bar.update(1)
            bar.set_postfix(done=summary.done, failed=summary.failed, refresh=False)
            with lock:
                live.difference_update(ready)
            del ready, arrived
    except BaseException:
        _set_campaign(db, plan.campaign_id, status="partial", finished_at=utcnow(), runner=None)
        raise
    finally:
        hb.stop_event.set()
        bar.close()
        cancel_live()
    summary.seconds = time.perf_counter() - t0
    summary.write_s = writer.write_s
    summary.cancelled = hb.cancelled.is_set()

    def finish(s: Session) -> None:
        summary.stored = result_counts(s, plan.campaign_id)
        summary.status = _final_status(summary.stored, plan.total, summary.cancelled)
        s.execute(update(Campaign).where(Campaign.id == plan.campaign_id).values(
            status=summary.status, finished_at=utcnow(), heartbeat_at=utcnow(), runner=None))

    with_db_retry(db, finish)


def _identity(x: Any) -> Any:
    return x


def _store_prep(db: Database, f: Any) -> None:
    try:
        prep = f.result()
    except Exception:  # the dependent batches report the failure per drug
        return
    if isinstance(prep, LigandPrep):
        with_db_retry(db, lambda s: store_ligand(s, prep))


def _batch_outcomes(f: Any, receptor_id: int, drugs: list[int], max_attempts: int) -> list[DockingOutcome]:
    """The batch's outcomes, or each of its drugs failed with the task's error (e.g. KilledWorker)."""
    if f.cancelled():
        return []
    try:
        return list(f.result())
    except Exception as e:
        error = one_line(e, 1000, with_type=True)
        return [DockingOutcome(receptor_id, d, "failed", error=error, attempts=max_attempts) for d in drugs]
