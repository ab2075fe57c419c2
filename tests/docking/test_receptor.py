from __future__ import annotations

import io
import re

import numpy as np
import pytest

from dockdb.errors import ReceptorError
from docking.receptor import PROTOCOL_VERSION, _fix_hydrogen_bond_lengths, prepare_receptor

N3_NAMES = {"02J", "PJE", "010"}


def _chains(text: str) -> set[str]:
    return {ln[21] for ln in text.splitlines() if ln.startswith(("ATOM", "HETATM"))}


def test_protease_drops_n3_chain(protease_receptor) -> None:
    rec = protease_receptor
    assert _chains(rec.pdb) == {"A"}
    assert _chains(rec.pdbqt) == {"A"}
    resnames = {ln[17:20].strip() for ln in rec.pdbqt.splitlines() if ln.startswith("ATOM")}
    assert not resnames & N3_NAMES
    assert any("chain C" in r for r in rec.removed)
    assert any(r.startswith("waters x84") for r in rec.removed)
    assert rec.added["hydrogens"] > 2000
    assert rec.protocol_version == PROTOCOL_VERSION
    assert set(rec.tool_versions) == {"pdbfixer", "openmm", "meeko", "rdkit"}
    # hydrogens present, each at a covalent X-H length from its nearest heavy atom (OpenMM 8.6
    # leaves 1.19 A, which makes Meeko perceive extra bonds)
    lengths = _xh_lengths(rec.pdb)
    assert sum(len(v) for v in lengths.values()) > 2000 and set(lengths) == {"C", "N", "O", "S"}
    for element, ideal in IDEAL_XH.items():
        assert np.allclose(lengths[element], ideal, atol=0.06), (element, min(lengths[element]), max(lengths[element]))


IDEAL_XH = {"C": 1.09, "N": 1.01, "O": 0.96, "S": 1.34}


def _xh_lengths(pdb: str) -> dict[str, list[float]]:
    """Distance of every hydrogen to the nearest heavy atom of its residue, by that atom's element."""
    residues: dict[tuple[str, str], tuple[list[np.ndarray], list[tuple[str, np.ndarray]]]] = {}
    for ln in pdb.splitlines():
        if ln.startswith(("ATOM", "HETATM")):
            xyz = np.array([float(ln[30:38]), float(ln[38:46]), float(ln[46:54])])
            hs, heavy = residues.setdefault((ln[21], ln[22:27]), ([], []))
            element = ln[76:78].strip()
            if element == "H":
                hs.append(xyz)
            else:
                heavy.append((element, xyz))
    out: dict[str, list[float]] = {}
    for hs, heavy in residues.values():
        coords = np.array([xyz for _, xyz in heavy])
        for h in hs:
            d = np.linalg.norm(coords - h, axis=1)
            out.setdefault(heavy[int(d.argmin())][0], []).append(float(d.min()))
    return out


def test_fix_hydrogen_bond_lengths_sets_ideal_lengths_along_each_bond(protease_pdb: str) -> None:
    """X-H bonds stretched to 1.19 A (OpenMM 8.6's addHydrogens) come back to 1.09/1.01/0.96/1.34 A,
    each hydrogen moved along its bond; heavy atoms stay where they were."""
    from openmm import Vec3, unit
    from pdbfixer import PDBFixer

    residue = [ln for ln in protease_pdb.splitlines()
               if ln.startswith("ATOM") and ln[21] == "A" and ln[22:26].strip() in ("144", "145", "146")]
    fixer = PDBFixer(pdbfile=io.StringIO("\n".join([*residue, "END"]) + "\n"))  # Ser144-Cys145-Gly146
    fixer.addMissingHydrogens(7.4)
    pos = np.array(fixer.positions.value_in_unit(unit.angstrom))
    bonds = []  # (heavy index, hydrogen index, heavy element)
    for a1, a2 in fixer.topology.bonds():
        if a1.element.symbol == "H":
            a1, a2 = a2, a1
        if a2.element.symbol == "H":
            bonds.append((a1.index, a2.index, a1.element.symbol))
    assert {el for _, _, el in bonds} >= {"C", "N", "O", "S"}
    for x, h, _ in bonds:  # stretch every X-H bond to 1.19 A
        pos[h] = pos[x] + (pos[h] - pos[x]) / np.linalg.norm(pos[h] - pos[x]) * 1.19
    before = pos.copy()
    fixer.positions = unit.Quantity([Vec3(*map(float, p)) for p in pos], unit.angstrom)

    _fix_hydrogen_bond_lengths(fixer)

    after = np.array(fixer.positions.value_in_unit(unit.angstrom))
    for x, h, el in bonds:
        assert np.linalg.norm(after[h] - after[x]) == pytest.approx(IDEAL_XH[el], abs=1e-3), el
        direction = (before[h] - before[x]) / 1.19
        assert np.dot((after[h] - after[x]) / IDEAL_XH[el], direction) == pytest.approx(1.0, abs=1e-3)
    heavy = [a.index for a in fixer.topology.atoms() if a.element.symbol != "H"]
    assert after[heavy] == pytest.approx(before[heavy], abs=1e-4)


