"""Bond orders from a crystal ligand's geometry (:mod:`docking.pdb_ligand`) on real Mpro XChem
fragments (no hydrogens in the file): of the many assignments that sanitise, the one kept is the
one the refined bond lengths and planarity support, not the first found."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from rdkit import Chem

from docking.pdb_ligand import (
    _candidate,
    _combos_by_deviation,
    _h_options,
    _read_residue,
    geometry_misfit,
    ligand_from_pdb_residue,
)

TARBALL = "validation/redock/mpro_xchem_fragments_78.tar.gz"

# What the crystal shows: an ethyl linker and an indole (the first sanitisable assignment made the
# linker a C=C of 1.53 Å and the indole a quinoid), a piperidine (not a tetrahydropyridine), and
# a chlorophenyl (bond lengths alone preferred a cyclohexadiene with an sp3 CHCl in its place;
# the ring's planar carbons rule that out)
EXPECTED = {
    "Mpro-x0104": "CC(=O)NCCc1c[nH]c2ccc(F)cc12",
    "Mpro-x0177": "NC(=O)C1CCN(C(=O)Nc2ccccc2)CC1",
    "Mpro-x0669": "Clc1cccc(CN2CCOCC2)c1",
}


def _pdb(mirror: Path, fragment: str) -> str:
    with tarfile.open(mirror / TARBALL, "r:gz") as tf:
        fh = tf.extractfile(f"mpro/{fragment}.pdb")
        assert fh is not None
        return fh.read().decode()


@pytest.mark.parametrize("fragment", sorted(EXPECTED))
def test_assignment_that_fits_the_geometry_is_kept(mirror: Path, fragment: str) -> None:
    mol = ligand_from_pdb_residue(_pdb(mirror, fragment))
    assert Chem.MolToSmiles(mol) == EXPECTED[fragment]


def test_first_sanitisable_assignment_is_not_the_answer(mirror: Path) -> None:
    """The property the search exists for: the first assignment that sanitises (what was kept until
    December 2026) is a different, worse-fitting molecule for x0104."""
    pdb = _pdb(mirror, "Mpro-x0104")
    heavy = _read_residue(pdb, "LIG")
    pos = heavy.GetConformer().GetPositions()
    Chem.FastFindRings(heavy)
    options = [_h_options(heavy, i, pos) for i in range(heavy.GetNumAtoms())]
    first = next(c for combo in _combos_by_deviation(options, 5) if (c := _candidate(heavy, combo)) is not None)
    kept = ligand_from_pdb_residue(pdb)
    assert Chem.MolToSmiles(Chem.RemoveHs(first)) != EXPECTED["Mpro-x0104"]
    worse, n_first = geometry_misfit(first, pos)
    better, n_kept = geometry_misfit(kept, kept.GetConformer().GetPositions())
    assert better / n_kept < worse / n_first
