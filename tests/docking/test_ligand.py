from __future__ import annotations

import pytest
from rdkit import Chem

from dockdb.errors import LigandError
from docking.ligand import PROTOCOL_VERSION, prepare_ligand


def test_aspirin_is_deprotonated_at_74() -> None:
    lig = prepare_ligand("CC(=O)Oc1ccccc1C(=O)O")
    assert lig.smiles == "CC(=O)Oc1ccccc1C(=O)[O-]"
    assert len(lig.variants) == 1
    assert lig.n_heavy == 13
    assert lig.variants[0].formal_charge == -1
    assert "ROOT" in lig.pdbqt and "REMARK SMILES" in lig.pdbqt
    assert lig.protocol_version == PROTOCOL_VERSION


def test_amine_protonated_and_salt_stripped() -> None:
    lig = prepare_ligand("CCN(CC)CC.Cl")
    assert lig.smiles == "CC[NH+](CC)CC"
    assert lig.variants[0].formal_charge == 1


def test_stereo_enumeration_count() -> None:
    lig = prepare_ligand("CC(O)C(N)CC", max_stereoisomers=4)
    assert len(lig.variants) == 4
    assert len({v.smiles for v in lig.variants}) == 4
    assert len(prepare_ligand("CC(O)C(N)CC", max_stereoisomers=2).variants) == 2
    assert len(prepare_ligand("C[C@H](O)[C@@H](N)CC", max_stereoisomers=4).variants) == 1


def test_same_seed_same_coordinates() -> None:
    a = prepare_ligand("c1ccccc1CCN", seed=3)
    b = prepare_ligand("c1ccccc1CCN", seed=3)
    assert a.pdbqt == b.pdbqt
    assert a.input_hash == b.input_hash
    other = prepare_ligand("c1ccccc1CCN", seed=4)
    assert other.input_hash != a.input_hash
    assert other.pdbqt != a.pdbqt  # the seed reaches the embedding


def test_molblock_round_trip_heavy_atoms() -> None:
    lig = prepare_ligand("CC(=O)Oc1ccccc1C(=O)O")
    mol = Chem.MolFromMolBlock(lig.variants[0].molblock, removeHs=False)
    assert mol.GetNumHeavyAtoms() == 13
    assert mol.GetNumAtoms() == 20  # the carboxylate at pH 7.4 keeps 7 hydrogens: 3 methyl, 4 aromatic
    assert Chem.MolToSmiles(Chem.RemoveHs(mol)) == Chem.CanonSmiles(lig.variants[0].smiles)
    assert mol.GetConformer().Is3D()


@pytest.mark.parametrize(
    ("smiles", "match"),
    [
        ("C1CC(", "cannot parse SMILES"),
        ("", "empty SMILES"),
        ("c1ccccc1[Fe]", "metal Fe"),
        ("CCCB(O)O", "cannot be typed by Vina"),
        ("C" * 120, "heavy atoms"),
    ],
)
def test_ligand_errors(smiles: str, match: str) -> None:
    with pytest.raises(LigandError, match=match):
        prepare_ligand(smiles)


def test_too_many_rotatable_bonds() -> None:
    with pytest.raises(LigandError, match="rotatable"):
        prepare_ligand("CCCCCCCCCCCCCCCCCCCC", max_rotatable=5)


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("CC(=O)Nc1ccc(O)cc1", "CC(=O)Nc1ccc(O)cc1"),  # paracetamol: phenol pKa 9.5 stays neutral
        ("NCCc1c[nH]cn1", "[NH3+]CCc1c[nH]cn1"),  # histamine: primary amine protonated, imidazole neutral
        ("CC(C)NCC(O)c1ccc(O)c(O)c1", "CC(C)[NH2+]CC(O)c1ccc(O)c(O)c1"),  # no catecholate zwitterion
    ],
)
def test_dominant_state_at_physiological_ph(smiles: str, expected: str) -> None:
    from rdkit import Chem

    lig = prepare_ligand(smiles, seed=1)
    assert Chem.CanonSmiles(lig.smiles) == Chem.CanonSmiles(expected)


def test_protonated_amine_nitrogen_is_not_a_stereocentre() -> None:
    lig = prepare_ligand("CN1CCCC1c1cccnc1", seed=1)  # nicotine without its stereo tag
    assert len(lig.variants) == 2  # the C2 centre only; [NH+] inverts fast and is never enumerated
    assert all("[NH+]" in v.smiles for v in lig.variants)


def test_bridgehead_amine_with_written_configuration_embeds() -> None:
    # quinidine as DrugCentral writes it: the quinuclidine nitrogen carries a configuration, which
    # protonation turns into an impossible [N@H+]; protocol v3 embeds it without the tag
    quinidine = "C=C[C@H]1C[N@@]2CC[C@H]1C[C@@H]2[C@@H](O)c1ccnc2ccc(OC)cc12"
    lig = prepare_ligand(quinidine, seed=42)
    assert lig.protocol_version == "ligand-v3"
    v = lig.variants[0]
    assert v.formal_charge == 1 and v.n_heavy == 24 and v.pdbqt.count("ATOM") + v.pdbqt.count("HETATM") >= 24


def test_search_work_follows_vinas_budget() -> None:
    from docking.ligand import search_work

    caffeine, ibuprofen = search_work("CN1C=NC2=C1C(=O)N(C(=O)N2C)C"), search_work("CC(C)Cc1ccc(cc1)C(C)C(=O)O")
    amlodipine = search_work("CCOC(=O)C1=C(COCCN)NC(C)=C(C1c1ccccc1Cl)C(=O)OC")
    assert 0 < caffeine < ibuprofen < amlodipine  # torsions weigh 10 atoms each, as in Vina's heuristic
    # ibuprofen: 15 heavy atoms + its acid's H, 4 rotatable bonds: Vina's steps x BFGS iterations
    assert ibuprofen == 70 * 3 * (50 + 16 + 10 * (6 + 4)) / 2 * (1 + (25 + 16) // 3)
    # a salt is counted by its largest fragment (what preparation docks); unparsable SMILES: 0
    assert search_work("CC(C)Cc1ccc(cc1)C(C)C(=O)O.[Na+].[Cl-]") == ibuprofen
    assert search_work("C1CC(") == 0.0 and search_work("") == 0.0