def test_preparation_is_reproducible(protease_pdb: str, protease_receptor) -> None:
    """Preparing the same receptor twice gives byte-identical PDB and PDBQT (pdbfixer rebuilds 3CLpro's
    missing side-chain atoms and OpenMM places hydrogens from random offsets), and the caller's
    ``random`` state is left as it was."""
    import random

    assert protease_receptor.added["heavy_atoms"] > 0  # the rebuild step runs
    random.random()  # a caller's state other than the fixture's
    state = random.getstate()
    again = prepare_receptor(protease_pdb, keep_chains=["A"], remove_chains=["C"])
    assert random.getstate() == state
    assert again.pdbqt == protease_receptor.pdbqt
    assert again.pdb == protease_receptor.pdb
    # OpenMM stamps today's date in its header; kept, it made the two preparations differ across midnight
    assert re.search(r"\d{4}-\d{2}-\d{2}", again.pdb.split("\n", 1)[0]) is None
    assert again.pdb.startswith("REMARK   1 CREATED WITH OPENMM")


def test_rebuild_with_clash_relief_is_reproducible(mirror) -> None:
    """N protein chain D's rebuilt side chains clash, so pdbfixer runs seeded Langevin dynamics to
    separate them; three preparations must still be byte-identical (an integrator seed of 0 means
    "pick a unique seed" to OpenMM, and made every call differ)."""
    pdb = (mirror / "targets" / "dockcov2" / "6m3m_N.pdb").read_text()
    first = prepare_receptor(pdb, keep_chains=["D"])
    assert first.added["heavy_atoms"] > 0
    for _ in range(2):
        assert prepare_receptor(pdb, keep_chains=["D"]).pdb == first.pdb


def test_papainlike_keeps_zinc_drops_vir251(mirror) -> None:
    pdb = (mirror / "targets" / "dockcov2" / "papainlike.pdb").read_text()
    rec = prepare_receptor(pdb, keep_chains=["D"], remove_chains=["I"], keep_hetero=["ZN"])
    assert _chains(rec.pdbqt) == {"D"}
    zn = [ln for ln in rec.pdbqt.splitlines() if ln[17:20].strip() == "ZN"]
    assert len(zn) == 1 and zn[0].split()[-1] == "Zn"
    assert any("chain I" in r for r in rec.removed)


def test_input_hash_depends_on_spec(protease_pdb: str, protease_receptor) -> None:
    other = prepare_receptor(protease_pdb, keep_chains=["A"], remove_chains=["C"], ph=7.0)
    assert other.input_hash != protease_receptor.input_hash
    assert len(other.input_hash) == 64


@pytest.mark.parametrize("text", ["", "hello world\n", "ATOM      1  N   ALA A   1      xx.xxx  1.0  1.0\n"])
def test_broken_pdb_one_line_error(text: str) -> None:
    with pytest.raises(ReceptorError) as err:
        prepare_receptor(text)
    assert "\n" not in str(err.value)


def test_unknown_chain_error(protease_pdb: str) -> None:
    with pytest.raises(ReceptorError, match="keep_chains"):
        prepare_receptor(protease_pdb, keep_chains=["Z"])


def _registry_keys() -> list[str]:
    from tests.docking.test_nafamostat import REGISTRY

    return sorted(REGISTRY) or ["no-mirror"]


@pytest.mark.slow
@pytest.mark.parametrize("key", _registry_keys())
def test_all_seven_targets_prepare(mirror, key: str) -> None:
    """Every registered target prepares, with exactly the chains and hetero groups the registry keeps."""
    from dockdb.config import Config
    from dockdb.sources import read_text
    from tests.docking.test_nafamostat import REGISTRY

    spec = REGISTRY[key]
    pdb = read_text(spec.structure_source, Config.load(environ={}, mirror=mirror))
    rec = prepare_receptor(
        pdb, keep_chains=spec.keep_chains, remove_chains=list(spec.remove_chains), keep_hetero=spec.keep_hetero
    )
    assert _chains(rec.pdbqt) == set(spec.keep_chains)
    n_atoms = sum(1 for ln in rec.pdbqt.splitlines() if ln.startswith("ATOM"))
    assert n_atoms > 1000
    resnames = {ln[17:20].strip() for ln in rec.pdbqt.splitlines() if ln.startswith(("ATOM", "HETATM"))}
    assert set(spec.keep_hetero) <= resnames  # e.g. PLpro's structural zinc (Meeko writes it as ATOM)
    assert not resnames & {"HOH", "02J", "PJE", "010", "ACY", "73O", "DPP", "GVE", "NAG"}
