"""Receptor preparation: chain/hetero selection, missing atoms, hydrogens, Meeko PDBQT.

Protocol ``receptor-v4`` (v2 added the restrained relaxation of step 6b; v3 made preparation reproducible,
below; v4 fixed a seed that was not one):

1. parse the PDB with pdbfixer; keep ``keep_chains`` (all chains if empty) and remove every
   other chain *as a chain* (covalent peptide inhibitors such as N3 in 6LU7 chain C contain
   standard residues, so removing heterogens alone would leave them in the site);
2. replace non-standard residues by their standard parents (MSE→MET …);
3. strip waters and every hetero group not in ``keep_hetero`` (PLpro's structural ZN is kept),
   and any hydrogens of the input (files protonated by other tools use other names and
   make pdbfixer misplace terminal OXT atoms); all hydrogens are re-added in step 6;
4. do **not** model missing residues: ``fixer.missingResidues`` is cleared, so gaps stay gaps.
   Long loops far from the pocket add only risk, and short modelled loops are unrefined
   guesses; Vina treats the receptor as rigid, so an absent loop is safer than an invented one;
5. add missing heavy atoms (incl. terminal OXT) with pdbfixer; OXT atoms are then placed
   exactly in the carboxylate plane (pdbfixer sometimes puts them 1.8 Å from CA, which
   makes Meeko/RDKit see a five-valent carbon);
6. add hydrogens at ``ph`` with pdbfixer/OpenMM (``addMissingHydrogens``);
6b. relax what was added: a short OpenMM energy minimisation (Amber14, vacuum, 1 nm cutoff)
   in which every heavy atom of the input is held by a stiff harmonic restraint, so only
   hydrogens and rebuilt atoms move.  pdbfixer's rebuilt side chains sometimes clash with a
   neighbour closely enough for Meeko to perceive inter-residue bonds and reject both
   residues; the relaxation removes those clashes.  Skipped (and recorded) if the force
   field has no template for a residue;
7. write the receptor PDBQT with Meeko's ``Polymer`` + ``PDBQTWriterLegacy`` using template
   charges (like ``mk_prepare_receptor.py`` defaults). Residues Meeko cannot match are
   deleted and listed in ``removed``; more than 2% of residues unmatched is an error.

Reproducible: the same input gives byte-identical PDB and PDBQT on one machine.  Every OpenMM
step (pdbfixer's rebuild and its Langevin clash relief, the hydrogen minimisation, step 6b) runs
on the CPU platform with one thread (more threads sum forces in a varying order), pdbfixer's
integrator is seeded with 1, 2, … (never 0, which OpenMM reads as "choose a unique seed"), and
OpenMM's ``addHydrogens``, which starts each hydrogen at a ``random.random()`` offset, runs under
a fixed seed of Python's ``random`` (restored afterwards).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockdb.errors import ReceptorError, one_line
from docking._util import sha256_of, tool_versions

if TYPE_CHECKING:
    import openmm
    from pdbfixer import PDBFixer

__all__ = ["PROTOCOL_VERSION", "PreparedReceptor", "prepare_receptor"]

PROTOCOL_VERSION = "receptor-v4"  # v3: seeded, single-threaded preparation (3203e13); v4: no seed 0 in the rebuild

_WATERS = frozenset({"HOH", "WAT", "DOD", "H2O", "TIP3", "SOL"})
_AMINO = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL "
    "HID HIE HIP CYX ASH GLH LYN ACE NME".split()
)
_MAX_UNMATCHED_FRACTION = 0.02
_MAX_MEEKO_RETRIES = 10
_REBUILD_TRIES = 5
_BAD_RESIDUE = re.compile(r"residue \S+ corresponding to key (\S+:\S+)")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedReceptor:
    """A receptor ready for docking.

    ``pdb`` is the prepared structure with hydrogens (for interactions / complexes), ``pdbqt``
    the Meeko rigid receptor, ``removed`` human-readable removals, ``added`` atom counts.
    """

    pdb: str
    pdbqt: str
    input_hash: str
    protocol_version: str = PROTOCOL_VERSION
    tool_versions: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def _deterministic_openmm() -> Iterator[openmm.Platform]:
    """OpenMM's CPU platform with one thread by default (for pdbfixer's own contexts), restored after."""
    import openmm

    platform = openmm.Platform.getPlatformByName("CPU")
    saved = {name: platform.getPropertyDefaultValue(name) for name in ("Threads", "DeterministicForces")}
    platform.setPropertyDefaultValue("Threads", "1")
    platform.setPropertyDefaultValue("DeterministicForces", "true")
    try:
        yield platform
    finally:
        for name, value in saved.items():
            platform.setPropertyDefaultValue(name, value)


@contextlib.contextmanager
def _seeded_python_random(seed: int) -> Iterator[None]:
    """Python's global ``random`` seeded with ``seed`` inside the block, its previous state restored after."""
    import random

    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _norm(items: Iterable[str] | None) -> list[str]:
    return sorted({str(i).strip() for i in (items or []) if str(i).strip()})


