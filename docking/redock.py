"""Redocking validation: dock a co-crystal ligand (prepared from SMILES, not from its
crystal coordinates) back into its protein and measure the heavy-atom RMSD to the crystal.

:func:`redock` takes any engine of the registry (:mod:`docking.engines`) by name;
:func:`prepare_complex` + :func:`dock_complex` prepare a complex once and dock it with several
engines.  ``dockdb validate redock`` (:mod:`jobs.validation.redock`) runs the sets and stores
the numbers.
"""

from __future__ import annotations

import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dockdb.errors import EngineError, InputError, LigandError, one_line
from docking.engines import DockingEngine, get_engine
from docking.ligand import PreparedLigand, prepare_ligand
from docking.pdb_ligand import MAX_BOND_ORDER_CANDIDATES, MAX_HYDROGEN_ASSIGNMENTS, ligand_from_pdb_residue
from docking.pocket import Box, box_from_coords
from docking.poses import sdf_to_mol
from docking.receptor import prepare_receptor

__all__ = [
    "MAX_BOND_ORDER_CANDIDATES",
    "MAX_HYDROGEN_ASSIGNMENTS",
    "SUCCESS_RMSD",
    "PreparedComplex",
    "RedockRecord",
    "XChemComplex",
    "crystal_box",
    "dock_complex",
    "engine_for_redock",
    "heavy_atom_rmsd",
    "ligand_from_pdb_residue",
    "load_xchem_complexes",
    "prepare_complex",
    "redock",
    "success_summary",
]

SUCCESS_RMSD = 2.0


@dataclass(frozen=True)
class RedockRecord:
    """One redocked complex."""

    id: str
    n_heavy: int
    top_rmsd: float | None
    best_rmsd: float | None
    top_score: float | None
    success: bool
    n_poses: int
    runtime_s: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The record's fields as a plain dict (for JSON output)."""
        return asdict(self)


def _skeleton(mol: Any) -> Any:
    """Heavy-atom graph with element identity only (bond orders, charges, aromaticity erased),
    so a protonated/tautomeric docked pose matches the crystal ligand atom for atom."""
    from rdkit import Chem

    m = Chem.RWMol(Chem.RemoveHs(mol, sanitize=False))
    for atom in m.GetAtoms():
        atom.SetFormalCharge(0)
        atom.SetIsAromatic(False)
        atom.SetNoImplicit(True)
        atom.SetNumExplicitHs(0)
        atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
    for bond in m.GetBonds():
        bond.SetBondType(Chem.BondType.SINGLE)
        bond.SetIsAromatic(False)
        bond.SetStereo(Chem.BondStereo.STEREONONE)
    out = m.GetMol()
    out.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(out)
    return out


def heavy_atom_rmsd(pose: Any, reference: Any) -> float:
    """Symmetry-aware heavy-atom RMSD (Å) in place, no alignment (``rdMolAlign.CalcRMS``)."""
    from rdkit.Chem import rdMolAlign

    p, r = _skeleton(pose), _skeleton(reference)
    if p.GetNumAtoms() != r.GetNumAtoms():
        raise InputError(
            f"pose has {p.GetNumAtoms()} heavy atoms, crystal {r.GetNumAtoms()}; they are not the same ligand"
        )
    try:
        return float(rdMolAlign.CalcRMS(p, r))
    except RuntimeError as exc:
        raise InputError("pose and crystal ligand graphs do not match; check the ligand SMILES") from exc


def crystal_box(reference: Any, padding: float = 6.0, min_size: float = 20.0) -> Box:
    """Box around the crystal ligand's heavy atoms (+padding, each side at least ``min_size``)."""
    from rdkit import Chem

    heavy = Chem.RemoveHs(reference, sanitize=False)
    return box_from_coords(heavy.GetConformer().GetPositions(), padding, min_size=min_size)


@dataclass(frozen=True)
class PreparedComplex:
    """A complex ready to dock: receptor PDBQT, ligand built from SMILES, crystal-ligand box.

    ``error`` is set (and the rest empty) when preparation failed; ``prep_s`` is its wall time.
    """

    id: str
    crystal_ligand: Any
    n_heavy: int
    receptor_pdbqt: str = ""
    ligand: PreparedLigand | None = None
    box: Box | None = None
    prep_s: float = 0.0
    error: str | None = None


