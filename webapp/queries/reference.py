"""The campaign a target's table shows (its reference, :mod:`dockdb.reference`, or ``?campaign=ID``) and
what produced each of a drug's scores."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb import models as m
from dockdb.reference import campaign_info, reference_campaign
from webapp.params import NotFound

__all__ = ["annotate_scores", "campaign_info", "reference_campaign", "selected_campaign"]

def selected_campaign(session: Session, target_id: int, campaign_id: int | None) -> dict[str, Any] | None:
    """The campaign a target's table shows: ``campaign_id`` (``?campaign=``) when given, else the reference."""
    if campaign_id is None:
        return reference_campaign(session, target_id)
    c = session.get(m.Campaign, campaign_id)
    if c is None:
        raise NotFound(f"no campaign with id {campaign_id}; see /campaigns for the ids")
    return campaign_info(c, "selected with ?campaign=")


def annotate_scores(session: Session, drug_id: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add to each of a drug's DockDB score rows (one per campaign and target) what produced it (engine,
    pocket, exhaustiveness), its size-aware scores, whether the campaign is the target's reference, and the
    target's consensus."""
    dr = m.DockingResult
    campaigns = {c.id: campaign_info(c, "") for c in session.scalars(
        select(m.Campaign).where(m.Campaign.id.in_({r["campaign_id"] for r in rows if r["campaign_id"]})))}
    sizes = {(cid, key): (le, sz, sel) for cid, key, le, sz, sel in session.execute(
        select(dr.campaign_id, m.Target.key, m.SizeScore.ligand_efficiency, m.SizeScore.size_z,
               m.SizeScore.selectivity_z)
        .join(m.SizeScore, m.SizeScore.result_id == dr.id)
        .join(m.Receptor, m.Receptor.id == dr.receptor_id)
        .join(m.Target, m.Target.id == m.Receptor.target_id)
        .where(dr.drug_id == drug_id))}
    consensus = {key: c for key, c in session.execute(
        select(m.Target.key, m.ConsensusScore).join(m.Target, m.Target.id == m.ConsensusScore.target_id)
        .where(m.ConsensusScore.drug_id == drug_id))}
    tids = dict(session.execute(select(m.Target.key, m.Target.id)).all())
    refs: dict[str, int | None] = {}
    for r in rows:
        key = r["target"]
        if not r["campaign_id"]:  # DockCoV2's published rows keep their own fields
            continue
        if key not in refs:
            ref = reference_campaign(session, tids[key]) if key in tids else None
            refs[key] = ref["id"] if ref else None
        info = campaigns.get(r["campaign_id"]) if r["campaign_id"] else None
        le, sz, sel = sizes.get((r["campaign_id"], key), (None, None, None))
        cons = consensus.get(key)
        r.update({
            "engine": info["engine"] if info else None,
            "pocket": info["pocket"] if info else None,
            "exhaustiveness": info["exhaustiveness"] if info else None,
            "is_reference": bool(info) and refs[key] == r["campaign_id"],
            "ligand_efficiency": le, "size_z": sz, "selectivity_z": sel,
            "consensus": None if cons is None or not info else
            {"percentile": round(cons.percentile, 1), "agree": cons.agree, "engines": cons.engines,
             "rmsd": cons.rmsd, "spread": round(cons.spread, 1)},
        })
    return rows


VARIANT_SORTS = {"score": "score", "ligand_efficiency": "ligand_efficiency", "size_z": "size_z",
                 "consensus": "consensus"}


def measured_order(session: Session, target_key: str, reference_id: int | None) -> dict[str, Any] | None:
    """The ranking variant with the best measured enrichment on the target (``dockdb validate enrichment``):
    from the newest enrichment run of the reference campaign, else the newest run of any source that measured
    variants on the target.  ``sort`` is the table column, or None when no variant beats heavy-atom count."""
    runs = session.execute(select(m.ValidationRun.id, m.ValidationRun.params, m.ValidationRun.summary)
                           .where(m.ValidationRun.kind == "enrichment").order_by(m.ValidationRun.id.desc())).all()
    chosen = None
    for rid, params, summary in runs:
        rows = [v for v in (summary or {}).get("variants", []) if v.get("target") == target_key]
        if not any(v.get("auc") is not None for v in rows):
            continue
        mine = reference_id is not None and (params or {}).get("campaign_id") == reference_id
        if chosen is None or (mine and not chosen[3]):
            chosen = (rid, params or {}, rows, mine)
        if mine:
            break
    if chosen is None:
        return None
    rid, params, rows, _ = chosen
    by = {v["variant"]: v for v in rows}
    size = by.get("heavy_atoms", {})
    ranked = [v for v in rows if v["variant"] in VARIANT_SORTS and v.get("auc") is not None
              and (not size or v.get("n") == size.get("n"))]  # only variants measured on the same drugs
    best = max(ranked, key=lambda v: v["auc"]) if ranked else None
    beats = best is not None and (size.get("auc") is None or best["auc"] > size["auc"])
    return {"run_id": rid, "source": params.get("campaign") or params.get("reference"),
            "variant": best["variant"] if best else None, "auc": best["auc"] if best else None,
            "auc_ci": best.get("auc_ci") if best else None, "n": best["n"] if best else None,
            "n_actives": best["n_actives"] if best else None, "size_auc": size.get("auc"),
            "sort": VARIANT_SORTS[best["variant"]] if best and beats else None}
