"""Bond orders of a ligand given as a PDB residue (:func:`docking.redock.ligand_from_pdb_residue`):
small ligands resolved from geometry, drug-sized ones bounded (no combinatorial hang)."""

from __future__ import annotations

import itertools
import time

import pytest
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolDescriptors

from dockdb.errors import InputError
from docking import pdb_ligand
from docking.redock import MAX_HYDROGEN_ASSIGNMENTS, ligand_from_pdb_residue

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


@pytest.mark.timeout(60)  # unbounded, this ran for minutes (20+ for some drugs); bounded, ~3 s
def test_large_ligand_search_is_bounded_by_counts_not_time(monkeypatch: pytest.MonkeyPatch) -> None:
    pdb, ref = _residue(LARGE)
    assert ref.GetNumAtoms() == 60 and rdMolDescriptors.CalcNumRotatableBonds(ref) >= 20

    def no_clock(*_: object) -> float:
        raise AssertionError("the bond-order search read the clock")

    # no deadline: reading any clock during the search fails the test
    for name in ("time", "monotonic", "perf_counter", "process_time", "time_ns", "monotonic_ns",
                 "perf_counter_ns"):
        monkeypatch.setattr(time, name, no_clock)
    # the same molecule on any machine: the search ends at a count of assignments, not a deadline
    first = Chem.MolToSmiles(ligand_from_pdb_residue(pdb, max_assignments=20_000))
    assert Chem.MolToSmiles(ligand_from_pdb_residue(pdb, max_assignments=20_000)) == first
    assert MAX_HYDROGEN_ASSIGNMENTS <= 100_000


def test_caps_are_counts_with_a_one_line_error() -> None:
    pdb, _ = _residue(LARGE)
    with pytest.raises(InputError) as err:
        ligand_from_pdb_residue(pdb, max_assignments=3)
    message = str(err.value)
    assert "\n" not in message and "60 heavy atoms" in message and "give its SMILES" in message
    assert "none of 3 hydrogen assignments" in message
    with pytest.raises(InputError, match=r"none of 0 hydrogen assignments \(0 given to RDKit\)"):
        ligand_from_pdb_residue(pdb, max_candidates=0)
    # a nitro group is charge-separated (N+, O-): no neutral assignment exists, and the valence
    # test sees that without asking RDKit
    nitro, _ = _residue("O=[N+]([O-])c1ccccc1")
    with pytest.raises(InputError, match=r"LIG \(9 heavy atoms\).*\(0 given to RDKit\).*give its SMILES"):
        ligand_from_pdb_residue(nitro)


def _assignments(smiles: str, limit: int) -> tuple[Chem.Mol, list[tuple[int, ...]], list[list[int]], list]:
    pdb, _ = _residue(smiles)
    heavy = pdb_ligand._read_residue(pdb, "LIG")
    pos = heavy.GetConformer().GetPositions()
    Chem.FastFindRings(heavy)
    options = [pdb_ligand._h_options(heavy, i, pos) for i in range(heavy.GetNumAtoms())]
    combos = list(itertools.islice(pdb_ligand._combos_by_deviation(options, max_dev=3), limit))
    nbrs = [[n.GetIdx() for n in atom.GetNeighbors()] for atom in heavy.GetAtoms()]
    valence = [pdb_ligand._NEUTRAL_VALENCE.get(atom.GetSymbol()) for atom in heavy.GetAtoms()]
    return heavy, combos, nbrs, valence


@pytest.mark.parametrize("smiles", [
    PARACETAMOL,
    "CC(=O)[C@H]1CC[C@H]2[C@@H]3CCC4=CC(=O)CC[C@]4(C)[C@H]3CC[C@]12C",  # progesterone
    "N#Cc1ccc(C#CCOC(=O)C=C)cc1",  # nitrile, alkyne, ester, acrylate
    "CS(=O)(=O)Nc1ccc(-c2ccncc2)cc1SC",  # sulfonamide and thioether: S has several valences
])
def test_valence_test_never_drops_an_assignment_rdkit_accepts(smiles: str) -> None:
    heavy, combos, nbrs, valence = _assignments(smiles, 1500)
    accepted = [c for c in combos if pdb_ligand._candidate(heavy, c) is not None]
    kept = [c for c in combos if pdb_ligand._can_be_neutral(nbrs, valence, c)]
    assert accepted and set(accepted) <= set(kept)
    assert len(kept) < 0.6 * len(combos)  # and it is worth having: most assignments go


def test_valence_test_forces_bonds_at_chain_ends() -> None:
    # butadiene's carbons, the assignment giving every carbon one unsaturation: C=C-C=C
    nbrs, valence = [[1], [0, 2], [1, 3], [2]], [4, 4, 4, 4]
    assert pdb_ligand._can_be_neutral(nbrs, valence, (2, 1, 1, 2))
    # isobutylene's skeleton with every carbon unsaturated: an even sum (4), but each end's only
    # partner is the centre, which can take one double bond, not three
    star = [[1, 2, 3], [0], [0], [0]]
    assert pdb_ligand._can_be_neutral(star, [4] * 4, (0, 2, 3, 3))
    assert not pdb_ligand._can_be_neutral(star, [4] * 4, (0, 2, 2, 2))
    # a five-carbon chain: with the centre saturated, the ends pair; with an end too, one is left
    nbrs5, valence5 = [[1], [0, 2], [1, 3], [2, 4], [3]], [4] * 5
    assert pdb_ligand._can_be_neutral(nbrs5, valence5, (2, 1, 2, 1, 2))
    assert not pdb_ligand._can_be_neutral(nbrs5, valence5, (3, 1, 2, 1, 2))
    # a five-membered ring with four unsaturated atoms in a row pairs; with three it cannot
    ring = [[1, 4], [0, 2], [1, 3], [2, 4], [3, 0]]
    assert pdb_ligand._can_be_neutral(ring, [4] * 5, (1, 1, 1, 1, 2))
    assert not pdb_ligand._can_be_neutral(ring, [4] * 5, (1, 1, 1, 2, 2))
    # a ring with no chain end forces nothing: three unsaturated carbons in a ring cannot pair off
    triangle = [[1, 2], [0, 2], [0, 1]]
    assert not pdb_ligand._can_be_neutral(triangle, [4] * 3, (1, 1, 1))
    assert pdb_ligand._can_be_neutral(triangle, [4] * 3, (1, 1, 2))
    # sulfur (several valences) can take an unsaturation the carbons leave
    assert pdb_ligand._can_be_neutral(ring, [4, 4, 4, 4, None], (1, 1, 1, 2, 0))


def test_large_ligand_with_its_smiles_as_template() -> None:
    pdb, ref = _residue(LARGE)
    mol = ligand_from_pdb_residue(pdb, smiles=LARGE)
    assert Chem.MolToSmiles(mol, isomericSmiles=False) == Chem.MolToSmiles(ref)
    assert mol.GetConformer().GetPositions() == pytest.approx(ref.GetConformer().GetPositions(), abs=1e-3)


def test_template_that_does_not_match_is_a_one_line_error() -> None:
    pdb, _ = _residue(PARACETAMOL)
    with pytest.raises(InputError, match="does not match the 11 heavy atoms of LIG; give the SMILES"):
        ligand_from_pdb_residue(pdb, smiles="CCO")
