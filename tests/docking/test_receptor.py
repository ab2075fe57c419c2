from __future__ import annotations

import pytest

from dockdb.errors import ReceptorError
from docking.receptor import PROTOCOL_VERSION, prepare_receptor

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
    # hydrogens present, with sane X-H lengths (OpenMM 8.6 leaves 1.19 A)
    assert sum(1 for ln in rec.pdb.splitlines() if ln.startswith("ATOM") and ln[76:78].strip() == "H") > 2000


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
