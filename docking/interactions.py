"""Protein-ligand interaction fingerprints of a pose with ProLIF.

Interaction types are named from the **ligand's** point of view, as ProLIF does:
``HBAcceptor`` means the ligand accepts a hydrogen bond from the residue.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from dockdb.errors import InputError
from docking.poses import sdf_to_mol

__all__ = ["HBOND_DA_MAX", "INTERACTION_TYPES", "POCKET_CUTOFF", "interactions", "interactions_many",
           "orient_polar_hydrogens", "pocket_residues"]

INTERACTION_TYPES: tuple[str, ...] = (
    "HBDonor", "HBAcceptor", "Hydrophobic", "Cationic", "Anionic", "PiStacking", "CationPi",
    "PiCation", "XBDonor", "XBAcceptor", "MetalAcceptor",
)


# residues with an atom this close to any pose atom are kept for the fingerprint: well beyond the
# farthest contact ProLIF looks for (6-7 A, pi stacking and cation-pi, measured between centroids)
POCKET_CUTOFF = 12.0


def pocket_residues(receptor_pdb: str, ligand_xyz: np.ndarray, cutoff: float = POCKET_CUTOFF) -> str:
    """The ATOM/HETATM records of the whole residues with an atom within ``cutoff`` Å of any point of
    ``ligand_xyz`` (N, 3).  Contacts never reach farther, and a large receptor's far side (where a
    zero-occupancy residue with impossible geometry can make RDKit reject the whole protein, as in
    RdRp 7BV2) is neither parsed nor searched."""
    records = [line for line in receptor_pdb.splitlines() if line.startswith(("ATOM", "HETATM"))]
    if not records or not len(ligand_xyz):
        return receptor_pdb
    try:
        xyz = np.array([[float(r[30:38]), float(r[38:46]), float(r[46:54])] for r in records])
    except ValueError as e:
        raise InputError(f"the receptor PDB has an unreadable coordinate ({e}); pass PreparedReceptor.pdb") from e
    from scipy.spatial import cKDTree

    keys = [r[17:27] for r in records]  # residue name, chain, number and insertion code
    dist, _ = cKDTree(ligand_xyz).query(xyz, k=1, distance_upper_bound=cutoff)
    near = np.isfinite(dist)
    keep = {k for k, n in zip(keys, near, strict=True) if n}
    return "\n".join([r for r, k in zip(records, keys, strict=True) if k in keep] + ["END"]) + "\n"


def _protein_mol(receptor_pdb: str) -> Any:
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        mol = Chem.MolFromPDBBlock(receptor_pdb, removeHs=False)
    if mol is None:
        raise InputError("RDKit cannot read the receptor PDB; pass PreparedReceptor.pdb (with hydrogens)")
    if not any(a.GetAtomicNum() == 1 for a in mol.GetAtoms()):
        raise InputError("the receptor has no hydrogens; pass the prepared receptor PDB (PreparedReceptor.pdb)")
    return mol


def interactions(receptor_pdb: str, pose_sdf: str) -> list[dict[str, Any]]:
    """Residue-level interactions of one pose: ``[{chain, resnum, resname, type}]``, sorted."""
    return interactions_many(receptor_pdb, [pose_sdf])[0]


def _import_prolif() -> Any:
    """ProLIF, imported without MDAnalysis's import-time DeprecationWarnings (notices for developers, not
    users). Recorded rather than filtered: MDAnalysis installs its own filter that would show them past any
    ``ignore`` set before the import."""
    with warnings.catch_warnings(record=True) as caught:
        import prolif
    for w in caught:
        if not issubclass(w.category, DeprecationWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return prolif


HBOND_DA_MAX = 3.5  # Å, ProLIF's default donor-acceptor distance


def _acceptor_positions(protein: Any) -> np.ndarray:
    """Positions of the protein's O atoms and its N atoms that carry no hydrogen."""
    keep = [a.GetIdx() for a in protein.GetAtoms()
            if a.GetSymbol() == "O" or (a.GetSymbol() == "N" and a.GetTotalNumHs(includeNeighbors=True) == 0)]
    return protein.GetConformer().GetPositions()[keep] if keep else np.zeros((0, 3))


