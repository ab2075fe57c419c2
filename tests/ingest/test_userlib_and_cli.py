"""User libraries, `target add/list`, failing sources and offline behaviour, through the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Drug, Library, LibraryMember, Pocket, ReferenceScore, Target
from dockdb.sources import get_source
from ingest.standardize import standardize_smiles
from ingest.steps import ingest_all
from ingest.targets import load_registry, parse_residues
from tests.conftest import run_cli

GOOD = ["CC(=O)Oc1ccccc1C(=O)O aspirin", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C caffeine", "c1ccccc1O phenol"]


def _members(db: Database, name: str) -> int:
    with db.session() as s:
        lib = s.scalar(select(Library.id).where(Library.name == name))
        if lib is None:
            return -1
        return int(s.scalar(select(func.count()).select_from(LibraryMember).where(LibraryMember.library_id == lib)))


def test_smi_library_with_bad_rows_is_partial(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "mine.smi"
    lines = [GOOD[0], "C1CC bad-ring", GOOD[1], "", "not_a_smiles x", GOOD[2], "[Na+].[Cl-] salt"]
    f.write_text("\n".join(lines) + "\n")
    res = run_cli(["ingest", "library", str(f), "--name", "mine"], cli_env)
    assert res.exit_code == 4, res.stderr
    assert "mine.smi:2:" in res.stderr and "mine.smi:5:" in res.stderr
    assert "loaded 4 of 6 rows" in res.stdout
    assert _members(db, "mine") == 4
    with db.session() as s:
        ik = standardize_smiles("CC(=O)Oc1ccccc1C(=O)O").inchikey
        assert s.scalar(select(Drug.name).where(Drug.inchikey == ik)) == "aspirin"
        nacl = standardize_smiles("[Na+].[Cl-]")
    assert nacl.heavy_atoms == 1
    again = run_cli(["ingest", "library", str(f), "--name", "mine"], cli_env)
    assert again.exit_code == 4 and "0 new drugs" in again.stdout and _members(db, "mine") == 4


def test_csv_and_sdf_libraries_load_fully(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    from rdkit import Chem

    csv_file = tmp_path / "lib.csv"
    csv_file.write_text("ID,Name,SMILES\n1,aspirin,CC(=O)Oc1ccccc1C(=O)O\n2,caffeine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C\n")
    res = run_cli(["ingest", "library", str(csv_file), "--name", "csvlib"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert _members(db, "csvlib") == 2
    sdf = tmp_path / "lib.sdf"
    blocks = []
    for smi, name in [("c1ccccc1O", "phenol"), ("CCO", "ethanol")]:
        mol = Chem.MolFromSmiles(smi)
        mol.SetProp("_Name", name)
        blocks.append(Chem.MolToMolBlock(mol) + "$$$$\n")
    sdf.write_text("".join(blocks) + "garbage record\n\n\nM  END\n$$$$\n")
    res = run_cli(["ingest", "library", str(sdf), "--name", "sdflib"], cli_env)
    assert res.exit_code == 4 and "lib.sdf:" in res.stderr
    assert _members(db, "sdflib") == 2


def test_unreadable_sdf_records_are_reported_without_rdkit_log_lines(
    db: Database, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """RDKit logs to the process's stderr from C++, so the real console script runs here, not run_cli."""
    sdf = tmp_path / "broken.sdf"
    short_atom = "broken\n  junk\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0 0.0 0.0 C   0  0\nM  END\n$$$$\n"
    atom = "    {:.4f}    0.0000    0.0000 {}   0  0  0  0  0  0  0  0  0  0  0  0"
    valence = "\n".join(["ammonium without charge", "", "", "  5  4  0  0  0  0  0  0  0  0999 V2000",
                          atom.format(0, "N"), *(atom.format(1.5 * i, "C") for i in range(1, 5)),
                          *(f"  1{i:>3}  1  0" for i in range(2, 6)), "M  END", "$$$$", ""])
    sdf.write_text(short_atom + valence)
    exe = Path(sys.executable).parent / "dockdb"
    r = subprocess.run([str(exe), "ingest", "library", str(sdf), "--name", "broken"], capture_output=True, text=True,
                       env={**cli_env, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}, timeout=120)
    assert r.returncode == 3, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines == [f"{sdf.name}:1: unreadable molecule record (RDKit cannot parse its atom or bond lines)",
                     f"{sdf.name}:8: unreadable molecule record (RDKit cannot parse its atom or bond lines)",
                     f"error: nothing loaded from {sdf}; fix the rows above"], r.stderr


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02binary\x00", b"x" * 300])
def test_empty_binary_or_huge_file_changes_nothing(
    db: Database, cli_env: dict[str, str], tmp_path: Path, content: bytes
) -> None:
    f = tmp_path / "bad.smi"
    f.write_bytes(content)
    env = {**cli_env, "DOCKDB_MAX_UPLOAD_BYTES": "200"}
    res = run_cli(["ingest", "library", str(f), "--name", "bad"], env)
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert _members(db, "bad") == -1


