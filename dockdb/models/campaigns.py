"""Campaigns, their receptors and drugs, docking results and every pose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dockdb.models.base import Base, TimestampMixin, utcnow

CAMPAIGN_STATUSES = ("created", "running", "done", "partial", "failed", "cancelled")
RESULT_STATUSES = ("done", "failed", "skipped")


class Campaign(TimestampMixin, Base):
    """A docking campaign: engine, parameters, seed, pocket kind, library, manifest and run status."""
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    engine: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(Integer)
    pocket_kind: Mapped[str] = mapped_column(String(16), default="focused")
    library_id: Mapped[int | None] = mapped_column(ForeignKey("library.id", ondelete="SET NULL"), index=True)
    software_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    manifest: Mapped[dict] = mapped_column(JSON, default=dict)
    manifest_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="created")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "host:pid" of the client running the campaign (to tell a live run from a killed one)
    runner: Mapped[str | None] = mapped_column(String(255))

    receptors: Mapped[list[CampaignReceptor]] = relationship(cascade="all, delete-orphan")


class CampaignReceptor(Base):
    """A receptor (with its pocket) that a campaign docks into."""
    __tablename__ = "campaign_receptor"
    __table_args__ = (UniqueConstraint("campaign_id", "receptor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    receptor_id: Mapped[int] = mapped_column(ForeignKey("receptor.id", ondelete="RESTRICT"), index=True)
    pocket_id: Mapped[int] = mapped_column(ForeignKey("pocket.id", ondelete="RESTRICT"))


class CampaignDrug(Base):
    """A drug that a campaign docks."""
    __tablename__ = "campaign_drug"
    __table_args__ = (UniqueConstraint("campaign_id", "drug_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="RESTRICT"), index=True)


class DockingResult(Base):
    """One (campaign, receptor, drug) docking: its status, best score and poses."""

    __tablename__ = "docking_result"
    __table_args__ = (
        UniqueConstraint("campaign_id", "receptor_id", "drug_id"),
        Index("ix_docking_result_receptor_score", "receptor_id", "best_score"),
        Index("ix_docking_result_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    receptor_id: Mapped[int] = mapped_column(ForeignKey("receptor.id", ondelete="RESTRICT"))
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # the lowest (best) score over the result's poses -- the one meaning of "best score" in the database, the
    # portal, the CSV and the API; size-aware variants of it are in ``size_score`` (dockdb.models.rankings)
    best_score: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    runtime_s: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    ligand_smiles: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    poses: Mapped[list[Pose]] = relationship(
        back_populates="result", cascade="all, delete-orphan", order_by="Pose.rank"
    )


class Pose(Base):
    """One stored pose of a docking result: rank, score and terms, PDBQT/SDF, interactions and plausibility."""
    __tablename__ = "pose"
    __table_args__ = (UniqueConstraint("result_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (result_id, rank) index serves lookups by result_id
    result_id: Mapped[int] = mapped_column(ForeignKey("docking_result.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    score_terms: Mapped[dict] = mapped_column(JSON, default=dict)
    sdf: Mapped[str | None] = mapped_column(Text)
    pdbqt: Mapped[str] = mapped_column(Text)
    interactions: Mapped[list] = mapped_column(JSON, default=list)
    # why ``interactions`` is empty when the interaction analysis (ProLIF) failed on this pose;
    # None when it ran (an empty list then means no contact) or was not asked for
    interactions_error: Mapped[str | None] = mapped_column(Text)
    # PoseBusters plausibility (``dockdb validate plausibility``): None until checked,
    # then whether every check passed and the names of the checks that failed.
    posebusters_pass: Mapped[bool | None] = mapped_column(Boolean, index=True)
    posebusters_failed: Mapped[list | None] = mapped_column(JSON)

    result: Mapped[DockingResult] = relationship(back_populates="poses")
