"""What the portal ranks by: each target's reference campaign, size-aware scores of every docking
result, and the consensus of several engines on one target."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dockdb.models.base import Base, utcnow


class TargetReference(Base):
    """The campaign whose scores a target's table shows, chosen with ``dockdb target reference``
    (without a row: the newest finished focused-pocket campaign that docked into the target)."""

    __tablename__ = "target_reference"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SizeScore(Base):
    """Size-aware scores of one docking result, computed over its (campaign, target) when the campaign
    finishes (``dockdb campaign rescore`` for older ones).

    ``ligand_efficiency``: best score / heavy atoms; ``size_z``: the residual of the best score against
    heavy-atom count (Theil–Sen fit over the campaign's drugs on the target) over 1.4826 × its median
    absolute deviation; ``selectivity_z``: the drug's robust z on this target minus its mean robust z on
    the campaign's other targets, scaled to unit variance.  Lower is better for all three, as for scores.
    """

    __tablename__ = "size_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("docking_result.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    heavy_atoms: Mapped[int | None] = mapped_column(Integer)
    ligand_efficiency: Mapped[float | None] = mapped_column(Float)
    size_z: Mapped[float | None] = mapped_column(Float)
    selectivity_z: Mapped[float | None] = mapped_column(Float)


class ConsensusScore(Base):
    """One drug's consensus over two or more engines' campaigns on one target (``dockdb campaign consensus``).

    ``percentile``: mean of the per-campaign percentile ranks (0 = best score of the campaign on the
    target, 100 = worst); ``spread``: largest difference between two of them; ``rmsd``: largest in-place
    heavy-atom RMSD between two campaigns' top poses; ``agree``: spread ≤ 20 and rmsd ≤ 2 Å.
    """

    __tablename__ = "consensus_score"
    __table_args__ = (UniqueConstraint("target_id", "drug_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int] = mapped_column(ForeignKey("drug.id", ondelete="CASCADE"), index=True)
    campaign_ids: Mapped[list] = mapped_column(JSON, default=list)
    engines: Mapped[list] = mapped_column(JSON, default=list)
    percentiles: Mapped[list] = mapped_column(JSON, default=list)
    percentile: Mapped[float] = mapped_column(Float)
    spread: Mapped[float] = mapped_column(Float)
    rmsd: Mapped[float | None] = mapped_column(Float)
    agree: Mapped[bool | None] = mapped_column(Boolean)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