def _check_pdb_text(pdb_text: str) -> None:
    if not isinstance(pdb_text, str) or not pdb_text.strip():
        raise ReceptorError("receptor PDB text is empty; pass the contents of a PDB file")
    n = 0
    for lineno, line in enumerate(pdb_text.splitlines(), 1):
        if line.startswith(("ATOM  ", "HETATM")):
            try:
                float(line[30:38]), float(line[38:46]), float(line[46:54])
            except ValueError as exc:
                raise ReceptorError(
                    f"receptor PDB line {lineno} has unreadable coordinates; fix or re-download the file"
                ) from exc
            n += 1
    if n == 0:
        raise ReceptorError("receptor text has no ATOM/HETATM records; pass a PDB-format structure")


def prepare_receptor(
    pdb_text: str,
    *,
    keep_chains: Iterable[str] | None = None,
    remove_chains: Iterable[str] | None = None,
    keep_hetero: Iterable[str] | None = None,
    ph: float = 7.4,
) -> PreparedReceptor:
    """Prepare a receptor from PDB text (see the module docstring for the protocol)."""
    _check_pdb_text(pdb_text)
    with _deterministic_openmm() as platform:
        return _prepare(pdb_text, keep_chains, remove_chains, keep_hetero, ph, platform)


def _prepare(
    pdb_text: str,
    keep_chains: Iterable[str] | None,
    remove_chains: Iterable[str] | None,
    keep_hetero: Iterable[str] | None,
    ph: float,
    platform: openmm.Platform,
) -> PreparedReceptor:
    from openmm.app import Modeller, PDBFile
    from pdbfixer import PDBFixer

    keep = _norm(keep_chains)
    drop = _norm(remove_chains)
    hetero_keep = {h.upper() for h in _norm(keep_hetero)}
    if set(keep) & set(drop):
        raise ReceptorError(f"chains {sorted(set(keep) & set(drop))} are both kept and removed; fix the spec")
    spec = {"keep_chains": keep, "remove_chains": drop, "keep_hetero": sorted(hetero_keep), "ph": ph}
    input_hash = sha256_of(PROTOCOL_VERSION, pdb_text, spec)

    try:
        fixer = PDBFixer(pdbfile=io.StringIO(pdb_text), platform=platform)
    except Exception as exc:  # pdbfixer/openmm raise many types on broken input
        raise ReceptorError(f"receptor PDB cannot be parsed ({type(exc).__name__}: {exc}); fix the file") from exc

    removed: list[str] = []
    present = sorted({c.id for c in fixer.topology.chains()})
    missing = [c for c in keep if c not in present]
    if missing:
        raise ReceptorError(f"chains {missing} not in the structure (has {present}); fix keep_chains")

    modeller = Modeller(fixer.topology, fixer.positions)
    chain_drop = [c for c in modeller.topology.chains() if (keep and c.id not in keep) or c.id in drop]
    by_id: Counter[str] = Counter()
    for c in chain_drop:
        by_id[c.id] += len(list(c.residues()))
    for cid, nres in sorted(by_id.items()):
        why = "listed in remove_chains" if cid in drop else "not in keep_chains"
        removed.append(f"chain {cid} ({nres} residues, {why})")
    modeller.delete(chain_drop)
    fixer.topology, fixer.positions = modeller.topology, modeller.positions

    fixer.findNonstandardResidues()
    if fixer.nonstandardResidues:
        names = Counter(f"{r.name}->{std}" for r, std in fixer.nonstandardResidues)
        removed.extend(f"non-standard residue {k} x{v} (replaced)" for k, v in sorted(names.items()))
        fixer.replaceNonstandardResidues()

    modeller = Modeller(fixer.topology, fixer.positions)
    waters = [r for r in modeller.topology.residues() if r.name in _WATERS]
    hets = [
        r for r in modeller.topology.residues()
        if r.name not in _WATERS and r.name not in _AMINO and r.name.upper() not in hetero_keep
    ]
    input_h = [a for a in modeller.topology.atoms() if a.element is not None and a.element.symbol == "H"]
    if input_h:
        removed.append(f"input hydrogens x{len(input_h)} (all re-added at pH {ph})")
    if waters:
        removed.append(f"waters x{len(waters)}")
    for name, count in sorted(Counter(r.name for r in hets).items()):
        removed.append(f"hetero group {name} x{count}")
    modeller.delete(waters + hets + input_h)
    fixer.topology, fixer.positions = modeller.topology, modeller.positions
    if fixer.topology.getNumAtoms() == 0:
        raise ReceptorError("no atoms left after chain/hetero selection; check keep_chains")

    try:
        fixer.findMissingResidues()
        fixer.missingResidues = {}
        fixer.findMissingAtoms()
        n_heavy = sum(len(v) for v in fixer.missingAtoms.values())
        n_heavy += sum(len(v) for v in fixer.missingTerminals.values())
        original = {(a.residue.chain.id, a.residue.id, a.name) for a in fixer.topology.atoms()}
        _add_missing_atoms(fixer)
        h_before = sum(1 for a in fixer.topology.atoms() if a.element is not None and a.element.symbol == "H")
        with _seeded_python_random(0):
            fixer.addMissingHydrogens(ph)
        _fix_hydrogen_bond_lengths(fixer)
        relaxed = _relax_added_atoms(fixer, original, platform)
        if not relaxed:
            removed.append("(no relaxation of added atoms: force field lacks a residue template)")
        h_after = sum(1 for a in fixer.topology.atoms() if a.element is not None and a.element.symbol == "H")
        out = io.StringIO()
        PDBFile.writeFile(fixer.topology, fixer.positions, out, keepIds=True)
    except Exception as exc:
        raise ReceptorError(f"pdbfixer/OpenMM failed on the receptor ({type(exc).__name__}: {exc})") from exc
    prepared_pdb = _undated(out.getvalue())

    pdbqt, prepared_pdb, unmatched = _meeko_pdbqt(prepared_pdb)
    n_res = fixer.topology.getNumResidues()
    if unmatched:
        if len(unmatched) > max(1, _MAX_UNMATCHED_FRACTION * n_res):
            raise ReceptorError(
                f"Meeko could not type {len(unmatched)} of {n_res} residues ({', '.join(unmatched[:5])}…); "
                "remove or fix those residues"
            )
        removed.extend(f"residue {r} (no Meeko template; deleted from PDBQT)" for r in unmatched)

    return PreparedReceptor(
        pdb=prepared_pdb,
        pdbqt=pdbqt,
        input_hash=input_hash,
        protocol_version=PROTOCOL_VERSION,
        tool_versions=tool_versions("pdbfixer", "openmm", "meeko", "rdkit"),
        removed=removed,
        added={"heavy_atoms": n_heavy, "hydrogens": h_after - h_before},
    )


