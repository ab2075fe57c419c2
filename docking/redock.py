"""Redocking validation: dock a co-crystal ligand (prepared from SMILES, not from its
crystal coordinates) back into its protein and measure the heavy-atom RMSD to the crystal.

:func:`redock` takes any engine of the registry (:mod:`docking.engines`) by name;
:func:`prepare_complex` + :func:`dock_complex` prepare a complex once and dock it with several
engines.  ``dockdb validate redock`` (:mod:`jobs.validation.redock`) runs the sets and stores
the numbers.
"""

from __future__ import annotations

import itertools
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dockdb.errors import EngineError, InputError, LigandError, one_line
from docking.engines import DockingEngine, get_engine
from docking.ligand import PreparedLigand, prepare_ligand
from docking.pocket import Box, box_from_coords
from docking.poses import sdf_to_mol
from docking.receptor import prepare_receptor

__all__ = [
    "BOND_ORDER_TIME_BUDGET_S",
    "MAX_BOND_ORDER_CANDIDATES",
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


_VALENCE = {"C": 4, "N": 3, "O": 2, "S": 2}


def _h_options(mol: Any, idx: int, pos: np.ndarray) -> list[int]:
    """Plausible hydrogen counts of heavy atom ``idx`` judged from its 3D geometry."""
    atom = mol.GetAtomWithIdx(idx)
    el = atom.GetSymbol()
    nbrs = [n.GetIdx() for n in atom.GetNeighbors()]
    deg = len(nbrs)
    if el not in _VALENCE:
        return [0]
    vecs = [pos[n] - pos[idx] for n in nbrs]
    lens = [float(np.linalg.norm(v)) for v in vecs]
    if deg == 1:
        d = lens[0]
        if el == "C":
            return [0] if d < 1.20 else ([1] if d < 1.25 else [3])
        if el == "N":
            return [0] if d < 1.20 else [2]
        if el == "O":
            if mol.GetAtomWithIdx(nbrs[0]).GetSymbol() in ("S", "P"):
                return [0]
            return [0] if d < 1.27 else ([0, 1] if d < 1.31 else ([1, 0] if d < 1.36 else [1]))
        return [0] if d < 1.70 else [1]
    if deg == 2:
        cosang = float(np.dot(vecs[0], vecs[1]) / (lens[0] * lens[1]))
        ang = float(np.degrees(np.arccos(np.clip(cosang, -1, 1))))
        if el == "C":
            return [0] if ang > 160 else ([1, 2] if ang > 114 else [2, 1])
        if el == "N":
            if ang > 160:
                return [0]
            if atom.IsInRing() and ang <= 115:
                return [0, 1]
            return [0] if min(lens) < 1.32 else [1, 0]
        return [0]
    if deg == 3 and el == "C":
        normal = np.cross(vecs[1] - vecs[0], vecs[2] - vecs[0])
        height = abs(float(np.dot(normal / np.linalg.norm(normal), -vecs[0])))
        return [0, 1] if height < 0.3 else [1, 0]
    return [max(0, _VALENCE[el] - deg)] if el in ("C",) else [0]


MAX_BOND_ORDER_CANDIDATES = 200
"""Hydrogen-count assignments :func:`ligand_from_pdb_residue` tries before it gives up.  Every
Mpro XChem fragment is resolved within the first 100 (about 1 ms each); a 60-atom drug with 40
ambiguous atoms has over 13,000 assignments up to three changes deep, at about 0.1 s each."""
BOND_ORDER_TIME_BUDGET_S = 5.0
"""Seconds :func:`ligand_from_pdb_residue` spends on those assignments before it gives up."""


def _combos_by_deviation(options: list[list[int]], max_dev: int) -> Iterator[tuple[int, ...]]:
    """Hydrogen-count assignments: the preferred one first, then 1, 2 … alternative choices
    (generated lazily: the number grows with the cube of the ambiguous atoms)."""
    ambiguous = [i for i, opt in enumerate(options) if len(opt) > 1]
    base = [opt[0] for opt in options]
    for k in range(0, min(max_dev, len(ambiguous)) + 1):
        for subset in itertools.combinations(ambiguous, k):
            combo = list(base)
            for i in subset:
                combo[i] = options[i][1]
            yield tuple(combo)


def _with_crystal_coordinates(mol: Any, pos: np.ndarray) -> Any:
    """``mol`` without hydrogens, its one conformer set to the crystal heavy-atom positions
    (``mol``'s heavy atoms are in the residue's atom order)."""
    from rdkit import Chem

    out = Chem.RemoveHs(mol)
    out.RemoveAllConformers()
    conf = Chem.Conformer(out.GetNumAtoms())
    for i in range(out.GetNumAtoms()):
        conf.SetAtomPosition(i, pos[i].tolist())
    out.AddConformer(conf, assignId=True)
    return out


def _bond_orders_from_template(heavy: Any, smiles: str, resname: str) -> Any:
    from rdkit import Chem, rdBase
    from rdkit.Chem import AllChem

    template = Chem.MolFromSmiles(smiles)
    if template is None:
        raise InputError(f"cannot parse the template SMILES of {resname}: {smiles!r}")
    mismatch = InputError(f"the template SMILES does not match the {heavy.GetNumAtoms()} heavy atoms "
                          f"of {resname}; give the SMILES of this residue")
    if template.GetNumAtoms() != heavy.GetNumAtoms():
        raise mismatch
    try:
        with rdBase.BlockLogs():
            return AllChem.AssignBondOrdersFromTemplate(template, Chem.RemoveHs(heavy, sanitize=False))
    except ValueError as exc:
        raise mismatch from exc


def ligand_from_pdb_residue(pdb_text: str, resname: str = "LIG", *, smiles: str | None = None,
                            max_candidates: int = MAX_BOND_ORDER_CANDIDATES,
                            time_budget_s: float = BOND_ORDER_TIME_BUDGET_S) -> Any:
    """RDKit molecule of a ligand residue with bond orders inferred from geometry.

    With ``smiles``, bond orders come from that template (RDKit's
    ``AssignBondOrdersFromTemplate``).  Without it, hydrogen counts are guessed per atom from
    bond lengths/angles/planarity; ambiguous atoms (ring N-H vs N:, C-OH vs C=O) are
    enumerated, fewest changes first, and RDKit's ``DetermineBondOrders`` keeps the first
    assignment that gives a neutral, sanitisable molecule.  At most ``max_candidates``
    assignments are tried, for at most ``time_budget_s`` seconds (the enumeration is
    combinatorial: a drug-sized ligand has thousands), then :class:`InputError` asks for the
    SMILES.  Only altloc ' ' or 'A' atoms.
    """
    from rdkit import Chem, rdBase
    from rdkit.Chem import rdDetermineBonds

    lines = [
        ln for ln in pdb_text.splitlines()
        if ln.startswith(("HETATM", "ATOM")) and ln[17:20].strip() == resname and ln[16] in " A"
        and (ln[76:78].strip() or ln[12:14].strip()) not in ("H", "D")
    ]
    if not lines:
        raise InputError(f"no {resname} residue in the PDB; check the ligand residue name")
    first = (lines[0][21], lines[0][22:27])
    lines = [ln[:16] + " " + ln[17:] for ln in lines if (ln[21], ln[22:27]) == first]
    with rdBase.BlockLogs():
        heavy = Chem.MolFromPDBBlock("\n".join(lines) + "\nEND\n", sanitize=False, removeHs=False)
    if heavy is None:
        raise InputError(f"RDKit cannot read the {resname} residue")
    pos = heavy.GetConformer().GetPositions()
    if smiles is not None:
        return _with_crystal_coordinates(_bond_orders_from_template(heavy, smiles, resname), pos)
    Chem.FastFindRings(heavy)
    options = [_h_options(heavy, i, pos) for i in range(heavy.GetNumAtoms())]
    tried = 0
    deadline = time.monotonic() + time_budget_s
    for combo in itertools.islice(_combos_by_deviation(options, max_dev=3), max_candidates):
        if tried and time.monotonic() > deadline:
            break
        tried += 1
        rw = Chem.RWMol(heavy)
        for bond in rw.GetBonds():
            bond.SetBondType(Chem.BondType.SINGLE)
        for atom in rw.GetAtoms():
            atom.SetNoImplicit(True)
            atom.SetNumExplicitHs(0)
        for i, nh in enumerate(combo):
            for _ in range(nh):
                h = rw.AddAtom(Chem.Atom(1))
                rw.AddBond(i, h, Chem.BondType.SINGLE)
        cand = rw.GetMol()
        try:
            with rdBase.BlockLogs():
                rdDetermineBonds.DetermineBondOrders(cand, charge=0, allowChargedFragments=False)
                Chem.SanitizeMol(cand)
        except Exception:
            continue
        if any(a.GetFormalCharge() or a.GetNumRadicalElectrons() for a in cand.GetAtoms()):
            continue
        return _with_crystal_coordinates(cand, pos)
    raise InputError(f"could not infer bond orders for {resname} ({heavy.GetNumAtoms()} heavy atoms) "
                     f"from its geometry in {tried} hydrogen assignments ({time_budget_s:g} s at most); "
                     "give its SMILES (smiles=)")


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
