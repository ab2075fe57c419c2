"""`dockdb dock`: one SMILES into one target's pocket, from the database's target and receptor.

The receptor is the stored one (prepared on first use by :mod:`jobs.receptors`); the result is
returned, printed by the CLI and optionally written as files — nothing is stored as a campaign.
"""

from __future__ import annotations

import glob
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import Receptor
from jobs.campaign import DEFAULT_SEED, POCKET_KINDS, engine_params
from jobs.receptors import ReceptorChoice, ensure_receptor, get_pocket, get_target, pocket_box
from jobs.writer import PoseRow

__all__ = ["QuickDockResult", "quick_dock"]


@dataclass
class QuickDockResult:
    """Outcome of ``dockdb dock``: the pocket and engine used, the ligand, its poses and the files written."""
    target: str
    pocket: str
    center: tuple[float, float, float]
    size: tuple[float, float, float]
    engine: str
    params: dict[str, Any]
    seed: int
    smiles: str
    receptor: ReceptorChoice
    poses: list[PoseRow] = field(default_factory=list)
    runtime_s: float = 0.0
    files: list[str] = field(default_factory=list)

    @property
    def best_score(self) -> float | None:
        """The lowest (best) score over the poses, or None without poses (as ``DockingResult.best_score``)."""
        return min((p.score for p in self.poses), default=None)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready dict (pocket as a nested dict, poses without their structure text)."""
        return {
            "target": self.target,
            "pocket": {"kind": self.pocket, "center": list(self.center), "size": list(self.size)},
            "engine": self.engine,
            "params": self.params,
            "seed": self.seed,
            "smiles": self.smiles,
            "receptor": {"id": self.receptor.receptor_id, "input_hash": self.receptor.input_hash,
                         "protocol_version": self.receptor.protocol_version, "reused": self.receptor.reused},
            "best_score": self.best_score,
            "poses": [
                {"rank": p.rank, "score": p.score, "score_terms": p.score_terms, "interactions": p.interactions}
                for p in self.poses
            ],
            "runtime_s": round(self.runtime_s, 3),
            "files": self.files,
        }


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _writable_dir(out: Path) -> Path:
    """*out*, created if missing; an InputError naming the problem when it cannot hold the files."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a directory; give a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"--out {out}: cannot create the directory ({e.strerror}); give a writable directory") \
            from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"--out {out} is not writable; give a writable directory")
    return out


def _write_files(out: Path, target_key: str, drug: str, name: str | None, receptor_pdb: str,
                 poses: list[PoseRow]) -> list[str]:
    """Each pose's SDF, PDBQT and complex PDB under a stem no earlier run used (``_run2``, ``_run3``...)."""
    from docking.poses import complex_pdb, pose_tags, pose_title, sdf_record

    stem = _safe(target_key) + (f"_{_safe(name)[:40]}" if name else "")
    run, first = 1, stem
    while any(out.glob(f"{glob.escape(first)}_pose*")):
        run += 1
        first = f"{stem}_run{run}"
    files: list[str] = []
    try:
        for q in poses:
            base = out / f"{first}_pose{q.rank}"
            Path(f"{base}.pdbqt").write_text(q.pdbqt)
            if q.sdf:
                tags = pose_tags(drug, target_key, q.rank, q.score)
                Path(f"{base}.sdf").write_text(sdf_record(q.sdf, pose_title(drug, target_key, q.rank), tags))
                Path(f"{base}_complex.pdb").write_text(complex_pdb(receptor_pdb, q.sdf))
                files += [f"{base}.sdf", f"{base}_complex.pdb"]
            files.append(f"{base}.pdbqt")
    except OSError as e:
        raise InputError(f"--out {out}: cannot write the pose files ({e.strerror}); give a writable directory") \
            from None
    return files


def quick_dock(
    db: Database,
    target_key: str,
    smiles: str,
    engine: str = "vina",
    pocket: str = "focused",
    exhaustiveness: int | None = None,
    seed: int | None = None,
    n_poses: int | None = None,
    out_dir: str | Path | None = None,
    extra_params: dict[str, Any] | None = None,
    name: str | None = None,
) -> QuickDockResult:
    """Dock *smiles* into the target's pocket; write SDF/PDBQT/complex files into *out_dir*.

    Each SDF is titled "drug | target | pose N" (the drug: *name*, else the SMILES) and carries the
    score as an SD tag, like campaign exports and portal downloads; an earlier run's files are kept.
    """
    from docking.engines import get_engine
    from docking.interactions import interactions
    from docking.ligand import prepare_ligand

    if pocket not in POCKET_KINDS:
        raise InputError(f"--pocket must be one of {', '.join(POCKET_KINDS)} (got {pocket!r})")
    if exhaustiveness is not None and exhaustiveness < 1:
        raise InputError(f"--exhaustiveness must be at least 1 (got {exhaustiveness})")
    if n_poses is not None and n_poses < 1:
        raise InputError(f"--poses must be at least 1 (got {n_poses})")
    seed = DEFAULT_SEED if seed is None else seed
    params = engine_params(engine, {"exhaustiveness": exhaustiveness, "n_poses": n_poses, **(extra_params or {})})
    with db.session() as s:
        target = get_target(s, target_key)
        p = get_pocket(s, target, pocket)
        center, size = p.center, p.size
    out = _writable_dir(Path(out_dir)) if out_dir is not None else None  # before any slow step
    ligand = prepare_ligand(smiles, seed=seed)  # LigandError: one line, before any slow step
    choice = ensure_receptor(db, target_key)
    with db.session() as s:
        rec = s.get_one(Receptor, choice.receptor_id)
        receptor_pdb, receptor_pdbqt = rec.pdb, rec.pdbqt
        box = pocket_box(p, receptor_pdb)
    t0 = time.perf_counter()
    (res,) = get_engine(engine, **params).dock(receptor_pdbqt, box, [ligand], seed=seed)
    runtime = time.perf_counter() - t0
    if not res.ok:
        raise InputError(f"docking failed: {res.error}")
    poses = [
        PoseRow(rank=q.rank, score=q.score, pdbqt=q.pdbqt, sdf=q.sdf, score_terms=dict(q.terms),
                   interactions=list(interactions(receptor_pdb, q.sdf)) if q.sdf else [])
        for q in res.poses
    ]
    result = QuickDockResult(target_key, pocket, center, size, engine, params, seed, smiles, choice, poses,
                             runtime)
    if out is not None:
        result.files = _write_files(out, target_key, name or smiles, name, receptor_pdb, poses)
    return result
