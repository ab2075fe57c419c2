"""Campaigns: create one (targets x drug selection x engine), read its status, list, cancel, rerun.

Running is in :mod:`jobs.run`, exports in :mod:`jobs.export`.  Creating a campaign prepares
(or reuses) each target's receptor, so its manifest pins the exact receptors and pocket boxes.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import CampaignError, EngineError, InputError, NotFoundError, UnknownNameError
from dockdb.models import (
    Campaign,
    CampaignDrug,
    CampaignReceptor,
    DockingResult,
    Drug,
    DrugSynonym,
    Library,
    LibraryMember,
    Receptor,
    Target,
)
from dockdb.models.base import utcnow
from jobs.manifest import build_manifest, manifest_hash, software_versions, version_differences
from jobs.receptors import ensure_receptor, get_pocket, pocket_box, resolve_targets

__all__ = [
    "DEFAULT_SEED",
    "STALE_AFTER_S",
    "CampaignSpec",
    "campaign_status",
    "cancel_campaign",
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "rerun_campaign",
    "runner_id",
]

DEFAULT_SEED = 42
STALE_AFTER_S = 60.0
POCKET_KINDS = ("focused", "blind")


@dataclass
class CampaignSpec:
    """What a new campaign docks: targets, library (or chosen drugs), engine, pocket, seed and engine parameters."""
    name: str
    targets: str | list[str]
    library: str
    drugs: list[str] | None = None
    drug_ids: list[int] | None = None
    limit: int | None = None
    engine: str = "vina"
    pocket: str = "focused"
    seed: int = DEFAULT_SEED
    params: dict[str, Any] = field(default_factory=dict)
    parent_id: int | None = None


def runner_id() -> str:
    """``host:pid`` of this process, stored on the campaign it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


def as_utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def get_campaign(session: Session, campaign_id: int | str) -> Campaign:
    """The campaign with id or name *campaign_id*; NotFoundError when there is none."""
    c: Campaign | None = None
    if isinstance(campaign_id, int) or str(campaign_id).isdigit():
        c = session.get(Campaign, int(campaign_id))
    if c is None:
        c = session.scalar(select(Campaign).where(Campaign.name == str(campaign_id)))
    if c is None:
        raise NotFoundError(f"no campaign {campaign_id!r}; `dockdb campaign list` shows the campaigns")
    return c


