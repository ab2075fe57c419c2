"""The DockDB data model (SQLAlchemy 2, typed ``Mapped[]``), split by area."""

from __future__ import annotations

from dockdb.models.annotations import (
    Assay,
    AssayResult,
    DrugPathway,
    DrugTarget,
    GseaScore,
    LiteratureRef,
    Pathway,
    PathwayGene,
    ReferenceScore,
)
from dockdb.models.base import Base
from dockdb.models.campaigns import Campaign, CampaignDrug, CampaignReceptor, DockingResult, Pose
from dockdb.models.drugs import Drug, DrugIdentifier, DrugSynonym, Library, LibraryMember
from dockdb.models.rankings import ConsensusScore, SizeScore, TargetReference
from dockdb.models.targets import Pocket, PreparedLigand, Receptor, Target
from dockdb.models.validation import ValidationRun

__all__ = [
    "Assay",
    "AssayResult",
    "Base",
    "Campaign",
    "CampaignDrug",
    "CampaignReceptor",
    "ConsensusScore",
    "DockingResult",
    "Drug",
    "DrugIdentifier",
    "DrugPathway",
    "DrugSynonym",
    "DrugTarget",
    "GseaScore",
    "Library",
    "LibraryMember",
    "LiteratureRef",
    "Pathway",
    "PathwayGene",
    "Pocket",
    "Pose",
    "PreparedLigand",
    "Receptor",
    "ReferenceScore",
    "SizeScore",
    "Target",
    "TargetReference",
    "ValidationRun",
]