def _undated(pdb: str) -> str:
    """OpenMM's writer opens with ``REMARK 1 CREATED WITH OPENMM <version>, <date>``; the date would make
    the same preparation differ from one day to the next, so it is cut (the version stays)."""
    first, sep, rest = pdb.partition("\n")
    if first.startswith("REMARK   1 CREATED WITH OPENMM") and "," in first:
        first = first.rsplit(",", 1)[0].rstrip()
    return first + sep + rest


def _relax_added_atoms(
    fixer: PDBFixer, original: set[tuple[str, str, str]], platform: openmm.Platform, max_iterations: int = 500
) -> bool:
    """Minimise hydrogens and rebuilt atoms with the input's heavy atoms restrained in place."""
    import openmm
    from openmm import app, unit

    topology, positions = fixer.topology, fixer.positions
    try:
        ff = app.ForceField("amber14-all.xml", "amber14/tip3p.xml")
        system = ff.createSystem(
            topology, nonbondedMethod=app.CutoffNonPeriodic, nonbondedCutoff=1.0 * unit.nanometer, constraints=None
        )
    except Exception as exc:  # no template (unusual residue, metal site): keep the unrelaxed model
        log.warning("receptor relaxation skipped: %s", one_line(exc))
        return False
    restraint = openmm.CustomExternalForce("k*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
    restraint.addGlobalParameter("k", 5.0e4)  # kJ/mol/nm^2: heavy atoms of the input stay within ~0.01 nm
    for name in ("x0", "y0", "z0"):
        restraint.addPerParticleParameter(name)
    for atom, pos in zip(topology.atoms(), positions.value_in_unit(unit.nanometer), strict=True):
        heavy = atom.element is not None and atom.element.symbol != "H"
        if heavy and (atom.residue.chain.id, atom.residue.id, atom.name) in original:
            restraint.addParticle(atom.index, [pos[0], pos[1], pos[2]])
    system.addForce(restraint)
    integrator = openmm.VerletIntegrator(0.001)
    context = openmm.Context(system, integrator, platform)
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, max_iterations)
    fixer.positions = context.getState(getPositions=True).getPositions()
    return True


