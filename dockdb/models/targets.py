"""Targets, their pockets, and prepared receptors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dockdb.models.base import Base, TimestampMixin, utcnow


class Target(TimestampMixin, Base):
    """A protein target: identity, source structure, preparation spec and checksum, with its pockets."""
    __tablename__ = "target"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    organism: Mapped[str | None] = mapped_column(String(128))
    uniprot: Mapped[str | None] = mapped_column(String(32))
    gene: Mapped[str | None] = mapped_column(String(64))
    structure_id: Mapped[str | None] = mapped_column(String(64))
    source_url: Mapped[str | None] = mapped_column(Text)
    # preparation spec: keep_chains, remove_chains, keep_hetero, source key/path...
    spec: Mapped[dict] = mapped_column(JSON, default=dict)
    source_pdb: Mapped[str | None] = mapped_column(Text)
    source_hash: Mapped[str | None] = mapped_column(String(64))

    pockets: Mapped[list[Pocket]] = relationship(back_populates="target", cascade="all, delete-orphan")


class Pocket(Base):
    """A docking box of a target: ``focused`` (binding site) or ``blind`` (whole protein)."""

    __tablename__ = "pocket"
    __table_args__ = (UniqueConstraint("target_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    basis: Mapped[str | None] = mapped_column(Text)
    residues: Mapped[list] = mapped_column(JSON, default=list)
    center_x: Mapped[float] = mapped_column(Float)
    center_y: Mapped[float] = mapped_column(Float)
    center_z: Mapped[float] = mapped_column(Float)
    size_x: Mapped[float] = mapped_column(Float)
    size_y: Mapped[float] = mapped_column(Float)
    size_z: Mapped[float] = mapped_column(Float)
    literature: Mapped[str | None] = mapped_column(Text)

    target: Mapped[Target] = relationship(back_populates="pockets")

    @property
    def center(self) -> tuple[float, float, float]:
        """Box centre (x, y, z) in Å."""
        return (self.center_x, self.center_y, self.center_z)

    @property
    def size(self) -> tuple[float, float, float]:
        """Box edge lengths (x, y, z) in Å."""
        return (self.size_x, self.size_y, self.size_z)


class Receptor(Base):
    """A target's structure prepared for docking, with its provenance."""

    __tablename__ = "receptor"
    __table_args__ = (UniqueConstraint("target_id", "input_hash", "protocol_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    input_hash: Mapped[str] = mapped_column(String(64))
    protocol_version: Mapped[str] = mapped_column(String(32))
    tool_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    removed: Mapped[list] = mapped_column(JSON, default=list)
    added: Mapped[dict] = mapped_column(JSON, default=dict)
    pdb: Mapped[str] = mapped_column(Text)
    pdbqt: Mapped[str] = mapped_column(Text)
    prepared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    target: Mapped[Target] = relationship()


class PreparedLigand(Base):
    """Cache of ligand preparation, keyed by input hash and protocol version."""

    __tablename__ = "prepared_ligand"
    __table_args__ = (UniqueConstraint("input_hash", "protocol_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    input_hash: Mapped[str] = mapped_column(String(64))
    protocol_version: Mapped[str] = mapped_column(String(32))
    smiles: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column()
    # list of variants: [{"smiles": protonated/stereo SMILES, "pdbqt": text}, ...]
    variants: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    prepared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