def prepare_complex(
    complex_id: str,
    protein_pdb: str,
    crystal_ligand: Any,
    *,
    smiles: str | None = None,
    keep_chains: list[str] | None = None,
    seed: int = 42,
    padding: float = 6.0,
) -> PreparedComplex:
    """Prepare the receptor and the ligand (from SMILES, never the crystal coordinates) once,
    so several engines can dock the same inputs.  Errors are captured, not raised."""
    from rdkit import Chem

    t0 = time.perf_counter()
    n_heavy = crystal_ligand.GetNumHeavyAtoms()
    try:
        smi = smiles or Chem.MolToSmiles(Chem.RemoveHs(crystal_ligand))
        receptor = prepare_receptor(protein_pdb, keep_chains=keep_chains or [])
        ligand = prepare_ligand(smi, name=complex_id, seed=seed, max_stereoisomers=1 if smiles is None else 4)
        box = crystal_box(crystal_ligand, padding=padding)
    except Exception as exc:
        return PreparedComplex(complex_id, crystal_ligand, n_heavy, prep_s=time.perf_counter() - t0,
                               error=one_line(exc, 200))
    return PreparedComplex(complex_id, crystal_ligand, n_heavy, receptor.pdbqt, ligand, box,
                           prep_s=time.perf_counter() - t0)


def engine_for_redock(
    engine: str, *, exhaustiveness: int = 8, n_poses: int = 9, cpu: int = 0, **extra: Any
) -> DockingEngine:
    """The registered engine ``engine`` with the search settings it accepts.

    ``exhaustiveness``/``n_poses`` go to every engine that takes them; ``cpu`` goes to
    ``cpu`` (Vina) or ``threads`` (torch); ``extra`` are passed as they are.
    """
    import inspect

    from docking.engines import available_engines

    names = available_engines()
    if engine not in names:
        raise EngineError(f"unknown docking engine {engine!r}; choose one of: {', '.join(names)}")
    cls = type(get_engine(engine))
    accepted = inspect.signature(cls.__init__).parameters
    params: dict[str, Any] = {}
    for key, value in (("exhaustiveness", exhaustiveness), ("n_poses", n_poses)):
        if key in accepted:
            params[key] = value
    if "cpu" in accepted:
        params["cpu"] = cpu
    elif "threads" in accepted:
        params["threads"] = cpu
    params.update(extra)
    return get_engine(engine, **params)


def dock_complex(prepared: PreparedComplex, engine: DockingEngine | str = "vina", *, seed: int = 42,
                 **engine_params: Any) -> RedockRecord:
    """Dock a prepared complex with ``engine`` (a name from the engine registry, or an instance)
    and score every pose's RMSD to the crystal ligand.  Errors are captured in the record.

    ``runtime_s`` counts the preparation time plus this engine's docking time.
    """
    t0 = time.perf_counter()

    def failed(message: str) -> RedockRecord:
        return RedockRecord(prepared.id, prepared.n_heavy, None, None, None, False, 0,
                            round(prepared.prep_s + time.perf_counter() - t0, 1), message)

    if prepared.error is not None or prepared.ligand is None or prepared.box is None:
        return failed(prepared.error or "complex was not prepared")
    try:
        eng = engine_for_redock(engine, **engine_params) if isinstance(engine, str) else engine
        result = eng.dock(prepared.receptor_pdbqt, prepared.box, [prepared.ligand], seed=seed)[0]
        if not result.ok:
            raise LigandError(result.error or "no pose")
        rmsds = [heavy_atom_rmsd(sdf_to_mol(p.sdf), prepared.crystal_ligand) for p in result.poses]
    except Exception as exc:
        return failed(one_line(exc, 200))
    return RedockRecord(
        id=prepared.id, n_heavy=prepared.n_heavy, top_rmsd=round(rmsds[0], 2), best_rmsd=round(min(rmsds), 2),
        top_score=round(float(result.poses[0].score), 3), success=rmsds[0] < SUCCESS_RMSD, n_poses=len(rmsds),
        runtime_s=round(prepared.prep_s + time.perf_counter() - t0, 1),
    )


