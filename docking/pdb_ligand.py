"""A ligand given as a residue of a PDB file (no hydrogens, no bond orders) as an RDKit molecule.

Bond orders come either from a template SMILES (RDKit's ``AssignBondOrdersFromTemplate``) or from
the crystal geometry.  From geometry, each heavy atom's plausible hydrogen counts are judged from
its bond lengths, angles and planarity; the assignments are enumerated, fewest changes from the
preferred counts first, and RDKit's ``DetermineBondOrders`` turns each into bond orders.  Many
assignments give a neutral, sanitisable molecule, so the one kept is the one whose bond orders fit
the refined geometry best (:func:`geometry_misfit`: bond lengths, and whether three-coordinate
carbons are planar): crystallographic refinement restrains a ligand to its real chemistry, so a
C=C bond 1.53 Å long is a wrong assignment, however well it sanitises.  (Taking the first
sanitisable assignment instead, as DockDB did until December 2026, gave about half of the Mpro
XChem fragments spurious double bonds.)

Before RDKit is asked, a quick test (:func:`_can_be_neutral`) drops the assignments that cannot
give a neutral molecule at all, by counting valences; most assignments are such.  The search is
bounded by counts alone, never by time, so the bond orders a residue gets do not depend on the
speed of the machine.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from dockdb.errors import InputError

__all__ = [
    "MAX_BOND_ORDER_CANDIDATES",
    "MAX_HYDROGEN_ASSIGNMENTS",
    "geometry_misfit",
    "ligand_from_pdb_residue",
]

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
        return [0, 1] if _height(pos, idx, nbrs) < 0.3 else [1, 0]
    return [max(0, _VALENCE[el] - deg)] if el in ("C",) else [0]


MAX_BOND_ORDER_CANDIDATES = 5000
"""Hydrogen-count assignments passing :func:`_can_be_neutral` that :func:`ligand_from_pdb_residue`
has RDKit turn into bond orders, at most (1–6 ms each for fragments and drug-sized ligands on a
2-core Xeon; about nine in ten of those passing that test sanitise)."""
MAX_HYDROGEN_ASSIGNMENTS = 50_000
"""Hydrogen-count assignments :func:`ligand_from_pdb_residue` enumerates at most (the valence test
takes about 30 µs each).  A fragment has at most a few tens of thousands, all enumerated; a
drug-sized ligand with 40 ambiguous atoms has over 600,000 five changes deep, so for it this count
ends the search, after a few seconds.  Until December 2026 a 5 s time budget ended it instead, so
where it stopped, and so possibly the bond orders found, depended on the machine's speed."""
MAX_CHANGES = 5
"""At most this many atoms take their second-choice hydrogen count in one assignment."""
# Ideal bond lengths in Å by element pair and bond order (1.5: aromatic); a single bond between
# two conjugated atoms is shorter (second value).  Typical values of small-molecule crystal
# structures (Allen et al., J Chem Soc Perkin Trans 2 1987, S1-S19), rounded.
_IDEAL: dict[tuple[str, str], dict[float, tuple[float, float]]] = {
    ("C", "C"): {1.0: (1.51, 1.46), 1.5: (1.39, 1.39), 2.0: (1.34, 1.34), 3.0: (1.20, 1.20)},
    ("C", "N"): {1.0: (1.47, 1.36), 1.5: (1.34, 1.34), 2.0: (1.28, 1.28), 3.0: (1.15, 1.15)},
    ("C", "O"): {1.0: (1.43, 1.34), 1.5: (1.36, 1.36), 2.0: (1.22, 1.22)},
    ("N", "N"): {1.0: (1.42, 1.36), 1.5: (1.33, 1.33), 2.0: (1.25, 1.25)},
    ("C", "S"): {1.0: (1.81, 1.75), 1.5: (1.72, 1.72), 2.0: (1.65, 1.65)},
}


_SP3_HEIGHT = 0.51
"""Å: how far a tetrahedral carbon lies from the plane of three of its neighbours (bonds of
1.53 Å at 109.5°); a trigonal (sp2) carbon lies in that plane."""


