"""Writing docking results: idempotent upserts, one transaction per result with its poses.

A result is keyed on (campaign, receptor, drug).  Writing it again replaces the row's values
and its whole pose set in the same transaction, so a reader never sees a result without its
poses or with a mix of two runs' poses, and a resumed run never duplicates anything.

A lost database connection (server restart, network cut) pauses writing: the transaction is
retried with exponential backoff for up to ``max_wait_s`` seconds before giving up with one
:class:`~dockdb.errors.DatabaseError` line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import DatabaseError, one_line
from dockdb.models import DockingResult, Pose
from dockdb.models.base import utcnow

__all__ = ["DockingOutcome", "PoseRecord", "ResultWriter", "is_connection_error", "with_db_retry"]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_WAIT_S = 600.0


@dataclass
class PoseRecord:
    rank: int
    score: float
    pdbqt: str
    sdf: str | None = None
    score_terms: dict[str, float] = field(default_factory=dict)
    interactions: list[dict[str, Any]] = field(default_factory=list)
    interactions_error: str | None = None  # why ``interactions`` is empty when its analysis failed


@dataclass
class DockingOutcome:
    """What a worker returns for one (receptor, drug): poses, or the error after its attempts."""

    receptor_id: int
    drug_id: int
    status: str  # done | failed | skipped
    poses: list[PoseRecord] = field(default_factory=list)
    error: str | None = None
    runtime_s: float | None = None
    attempts: int = 1
    ligand_smiles: str | None = None
    extra_s: float = 0.0  # worker time beyond the engine (interaction analysis); not stored

    @property
    def best_score(self) -> float | None:
        return min((p.score for p in self.poses), default=None)


def is_connection_error(e: BaseException) -> bool:
    """True for errors that a reconnect may cure (server restart, network cut, SQLite lock)."""
    if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
        return True
    if isinstance(e, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    return isinstance(e, sa_exc.DisconnectionError | ConnectionError)


def with_db_retry(
    db: Database,
    fn: Callable[[Session], T],
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    on_wait: Callable[[float, BaseException], None] | None = None,
) -> T:
    """Run ``fn(session)`` in one transaction; on connection loss retry with backoff."""
    delay = 0.25
    waited = 0.0
    while True:
        session = Session(db.engine, expire_on_commit=False)
        try:
            with session.begin():
                return fn(session)
        except (sa_exc.DBAPIError, sa_exc.DisconnectionError, ConnectionError) as e:
            if not is_connection_error(e):
                raise
            if waited >= max_wait_s:
                reason = one_line(getattr(e, "orig", None) or e)
                raise DatabaseError(
                    f"lost database {db.masked_url} for {waited:.0f} s ({reason}); results so far are "
                    "saved: restart the server and run the campaign again to finish"
                ) from e
            if on_wait is not None:
                on_wait(delay, e)
            log.warning("database connection lost (%s); retrying in %.1f s", type(e).__name__, delay)
            time.sleep(delay)
            waited += delay
            delay = min(delay * 2, 10.0)
            db.engine.dispose()
        finally:
            session.close()


def _upsert_result(session: Session, campaign_id: int, o: DockingOutcome, now: datetime) -> int:
    values = {
        "campaign_id": campaign_id,
        "receptor_id": o.receptor_id,
        "drug_id": o.drug_id,
        "status": o.status,
        "best_score": o.best_score,
        "error": o.error,
        "runtime_s": o.runtime_s,
        "attempts": o.attempts,
        "ligand_smiles": o.ligand_smiles,
        "finished_at": now,
    }
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DockingResult).values(**values)
    update = {k: stmt.excluded[k] for k in values if k not in {"campaign_id", "receptor_id", "drug_id"}}
    upsert = stmt.on_conflict_do_update(
        index_elements=["campaign_id", "receptor_id", "drug_id"], set_=update
    ).returning(DockingResult.id)
    return int(session.execute(upsert).scalar_one())


def write_outcome(session: Session, campaign_id: int, o: DockingOutcome) -> int:
    """Upsert one result and replace its poses (inside the caller's transaction)."""
    result_id = _upsert_result(session, campaign_id, o, utcnow())
    session.execute(delete(Pose).where(Pose.result_id == result_id))
    if o.poses:
        session.execute(
            insert(Pose),
            [
                {
                    "result_id": result_id,
                    "rank": p.rank,
                    "score": p.score,
                    "score_terms": p.score_terms,
                    "sdf": p.sdf,
                    "pdbqt": p.pdbqt,
                    "interactions": p.interactions,
                    "interactions_error": p.interactions_error,
                }
                for p in o.poses
            ],
        )
    return result_id


class ResultWriter:
    """Writes outcomes of one campaign as they arrive; counts what it wrote."""

    def __init__(self, db: Database, campaign_id: int, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        self.db = db
        self.campaign_id = campaign_id
        self.max_wait_s = max_wait_s
        self.counts: dict[str, int] = {"done": 0, "failed": 0, "skipped": 0}
        self.pauses = 0
        self.write_s = 0.0

    def _on_wait(self, delay: float, e: BaseException) -> None:
        self.pauses += 1

    def write(self, outcome: DockingOutcome) -> int:
        t0 = time.perf_counter()
        rid = with_db_retry(
            self.db, lambda s: write_outcome(s, self.campaign_id, outcome), self.max_wait_s, self._on_wait
        )
        self.write_s += time.perf_counter() - t0
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        return rid

    def existing_keys(self, statuses: tuple[str, ...] = ("done", "failed", "skipped")) -> set[tuple[int, int]]:
        """(receptor_id, drug_id) of results already stored with one of *statuses*."""

        def q(s: Session) -> set[tuple[int, int]]:
            rows = s.execute(
                select(DockingResult.receptor_id, DockingResult.drug_id).where(
                    DockingResult.campaign_id == self.campaign_id, DockingResult.status.in_(statuses)
                )
            )
            return {(int(r), int(d)) for r, d in rows}

        return with_db_retry(self.db, q, self.max_wait_s)