def redock(
    complex_id: str,
    protein_pdb: str,
    crystal_ligand: Any,
    *,
    engine: str = "vina",
    smiles: str | None = None,
    keep_chains: list[str] | None = None,
    exhaustiveness: int = 8,
    n_poses: int = 9,
    seed: int = 42,
    cpu: int = 0,
    padding: float = 6.0,
    engine_params: dict[str, Any] | None = None,
) -> RedockRecord:
    """Prepare receptor and ligand (from SMILES), dock with ``engine`` (any registered engine)
    into the crystal-ligand box, score RMSDs.  ``engine_params`` go to the engine as they are."""
    prepared = prepare_complex(complex_id, protein_pdb, crystal_ligand, smiles=smiles, keep_chains=keep_chains,
                               seed=seed, padding=padding)
    return dock_complex(prepared, engine, seed=seed, exhaustiveness=exhaustiveness, n_poses=n_poses, cpu=cpu,
                        **(engine_params or {}))


def success_summary(records: list[RedockRecord]) -> dict[str, Any]:
    """Success counts and rates over all records (a complex that failed to dock counts as a
    failure), and the top-pose RMSD distribution over those that produced poses."""
    done = [r for r in records if r.top_rmsd is not None]
    top = np.array([r.top_rmsd for r in done], dtype=float)
    n = len(records)
    top_ok = int(sum(r.success for r in done))
    any_ok = int(sum(1 for r in done if r.best_rmsd is not None and r.best_rmsd < SUCCESS_RMSD))
    return {
        "n": n,
        "n_docked": len(done),
        "n_errors": n - len(done),
        "top_success": top_ok,
        "top_success_rate": round(top_ok / n, 3) if n else None,
        "any_pose_success": any_ok,
        "any_pose_success_rate": round(any_ok / n, 3) if n else None,
        "top_rmsd_median": round(float(np.median(top)), 2) if len(done) else None,
        "top_rmsd_q1": round(float(np.percentile(top, 25)), 2) if len(done) else None,
        "top_rmsd_q3": round(float(np.percentile(top, 75)), 2) if len(done) else None,
    }


# ----------------------------------------------------------------------------- XChem set


@dataclass(frozen=True)
class XChemComplex:
    """One Mpro-fragment crystal structure: protein PDB text (LIG/waters/DMSO removed) and
    the fragment as an RDKit molecule with bond orders inferred from its geometry."""

    id: str
    protein_pdb: str
    ligand: Any
    smiles: str
    covalent: bool


def _protein_only(pdb_text: str) -> str:
    keep = []
    for ln in pdb_text.splitlines():
        if ln.startswith("ATOM  "):
            keep.append(ln)
        elif ln.startswith("TER"):
            keep.append(ln)
    return "\n".join(keep) + "\nEND\n"


def load_xchem_complexes(tarball: str | Path, limit: int | None = None,
                         include_covalent: bool = False) -> list[XChemComplex]:
    """Read the Mpro XChem tarball (``mpro/Mpro-xNNNN.pdb``, ligand residue ``LIG``).

    Covalent fragments (``LINK``/``LINKR`` records to Cys145) are skipped unless asked:
    non-covalent docking cannot reproduce a covalent pose.  The archive has no SMILES or SDF,
    so bond orders come from :func:`ligand_from_pdb_residue`.
    """
    from rdkit import Chem

    out: list[XChemComplex] = []
    with tempfile.TemporaryDirectory(prefix="dockdb_xchem_") as tmp:
        with tarfile.open(tarball, "r:gz") as tf:
            tf.extractall(tmp, filter="data")
        for path in sorted(Path(tmp).rglob("*.pdb")):
            text = path.read_text()
            covalent = any(ln.startswith("LINK") and "LIG" in ln for ln in text.splitlines())
            if covalent and not include_covalent:
                continue
            try:
                lig = ligand_from_pdb_residue(text)
            except InputError:
                continue
            out.append(XChemComplex(path.stem, _protein_only(text), lig, Chem.MolToSmiles(lig), covalent))
            if limit is not None and len(out) >= limit:
                break
    return out
