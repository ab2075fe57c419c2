"""Fixtures for docking tests: the data mirror and prepared 3CLpro receptor (session-scoped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.environment import require_mirror

# focused 3CLpro box from pockets.tsv (row 'protease')
PROTEASE_BOX = ((-10.7, 12.4, 68.8), (20.0, 29.9, 21.3))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than ~20 s (docking, all receptors)")


@pytest.fixture(scope="session")
def mirror() -> Path:
    return require_mirror()


@pytest.fixture(scope="session")
def protease_pdb(mirror: Path) -> str:
    return (mirror / "targets" / "dockcov2" / "protease.pdb").read_text()


@pytest.fixture(scope="session")
def protease_receptor(protease_pdb: str):
    from docking.receptor import prepare_receptor

    return prepare_receptor(protease_pdb, keep_chains=["A"], remove_chains=["C"])


@pytest.fixture(scope="session")
def protease_box():
    from docking.pocket import Box

    return Box(*PROTEASE_BOX)


@pytest.fixture(scope="session")
def aspirin_docked(protease_receptor, protease_box):
    """Aspirin docked into the 3CLpro box at exhaustiveness 2 (engine, ligand, result)."""
    from docking.engines import get_engine
    from docking.ligand import prepare_ligand

    engine = get_engine("vina", exhaustiveness=2, n_poses=5, cpu=2)
    ligand = prepare_ligand("CC(=O)Oc1ccccc1C(=O)O", name="aspirin")
    result = engine.dock(protease_receptor.pdbqt, protease_box, [ligand], seed=7)[0]
    return engine, ligand, result
