"""Campaigns: list with status/progress counts, detail with manifest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dockdb import models as m
from webapp.params import NotFound


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _progress(session: Session, campaign_ids: list[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {
        cid: {"results": {}, "receptors": 0, "drugs": 0, "poses": 0} for cid in campaign_ids
    }
    if not campaign_ids:
        return out
    dr = m.DockingResult
    for cid, status, n in session.execute(
        select(dr.campaign_id, dr.status, func.count())
        .where(dr.campaign_id.in_(campaign_ids))
        .group_by(dr.campaign_id, dr.status)
    ):
        out[cid]["results"][status] = int(n)
    for model, key in ((m.CampaignReceptor, "receptors"), (m.CampaignDrug, "drugs")):
        for cid, n in session.execute(
            select(model.campaign_id, func.count())
            .where(model.campaign_id.in_(campaign_ids))
            .group_by(model.campaign_id)
        ):
            out[cid][key] = int(n)
    for cid, n in session.execute(
        select(dr.campaign_id, func.count(m.Pose.id))
        .join(m.Pose, m.Pose.result_id == dr.id)
        .where(dr.campaign_id.in_(campaign_ids))
        .group_by(dr.campaign_id)
    ):
        out[cid]["poses"] = int(n)
    for p in out.values():
        planned = p["receptors"] * p["drugs"]
        finished = sum(p["results"].values())
        p["planned"] = planned
        p["finished"] = finished
        p["percent"] = round(100.0 * finished / planned, 1) if planned else None
    return out


MAX_DRUGS_LISTED = 200  # drugs named on a campaign's page (the download has them all)


def _summary(c: m.Campaign, progress: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "engine": c.engine,
        "status": c.status,
        "seed": c.seed,
        "pocket_kind": c.pocket_kind,
        "created_at": _iso(c.created_at),
        "started_at": _iso(c.started_at),
        "finished_at": _iso(c.finished_at),
        "progress": progress,
    }


def list_campaigns(session: Session) -> list[dict[str, Any]]:
    """Every campaign's summary with its progress, by id."""
    campaigns = session.scalars(select(m.Campaign).order_by(m.Campaign.id)).all()
    progress = _progress(session, [c.id for c in campaigns])
    return [_summary(c, progress[c.id]) for c in campaigns]


def get_campaign_model(session: Session, campaign_id: int) -> m.Campaign:
    """The Campaign *campaign_id*; NotFound when there is none."""
    campaign = session.get(m.Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


def campaign_detail(session: Session, campaign_id: int) -> dict[str, Any]:
    """A campaign's summary plus its targets, receptors and pockets."""
    c = get_campaign_model(session, campaign_id)
    out = _summary(c, _progress(session, [c.id])[c.id])
    targets = session.execute(
        select(m.Target.key, m.Target.name, m.CampaignReceptor.receptor_id, m.Pocket.kind)
        .join(m.Receptor, m.Receptor.id == m.CampaignReceptor.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .join(m.Pocket, m.Pocket.id == m.CampaignReceptor.pocket_id)
        .where(m.CampaignReceptor.campaign_id == c.id)
        .order_by(m.Target.key)
    ).all()
    library = session.get(m.Library, c.library_id) if c.library_id else None
    library_size = session.scalar(
        select(func.count()).select_from(m.LibraryMember).where(m.LibraryMember.library_id == c.library_id)
    ) if library else 0
    drugs = session.execute(
        select(m.Drug.id, m.Drug.name).join(m.CampaignDrug, m.CampaignDrug.drug_id == m.Drug.id)
        .where(m.CampaignDrug.campaign_id == c.id).order_by(m.Drug.name_lower).limit(MAX_DRUGS_LISTED)
    ).all()
    out.update(
        {
            "params": c.params or {},
            "software_versions": c.software_versions or {},
            "manifest": c.manifest or {},
            "manifest_hash": c.manifest_hash,
            "parent_id": c.parent_id,
            "heartbeat_at": _iso(c.heartbeat_at),
            "library": {"id": library.id, "name": library.name, "size": int(library_size or 0)} if library else None,
            "drugs": [{"id": i, "name": n} for i, n in drugs],
            "targets": [{"key": k, "name": n, "receptor_id": r, "pocket": p} for k, n, r, p in targets],
        }
    )
    return out
