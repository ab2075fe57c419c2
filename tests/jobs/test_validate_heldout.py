"""The held-out redocking set (`--set heldout`): its registry names real manifest sources, its
archives are read as the loader reads PyPI's (a ligand residue of a PDB file, gzipped, or of mmCIF), and without the
archives the command answers one line and stores nothing."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import gemmi
import numpy as np
import pytest
from rdkit import Chem
from sqlalchemy import select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import SourceError
from dockdb.models import ValidationRun
from dockdb.sources import fetch, manifest
from docking.redock import ligand_from_pdb_residue
from jobs.validation.heldout import HeldoutEntry, heldout_entries, read_archive
from jobs.validation.redock import XCHEM_SOURCE, parse_sets
from tests.conftest import run_cli

# an XChem fragment with one stereocentre (the mirror's Mpro tarball), its ligand residue LIG
CX = "Mpro-x0967"


def test_registry_names_downloadable_sources() -> None:
    entries = heldout_entries()
    assert len(entries) >= 4 and len({e.id for e in entries}) == len(entries)
    sources = manifest()
    for e in entries:
        src = sources[e.source]
        assert src.url is not None and src.url.startswith("https://") and src.sha256 and src.bytes
        assert e.chains and (e.residue is None) != (e.mol2 is None)
    assert parse_sets("heldout") == ("heldout",)
    assert "heldout" not in parse_sets("all")  # `all` is the mirror's sets


def _archive(tmp_path: Path, config: Config) -> tuple[Path, str]:
    """A tar.gz laid out like a PyPI source release holding one crystal complex (protein and its
    ligand residue in one PDB file) twice: gzipped, and as mmCIF."""
    with tarfile.open(fetch(XCHEM_SOURCE, config), "r:gz") as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith(f"/{CX}.pdb"))
        fh = tf.extractfile(member)
        assert fh is not None
        pdb = fh.read().decode()
    structure = gemmi.read_pdb_string(pdb)
    structure.setup_entities()
    cif = structure.make_mmcif_document().as_string()
    path = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for name, data in [("pkg-1.0/data/cx.pdb.gz", gzip.compress(pdb.encode())),
                           ("pkg-1.0/data/cx.cif", cif.encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path, pdb


def test_archive_members_become_complexes_with_the_crystal_stereo(tmp_path: Path, config: Config,
                                                                   mirror: object) -> None:
    path, pdb = _archive(tmp_path, config)
    entries = [HeldoutEntry("gz", "unused", "pkg-1.0/data/cx.pdb.gz", ("A",), residue="LIG"),
               HeldoutEntry("cif", "unused", "pkg-1.0/data/cx.cif", ("A",), residue="LIG")]
    complexes = read_archive(path, entries)
    assert [c.id for c in complexes] == ["gz", "cif"]
    crystal = ligand_from_pdb_residue(pdb, "LIG")
    want = Chem.MolToSmiles(crystal)
    assert "@" in want
    for c in complexes:
        assert c.smiles == want  # docked with the crystal's stereocentre
        assert c.keep_chains == ("A",)
        assert sum(ln.startswith("ATOM") for ln in c.protein_pdb.splitlines()) > 2000
        got = np.sort(c.ligand.GetConformer().GetPositions(), axis=0)
        ref = np.sort(crystal.GetConformer().GetPositions(), axis=0)
        assert np.abs(got - ref).max() < 2e-3


def test_missing_member_is_named(tmp_path: Path, config: Config, mirror: object) -> None:
    path, _ = _archive(tmp_path, config)
    with pytest.raises(SourceError, match=r"pkg-1.0/data/gone.pdb is not a file in .*pkg-1.0.tar.gz"):
        read_archive(path, [HeldoutEntry("x", "unused", "pkg-1.0/data/gone.pdb", ("A",), residue="UNL")])
    with pytest.raises(SourceError, match="held-out complex x: no XYZ residue"):
        read_archive(path, [HeldoutEntry("x", "unused", "pkg-1.0/data/cx.cif", ("A",), residue="XYZ")])


def test_without_the_archives_one_line_and_nothing_stored(db: Database, cli_env: dict[str, str],
                                                          mirror: object) -> None:
    res = run_cli(["validate", "redock", "--set", "heldout", "--engine", "vina", "--quiet"], env=cli_env)
    assert res.exit_code != 0, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "redock-heldout-" in lines[0] and "missing from DOCKDB_MIRROR" in lines[0], res.stderr
    with db.session() as s:
        assert s.scalars(select(ValidationRun)).all() == []
