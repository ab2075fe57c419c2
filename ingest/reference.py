"""DockCoV2's published docking scores -> ReferenceScore (every row kept; unmatched CIDs
have ``drug_id`` NULL and are counted; a published 0.0, a failed docking, is kept with ``score`` NULL).

A CID is matched to a drug by PubChem CID (the drug's own or any of its identifiers),
else through ``dockcov2_cid_to_smiles.tsv``: its InChIKey, and the InChIKey of its SMILES
after our standardisation.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.errors import SourceError
from dockdb.models import ReferenceScore, Target
from ingest.common import SourceReport, read_table, sync_rows, to_float, to_int
from ingest.matching import DrugIndex
from ingest.standardize import Standardized, standardize_many
from ingest.targets import registry_entries

METHOD = "AutoDock Vina 1.1.2, DockCoV2 blind boxes (Chen et al. NAR 2021)"


def ingest_reference(session: Session, config: Config, report: SourceReport) -> None:
    """Load DockCoV2's published docking scores per drug and target as reference scores."""
    scores = read_table("dockcov2-scores", config, required=("pubchem_cid", "protein", "docking_score"))
    mapping = read_table("dockcov2-cid-to-smiles", config, required=("pubchem_cid", "smiles", "inchikey"))
    report.read = len(scores)
    protein_to_key = {e["dockcov2_protein"]: e["key"] for e in registry_entries() if e.get("dockcov2_protein")}
    target_ids = {k: i for k, i in session.execute(select(Target.key, Target.id))}
    missing = sorted({k for k in protein_to_key.values() if k not in target_ids})
    if missing:
        raise SourceError(f"targets {', '.join(missing)} are not loaded; run `dockdb ingest targets` first")

    index = DrugIndex.load(session)
    std = standardize_many([m["smiles"] for m in mapping if m["smiles"]], cache_dir=config.home / "cache")
    via_smiles: dict[str, int] = {}
    for m in mapping:
        cid = to_int(m["pubchem_cid"])
        if cid is None:
            continue
        did = index.by_inchikey(m["inchikey"])
        res = std.get(m["smiles"])
        if did is None and isinstance(res, Standardized):
            did = index.by_inchikey(res.inchikey)
        if did is not None:
            via_smiles[str(cid)] = did

    rows = []
    cids: set[str] = set()
    matched: set[str] = set()
    unknown_proteins: set[str] = set()
    failed = 0
    for r in scores:
        cid = to_int(r["pubchem_cid"])
        score = to_float(r["docking_score"])
        key = protein_to_key.get(r["protein"])
        if cid is None or score is None:
            report.rejected += 1
            continue
        if key is None:
            unknown_proteins.add(r["protein"])
            report.rejected += 1
            continue
        c = str(cid)
        cids.add(c)
        did = index.by_cid(c)
        if did is None:
            did = via_smiles.get(c)
        if did is not None:
            matched.add(c)
        if score == 0:  # DockCoV2's 0.0 is a docking that failed, not a score: kept, as a missing score
            failed += 1
        rows.append({"source": "dockcov2", "external_id": c, "target_id": target_ids[key], "drug_id": did,
                     "score": None if score == 0 else score, "method": METHOD})
    if unknown_proteins:
        report.problems.append(f"proteins not in the registry: {', '.join(sorted(unknown_proteins))}")
    report.unmatched = len(cids - matched)
    report.details.update(distinct_cids=len(cids), matched_cids=len(matched), unmatched_cids=len(cids - matched),
                          failed_dockings=failed)
    report.add(sync_rows(session, ReferenceScore, ("source", "external_id", "target_id"), rows,
                         where=ReferenceScore.source == "dockcov2"), "reference_score")

