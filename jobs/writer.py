"""Writing docking results: idempotent bulk upserts, whole pose sets in the same transaction.

A result is keyed on (campaign, receptor, drug).  Writing it again replaces the row's values
and its whole pose set in the same transaction, so a reader never sees a result without its
poses or with a mix of two runs' poses, and a resumed run never duplicates anything.

:meth:`ResultWriter.write_many` writes a batch of results in one transaction: one multi-row
upsert of the result rows, one delete of their old poses, one multi-row insert of the new
poses (chunked under the drivers' parameter limits).  On PostgreSQL these are three statements
of fixed text whatever the batch size: the upsert takes its rows as arrays (``unnest``), so
nothing is compiled per batch, and the poses go through one binary ``COPY`` streamed result by
result while the server stores the previous ones (see :func:`_write_outcomes_pg`).  The batch
commits whole or not at all; a caller acknowledges a result (counts it, and a resume skips it)
only after that commit.  A batch refused by the database for one bad result (an integrity or
data error) is written again one result per transaction, so the good results still land and
the bad one is stored as ``failed`` with the reason.  :meth:`ResultWriter.write` is the
one-result path.

A lost database connection (server restart, network cut) pauses writing: the transaction is
retried with exponential backoff for up to ``max_wait_s`` seconds before giving up with one
:class:`~dockdb.errors.DatabaseError` line.
"""

from __future__ import annotations

import json
import logging
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, exists, insert, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import DatabaseError, one_line
from dockdb.models import DockingResult, Pose
from dockdb.models.base import utcnow

