"""Poses: JSON detail, SDF/PDBQT text, the receptor structure, and receptor+ligand complexes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb import models as m
from dockdb.errors import InputError
from docking.poses import complex_pdb, pose_tags, pose_title, sdf_record
from webapp.params import NotFound
from webapp.queries.common import normalise_residues, pocket_dict, rounded


def get_pose_model(session: Session, pose_id: int) -> m.Pose:
    """The Pose *pose_id*; NotFound when there is none."""
    pose = session.get(m.Pose, pose_id)
    if pose is None:
        raise NotFound(f"no pose with id {pose_id}")
    return pose


def pose_detail(session: Session, pose_id: int, include_text: bool = True) -> dict[str, Any]:
    """A pose with its drug, target, campaign, scores and interactions (and structure text when asked)."""
    pose = get_pose_model(session, pose_id)
    result = pose.result
    receptor = session.get(m.Receptor, result.receptor_id)
    target = session.get(m.Target, receptor.target_id) if receptor else None
    drug = session.get(m.Drug, result.drug_id)
    campaign = session.get(m.Campaign, result.campaign_id)
    pocket_id = session.scalar(
        select(m.CampaignReceptor.pocket_id).where(
            m.CampaignReceptor.campaign_id == result.campaign_id,
            m.CampaignReceptor.receptor_id == result.receptor_id,
        )
    )
    pocket = session.get(m.Pocket, pocket_id) if pocket_id else None
    chain = None
    if target is not None and isinstance(target.spec, dict):
        chains = target.spec.get("keep_chains")
        chain = chains[0] if isinstance(chains, list) and len(chains) == 1 else None
    out: dict[str, Any] = {
        "id": pose.id,
        "rank": pose.rank,
        "score": rounded(pose.score, 3),
        "score_terms": pose.score_terms or {},
        "interactions": normalise_interactions(pose.interactions),
        "has_sdf": pose.sdf is not None,
        # PoseBusters (``dockdb validate plausibility``): null until checked
        "posebusters_pass": pose.posebusters_pass,
        "posebusters_failed": pose.posebusters_failed,
        "result": {
            "id": result.id,
            "status": result.status,
            "best_score": rounded(result.best_score, 3),
            "ligand_smiles": result.ligand_smiles,
        },
        "campaign": {"id": campaign.id, "name": campaign.name, "engine": campaign.engine} if campaign else None,
        "target": {"key": target.key, "name": target.name} if target else None,
        "drug": {"id": drug.id, "name": drug.name} if drug else None,
        "receptor_id": result.receptor_id,
        "pocket": pocket_dict(pocket, chain) if pocket else None,
        "urls": {
            "sdf": f"/api/v1/poses/{pose.id}.sdf",
            "pdbqt": f"/api/v1/poses/{pose.id}.pdbqt",
            "complex": f"/api/v1/poses/{pose.id}/complex.pdb",
            "receptor": f"/api/v1/receptors/{result.receptor_id}.pdb",
        },
    }
    if include_text:
        out["sdf"] = pose.sdf
    return out


def normalise_interactions(items: Any) -> list[dict[str, Any]]:
    """Interactions as ``{chain, resnum, resname, type}`` dicts, whatever extra keys they carry."""
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if not isinstance(item, dict):
            continue
        res = normalise_residues([item])
        if not res:
            continue
        entry = dict(res[0])
        entry["type"] = str(item.get("type") or item.get("interaction") or "contact")
        if "distance" in item and isinstance(item["distance"], int | float):
            entry["distance"] = round(float(item["distance"]), 2)
        out.append(entry)
    return out


def pose_sdf(session: Session, pose_id: int) -> tuple[str, str]:
    """(filename, SDF text) of the pose, with its score and provenance as SD properties."""
    pose = get_pose_model(session, pose_id)
    if not pose.sdf:
        raise NotFound(f"pose {pose_id} has no stored SDF; download its PDBQT instead")
    drug = session.get(m.Drug, pose.result.drug_id)
    target_key = session.get(m.Receptor, pose.result.receptor_id).target.key
    drug_name = drug.name if drug else f"drug-{pose.result.drug_id}"
    tags = pose_tags(drug_name, target_key, pose.rank, pose.score, inchikey=drug.inchikey if drug else None,
                     drug_id=pose.result.drug_id, campaign_id=pose.result.campaign_id, result_id=pose.result_id,
                     pose_id=pose.id)
    text = sdf_record(pose.sdf, pose_title(drug_name, target_key, pose.rank), tags)
    return f"pose-{pose.id}.sdf", text


def pose_pdbqt(session: Session, pose_id: int) -> tuple[str, str]:
    """File name and PDBQT text of pose *pose_id*."""
    pose = get_pose_model(session, pose_id)
    return f"pose-{pose.id}.pdbqt", pose.pdbqt


def receptor_pdb(session: Session, receptor_id: int) -> tuple[str, str]:
    """File name and prepared PDB text of receptor *receptor_id*; NotFound when there is none."""
    receptor = session.get(m.Receptor, receptor_id)
    if receptor is None:
        raise NotFound(f"no receptor with id {receptor_id}")
    return f"receptor-{receptor.id}.pdb", receptor.pdb


def pose_complex(session: Session, pose_id: int) -> tuple[str, str]:
    """File name and PDB text of the pose's receptor with the pose as ligand; NotFound without SDF or receptor."""
    pose = get_pose_model(session, pose_id)
    if not pose.sdf:
        raise NotFound(f"pose {pose_id} has no stored SDF to build a complex from")
    receptor = session.get(m.Receptor, pose.result.receptor_id)
    if receptor is None:
        raise NotFound(f"the receptor of pose {pose_id} is missing")
    try:
        return f"complex-pose-{pose.id}.pdb", complex_pdb(receptor.pdb, pose.sdf)
    except InputError as e:
        raise NotFound(f"pose {pose_id}'s stored SDF cannot be read, so no complex can be built") from e
