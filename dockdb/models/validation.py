"""Stored validation runs: redocking, agreement with DockCoV2, enrichment, pose plausibility."""

from __future__ import annotations

from sqlalchemy import JSON, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dockdb.models.base import Base, TimestampMixin


class ValidationRun(TimestampMixin, Base):
    """One ``dockdb validate …`` run: what was measured, how, and the numbers.

    ``kind`` is one of ``redock``, ``agreement``, ``enrichment``, ``plausibility``.
    ``summary`` holds the headline figures (per engine / per target), ``rows`` the
    per-item table (one dict per complex, drug-target pair or pose), ``plots`` the figures
    and ``command`` the exact command line that reproduces it.
    """

    __tablename__ = "validation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    label: Mapped[str] = mapped_column(String(255))
    engine: Mapped[str | None] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[dict] = mapped_column(JSON, default=dict)
    rows: Mapped[list] = mapped_column(JSON, default=list)
    command: Mapped[str] = mapped_column(Text, default="")
    software_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    # name -> base64-encoded PNG (matplotlib), drawn when the run is stored, served by the portal
    plots: Mapped[dict] = mapped_column(JSON, default=dict)
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    runtime_s: Mapped[float | None] = mapped_column(Float)
