"""Pose export: docked PDBQT -> RDKit molecules / SDF (bond orders from Meeko's SMILES
remarks, not bond perception), and receptor+ligand complexes as PDB."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dockdb.errors import EngineError, InputError

if TYPE_CHECKING:
    from rdkit.Chem import Mol

__all__ = [
    "complex_pdb",
    "pdbqt_to_mols",
    "pdbqt_to_sdf_blocks",
    "pose_tags",
    "pose_title",
    "sdf_record",
    "sdf_to_mol",
    "split_pdbqt_models",
]


def split_pdbqt_models(pdbqt: str) -> list[str]:
    """Single-pose PDBQTs of a multi-MODEL PDBQT (Vina's output), without MODEL/ENDMDL lines; a
    text without MODEL lines is one pose."""
    models: list[str] = []
    cur: list[str] = []
    for line in pdbqt.splitlines(keepends=True):
        if line.startswith("MODEL"):
            continue
        if line.startswith("ENDMDL"):
            models.append("".join(cur))
            cur = []
            continue
        cur.append(line)
    if cur and any(ln.startswith(("ATOM", "HETATM")) for ln in cur):
        models.append("".join(cur))
    return models


def pdbqt_to_mols(pdbqt: str) -> list[Mol]:
    """RDKit molecules (with hydrogens, correct bond orders) for each pose in a docked PDBQT.

    The PDBQT must carry Meeko's ``REMARK SMILES`` lines (Meeko-prepared ligands do, and
    Vina copies them into its output).
    """
    from meeko import PDBQTMolecule, RDKitMolCreate
    from rdkit import Chem

    try:
        pmol = PDBQTMolecule(pdbqt, skip_typing=True)
        mols = RDKitMolCreate.from_pdbqt_mol(pmol)
    except Exception as exc:
        raise EngineError(f"cannot rebuild molecules from the pose PDBQT ({exc}); was it prepared by Meeko?") from exc
    if not mols or mols[0] is None:
        raise EngineError("pose PDBQT lacks Meeko SMILES remarks; prepare ligands with docking.ligand")
    mol = mols[0]
    out = []
    for conf in mol.GetConformers():
        single = Chem.Mol(mol)
        single.RemoveAllConformers()
        single.AddConformer(Chem.Conformer(conf), assignId=True)
        out.append(single)
    return out


def pdbqt_to_sdf_blocks(pdbqt: str) -> list[str]:
    """One SDF record (mol block + ``$$$$``) per pose of a docked PDBQT."""
    from rdkit import Chem

    return [Chem.MolToMolBlock(m) + "$$$$\n" for m in pdbqt_to_mols(pdbqt)]


def sdf_to_mol(sdf: str, remove_hs: bool = False) -> Mol:
    """First molecule of an SDF text; InputError when unreadable."""
    from rdkit import Chem

    block = sdf.split("$$$$")[0]
    mol = Chem.MolFromMolBlock(block, removeHs=remove_hs)
    if mol is None:
        raise InputError("the pose SDF cannot be read by RDKit; pass an SDF written by DockDB")
    return mol


def complex_pdb(receptor_pdb: str, pose_sdf: str, resname: str = "LIG", chain: str = "L") -> str:
    """Receptor PDB plus the pose as HETATM ``resname`` (chain ``chain``, residue 1)."""
    mol = sdf_to_mol(pose_sdf)
    rec_lines = [
        ln for ln in receptor_pdb.splitlines()
        if ln.startswith(("ATOM", "HETATM", "TER")) and not ln.startswith("CONECT")
    ]
    # ligand serials continue after the receptor's highest one (serials need not be contiguous)
    atoms = (ln for ln in rec_lines if ln.startswith(("ATOM", "HETATM")))
    serial = max((int(ln[6:11]) for ln in atoms if ln[6:11].strip().isdigit()), default=0)
    counts: dict[str, int] = {}
    pos = mol.GetConformer().GetPositions()
    lig_lines = []
    for atom, xyz in zip(mol.GetAtoms(), pos, strict=True):
        serial += 1
        el = atom.GetSymbol()
        counts[el] = counts.get(el, 0) + 1
        name = f"{el}{counts[el]}"[:4]
        name = f" {name:<3}" if len(el) == 1 and len(name) < 4 else f"{name:<4}"
        lig_lines.append(
            f"HETATM{serial % 100000:5d} {name} {resname:>3} {chain}{1:4d}    "
            f"{xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}  1.00  0.00          {el.upper():>2}"
        )
    return "\n".join([*rec_lines, *lig_lines, "END"]) + "\n"


def pose_title(drug: str, target: str, rank: int) -> str:
    """The title line of every pose SDF DockDB writes (CLI, campaign export, portal): drug, target, rank."""
    return f"{drug} | {target} | pose {rank}"


def pose_tags(drug: str, target: str, rank: int, score: float | None, **more: Any) -> dict[str, Any]:
    """The SD tags of every pose SDF DockDB writes, in one order: drug, target, rank, score (kcal/mol, 3
    decimals), then *more* (ids, InChIKey) where known."""
    return {"drug": drug, "target": target, "rank": rank,
            "score": None if score is None else f"{score:.3f}", **more}


def sdf_record(sdf: str, title: str, tags: Mapping[str, Any]) -> str:
    """One SDF record: the molblock of *sdf* with *title* as its first line and *tags* (``None`` left out)."""
    block = sdf.replace("\r\n", "\n")
    end = block.find("M  END")
    molblock = block[: end + len("M  END")] if end >= 0 else block.split("$$$$")[0].rstrip("\n")
    lines = molblock.split("\n")
    if lines:
        lines[0] = "".join(ch for ch in title if ch.isprintable())[:80]
    out = "\n".join(lines) + "\n"
    for key, value in tags.items():
        if value is not None:
            out += f"> <{key}>\n{value}\n\n"
    return out + "$$$$\n"
