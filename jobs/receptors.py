"""Prepared receptors in the database: prepare a target once, reuse it while its inputs hold.

A target's receptor is prepared from ``Target.source_pdb`` and the chain/hetero selection in
``Target.spec`` (``keep_chains``, ``remove_chains``, ``keep_hetero``).  The stored row is
reused when a receptor with the same input hash and protocol version exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.db import Database
from dockdb.errors import NotFoundError, PocketError, ReceptorError, UnknownNameError
from dockdb.models import Pocket, Receptor, Target

__all__ = [
    "ReceptorChoice",
    "ensure_receptor",
    "get_target",
    "pocket_box",
    "prepare_targets",
    "receptor_kwargs",
    "resolve_targets",
]

log = logging.getLogger(__name__)
PH = 7.4


@dataclass(frozen=True)
class ReceptorChoice:
    """Which stored receptor a target docks into, and whether it was reused or prepared now."""
    target_key: str
    receptor_id: int
    input_hash: str
    protocol_version: str
    reused: bool


def get_target(session: Session, key: str) -> Target:
    """The target with registry key *key*; UnknownNameError listing the known keys when there is none."""
    target = session.scalar(select(Target).where(Target.key == key))
    if target is None:
        known = session.scalars(select(Target.key).order_by(Target.key)).all()
        hint = f"known targets: {', '.join(known)}" if known else "no targets loaded: run `dockdb ingest targets`"
        raise UnknownNameError(f"unknown target {key!r}; {hint}")
    return target


def resolve_targets(session: Session, spec: str | list[str]) -> list[Target]:
    """``all`` or comma-separated keys -> targets in registry order (by id)."""
    keys = [k.strip() for k in (spec.split(",") if isinstance(spec, str) else spec) if k.strip()]
    if keys == ["all"]:
        targets = list(session.scalars(select(Target).order_by(Target.id)))
        if not targets:
            raise NotFoundError("no targets loaded: run `dockdb ingest targets` first")
        return targets
    if not keys:
        raise NotFoundError("no targets given; use --targets all or --targets KEY,KEY")
    return [get_target(session, k) for k in dict.fromkeys(keys)]


def _names(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, dict):
        return [str(k) for k in value]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def receptor_kwargs(target: Target) -> dict[str, Any]:
    """The preparation options a target's registry entry asks for."""
    spec = target.spec or {}
    return {
        "keep_chains": _names(spec.get("keep_chains")),
        "remove_chains": _names(spec.get("remove_chains")),
        "keep_hetero": _names(spec.get("keep_hetero")),
        "ph": float(spec.get("ph", PH)),
    }


def _expected_hash(pdb_text: str, kwargs: dict[str, Any]) -> str | None:
    """The input hash the docking package will give these inputs, when it can tell us cheaply."""
    from docking import receptor as rec

    fn = getattr(rec, "receptor_input_hash", None)
    if fn is None:
        return None
    return fn(pdb_text, **kwargs)


def _stored(session: Session, target_id: int, input_hash: str, protocol: str) -> Receptor | None:
    return session.scalar(
        select(Receptor).where(
            Receptor.target_id == target_id,
            Receptor.input_hash == input_hash,
            Receptor.protocol_version == protocol,
        )
    )


def _latest(session: Session, target: Target, protocol: str) -> Receptor | None:
    """The newest stored receptor of the target for this protocol whose inputs match the source."""
    rows = session.scalars(
        select(Receptor)
        .where(Receptor.target_id == target.id, Receptor.protocol_version == protocol)
        .order_by(Receptor.id.desc())
    ).all()
    want = (target.source_hash, receptor_kwargs(target))
    for r in rows:
        inputs = (r.tool_versions or {}).get("_inputs")
        if inputs and (inputs.get("source_hash"), inputs.get("kwargs")) == want:
            return r
    return None


def ensure_receptor(db: Database, target_key: str, force: bool = False) -> ReceptorChoice:
    """The prepared receptor of *target_key*: the stored one when inputs and protocol match."""
    from docking import receptor as rec

    with db.session() as s:
        target = get_target(s, target_key)
        if not target.source_pdb:
            raise ReceptorError(f"target {target_key!r} has no source structure; run `dockdb ingest targets`")
        kwargs = receptor_kwargs(target)
        pdb_text, target_id, source_hash = target.source_pdb, target.id, target.source_hash
        if not force:
            expected = _expected_hash(pdb_text, kwargs)
            found = (
                _stored(s, target_id, expected, rec.PROTOCOL_VERSION)
                if expected
                else _latest(s, target, rec.PROTOCOL_VERSION)
            )
            if found is not None:
                return ReceptorChoice(target_key, found.id, found.input_hash, found.protocol_version, True)

    log.info("preparing receptor of %s", target_key)
    prepared = rec.prepare_receptor(pdb_text, **kwargs)
    with db.session() as s:
        found = _stored(s, target_id, prepared.input_hash, prepared.protocol_version)
        if found is not None:
            reused = not force
            if force:
                found.pdb, found.pdbqt = prepared.pdb, prepared.pdbqt
                found.removed, found.added = list(prepared.removed), dict(prepared.added)
            return ReceptorChoice(target_key, found.id, found.input_hash, found.protocol_version, reused)
        versions: dict[str, Any] = dict(prepared.tool_versions)
        versions["_inputs"] = {"source_hash": source_hash, "kwargs": kwargs}
        row = Receptor(
            target_id=target_id,
            input_hash=prepared.input_hash,
            protocol_version=prepared.protocol_version,
            tool_versions=versions,
            removed=list(prepared.removed),
            added=dict(prepared.added),
            pdb=prepared.pdb,
            pdbqt=prepared.pdbqt,
        )
        s.add(row)
        s.flush()
        return ReceptorChoice(target_key, row.id, row.input_hash, row.protocol_version, False)


def prepare_targets(db: Database, keys: list[str] | None = None, force: bool = False) -> list[ReceptorChoice]:
    """Ensure receptors for *keys* (all targets when None)."""
    with db.session() as s:
        targets = resolve_targets(s, keys if keys else "all")
        names = [t.key for t in targets]
    return [ensure_receptor(db, k, force=force) for k in names]


def get_pocket(session: Session, target: Target, kind: str) -> Pocket:
    """The target's pocket of *kind* (focused or blind); NotFoundError naming the kinds it has."""
    pocket = session.scalar(select(Pocket).where(Pocket.target_id == target.id, Pocket.kind == kind))
    if pocket is None:
        kinds = session.scalars(select(Pocket.kind).where(Pocket.target_id == target.id)).all()
        raise NotFoundError(
            f"target {target.key!r} has no {kind} pocket (has: {', '.join(kinds) or 'none'}); "
            "run `dockdb ingest targets` or choose another --pocket"
        )
    return pocket


def pocket_box(pocket: Pocket, receptor_pdb: str | None = None) -> Any:
    """The pocket as a docking Box, checked against the receptor when given.

    Blind pockets cover the whole protein and may exceed the focused-box size limit.
    """
    from docking.pocket import Box, validate_box

    box = Box(pocket.center, pocket.size)
    if receptor_pdb is not None:
        try:
            validate_box(box, receptor_pdb, allow_large=pocket.kind == "blind")
        except PocketError as e:
            raise PocketError(f"{pocket.kind} pocket of target {pocket.target_id}: {e}") from e
    return box
