"""A campaign's manifest: everything needed to rerun it and to know what its scores mean.

The manifest records the engine and its parameters, the seed, each receptor (input hash,
protocol, PDBQT hash) with its pocket box, the drug list (library membership with SMILES
hashes), the ligand protocol and the installed software versions.  ``manifest_hash`` is
the sha256 of its canonical JSON without the ``campaign`` block (name and id) and without the
selection options that produced the drug list, so two campaigns with the same science have
the same hash.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.models import Campaign, CampaignDrug, CampaignReceptor, Drug, Library, Pocket, Receptor, Target

__all__ = [
    "MANIFEST_VERSION",
    "SOFTWARE",
    "build_manifest",
    "manifest_hash",
    "software_versions",
    "version_differences",
]

MANIFEST_VERSION = 1
SOFTWARE = (
    "dockdb",
    "vina",
    "meeko",
    "rdkit",
    "openmm",
    "pdbfixer",
    "dimorphite-dl",
    "molscrub",
    "prolif",
    "numpy",
    "scipy",
    "dask",
    "distributed",
    "sqlalchemy",
)


def _sha(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def software_versions() -> dict[str, str]:
    """Installed versions of the tools that can change a docking score (absent ones omitted)."""
    out = {"python": platform.python_version()}
    for name in SOFTWARE:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def version_differences(recorded: dict[str, str], installed: dict[str, str] | None = None) -> list[str]:
    """Human-readable lines for each tool whose installed version differs from *recorded*."""
    installed = installed if installed is not None else software_versions()
    lines = []
    for name in sorted(set(recorded) | set(installed)):
        a, b = recorded.get(name), installed.get(name)
        if a != b:
            lines.append(f"{name}: recorded {a or 'absent'}, installed {b or 'absent'}")
    return lines


def manifest_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's scientific content (campaign name/id and drug-selection wording left out)."""
    body = {k: v for k, v in manifest.items() if k != "campaign"}
    if isinstance(body.get("library"), dict):  # how the drugs were chosen is not part of the science
        body["library"] = {k: v for k, v in body["library"].items() if k != "selection"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _pocket_dict(p: Pocket) -> dict[str, Any]:
    d = {
        "id": p.id,
        "kind": p.kind,
        "center": [round(v, 4) for v in p.center],
        "size": [round(v, 4) for v in p.size],
        "basis": p.basis,
    }
    d["hash"] = hashlib.sha256(json.dumps([d["kind"], d["center"], d["size"]]).encode()).hexdigest()
    return d


def build_manifest(session: Session, campaign: Campaign, selection: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of *campaign* from its stored receptors, pockets and drugs."""
    receptors = []
    rows = session.execute(
        select(CampaignReceptor, Receptor, Target, Pocket)
        .join(Receptor, CampaignReceptor.receptor_id == Receptor.id)
        .join(Target, Receptor.target_id == Target.id)
        .join(Pocket, CampaignReceptor.pocket_id == Pocket.id)
        .where(CampaignReceptor.campaign_id == campaign.id)
        .order_by(Target.id)
    ).all()
    for _cr, rec, target, pocket in rows:
        receptors.append(
            {
                "target": target.key,
                "target_source_hash": target.source_hash,
                "receptor_id": rec.id,
                "input_hash": rec.input_hash,
                "protocol_version": rec.protocol_version,
                "pdbqt_sha256": _sha(rec.pdbqt),
                "tool_versions": {k: v for k, v in (rec.tool_versions or {}).items() if not k.startswith("_")},
                "pocket": _pocket_dict(pocket),
            }
        )
    members = [
        {"drug_id": d.id, "name": d.name, "inchikey": d.inchikey, "smiles_sha256": _sha(d.smiles)}
        for d in session.scalars(
            select(Drug)
            .join(CampaignDrug, CampaignDrug.drug_id == Drug.id)
            .where(CampaignDrug.campaign_id == campaign.id)
            .order_by(Drug.id)
        )
    ]
    library = session.get(Library, campaign.library_id) if campaign.library_id else None
    from docking import ligand as lig

    return {
        "manifest_version": MANIFEST_VERSION,
        "campaign": {"id": campaign.id, "name": campaign.name, "parent_id": campaign.parent_id},
        "engine": {"name": campaign.engine, "params": dict(campaign.params or {})},
        "seed": campaign.seed,
        "pocket_kind": campaign.pocket_kind,
        "ligand_protocol": getattr(lig, "PROTOCOL_VERSION", None),
        "receptors": receptors,
        "library": {
            "name": library.name if library else None,
            "selection": selection or {},
            "count": len(members),
            "members": members,
        },
        "software_versions": dict(campaign.software_versions or {}),
    }
