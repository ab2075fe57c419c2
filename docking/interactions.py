"""Protein-ligand interaction fingerprints of a pose with ProLIF.

Interaction types are named from the **ligand's** point of view, as ProLIF does:
``HBAcceptor`` means the ligand accepts a hydrogen bond from the residue.
"""

from __future__ import annotations

import warnings
from typing import Any

from dockdb.errors import InputError
from docking.poses import sdf_to_mol

__all__ = ["INTERACTION_TYPES", "interactions", "interactions_many"]

INTERACTION_TYPES: tuple[str, ...] = (
    "HBDonor", "HBAcceptor", "Hydrophobic", "Cationic", "Anionic", "PiStacking", "CationPi",
    "PiCation", "XBDonor", "XBAcceptor", "MetalAcceptor",
)


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


def interactions_many(receptor_pdb: str, pose_sdfs: list[str]) -> list[list[dict[str, Any]]]:
    """Interactions of several poses against one receptor (the protein is built once)."""
    plf = _import_prolif()

    if not pose_sdfs:
        return []
    protein = plf.Molecule.from_rdkit(_protein_mol(receptor_pdb))
    ligands = []
    for sdf in pose_sdfs:
        lig = sdf_to_mol(sdf, remove_hs=False)
        if not any(a.GetAtomicNum() == 1 for a in lig.GetAtoms()):
            raise InputError("the pose SDF has no hydrogens; pass a pose SDF written by DockDB")
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
