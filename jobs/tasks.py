"""What Dask workers run: ligand preparation and batched docking.  Pure compute, no database.

The client reads inputs from the database, ships them to these functions and writes what they
return; workers therefore need neither database access nor credentials.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from dockdb.errors import one_line
from jobs.writer import DockingOutcome, PoseRow

log = logging.getLogger(__name__)

__all__ = [
    "LigandPrep",
    "ReceptorInput",
    "dock_batch",
    "prepare_ligand_task",
]


@dataclass
class LigandPrep:
    """A drug's prepared ligand (or why it cannot be docked), as cached in PreparedLigand."""

    drug_id: int
    smiles: str
    seed: int
    input_hash: str | None = None
    protocol_version: str | None = None
    variants: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    runtime_s: float = 0.0


@dataclass
class ReceptorInput:
    """What a worker needs of one campaign receptor: its id, PDBQT and PDB text, and the box."""
    receptor_id: int
    pdbqt: str
    pdb: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]


def _plain(obj: Any) -> Any:
    """Dataclasses / objects -> JSON-able dicts (for the PreparedLigand cache)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)


def prepare_ligand_task(drug_id: int, smiles: str, seed: int) -> LigandPrep:
    """Prepare one drug's ligand; an undockable molecule comes back with ``error`` set."""
    from dockdb.errors import PreparationError
    from docking import ligand as lig

    t0 = time.perf_counter()
    try:
        prepared = lig.prepare_ligand(smiles, seed=seed)
    except PreparationError as e:
        return LigandPrep(drug_id, smiles, seed, protocol_version=lig.PROTOCOL_VERSION, error=str(e),
                          runtime_s=time.perf_counter() - t0)
    except Exception as e:  # RDKit/Meeko raise many types on odd molecules
        return LigandPrep(drug_id, smiles, seed, protocol_version=lig.PROTOCOL_VERSION,
                          error=f"ligand preparation failed ({one_line(e, with_type=True)})",
                          runtime_s=time.perf_counter() - t0)
    parent = {"smiles": prepared.smiles, "n_heavy": prepared.n_heavy, "n_rotatable": prepared.n_rotatable,
              "tool_versions": dict(prepared.tool_versions)}
    variants = [{**_plain(v), "parent": parent} for v in prepared.variants]
    return LigandPrep(drug_id, smiles, seed, input_hash=prepared.input_hash,
                      protocol_version=prepared.protocol_version, variants=variants,
                      runtime_s=time.perf_counter() - t0)


def to_prepared_ligand(prep: LigandPrep) -> Any:
    """The docking package's PreparedLigand rebuilt from a (cached) LigandPrep."""
    from docking.ligand import LigandVariant, PreparedLigand

    names = {f.name for f in dataclasses.fields(LigandVariant)}
    variants = tuple(LigandVariant(**{k: v for k, v in d.items() if k in names}) for d in prep.variants)
    parent = prep.variants[0].get("parent") or {}
    return PreparedLigand(
        name=f"drug-{prep.drug_id}",
        input_smiles=prep.smiles,
        smiles=parent.get("smiles", prep.smiles),
        variants=variants,
        n_heavy=int(parent.get("n_heavy") or max(v.n_heavy for v in variants)),
        n_rotatable=int(parent.get("n_rotatable") or 0),
        input_hash=prep.input_hash or "",
        protocol_version=prep.protocol_version or "",
        tool_versions=dict(parent.get("tool_versions") or {}),
    )


def pose_rows(result: Any, receptor_pdb: str | None, interaction_poses: int) -> list[PoseRow]:
    """PoseRows of an engine result (poses already merged over variants, best first);
    interacting residues for the best *interaction_poses* poses (the protein is read once)."""
    ordered = sorted(result.poses, key=lambda q: (q.score, q.rank))
    chosen = [i for i, p in enumerate(ordered[:interaction_poses]) if p.sdf] if receptor_pdb else []
    found = _interactions(receptor_pdb or "", [ordered[i].sdf for i in chosen])
    by_index = dict(zip(chosen, found, strict=True))
    records = []
    for i, p in enumerate(ordered):
        rows, error = by_index.get(i, ([], None))
        records.append(PoseRow(rank=i + 1, score=float(p.score), pdbqt=p.pdbqt, sdf=p.sdf or None,
                                  score_terms={k: float(v) for k, v in (p.terms or {}).items()},
                                  interactions=rows, interactions_error=error))
    return records


_WARNED: set[str] = set()  # reasons this process has logged already


