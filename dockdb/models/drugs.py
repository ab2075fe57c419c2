"""Drugs, their names and identifiers, and libraries of drugs."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dockdb.models.base import Base, TimestampMixin


class Drug(TimestampMixin, Base):
    """One parent structure (standardised, merged across sources by InChIKey)."""

    __tablename__ = "drug"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    name_lower: Mapped[str] = mapped_column(String(255), index=True)
    smiles: Mapped[str] = mapped_column(Text)
    inchikey: Mapped[str] = mapped_column(String(27), unique=True)
    pubchem_cid: Mapped[int | None] = mapped_column(Integer, index=True)
    drugbank_id: Mapped[str | None] = mapped_column(String(16), index=True)
    chembl_id: Mapped[str | None] = mapped_column(String(32), index=True)
    drugcentral_id: Mapped[int | None] = mapped_column(Integer, index=True)
    cas: Mapped[str | None] = mapped_column(String(32))
    approval_status: Mapped[str | None] = mapped_column(String(64))
    clinical_phase: Mapped[str | None] = mapped_column(String(64))
    mechanism: Mapped[str | None] = mapped_column(Text)
    # descriptors (RDKit)
    mw: Mapped[float | None] = mapped_column(Float)
    clogp: Mapped[float | None] = mapped_column(Float)
    hbd: Mapped[int | None] = mapped_column(Integer)
    hba: Mapped[int | None] = mapped_column(Integer)
    tpsa: Mapped[float | None] = mapped_column(Float)
    rotatable_bonds: Mapped[int | None] = mapped_column(Integer)
    heavy_atoms: Mapped[int | None] = mapped_column(Integer)

    synonyms: Mapped[list[DrugSynonym]] = relationship(back_populates="drug", cascade="all, delete-orphan")
    identifiers: Mapped[list[DrugIdentifier]] = relationship(back_populates="drug", cascade="all, delete-orphan")


class DrugSynonym(Base):
    """Another name of a drug, with the source that gives it."""
    __tablename__ = "drug_synonym"
    __table_args__ = (UniqueConstraint("drug_id", "name_lower"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    name_lower: Mapped[str] = mapped_column(String(512), index=True)
    source: Mapped[str | None] = mapped_column(String(64))

    drug: Mapped[Drug] = relationship(back_populates="synonyms")


class DrugIdentifier(Base):
    """Any external identifier (KEGG, UNII, RxNorm, ... and the main ones again)."""

    __tablename__ = "drug_identifier"
    __table_args__ = (
        UniqueConstraint("drug_id", "kind", "value"),
        Index("ix_drug_identifier_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(128))

    drug: Mapped[Drug] = relationship(back_populates="identifiers")


class Library(TimestampMixin, Base):
    """A named set of drugs to dock (built-in selections and user-loaded files)."""
    __tablename__ = "library"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(255))


class LibraryMember(Base):
    """A drug's membership in a library."""
    __tablename__ = "library_member"
    __table_args__ = (UniqueConstraint("library_id", "drug_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("library.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    source_name: Mapped[str | None] = mapped_column(String(255))
    source_ref: Mapped[str | None] = mapped_column(String(255))
