"""Fixtures for campaign tests: targets loaded by the real ingest loader, receptors prepared once
per test session by jobs.receptors (then copied into each test database), a tiny drug library.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.migrate import upgrade
from dockdb.models import Drug, Library, LibraryMember, Receptor, Target

# the two fastest targets to prepare and dock (small focused boxes, ~10 s preparation each)
TEST_TARGETS = ("tmprss2", "spike-rbd")
TEST_LIBRARY = "test-lib"
# name -> SMILES: two small approved drugs and one that cannot be docked (mercury)
TEST_DRUGS = {
    "acetaminophen": "CC(=O)Nc1ccc(O)cc1",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "dimethylmercury": "C[Hg]C",
}
FAST = {"exhaustiveness": 1, "n_poses": 3}


def load_targets(db: Database, config: Config) -> None:
    from ingest.common import SourceReport
    from ingest.targets import ingest_targets

    with db.session() as s:
        ingest_targets(s, config, SourceReport("targets"))


def add_library(db: Database, drugs: dict[str, str] = TEST_DRUGS, name: str = TEST_LIBRARY) -> dict[str, int]:
    from rdkit import Chem

    ids: dict[str, int] = {}
    with db.session() as s:
        lib = Library(name=name, description="test drugs")
        s.add(lib)
        s.flush()
        for drug_name, smiles in drugs.items():
            mol = Chem.MolFromSmiles(smiles)
            d = Drug(name=drug_name, name_lower=drug_name.lower(), smiles=smiles,
                     inchikey=Chem.MolToInchiKey(mol), heavy_atoms=mol.GetNumHeavyAtoms())
            s.add(d)
            s.flush()
            s.add(LibraryMember(library_id=lib.id, drug_id=d.id, source_name=drug_name))
            ids[drug_name] = d.id
    return ids


_COPY = ("input_hash", "protocol_version", "tool_versions", "removed", "added", "pdb", "pdbqt")


@pytest.fixture(scope="session")
def prepared_receptors(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, dict[str, Any]]:
    """Receptors of TEST_TARGETS prepared once by jobs.receptors.ensure_receptor."""
    from jobs.receptors import ensure_receptor

    home = tmp_path_factory.mktemp("receptors")
    url = f"sqlite:///{home / 'receptors.sqlite'}"
    db = Database(url)
    upgrade(db.engine)
    load_targets(db, Config.load(environ={}, home=home, database_url=url, mirror=mirror))
    out = {}
    for key in TEST_TARGETS:
        choice = ensure_receptor(db, key)
        with db.session() as s:
            row = s.get(Receptor, choice.receptor_id)
            out[key] = {c: getattr(row, c) for c in _COPY}
    db.dispose()
    return out


@pytest.fixture
def campaign_db(db: Database, config: Config, prepared_receptors: dict[str, dict[str, Any]]) -> Database:
    """A migrated database with the registry's targets, prepared test receptors and the test library."""
    load_targets(db, config)
    with db.session() as s:
        for key, values in prepared_receptors.items():
            tid = s.scalar(select(Target.id).where(Target.key == key))
            s.add(Receptor(target_id=tid, **values))
    add_library(db)
    return db


@pytest.fixture
def reap() -> Iterator[list[int]]:
    """Process groups started by a test, killed at its end (only those)."""
    groups: list[int] = []
    yield groups
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
