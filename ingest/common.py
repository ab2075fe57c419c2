"""What every ingest step shares: its report, table readers and idempotent bulk sync."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.errors import SourceError
from dockdb.sources import fetch

BULK_CHUNK = 5000


@dataclass
class SourceReport:
    """Counts of one ingest step: rows read, rows inserted/updated (all tables), rows rejected
    (unparsable) and rows that matched no drug/target."""

    name: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    unmatched: int = 0
    error: str | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the step finished without an error."""
        return self.error is None

    def add(self, counts: tuple[int, int], table: str | None = None) -> None:
        """Add (inserted, updated) *counts* to the totals and, when *table* is given, to that table's details."""
        self.inserted += counts[0]
        self.updated += counts[1]
        if table is not None:
            prev = self.details.get(table, (0, 0))
            self.details[table] = (prev[0] + counts[0], prev[1] + counts[1])

    def as_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (seconds rounded to 0.01)."""
        return {
            "source": self.name,
            "read": self.read,
            "inserted": self.inserted,
            "updated": self.updated,
            "rejected": self.rejected,
            "unmatched": self.unmatched,
            "error": self.error,
            "seconds": round(self.seconds, 2),
            "details": {k: list(v) if isinstance(v, tuple) else v for k, v in self.details.items()},
        }


# ---------------------------------------------------------------------------- reading
def source_text(key: str, config: Config) -> tuple[Path, str]:
    """Path and text of a manifest source (mirror/cache/download, checked by sha256)."""
    path = fetch(key, config)
    try:
        return path, path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError as e:
        raise SourceError(f"source {key}: cannot read {path}: {e}") from e


def read_table(
    key: str,
    config: Config,
    *,
    delimiter: str = "\t",
    required: Sequence[str] = (),
    fieldnames: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """Rows of a delimited source as dicts; ``!`` comment lines are skipped.

    Missing ``required`` columns fail the source with one line naming them.
    """
    _, text = source_text(key, config)
    lines = (ln for ln in io.StringIO(text) if not ln.startswith("!"))
    reader = csv.DictReader(lines, delimiter=delimiter, fieldnames=fieldnames)
    try:
        rows = [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as e:
        raise SourceError(f"source {key}: cannot parse line {reader.line_num}: {e}") from e
    header = list(reader.fieldnames or [])
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(f"source {key}: missing column(s) {', '.join(missing)} (found {', '.join(header)[:200]})")
    return rows


def to_float(value: str | None) -> float | None:
    """*value* as a float; None for empty, NA-like or unparsable text."""
    if value is None:
        return None
    text = value.strip()
    if not text or text.lower() in {"na", "nan", "none", "-", "null"}:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def to_int(value: str | None) -> int | None:
    """*value* as an int when it parses to a whole number, else None."""
    f = to_float(value)
    return int(f) if f is not None and f.is_integer() else None


def chunked(items: Sequence[Any], size: int = BULK_CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of *items* of at most *size* elements."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


# ---------------------------------------------------------------------------- syncing
def sync_rows(
    session: Session,
    model: type,
    key: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    compare: Sequence[str] | None = None,
    where: Any = None,
) -> tuple[int, int]:
    """Make the table hold ``rows``: insert new keys, update rows whose values differ.

    ``key`` is the natural key (a unique constraint).  Rows already present with equal
    values are left alone, so a repeated ingest reports 0 inserted, 0 updated.  Returns
    ``(inserted, updated)``.  ``where`` restricts the existing rows considered.
    """
    rows = list(rows)
    if not rows:
        return (0, 0)
    cols = list(compare) if compare is not None else [c for c in rows[0] if c not in key]
    stmt = select(model.id, *[getattr(model, k) for k in key], *[getattr(model, c) for c in cols])
    if where is not None:
        stmt = stmt.where(where)
    nkey = len(key)
    existing: dict[tuple, tuple] = {}
    for rec in session.execute(stmt):
        existing[tuple(rec[1 : 1 + nkey])] = (rec[0], *rec[1 + nkey :])
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for row in rows:
        k = tuple(row[c] for c in key)
        if k in seen:
            continue
        seen.add(k)
        old = existing.get(k)
        if old is None:
            new.append(row)
            continue
        diff = {c: row[c] for i, c in enumerate(cols) if c in row and not _same(old[1 + i], row[c])}
        if diff:
            changed.append({"id": old[0], **diff})
    table = model.__table__
    for part in chunked(new):
        # Core executemany (one multi-row INSERT per batch): much faster than ORM bulk inserts
        cols_all = sorted({c for row in part for c in row})
        session.execute(insert(table), [{c: row.get(c) for c in cols_all} for row in part])
    for part in chunked(changed):
        session.execute(update(model), list(part))
    session.flush()
    return (len(new), len(changed))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return bool(a == b)


def key_map(session: Session, model: type, key: str) -> dict[Any, int]:
    """``{natural key: id}`` of a table."""
    return {k: i for i, k in session.execute(select(model.id, getattr(model, key)))}


def clip(text: str | None, n: int) -> str | None:
    """*text* cut to at most *n* characters, ending in '…' when it was cut; None stays None."""
    if text is None:
        return None
    return text if len(text) <= n else text[: n - 1] + "…"