_XH_LENGTH = {"C": 1.09, "N": 1.01, "O": 0.96, "S": 1.34}


def _fix_hydrogen_bond_lengths(fixer: PDBFixer) -> None:
    """Set every X-H bond to its ideal length along its current direction.

    OpenMM 8.6's ``addHydrogens`` (without a force field) leaves X-H bonds at ~1.19 Å; with
    crowded side chains that makes RDKit/Meeko perceive extra bonds.
    """
    import numpy as np
    from openmm import Vec3, unit

    pos = np.array(fixer.positions.value_in_unit(unit.angstrom))
    for a1, a2 in fixer.topology.bonds():
        if a1.element is None or a2.element is None:
            continue
        if a1.element.symbol == "H":
            a1, a2 = a2, a1
        if a2.element.symbol != "H" or a1.element.symbol not in _XH_LENGTH:
            continue
        v = pos[a2.index] - pos[a1.index]
        n = float(np.linalg.norm(v))
        if n > 1e-6:
            pos[a2.index] = pos[a1.index] + v / n * _XH_LENGTH[a1.element.symbol]
    fixer.positions = unit.Quantity([Vec3(*map(float, p)) for p in pos], unit.angstrom)


def _collapsed_residues(fixer: PDBFixer, cutoff: float = 1.1) -> list[str]:
    """Residues holding two heavy atoms closer than ``cutoff`` Å (a collapsed rebuild)."""
    import numpy as np
    from openmm import unit
    from scipy.spatial import cKDTree

    pos = np.array(fixer.positions.value_in_unit(unit.angstrom))
    atoms = [a for a in fixer.topology.atoms() if a.element is not None and a.element.symbol != "H"]
    if not atoms:
        return []
    tree = cKDTree(pos[[a.index for a in atoms]])
    bad = set()
    for i, j in tree.query_pairs(cutoff):
        for a in (atoms[i], atoms[j]):
            bad.add(f"{a.residue.chain.id}:{a.residue.id}")
    return sorted(bad)