def _height(pos: np.ndarray, idx: int, nbrs: list[int]) -> float:
    vecs = [pos[n] - pos[idx] for n in nbrs]
    normal = np.cross(vecs[1] - vecs[0], vecs[2] - vecs[0])
    return abs(float(np.dot(normal / np.linalg.norm(normal), -vecs[0])))


def geometry_misfit(mol: Any, pos: np.ndarray) -> tuple[float, int]:
    """How badly ``mol``'s bond orders fit the geometry ``pos``: the sum of squared deviations (Å²)
    of its bond lengths from the ideal lengths of their orders (C, N, O, S pairs of the table),
    and of each carbon with three heavy neighbours from the plane of those neighbours (0 for an
    sp2 carbon, :data:`_SP3_HEIGHT` for an sp3 one), with the number of terms summed."""
    from rdkit import Chem

    total, n = 0.0, 0
    for bond in mol.GetBonds():
        a, b = bond.GetBeginAtom(), bond.GetEndAtom()
        table = _IDEAL.get(tuple(sorted((a.GetSymbol(), b.GetSymbol()))))
        order = 1.5 if bond.GetIsAromatic() else bond.GetBondTypeAsDouble()
        if table is None or order not in table:
            continue
        plain, conjugated = table[order]
        ideal = conjugated if order == 1.0 and bond.GetIsConjugated() else plain
        total += (float(np.linalg.norm(pos[a.GetIdx()] - pos[b.GetIdx()])) - ideal) ** 2
        n += 1
    for atom in mol.GetAtoms():
        heavy = [x.GetIdx() for x in atom.GetNeighbors() if x.GetAtomicNum() > 1]
        if atom.GetSymbol() != "C" or len(heavy) != 3:
            continue
        sp2 = atom.GetIsAromatic() or atom.GetHybridization() == Chem.HybridizationType.SP2
        total += (_height(pos, atom.GetIdx(), heavy) - (0.0 if sp2 else _SP3_HEIGHT)) ** 2
        n += 1
    return total, n


def _combos_by_deviation(options: list[list[int]], max_dev: int) -> Iterator[tuple[int, ...]]:
    """Hydrogen counts: the preferred counts first, then every assignment with 1, 2 … atoms at
    their second choice (generated lazily: with k changes the number grows as the k-th power of
    the ambiguous atoms)."""
    ambiguous = [i for i, opt in enumerate(options) if len(opt) > 1]
    base = [opt[0] for opt in options]
    for k in range(0, min(max_dev, len(ambiguous)) + 1):
        for subset in itertools.combinations(ambiguous, k):
            combo = list(base)
            for i in subset:
                combo[i] = options[i][1]
            yield tuple(combo)


_NEUTRAL_VALENCE = {"C": 4, "N": 3, "O": 2, "F": 1, "Cl": 1, "Br": 1, "I": 1}
"""Valence of each element in a neutral molecule without radicals, where it has only one (S and P
have several: they are left to RDKit)."""


def _can_be_neutral(nbrs: list[list[int]], valence: list[int | None], combo: tuple[int, ...]) -> bool:
    """False when the hydrogen counts ``combo`` cannot give a neutral molecule without radicals, by
    valence counting alone.  An atom's unsaturation is its valence left after single bonds and
    hydrogens, which bond orders above single must use up, each order using one unit at both of
    its ends.  Impossible: negative unsaturation (too many neighbours and hydrogens); an
    unsaturated atom with a single unsaturated neighbour that cannot take all of it (that bond is
    forced: it is made, and the test repeats, as kekulisation starts from chain ends); an
    unsaturated atom with none; or, once no bond is forced, a connected set of unsaturated atoms
    whose unsaturation sums to an odd number.  Atoms of several valences (``None``: S, P …) are
    taken to absorb whatever their neighbours need.  A necessary condition only: RDKit decides."""
    n = len(combo)
    free: list[int | None] = [None if v is None else v - len(nbrs[i]) - combo[i] for i, v in enumerate(valence)]
    if any(f is not None and f < 0 for f in free):
        return False
    pending = [i for i in range(n) if free[i]]
    while pending:
        i = pending.pop()
        fi = free[i]
        if not fi:  # saturated meanwhile, or flexible (None)
            continue
        partners = [j for j in nbrs[i] if free[j] != 0]
        if not partners:
            return False
        if len(partners) > 1:
            continue
        j = partners[0]
        fj = free[j]
        if fi > 2 or (fj is not None and fj < fi):
            return False
        free[i] = 0
        if fj is not None:
            free[j] = fj - fi
        pending.extend(k for k in nbrs[i] + nbrs[j] if free[k])
    seen = [False] * n
    for start in range(n):
        if seen[start] or not free[start]:
            continue
        seen[start] = True
        stack, total, flexible = [start], 0, False
        while stack:
            i = stack.pop()
            f = free[i]
            if f is None:
                flexible = True
            else:
                total += f
            for j in nbrs[i]:
                if not seen[j] and free[j] != 0:
                    seen[j] = True
                    stack.append(j)
        if total % 2 and not flexible:
            return False
    return True