__all__ = [
    "DockingOutcome",
    "PoseRow",
    "ResultWriter",
    "is_connection_error",
    "with_db_retry",
    "write_outcome",
    "write_outcomes",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_WAIT_S = 600.0
RESULT_CHUNK = 200  # result rows per upsert statement (10 parameters each: under SQLite's 32,766)
POSE_CHUNK = 1000  # pose rows per insert statement (8 parameters each)


@dataclass
class PoseRow:
    """The values of one ``poses`` row (a :class:`dockdb.models.Pose`) that the writer inserts."""

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
    poses: list[PoseRow] = field(default_factory=list)
    error: str | None = None
    runtime_s: float | None = None
    attempts: int = 1
    ligand_smiles: str | None = None
    extra_s: float = 0.0  # worker time beyond the engine (interaction analysis); not stored
    cpu_s: float = 0.0  # worker process CPU of the engine call (its share) and the analysis; not stored

    @property
    def best_score(self) -> float | None:
        """The lowest pose score, or None without poses."""
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


def _result_values(campaign_id: int, o: DockingOutcome, now: datetime) -> dict[str, Any]:
    return {
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


def _upsert_results(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, int], int]:
    """Insert or update result rows (one multi-row statement per chunk): (receptor, drug) -> id."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ids: dict[tuple[int, int], int] = {}
    for i in range(0, len(rows), RESULT_CHUNK):
        stmt = make(DockingResult).values(rows[i : i + RESULT_CHUNK])
        update = {k: stmt.excluded[k] for k in rows[0] if k not in {"campaign_id", "receptor_id", "drug_id"}}
        upsert = stmt.on_conflict_do_update(
            index_elements=["campaign_id", "receptor_id", "drug_id"], set_=update
        ).returning(DockingResult.receptor_id, DockingResult.drug_id, DockingResult.id)
        for r, d, rid in session.execute(upsert):
            ids[(int(r), int(d))] = int(rid)
    return ids


def _pose_rows(result_id: int, o: DockingOutcome) -> list[dict[str, Any]]:
    return [
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
    ]


def write_outcomes(session: Session, campaign_id: int, outcomes: list[DockingOutcome]) -> dict[tuple[int, int], int]:
    """Upsert a batch of results and replace their pose sets (inside the caller's transaction).

    A key given twice is written once, with its last outcome.  Returns (receptor, drug) -> result id."""
    latest: dict[tuple[int, int], DockingOutcome] = {}
    for o in outcomes:
        latest[(o.receptor_id, o.drug_id)] = o
    if not latest:
        return {}
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        return _write_outcomes_pg(session.connection(), campaign_id, list(latest.values()), now)
    ids = _upsert_results(session, [_result_values(campaign_id, o, now) for o in latest.values()])
    id_list = list(ids.values())
    for i in range(0, len(id_list), RESULT_CHUNK):
        session.execute(delete(Pose).where(Pose.result_id.in_(id_list[i : i + RESULT_CHUNK])))
    poses = [row for key, o in latest.items() for row in _pose_rows(ids[key], o)]
    table = cast(Table, Pose.__table__)  # Core insert: no ORM bookkeeping per pose row
    for i in range(0, len(poses), POSE_CHUNK):
        session.execute(insert(table), poses[i : i + POSE_CHUNK])
    return ids


# ---------------------------------------------------------------- PostgreSQL: rows as arrays, poses by binary COPY

_PG_UPSERT = (
    "INSERT INTO docking_result (campaign_id, receptor_id, drug_id, status, best_score, error, runtime_s, attempts, "
    "ligand_smiles, finished_at) "
    "SELECT %(campaign_id)s, u.r, u.d, u.st, u.bs, u.er, u.rt, u.at, u.ls, %(now)s "
    "FROM unnest(%(r)s::integer[], %(d)s::integer[], %(st)s::text[], %(bs)s::float8[], %(er)s::text[], "
    "%(rt)s::float8[], %(at)s::integer[], %(ls)s::text[]) AS u(r, d, st, bs, er, rt, at, ls) "
    "ON CONFLICT (campaign_id, receptor_id, drug_id) DO UPDATE SET status = EXCLUDED.status, "
    "best_score = EXCLUDED.best_score, error = EXCLUDED.error, runtime_s = EXCLUDED.runtime_s, "
    "attempts = EXCLUDED.attempts, ligand_smiles = EXCLUDED.ligand_smiles, finished_at = EXCLUDED.finished_at "
    "RETURNING receptor_id, drug_id, id, xmax = 0"  # xmax = 0: the row was inserted, not updated
)
_PG_DELETE_POSES = "DELETE FROM pose WHERE result_id = ANY(%(ids)s)"

_POSE_COLUMNS = ("result_id", "rank", "score", "score_terms", "sdf", "pdbqt", "interactions", "interactions_error")
_POSE_TYPES = ("int4", "int4", "float8", "json", "text", "text", "json", "text")  # what _binary_rows encodes
_JSON_COLUMNS = {"score_terms", "interactions"}
_COPY_TEXT = f"COPY pose ({', '.join(_POSE_COLUMNS)}) FROM STDIN"
_COPY_BINARY = f"{_COPY_TEXT} (FORMAT binary)"

_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, then 32-bit flags and header-extension length
_BINARY_TRAILER = b"\xff\xff"  # a field count of -1
_ROW_HEAD = struct.Struct("!hiiiiid")  # 8 fields; result_id and rank (4-byte int), score (8-byte float), each sized
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)


@dataclass(frozen=True)
class _Server:
    """What the writer needs to know of one PostgreSQL database (asked once per URL)."""

    lz4: bool  # TOAST can compress with lz4 (PostgreSQL >= 14 built with it)
    binary: bool  # pose's columns have the types that the binary COPY rows encode


_SERVERS: dict[str, _Server] = {}


def _server(conn: Connection) -> _Server:
    key = str(conn.engine.url)  # the URL names the schema too (search_path), so each schema is asked once
    if key not in _SERVERS:
        methods = conn.exec_driver_sql(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'").scalar()
        types: dict[str, str] = dict(conn.exec_driver_sql(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = 'pose'::regclass AND a.attnum > 0 AND NOT a.attisdropped").all())
        _SERVERS[key] = _Server(lz4="lz4" in (methods or []),
                                binary=tuple(types.get(c) for c in _POSE_COLUMNS) == _POSE_TYPES)
    return _SERVERS[key]


def _write_outcomes_pg(conn: Connection, campaign_id: int, outcomes: list[DockingOutcome],
                       now: datetime) -> dict[tuple[int, int], int]:
    """PostgreSQL: :func:`write_outcomes` in three statements of fixed text, whatever the batch size.

    The result rows go in as one array per column (``unnest``): no SQL is compiled per batch and
    the server parses one short statement.  The old poses of the batch's rewritten results (rows
    the upsert updated rather than inserted: a new row has no poses) go in one ``DELETE``; the
    new poses through one binary ``COPY`` (no escaping on this side, no text parsing on the
    server's), handed over one result at a time so that the server stores a result while the
    next is encoded.  Large texts are TOAST-compressed with lz4 (several times
    faster than the default pglz) where the server has it."""
    server = _server(conn)
    if server.lz4:
        conn.exec_driver_sql("SET LOCAL default_toast_compression = 'lz4'")
    params = {
        "campaign_id": campaign_id, "now": now,
        "r": [o.receptor_id for o in outcomes], "d": [o.drug_id for o in outcomes],
        "st": [o.status for o in outcomes], "bs": [o.best_score for o in outcomes],
        "er": [o.error for o in outcomes], "rt": [o.runtime_s for o in outcomes],
        "at": [o.attempts for o in outcomes], "ls": [o.ligand_smiles for o in outcomes],
    }
    ids: dict[tuple[int, int], int] = {}
    replaced: list[int] = []
    for r, d, i, inserted in conn.exec_driver_sql(_PG_UPSERT, params):
        ids[int(r), int(d)] = int(i)
        if not inserted:
            replaced.append(int(i))
    if replaced:  # a result row just inserted has no poses yet: only rewritten results lose their old ones
        conn.exec_driver_sql(_PG_DELETE_POSES, {"ids": replaced})
    if any(o.poses for o in outcomes):
        if server.binary:
            _copy_poses(conn, _COPY_BINARY, _binary_rows(ids, outcomes))
        else:  # a schema whose pose columns differ from what the binary rows encode
            _copy_poses(conn, _COPY_TEXT, _text_rows(ids, outcomes))
    return ids


def _binary_rows(ids: dict[tuple[int, int], int], outcomes: list[DockingOutcome]) -> Iterator[bytes]:
    """COPY's binary format: the header, then each result's pose rows as one chunk, then the trailer."""
    dumps = json.dumps
    yield _BINARY_HEADER
    for o in outcomes:
        rid = ids[(o.receptor_id, o.drug_id)]
        parts: list[bytes] = []
        for p in o.poses:
            parts.append(_ROW_HEAD.pack(8, 4, rid, 4, p.rank, 8, p.score))
            for value in (None if p.score_terms is None else dumps(p.score_terms), p.sdf, p.pdbqt,
                          None if p.interactions is None else dumps(p.interactions), p.interactions_error):
                if value is None:
                    parts.append(_NULL)
                else:
                    data = value.encode()
                    parts += (_LENGTH.pack(len(data)), data)
        yield b"".join(parts)
    yield _BINARY_TRAILER


def _copy_field(column: str, value: Any) -> str:
    if value is None:
        return "\\N"
    if column in _JSON_COLUMNS:
        value = json.dumps(value)
    elif isinstance(value, float):
        return repr(value)
    # COPY's text format: backslash, tab, newline and carriage return escaped (str.replace is C-fast)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _text_rows(ids: dict[tuple[int, int], int], outcomes: list[DockingOutcome]) -> Iterator[str]:
    """COPY's text format, one chunk per result (psycopg2 encodes it to the connection's encoding)."""
    for o in outcomes:
        rows = _pose_rows(ids[(o.receptor_id, o.drug_id)], o)
        yield "".join("\t".join(_copy_field(c, row[c]) for c in _POSE_COLUMNS) + "\n" for row in rows)


class _Chunks:
    """A file for psycopg2's ``copy_expert``: each ``read`` hands over the next non-empty chunk
    whole, and an error raised while encoding one is kept (psycopg2 then aborts the COPY).

    Empty chunks (a result without poses) are skipped: psycopg2 takes an empty read as the end
    of the data, and PostgreSQL accepts data that ends between rows, so one would silently drop
    the poses of every later result."""

    def __init__(self, chunks: Iterable[bytes | str]) -> None:
        self._chunks = iter(chunks)
        self.error: Exception | None = None

    def read(self, size: int = -1) -> bytes | str:
        try:
            for chunk in self._chunks:
                if chunk:
                    return chunk
            return b""
        except Exception as e:
            self.error = e
            raise


def _copy_poses(conn: Connection, sql: str, chunks: Iterable[bytes | str]) -> None:
    """Run ``COPY … FROM STDIN`` in the connection's transaction with the rows of *chunks*.

    Driver errors come back as SQLAlchemy's, so callers see the same exceptions (connection loss,
    integrity) as on the INSERT path; a value that cannot be encoded (a score that is no number)
    comes back as a :class:`sqlalchemy.exc.DataError`, like a value the server refuses."""
    dialect = conn.dialect
    raw: Any = conn.connection.dbapi_connection  # psycopg2's connection: copy_expert is not in the DB-API
    dbapi_error = dialect.loaded_dbapi.Error
    source = _Chunks(chunks)
    cur = raw.cursor()
    try:
        cur.copy_expert(sql, source)
    except Exception as e:
        if source.error is not None:  # psycopg2 aborted the COPY: the transaction rolls back
            why = ValueError(f"a pose value cannot be stored: {source.error}")
            raise sa_exc.DataError(sql, None, why) from source.error
        if isinstance(e, dbapi_error):
            raise sa_exc.DBAPIError.instance(
                sql, None, e, dbapi_error, connection_invalidated=dialect.is_disconnect(e, raw, None),
                dialect=dialect,
            ) from e
        raise
    finally:
        cur.close()


def write_outcome(session: Session, campaign_id: int, o: DockingOutcome) -> int:
    """Upsert one result and replace its poses (inside the caller's transaction)."""
    return write_outcomes(session, campaign_id, [o])[(o.receptor_id, o.drug_id)]


def _unstorable(o: DockingOutcome, e: BaseException) -> DockingOutcome:
    """*o* as a failed result without poses, saying why the database refused it."""
    reason = one_line(getattr(e, "orig", None) or e, 1000, with_type=True)
    return DockingOutcome(o.receptor_id, o.drug_id, "failed", error=f"storing the result failed: {reason}",
                          runtime_s=o.runtime_s, attempts=o.attempts, ligand_smiles=o.ligand_smiles)


class ResultWriter:
    """Writes outcomes of one campaign as they arrive; counts what it wrote."""

    def __init__(self, db: Database, campaign_id: int, max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        self.db = db
        self.campaign_id = campaign_id
        self.max_wait_s = max_wait_s
        self.counts: dict[str, int] = {"done": 0, "failed": 0, "skipped": 0}
        self.pauses = 0
        self.write_s = 0.0
        self.transactions = 0
        self.rejected: list[tuple[DockingOutcome, str]] = []  # (outcome, why the database refused it)

    def _on_wait(self, delay: float, e: BaseException) -> None:
        self.pauses += 1

    def write(self, outcome: DockingOutcome) -> int:
        """Write one outcome in its own transaction (retried over connection loss); returns the result id."""
        t0 = time.perf_counter()
        rid = with_db_retry(
            self.db, lambda s: write_outcome(s, self.campaign_id, outcome), self.max_wait_s, self._on_wait
        )
        self.write_s += time.perf_counter() - t0
        self.transactions += 1
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        return rid

    def write_many(self, outcomes: list[DockingOutcome]) -> list[DockingOutcome]:
        """Write *outcomes* in one transaction; returns them as committed (acknowledge only these).

        When the database refuses the batch for a reason other than a lost connection (a bad
        value in one result), each result is written in its own transaction instead; one that is
        still refused is stored as ``failed`` with the reason (and listed in :attr:`rejected`), so
        the others are not lost and the campaign carries on."""
        if not outcomes:
            return []
        t0 = time.perf_counter()
        try:
            with_db_retry(self.db, lambda s: write_outcomes(s, self.campaign_id, outcomes), self.max_wait_s,
                          self._on_wait)
            self.transactions += 1
            stored = list(outcomes)
        except (sa_exc.IntegrityError, sa_exc.DataError) as batch_error:
            log.warning("a batch of %d results was refused (%s); writing them one by one", len(outcomes),
                        one_line(getattr(batch_error, "orig", None) or batch_error))
            stored = []
            for o in outcomes:
                try:
                    self.write(o)
                    stored.append(o)
                    continue
                except (sa_exc.IntegrityError, sa_exc.DataError) as e:
                    failed = _unstorable(o, e)
                    self.rejected.append((o, failed.error or ""))
                self.write(failed)
                stored.append(failed)
            self.write_s += time.perf_counter() - t0
            return stored
        self.write_s += time.perf_counter() - t0
        for o in stored:
            self.counts[o.status] = self.counts.get(o.status, 0) + 1
        return stored

    def existing_keys(self, statuses: tuple[str, ...] = ("done", "failed", "skipped")) -> set[tuple[int, int]]:
        """(receptor_id, drug_id) of results already stored with one of *statuses*.

        A ``done`` result without poses does not count (a docking is done with at least one pose):
        an earlier writer could leave such a result on PostgreSQL (an empty COPY chunk, see
        :class:`_Chunks`), and a resumed run docks it again."""
        has_poses = exists().where(Pose.result_id == DockingResult.id)

        def q(s: Session) -> set[tuple[int, int]]:
            rows = s.execute(
                select(DockingResult.receptor_id, DockingResult.drug_id).where(
                    DockingResult.campaign_id == self.campaign_id, DockingResult.status.in_(statuses),
                    or_(DockingResult.status != "done", has_poses),
                )
            )
            return {(int(r), int(d)) for r, d in rows}

        return with_db_retry(self.db, q, self.max_wait_s)
