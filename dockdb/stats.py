"""Row counts of every kind of record (used by `dockdb stats`, the portal and tests)."""

from __future__ import annotations

from sqlalchemy import func, select

from dockdb import models as m
from dockdb.db import Database

# Ordered: what a user reads first comes first.
COUNTED: dict[str, type[m.Base]] = {
    "drugs": m.Drug,
    "synonyms": m.DrugSynonym,
    "identifiers": m.DrugIdentifier,
    "libraries": m.Library,
    "library_members": m.LibraryMember,
    "targets": m.Target,
    "pockets": m.Pocket,
    "receptors": m.Receptor,
    "prepared_ligands": m.PreparedLigand,
    "campaigns": m.Campaign,
    "results": m.DockingResult,
    "poses": m.Pose,
    "assays": m.Assay,
    "assay_results": m.AssayResult,
    "drug_targets": m.DrugTarget,
    "pathways": m.Pathway,
    "pathway_genes": m.PathwayGene,
    "drug_pathways": m.DrugPathway,
    "gsea_scores": m.GseaScore,
    "literature_refs": m.LiteratureRef,
    "reference_scores": m.ReferenceScore,
    "size_scores": m.SizeScore,
    "consensus_scores": m.ConsensusScore,
}


def row_counts(db: Database) -> dict[str, int]:
    """Number of rows of every counted table, by its key in COUNTED."""
    with db.session() as s:
        return {key: int(s.scalar(select(func.count()).select_from(model)) or 0) for key, model in COUNTED.items()}