def orient_polar_hydrogens(lig: Any, acceptors: np.ndarray, step_deg: float = 10.0) -> int:
    """Turn each hydroxyl/thiol hydrogen about its X-O (X-S) bond towards the best hydrogen-bond
    geometry with an acceptor within :data:`HBOND_DA_MAX` of its O (S); returns how many moved.

    Docking engines score heavy atoms only, so a pose's rotatable polar hydrogens point wherever
    the input conformer left them; ProLIF's hydrogen-bond test needs a donor-H-acceptor angle of
    at least 130 degrees, and a textbook 2.75 A O-H...O=C contact was missed at 125 degrees.
    """
    conf = lig.GetConformer()
    pos = conf.GetPositions()
    moved = 0
    for h in lig.GetAtoms():
        if h.GetAtomicNum() != 1 or h.GetDegree() != 1:
            continue
        donor = h.GetNeighbors()[0]
        heavy = [n for n in donor.GetNeighbors() if n.GetAtomicNum() > 1]
        if donor.GetSymbol() not in ("O", "S") or len(heavy) != 1 or donor.GetDegree() != 2:
            continue
        d, x, hp = pos[donor.GetIdx()], pos[heavy[0].GetIdx()], pos[h.GetIdx()]
        near = acceptors[np.linalg.norm(acceptors - d, axis=1) <= HBOND_DA_MAX] if len(acceptors) else acceptors
        if not len(near):
            continue
        axis = (d - x) / np.linalg.norm(d - x)
        v = hp - d
        best, best_angle = hp, _best_dha(d, hp, near)
        for k in range(1, int(360 / step_deg)):
            t = np.radians(k * step_deg)  # Rodrigues' rotation of the O-H vector about the X-O axis
            r = v * np.cos(t) + np.cross(axis, v) * np.sin(t) + axis * np.dot(axis, v) * (1 - np.cos(t))
            angle = _best_dha(d, d + r, near)
            if angle > best_angle + 1e-6:
                best, best_angle = d + r, angle
        if best is not hp:
            conf.SetAtomPosition(h.GetIdx(), best.tolist())
            moved += 1
    return moved


def _best_dha(d: np.ndarray, h: np.ndarray, acceptors: np.ndarray) -> float:
    """The largest donor-H-acceptor angle (degrees) over ``acceptors``."""
    u = (d - h) / np.linalg.norm(d - h)
    w = acceptors - h
    cos = (w @ u) / np.linalg.norm(w, axis=1)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).max())


def interactions_many(receptor_pdb: str, pose_sdfs: list[str]) -> list[list[dict[str, Any]]]:
    """Interactions of several poses against one receptor (the protein is built once).

    Hydroxyl and thiol hydrogens are first turned towards their best hydrogen bond
    (:func:`orient_polar_hydrogens`); the stored poses are not changed."""
    plf = _import_prolif()

    if not pose_sdfs:
        return []
    mols: list[Any] = [sdf_to_mol(sdf, remove_hs=False) for sdf in pose_sdfs]
    for lig in mols:
        if not any(a.GetAtomicNum() == 1 for a in lig.GetAtoms()):
            raise InputError("the pose SDF has no hydrogens; pass a pose SDF written by DockDB")
    # only the residues around the poses: the same contacts, a fraction of the atoms to parse
    points = np.concatenate([lig.GetConformer().GetPositions() for lig in mols])
    protein_mol = _protein_mol(pocket_residues(receptor_pdb, points, POCKET_CUTOFF))
    protein = plf.Molecule.from_rdkit(protein_mol)
    acceptors = _acceptor_positions(protein_mol)
    ligands = []
    for lig in mols:
        orient_polar_hydrogens(lig, acceptors)
        ligands.append(plf.Molecule.from_rdkit(lig))
    fp = plf.Fingerprint(list(INTERACTION_TYPES))
    fp.run_from_iterable(ligands, protein, progress=False, n_jobs=1)
    out: list[list[dict[str, Any]]] = []
    for frame in range(len(ligands)):
        rows = set()
        for (_lres, pres), found in fp.ifp.get(frame, {}).items():
            for itype in found:
                rows.add((pres.chain or "", int(pres.number), pres.name, itype))
        out.append([
            {"chain": c, "resnum": n, "resname": r, "type": t}
            for c, n, r, t in sorted(rows, key=lambda x: (x[0], x[1], x[3]))
        ])
    return out