def _candidate(heavy: Any, combo: tuple[int, ...]) -> Any | None:
    """``heavy`` with ``combo``'s hydrogens and bond orders from RDKit, or None when that gives no
    neutral, sanitisable molecule."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import rdDetermineBonds

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
        return None
    if any(a.GetFormalCharge() or a.GetNumRadicalElectrons() for a in cand.GetAtoms()):
        return None
    return cand


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


def _read_residue(pdb_text: str, resname: str) -> Any:
    """The heavy atoms of the first copy of residue ``resname`` (altloc ' ' or 'A'), unsanitised,
    without bond orders: RDKit's PDB reader's connectivity and the file's coordinates."""
    from rdkit import Chem, rdBase

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
    return heavy


def ligand_from_pdb_residue(pdb_text: str, resname: str = "LIG", *, smiles: str | None = None,
                            max_candidates: int = MAX_BOND_ORDER_CANDIDATES,
                            max_assignments: int = MAX_HYDROGEN_ASSIGNMENTS) -> Any:
    """RDKit molecule of a ligand residue (its first copy), crystal coordinates kept atom for atom.

    With ``smiles``, bond orders come from that template (RDKit's ``AssignBondOrdersFromTemplate``).
    Without it, from the geometry (module docstring): hydrogen-count assignments are enumerated,
    fewest changes first, up to :data:`MAX_CHANGES` changes; those that can give a neutral
    molecule go to RDKit, and the sanitisable one that fits the geometry best
    (:func:`geometry_misfit`; ties: fewer changes) is kept.  The search ends after
    ``max_assignments`` assignments enumerated or ``max_candidates`` given to RDKit, whichever
    comes first (a drug-sized ligand has more: for it the best fit among those); having found none,
    it raises :class:`InputError` asking for the SMILES.  Only altloc ' ' or 'A' atoms.
    """
    from rdkit import Chem

    heavy = _read_residue(pdb_text, resname)
    pos = heavy.GetConformer().GetPositions()
    if smiles is not None:
        return _with_crystal_coordinates(_bond_orders_from_template(heavy, smiles, resname), pos)
    Chem.FastFindRings(heavy)
    options = [_h_options(heavy, i, pos) for i in range(heavy.GetNumAtoms())]
    nbrs = [[n.GetIdx() for n in atom.GetNeighbors()] for atom in heavy.GetAtoms()]
    valence = [_NEUTRAL_VALENCE.get(atom.GetSymbol()) for atom in heavy.GetAtoms()]
    best: tuple[float, Any] | None = None  # (mean squared misfit, molecule)
    enumerated = tried = 0
    for combo in _combos_by_deviation(options, max_dev=MAX_CHANGES):
        if enumerated >= max_assignments or tried >= max_candidates:
            break
        enumerated += 1
        if not _can_be_neutral(nbrs, valence, combo):
            continue
        tried += 1
        cand = _candidate(heavy, combo)
        if cand is None:
            continue
        misfit, n_terms = geometry_misfit(cand, pos)
        score = misfit / max(n_terms, 1)
        if best is None or score < best[0]:
            best = (score, cand)
    if best is not None:
        return _with_crystal_coordinates(best[1], pos)
    raise InputError(f"could not infer bond orders for {resname} ({heavy.GetNumAtoms()} heavy atoms) "
                     f"from its geometry: none of {enumerated} hydrogen assignments ({tried} given to "
                     "RDKit) makes a neutral molecule; give its SMILES (smiles=)")