def _warn_once(reason: str) -> None:
    """Log a failure reason at WARNING the first time this process meets it, then at DEBUG: a
    receptor ProLIF cannot read fails every pose alike, and one line says so (each pose still
    stores its reason)."""
    if reason in _WARNED:
        log.debug("%s", reason)
        return
    if len(_WARNED) < 1000:
        _WARNED.add(reason)
    log.warning("%s (stored on each pose it affects; later repeats are not logged)", reason)


def _interactions(receptor_pdb: str, sdfs: list[str]) -> list[tuple[list[dict[str, Any]], str | None]]:
    """(interacting residues, None) per pose, or ([], why) for a pose ProLIF failed on.

    Interaction analysis is an annotation: a failure must not lose the poses, and one pose's
    failure must not blank the others (the batch is retried pose by pose).  Each failure is
    logged and returned, to be stored with its pose."""
    if not sdfs:
        return []
    from docking.interactions import interactions_many

    try:
        return [(_plain(list(rows)), None) for rows in interactions_many(receptor_pdb, sdfs)]
    except Exception as e:
        if len(sdfs) == 1:
            reason = f"interaction analysis failed: {one_line(e)}"
            _warn_once(reason)
            return [([], reason)]
    return [_interactions(receptor_pdb, [sdf])[0] for sdf in sdfs]


def dock_batch(
    engine_name: str,
    params: dict[str, Any],
    receptor: ReceptorInput,
    ligands: list[LigandPrep],
    seed: int,
    max_attempts: int = 3,
    with_interactions: bool = True,
    interaction_poses: int = 20,
) -> list[DockingOutcome]:
    """Dock a batch of ligands into one receptor/box (one engine call, so maps are built once).

    A ligand whose docking fails is retried alone until it has had ``max_attempts`` attempts,
    then returned as ``failed`` with its last error; the rest of the batch carries on.
    """
    from docking.engines import get_engine
    from docking.pocket import Box

    engine = get_engine(engine_name, **params)
    box = Box(receptor.center, receptor.size)
    out: dict[int, DockingOutcome] = {}
    todo: list[LigandPrep] = []
    for prep in ligands:
        if prep.error or not prep.variants:
            out[prep.drug_id] = DockingOutcome(receptor.receptor_id, prep.drug_id, "failed",
                                               error=prep.error or "ligand preparation gave no variant",
                                               runtime_s=0.0, attempts=1, ligand_smiles=prep.smiles)
        else:
            todo.append(prep)
    attempts: dict[int, int] = {p.drug_id: 0 for p in todo}
    elapsed: dict[int, float] = {p.drug_id: 0.0 for p in todo}
    errors: dict[int, str] = {}
    group = todo
    while group:
        for p in group:
            attempts[p.drug_id] += 1
        t0, c0 = time.perf_counter(), time.process_time()
        results: list[Any]
        try:
            results = engine.dock(receptor.pdbqt, box, [to_prepared_ligand(p) for p in group], seed=seed)
            if len(results) != len(group):
                raise RuntimeError(f"engine returned {len(results)} results for {len(group)} ligands")
        except Exception as e:
            results = [None] * len(group)
            for p in group:
                errors[p.drug_id] = one_line(e, with_type=True)
        wall = time.perf_counter() - t0
        cpu_share = (time.process_time() - c0) / len(group)
        # each ligand's engine time: its own search plus an equal share of the shared map set-up
        own = sum(r.runtime_s or 0.0 for r in results if r is not None)
        share = max(0.0, wall - own) / len(group)
        retry = []
        for p, res in zip(group, results, strict=True):
            elapsed[p.drug_id] += (res.runtime_s or 0.0 if res is not None else 0.0) + share
            if res is not None and res.ok:
                t1, c1 = time.perf_counter(), time.process_time()
                poses = pose_rows(res, receptor.pdb, interaction_poses if with_interactions else 0)
                out[p.drug_id] = DockingOutcome(
                    receptor.receptor_id, p.drug_id, "done", poses=poses, extra_s=time.perf_counter() - t1,
                    cpu_s=cpu_share + time.process_time() - c1,
                    runtime_s=elapsed[p.drug_id], attempts=attempts[p.drug_id],
                    ligand_smiles=res.poses[0].variant_smiles or p.smiles,
                )
                continue
            if res is not None:
                errors[p.drug_id] = res.error or "the engine returned no pose"
            if attempts[p.drug_id] < max_attempts:
                retry.append(p)
            else:
                out[p.drug_id] = DockingOutcome(receptor.receptor_id, p.drug_id, "failed",
                                                error=errors[p.drug_id][:2000], runtime_s=elapsed[p.drug_id],
                                                attempts=attempts[p.drug_id], ligand_smiles=p.smiles)
        group = retry
    return [out[p.drug_id] for p in ligands]
