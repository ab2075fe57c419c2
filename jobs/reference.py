"""`dockdb target reference`: choose the campaign whose scores a target's table shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from dockdb.db import Database
from dockdb.errors import InputError, NotFoundError
from dockdb.models import Campaign, DockingResult, Receptor, Target, TargetReference
from dockdb.reference import reference_campaign
from jobs.campaign import get_campaign


def set_reference(db: Database, target_key: str, campaign_ref: str | None) -> dict[str, Any] | None:
    """Make ``campaign_ref`` (id or name) the reference of ``target_key``; None clears the choice (back to
    the default).  Returns the reference now in effect (as the portal shows it)."""
    with db.session() as s:
        tid = s.scalar(select(Target.id).where(Target.key == target_key))
        if tid is None:
            raise NotFoundError(f"no target {target_key!r}; `dockdb target list` shows the keys")
        if campaign_ref is None:
            s.execute(delete(TargetReference).where(TargetReference.target_id == tid))
        else:
            c: Campaign = get_campaign(s, campaign_ref)
            docked = s.scalar(select(DockingResult.id).join(Receptor, Receptor.id == DockingResult.receptor_id)
                              .where(DockingResult.campaign_id == c.id, Receptor.target_id == tid,
                                     DockingResult.status == "done").limit(1))
            if docked is None:
                raise InputError(f"campaign {c.name!r} has no finished docking on {target_key}; pick one that "
                                 f"docked into it (`dockdb campaign list`)")
            row = s.scalar(select(TargetReference).where(TargetReference.target_id == tid))
            if row is None:
                s.add(TargetReference(target_id=tid, campaign_id=c.id))
            else:
                row.campaign_id = c.id
        s.flush()
        return reference_campaign(s, tid)
