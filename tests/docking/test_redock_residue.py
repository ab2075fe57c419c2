"""Bond orders of a ligand given as a PDB residue (:func:`docking.redock.ligand_from_pdb_residue`):
small ligands resolved from geometry, drug-sized ones bounded (no combinatorial hang)."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolDescriptors

from dockdb.errors import InputError
from docking.redock import BOND_ORDER_TIME_BUDGET_S, ligand_from_pdb_residue

PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"
# proglumetacin: 60 heavy atoms, 21 rotatable bonds, ~40 atoms whose hydrogen count geometry
# leaves open (its MMFF CH2 angles read as sp2): over 13,000 assignments three changes deep
LARGE = ("CCCN(CCC)C(=O)C(CCC(=O)OCCCN1CCN(CCOC(=O)CC2=C(C)N(C(=O)C3=CC=C(Cl)C=C3)"
         "C3=C2C=C(OC)C=C3)CC1)NC(=O)C1=CC=CC=C1")


def _residue(smiles: str, resname: str = "LIG") -> tuple[str, Chem.Mol]:
    """PDB text of ``smiles`` embedded by RDKit, heavy atoms only, as residue ``resname``."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=7) == 0
    AllChem.MMFFOptimizeMolecule(mol)
    heavy = Chem.RemoveHs(mol)
    for atom in heavy.GetAtoms():
        info = Chem.AtomPDBResidueInfo(f" {atom.GetSymbol():<3s}"[:4], residueName=resname,
                                       residueNumber=1, chainId="A", isHeteroAtom=True)
        atom.SetMonomerInfo(info)
    return Chem.MolToPDBBlock(heavy), heavy


def test_small_ligand_bond_orders_from_geometry() -> None:
    pdb, ref = _residue(PARACETAMOL)
    mol = ligand_from_pdb_residue(pdb)
    assert Chem.MolToSmiles(mol) == Chem.MolToSmiles(ref)
    # crystal (here: embedded) coordinates kept atom for atom
    assert mol.GetConformer().GetPositions() == pytest.approx(ref.GetConformer().GetPositions(), abs=1e-3)


@pytest.mark.timeout(60)  # unbounded, this ran for minutes (20+ for some drugs); bounded, ~5 s
def test_large_ligand_is_bounded_with_a_one_line_error() -> None:
    pdb, ref = _residue(LARGE)
    assert ref.GetNumAtoms() == 60 and rdMolDescriptors.CalcNumRotatableBonds(ref) >= 20
    with pytest.raises(InputError) as err:
        ligand_from_pdb_residue(pdb)
    message = str(err.value)
    assert "\n" not in message
    assert f"({BOND_ORDER_TIME_BUDGET_S:g} s at most)" in message
    assert "60 heavy atoms" in message and "give its SMILES" in message


def test_cap_is_the_number_of_assignments_tried() -> None:
    pdb, _ = _residue(LARGE)
    with pytest.raises(InputError, match=r"from its geometry in 3 hydrogen assignments"):
        ligand_from_pdb_residue(pdb, max_candidates=3)
    with pytest.raises(InputError, match=r"from its geometry in 1 hydrogen assignments \(0 s at most\)"):
        ligand_from_pdb_residue(pdb, time_budget_s=0)


def test_large_ligand_with_its_smiles_as_template() -> None:
    pdb, ref = _residue(LARGE)
    mol = ligand_from_pdb_residue(pdb, smiles=LARGE)
    assert Chem.MolToSmiles(mol, isomericSmiles=False) == Chem.MolToSmiles(ref)
    assert mol.GetConformer().GetPositions() == pytest.approx(ref.GetConformer().GetPositions(), abs=1e-3)


def test_template_that_does_not_match_is_a_one_line_error() -> None:
    pdb, _ = _residue(PARACETAMOL)
    with pytest.raises(InputError, match="does not match the 11 heavy atoms of LIG; give the SMILES"):
        ligand_from_pdb_residue(pdb, smiles="CCO")
