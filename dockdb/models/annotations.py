"""Evidence beside each score: assays, targets, pathways, GSEA, literature, reference scores."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dockdb.models.base import Base


class Assay(Base):
    """A cell or biochemical screen (or network analysis) whose per-drug results are stored, with its rule for a hit."""
    __tablename__ = "assay"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    units: Mapped[str | None] = mapped_column(String(64))
    active_rule: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(Text)


class AssayResult(Base):
    """One drug's value of one measure in an assay, with units, p-value and the active call."""
    __tablename__ = "assay_result"
    __table_args__ = (UniqueConstraint("assay_id", "drug_id", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assay_id: Mapped[int] = mapped_column(ForeignKey("assay.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    measure: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    units: Mapped[str | None] = mapped_column(String(64))
    p_value: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool | None] = mapped_column(Boolean)
    source_ref: Mapped[str | None] = mapped_column(String(128))


class DrugTarget(Base):
    """Drug -> target gene (e.g. DrugCentral, Repurposing Hub)."""

    __tablename__ = "drug_target"
    __table_args__ = (UniqueConstraint("drug_id", "gene", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    gene: Mapped[str] = mapped_column(String(64), index=True)
    uniprot: Mapped[str | None] = mapped_column(String(32))
    entrez_id: Mapped[int | None] = mapped_column(Integer)
    target_name: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))


class Pathway(Base):
    """A Reactome pathway (its stable id and name)."""
    __tablename__ = "pathway"

    id: Mapped[int] = mapped_column(primary_key=True)
    reactome_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)


class PathwayGene(Base):
    """A gene that belongs to a pathway."""
    __tablename__ = "pathway_gene"
    __table_args__ = (UniqueConstraint("pathway_id", "gene"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id", ondelete="CASCADE"), index=True)
    gene: Mapped[str] = mapped_column(String(64), index=True)


class DrugPathway(Base):
    """A pathway a drug's targets fall in, with the over-representation statistics."""

    __tablename__ = "drug_pathway"
    __table_args__ = (UniqueConstraint("drug_id", "pathway_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    pathway_id: Mapped[int] = mapped_column(ForeignKey("pathway.id", ondelete="CASCADE"), index=True)
    overlap_genes: Mapped[list] = mapped_column(JSON, default=list)
    p_value: Mapped[float | None] = mapped_column(Float)
    adj_p_value: Mapped[float | None] = mapped_column(Float)


class GseaScore(Base):
    """A CMap GSEA enrichment score of a drug instance (dose, cell line) against a coronavirus signature."""
    __tablename__ = "gsea_score"
    __table_args__ = (UniqueConstraint("drug_id", "instance", "signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    instance: Mapped[str] = mapped_column(String(64))
    dose: Mapped[str | None] = mapped_column(String(64))
    cell_line: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(32))
    enrichment_score: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)


class LiteratureRef(Base):
    """A literature reference about a drug (title, DOI, PubMed id or URL, evidence) from one source."""
    __tablename__ = "literature_ref"
    __table_args__ = (UniqueConstraint("drug_id", "source", "ref_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    ref_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    pmid: Mapped[str | None] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column(JSON, default=dict)


class ReferenceScore(Base):
    """A published docking score from another database (e.g. DockCoV2).

    ``score`` is NULL where the source published 0.0: a failed docking, not a score (DockCoV2 lists 0.0
    for arsenic trioxide, bortezomib, exenatide, boric acid...). Such rows are kept so pages can say so,
    and stay out of histograms, means, ranks and comparisons.
    """

    __tablename__ = "reference_score"
    __table_args__ = (
        UniqueConstraint("source", "external_id", "target_id"),
        Index("ix_reference_score_target_drug", "target_id", "drug_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"))
    drug_id: Mapped[int | None] = mapped_column(ForeignKey("drug.id", ondelete="SET NULL"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str | None] = mapped_column(String(128))