def test_nothing_loaded_exits_3(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "allbad.smi"
    f.write_text("C1CC\nxyz\n")
    res = run_cli(["ingest", "library", str(f), "--name", "allbad"], cli_env)
    assert res.exit_code == 3
    assert _members(db, "allbad") == -1


def test_registry_pockets_parse_residues(config: Config) -> None:
    specs = {s.key: s for s in load_registry(config)}
    assert len(specs) == 7
    assert "A:145" in specs["3clpro"].pocket("focused").residues
    assert specs["n-protein"].pocket("focused").residues[0] == "B:52"
    assert parse_residues("Thr24 Leu27* (<=4.5 A; *lit)") == ["24", "27"]
    assert max(specs["ace2"].pocket("blind").size) > 30 >= max(specs["ace2"].pocket("focused").size)


def test_target_cli_list_and_add(db: Database, cli_env: dict[str, str], mirror: Path) -> None:
    assert run_cli(["ingest", "targets"], cli_env).exit_code == 0
    res = run_cli(["target", "list"], cli_env)
    assert res.exit_code == 0 and "3clpro" in res.stdout and "focused 20.0x29.9x21.3" in res.stdout
    pdb = mirror / get_source("dockcov2-pdb-protease").path
    res = run_cli(["target", "add", "--key", "mpro-n3", "--file", str(pdb), "--ligand", "02J",
                   "--keep-chains", "A", "--remove-chains", "C"], cli_env)
    assert res.exit_code == 0, res.stderr
    assert "added" in res.stdout
    res = run_cli(["target", "add", "--key", "mpro-far", "--file", str(pdb), "--box", "0,0,0,20,20,20"], cli_env)
    assert res.exit_code == 2 and "misses the protein" in res.stderr
    res = run_cli(["target", "add", "--key", "mpro-big", "--file", str(pdb), "--box", "-10.7,12.4,68.8,40,20,20"],
                  cli_env)
    assert res.exit_code == 2 and "--allow-large-box" in res.stderr
    with db.session() as s:
        t = s.scalars(select(Target).where(Target.key == "mpro-n3")).one()
        assert t.spec["remove_chains"] == {"C": "removed by the user"}
        assert s.scalar(select(func.count()).select_from(Pocket).where(Pocket.target_id == t.id)) == 2
        assert s.scalar(select(func.count()).select_from(Target)) == 8


def test_pdb_id_offline_is_one_line(db: Database, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "DOCKDB_OFFLINE": "1"}
    res = run_cli(["target", "add", "--key", "x-1", "--pdb-id", "6LU7", "--box", "0,0,0,10,10,10"], env)
    assert res.exit_code == 1 and res.stderr.count("\n") == 1 and "--file" in res.stderr


def test_offline_without_mirror_names_url_and_mirror(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    env = {**cli_env, "DOCKDB_HOME": str(tmp_path / "empty-home"), "DOCKDB_MIRROR": None}
    res = run_cli(["ingest", "all", "--no-progress"], env)  # type: ignore[dict-item]
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1, res.stderr
    assert "https://" in res.stderr and "DOCKDB_MIRROR" in res.stderr


def test_corrupt_source_fails_alone_and_keeps_earlier_data(
    db: Database, config: Config, cli_env: dict[str, str], mirror: Path, tmp_path: Path
) -> None:
    first = ingest_all(db, config, ["targets", "reference"])
    assert first.ok
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(ReferenceScore))
    bad = tmp_path / "mirror"
    shutil.copytree(mirror, bad, ignore=shutil.ignore_patterns("validation"))
    scores = bad / get_source("dockcov2-scores").path
    scores.write_bytes(scores.read_bytes()[: scores.stat().st_size // 2])
    env = {**cli_env, "DOCKDB_MIRROR": str(bad)}
    res = run_cli(["ingest", "targets"], env)
    assert res.exit_code == 0
    res = run_cli(["ingest", "reference", "--no-progress"], env)
    assert res.exit_code == 1 and "dockcov2-scores" in res.stderr and "truncated or corrupt" in res.stderr
    report = ingest_all(db, config.with_(mirror=bad), ["targets", "reference", "literature-chengf"])
    assert [s.name for s in report.failed] == ["reference"]
    assert report.get("targets").ok and report.get("literature-chengf").ok
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(ReferenceScore)) == before
