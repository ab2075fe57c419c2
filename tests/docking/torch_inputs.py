"""Ligands prepared for the torch-engine tests straight from SMILES (Meeko, no protonation changes)."""

from __future__ import annotations

from docking.ligand import PreparedLigand


def prepared(smiles: str, name: str) -> PreparedLigand:
    """A one-variant :class:`PreparedLigand` of the neutral molecule as written (RDKit 3D, MMFF)."""
    from meeko import MoleculePreparation, PDBQTWriterLegacy
    from rdkit import Chem
    from rdkit.Chem import AllChem

    from docking.ligand import LigandVariant

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=42)
    AllChem.MMFFOptimizeMolecule(mol)
    text, ok, err = PDBQTWriterLegacy.write_string(MoleculePreparation().prepare(mol)[0])
    assert ok, err
    variant = LigandVariant(smiles=smiles, pdbqt=text, molblock=Chem.MolToMolBlock(mol), formal_charge=0,
                            n_heavy=mol.GetNumHeavyAtoms())
    return PreparedLigand(name=name, input_smiles=smiles, smiles=smiles, variants=(variant,),
                          n_heavy=mol.GetNumHeavyAtoms(), n_rotatable=0, input_hash=name)