def _add_missing_atoms(fixer: PDBFixer, tries: int = _REBUILD_TRIES) -> None:
    """pdbfixer ``addMissingAtoms`` retried (next seed) while a rebuilt side chain is collapsed.

    pdbfixer's clash relaxation occasionally folds a rebuilt Arg/Lys onto itself (atoms
    0.6 Å apart), so the result is checked; seeds 1, 2, … are tried in order, so the outcome
    is reproducible. Seed 0 is never used: OpenMM reads an integrator seed of 0 as "choose a
    unique seed", which made the clash-relief dynamics differ from call to call.
    """
    topology, positions = fixer.topology, fixer.positions
    missing_atoms, missing_terms = fixer.missingAtoms, fixer.missingTerminals
    for seed in range(1, tries + 1):
        fixer.topology, fixer.positions = topology, positions
        fixer.missingAtoms, fixer.missingTerminals = missing_atoms, missing_terms
        fixer.addMissingAtoms(seed=seed)
        _place_terminal_oxygens(fixer)
        if not _collapsed_residues(fixer):
            return
    log.warning("rebuilt side chains still collapsed after %d tries: %s", tries, _collapsed_residues(fixer))


def _place_terminal_oxygens(fixer: PDBFixer) -> None:
    """Put every OXT 1.25 Å from C, in the CA-C-O plane, opposite the CA/O bisector."""
    import numpy as np
    from openmm import Vec3, unit

    pos = np.array(fixer.positions.value_in_unit(unit.angstrom))
    changed = False
    for res in fixer.topology.residues():
        idx = {a.name: a.index for a in res.atoms()}
        if not {"C", "CA", "O", "OXT"} <= idx.keys():
            continue
        c = pos[idx["C"]]
        u1 = pos[idx["CA"]] - c
        u2 = pos[idx["O"]] - c
        bis = u1 / np.linalg.norm(u1) + u2 / np.linalg.norm(u2)
        norm = np.linalg.norm(bis)
        if norm < 1e-6:
            continue
        pos[idx["OXT"]] = c - 1.25 * bis / norm
        changed = True
    if changed:
        fixer.positions = unit.Quantity([Vec3(*map(float, p)) for p in pos], unit.angstrom)


def _drop_residue(pdb_text: str, key: str) -> str:
    """PDB text without the ATOM/HETATM lines of residue ``key`` ('A:42')."""
    chain, _, num = key.partition(":")
    out = []
    for line in pdb_text.splitlines(keepends=True):
        if line.startswith(("ATOM  ", "HETATM")) and line[21].strip() == chain and line[22:27].strip() == num:
            continue
        out.append(line)
    return "".join(out)


def _meeko_pdbqt(prepared_pdb: str) -> tuple[str, str, list[str]]:
    """Rigid receptor PDBQT from a protonated PDB, the PDB actually used, and dropped residues.

    Residues Meeko cannot even turn into an RDKit molecule (distorted rebuilt side chains)
    are deleted one at a time and the build retried, at most ``_MAX_MEEKO_RETRIES`` times.
    """
    from meeko import MoleculePreparation, PDBQTWriterLegacy, Polymer, ResidueChemTemplates
    from rdkit.rdBase import BlockLogs

    mk_prep = MoleculePreparation.from_config({"compute_charges": False})
    templates = ResidueChemTemplates.create_from_defaults()
    deleted: list[str] = []
    for _ in range(_MAX_MEEKO_RETRIES + 1):
        try:
            # Meeko prints a template-matching report per unmatched residue and RDKit logs
            # valence errors; both are summarised by the returned ``unmatched`` list instead.
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), BlockLogs():
                polymer = Polymer.from_pdb_string(prepared_pdb, templates, mk_prep, allow_bad_res=True)
            rigid, _flex = PDBQTWriterLegacy.write_string_from_polymer(polymer)
            break
        except Exception as exc:
            msg = one_line(exc, 1000)
            bad = _BAD_RESIDUE.search(msg)
            if bad is None or bad.group(1) in deleted:
                raise ReceptorError(
                    f"Meeko could not build the receptor PDBQT ({msg}); check residues/hydrogens"
                ) from exc
            deleted.append(bad.group(1))
            prepared_pdb = _drop_residue(prepared_pdb, bad.group(1))
    else:
        raise ReceptorError(
            f"Meeko failed on more than {_MAX_MEEKO_RETRIES} residues ({', '.join(deleted)}); fix the structure"
        )
    unmatched = sorted(set(polymer.get_ignored_monomers()) | set(deleted))
    if not rigid.strip():
        raise ReceptorError("Meeko wrote an empty receptor PDBQT; check the prepared structure")
    return rigid, prepared_pdb, unmatched