def engine_params(engine: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate *engine* and its parameters; the stored params (user values over engine defaults)."""
    try:
        from docking.engines import get_engine
    except ImportError as e:  # pragma: no cover - docking package incomplete
        raise CampaignError(f"no docking engines available ({e})") from e
    import inspect

    clean = {k: v for k, v in params.items() if v is not None}
    try:
        accepted = inspect.signature(type(get_engine(engine)).__init__).parameters
        # one thread per docking for CPU engines: Dask workers are single-threaded, and results do not depend on it
        if "cpu" in accepted:
            clean = {"cpu": 1, **clean}
        eng = get_engine(engine, **clean)
    except (TypeError, ValueError, EngineError) as e:
        raise InputError(str(e) if isinstance(e, EngineError) else f"bad parameters for engine {engine!r}: {e}") from e
    defaults = getattr(eng, "params", None)
    if isinstance(defaults, dict):
        return {**{k: v for k, v in defaults.items() if isinstance(v, str | int | float | bool)}, **clean}
    return clean


def _library(session: Session, name: str) -> Library:
    lib = session.scalar(select(Library).where(Library.name == name))
    if lib is None:
        known = session.scalars(select(Library.name).order_by(Library.name)).all()
        hint = f"known: {', '.join(known)}" if known else "no libraries loaded: run `dockdb ingest drugs`"
        raise UnknownNameError(f"unknown library {name!r}; {hint}")
    return lib


def select_drugs(
    session: Session, lib: Library, names: list[str] | None, limit: int | None, ids: list[int] | None = None
) -> list[int]:
    """Drug ids of the library selection: named drugs (name or synonym), or the first *limit* members."""
    members = select(LibraryMember.drug_id).where(LibraryMember.library_id == lib.id)
    if ids is not None:
        found = set(session.scalars(members.where(LibraryMember.drug_id.in_(ids))))
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"drugs {missing[:5]} are no longer in library {lib.name!r}")
        return list(ids)
    if names:
        out: list[int] = []
        for name in names:
            low = name.strip().lower()
            drug_id = session.scalar(
                select(Drug.id)
                .outerjoin(DrugSynonym, DrugSynonym.drug_id == Drug.id)
                .where(or_(Drug.name_lower == low, DrugSynonym.name_lower == low), Drug.id.in_(members))
                .order_by(Drug.id)
                .limit(1)
            )
            if drug_id is None:
                raise NotFoundError(f"no drug {name!r} in library {lib.name!r}; check the spelling or the library")
            if drug_id not in out:
                out.append(drug_id)
        return out[:limit] if limit else out
    q = members.order_by(LibraryMember.id)
    if limit:
        q = q.limit(limit)
    ids_ = list(session.scalars(q))
    if not ids_:
        raise CampaignError(f"library {lib.name!r} has no drugs; run `dockdb ingest drugs`")
    return ids_


def create_campaign(db: Database, spec: CampaignSpec, echo: Any = None) -> int:
    """Create the campaign (preparing receptors as needed); returns its id."""
    if spec.pocket not in POCKET_KINDS:
        raise InputError(f"--pocket must be one of {', '.join(POCKET_KINDS)} (got {spec.pocket!r})")
    if spec.limit is not None and spec.limit < 1:
        raise InputError(f"--limit must be at least 1 (got {spec.limit})")
    if not spec.name.strip():
        raise InputError("--name must not be empty")
    params = engine_params(spec.engine, spec.params)
    with db.session() as s:
        existing = s.scalar(select(Campaign.id).where(Campaign.name == spec.name))
        if existing is not None:
            raise CampaignError(f"a campaign named {spec.name!r} exists (id {existing}); choose another --name")
        targets = [t.key for t in resolve_targets(s, spec.targets)]
        lib = _library(s, spec.library)
        drug_ids = select_drugs(s, lib, spec.drugs, spec.limit, spec.drug_ids)
        library_id = lib.id
        for key in targets:  # fail on a missing pocket before the slow receptor preparation
            get_pocket(s, s.scalars(select(Target).where(Target.key == key)).one(), spec.pocket)
    choices = []
    for key in targets:
        if echo:
            echo(f"receptor {key}: preparing or reusing")
        choices.append(ensure_receptor(db, key))
    with db.session() as s:
        campaign = Campaign(
            name=spec.name,
            engine=spec.engine,
            params=params,
            seed=spec.seed,
            pocket_kind=spec.pocket,
            library_id=library_id,
            software_versions=software_versions(),
            status="created",
            parent_id=spec.parent_id,
        )
        s.add(campaign)
        s.flush()
        for choice in choices:
            target = s.scalars(select(Target).where(Target.key == choice.target_key)).one()
            pocket = get_pocket(s, target, spec.pocket)
            receptor = s.get_one(Receptor, choice.receptor_id)
            pocket_box(pocket, receptor.pdb)
            s.add(CampaignReceptor(campaign_id=campaign.id, receptor_id=choice.receptor_id, pocket_id=pocket.id))
        s.add_all(CampaignDrug(campaign_id=campaign.id, drug_id=d) for d in drug_ids)
        s.flush()
        selection = {"drugs": spec.drugs, "limit": spec.limit, "targets": targets}
        manifest = build_manifest(s, campaign, selection)
        campaign.manifest = manifest
        campaign.manifest_hash = manifest_hash(manifest)
        return campaign.id


def result_counts(session: Session, campaign_id: int) -> dict[str, int]:
    """Number of the campaign's docking results per status (done, failed, skipped always present)."""
    rows = session.execute(
        select(DockingResult.status, func.count())
        .where(DockingResult.campaign_id == campaign_id)
        .group_by(DockingResult.status)
    ).all()
    counts = {"done": 0, "failed": 0, "skipped": 0}
    counts.update({str(k): int(v) for k, v in rows})
    return counts


def campaign_size(session: Session, campaign_id: int) -> tuple[int, int]:
    """Number of receptors and of drugs in the campaign."""
    n_rec = session.scalar(select(func.count()).where(CampaignReceptor.campaign_id == campaign_id)) or 0
    n_drug = session.scalar(select(func.count()).where(CampaignDrug.campaign_id == campaign_id)) or 0
    return int(n_rec), int(n_drug)


def is_live(c: Campaign, now: datetime | None = None) -> bool:
    """True while a client is running *c* and its heartbeat is recent."""
    hb = as_utc(c.heartbeat_at)
    if c.status != "running" or hb is None:
        return False
    if c.runner:
        host, _, pid = c.runner.rpartition(":")
        if host == socket.gethostname() and pid.isdigit():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                pass
    return ((now or utcnow()) - hb).total_seconds() < STALE_AFTER_S


def campaign_status(db: Database, campaign_id: int | str) -> dict[str, Any]:
    """Progress as stored: counts, throughput and ETA of the current or last run."""
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        n_rec, n_drug = campaign_size(s, c.id)
        counts = result_counts(s, c.id)
        now = utcnow()
        started, hb, finished = as_utc(c.started_at), as_utc(c.heartbeat_at), as_utc(c.finished_at)
        run_done = 0
        if started is not None:
            run_done = int(
                s.scalar(
                    select(func.count()).where(
                        DockingResult.campaign_id == c.id, DockingResult.finished_at >= started
                    )
                )
                or 0
            )
        live = is_live(c, now)
        status = c.status
        if c.status == "running" and not live:
            status = "interrupted"
        total = n_rec * n_drug
        stored = sum(counts.values())
        end = now if live else (finished or hb or now)
        elapsed = (end - started).total_seconds() if started else None
        rate = run_done / elapsed if elapsed and elapsed > 0 and run_done else None
        remaining = total - stored
        return {
            "id": c.id,
            "name": c.name,
            "status": status,
            "engine": c.engine,
            "params": c.params,
            "seed": c.seed,
            "pocket": c.pocket_kind,
            "receptors": n_rec,
            "drugs": n_drug,
            "total": total,
            **counts,
            "missing": remaining,
            "elapsed_s": round(elapsed, 1) if elapsed is not None else None,
            "dockings_per_s": round(rate, 4) if rate else None,
            "eta_s": round(remaining / rate, 1) if rate and live else None,
            "runner": c.runner if live else None,
            "started_at": started.isoformat() if started else None,
            "heartbeat_at": hb.isoformat() if hb else None,
            "finished_at": finished.isoformat() if finished else None,
            "manifest_hash": c.manifest_hash,
            "parent_id": c.parent_id,
        }


def list_campaigns(db: Database) -> list[dict[str, Any]]:
    """One summary dict per campaign (size, result counts, status with stale runs shown as interrupted)."""
    with db.session() as s:
        out = []
        for c in s.scalars(select(Campaign).order_by(Campaign.id)):
            n_rec, n_drug = campaign_size(s, c.id)
            counts = result_counts(s, c.id)
            status = "interrupted" if c.status == "running" and not is_live(c) else c.status
            out.append(
                {"id": c.id, "name": c.name, "status": status, "engine": c.engine, "pocket": c.pocket_kind,
                 "total": n_rec * n_drug, **counts}
            )
        return out


def cancel_campaign(db: Database, campaign_id: int | str) -> str:
    """Mark the campaign cancelled; a running client stops at its next heartbeat."""
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        if c.status in ("done", "cancelled"):
            return f"campaign {c.id} is already {c.status}; nothing to cancel"
        was_live = is_live(c)
        c.status = "cancelled"
        c.finished_at = utcnow()
        tail = "; its running client stops within seconds" if was_live else ""
        return f"campaign {c.id} ({c.name}) cancelled{tail}; `dockdb campaign run {c.id}` resumes it"


def rerun_campaign(db: Database, campaign_id: int | str, name: str | None = None) -> tuple[int, list[str]]:
    """A new campaign from the stored manifest (same engine, params, seed, targets, drugs).

    Returns the new id and the software-version differences from the recorded run.
    """
    with db.session() as s:
        c = get_campaign(s, campaign_id)
        m = c.manifest or {}
        if not m.get("receptors"):
            raise CampaignError(f"campaign {c.id} has no stored manifest; it cannot be rerun")
        lib = s.get(Library, c.library_id) if c.library_id else None
        if lib is None:
            raise CampaignError(f"the library of campaign {c.id} no longer exists; it cannot be rerun")
        n = s.scalar(select(func.count()).where(Campaign.parent_id == c.id)) or 0
        new_name = name or f"{c.name}-rerun-{n + 1}"
        spec = CampaignSpec(
            name=new_name,
            targets=[r["target"] for r in m["receptors"]],
            library=lib.name,
            drug_ids=[d["drug_id"] for d in m["library"]["members"]],
            engine=m["engine"]["name"],
            pocket=m.get("pocket_kind", c.pocket_kind),
            seed=int(m["seed"]),
            params=dict(m["engine"]["params"]),
            parent_id=c.id,
        )
        recorded = dict(m.get("software_versions") or c.software_versions or {})
        old_receptors = {r["target"]: r["input_hash"] for r in m["receptors"]}
    diffs = version_differences(recorded)
    new_id = create_campaign(db, spec)
    with db.session() as s:
        new = s.get_one(Campaign, new_id)
        for r in new.manifest["receptors"]:
            if old_receptors.get(r["target"]) != r["input_hash"]:
                diffs.append(f"receptor {r['target']}: input hash changed (structure or protocol differ)")
    return new_id, diffs
