"""Each target's reference campaign: the one source of the "DockDB score" column of its table.

Chosen with ``dockdb target reference TARGET CAMPAIGN``; without a choice, the newest finished
(``done`` or ``partial``) focused-pocket campaign with results on the target, else the newest
campaign with results on it.  ``?campaign=ID`` on a page or API call shows another campaign instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dockdb import models as m

FINISHED = ("done", "partial")
DEFAULT_RULE = "newest finished focused-pocket campaign on the target"


def _has_results(target_id: int) -> Any:
    dr = m.DockingResult
    return exists().where(
        dr.campaign_id == m.Campaign.id, dr.status == "done",
        dr.receptor_id.in_(select(m.Receptor.id).where(m.Receptor.target_id == target_id)),
    )


def campaign_info(c: m.Campaign, chosen_by: str) -> dict[str, Any]:
    """What a researcher needs to read a campaign's scores: engine, pocket, exhaustiveness, status."""
    params = c.params if isinstance(c.params, dict) else {}
    return {
        "id": c.id,
        "name": c.name,
        "engine": c.engine,
        "pocket": c.pocket_kind,
        "exhaustiveness": params.get("exhaustiveness"),
        "status": c.status,
        "finished_at": c.finished_at.isoformat() if c.finished_at else None,
        "chosen_by": chosen_by,
    }


def reference_campaign(session: Session, target_id: int) -> dict[str, Any] | None:
    """The target's reference campaign (see the module docstring), or None when nothing docked into it."""
    chosen = session.scalar(
        select(m.Campaign).join(m.TargetReference, m.TargetReference.campaign_id == m.Campaign.id)
        .where(m.TargetReference.target_id == target_id)
    )
    if chosen is not None:
        return campaign_info(chosen, "set with `dockdb target reference`")
    newest = (m.Campaign.finished_at.is_(None), m.Campaign.finished_at.desc(), m.Campaign.id.desc())
    c = session.scalar(
        select(m.Campaign).where(m.Campaign.pocket_kind == "focused", m.Campaign.status.in_(FINISHED),
                                 _has_results(target_id)).order_by(*newest).limit(1)
    )
    if c is not None:
        return campaign_info(c, f"default: {DEFAULT_RULE}")
    c = session.scalar(select(m.Campaign).where(_has_results(target_id)).order_by(m.Campaign.id.desc()).limit(1))
    return campaign_info(c, "default: no finished focused-pocket campaign, the newest with results") if c else None


