"""`dockdb dock` and `campaign create` keep the README's promises: exit 2 for bad input with one line,
titled and tagged pose SDFs, and a later run never overwrites an earlier run's files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rdkit import Chem
from sqlalchemy import select

from bench.drills._campaign import add_library, load_targets, prepare_receptors
from dockdb.config import Config
from dockdb.db import Database
from dockdb.models import Receptor, Target
from tests.conftest import run_cli

TARGET = "tmprss2"
PARACETAMOL = "CC(=O)Nc1ccc(O)cc1"


@pytest.fixture(scope="module")
def receptor_rows(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> dict[str, dict[str, Any]]:
    return prepare_receptors(tmp_path_factory.mktemp("receptors"), mirror, keys=(TARGET,))


@pytest.fixture
def dock_db(db: Database, config: Config, receptor_rows: dict[str, dict[str, Any]]) -> Database:
    load_targets(db, config)
    with db.session() as s:
        tid = s.scalar(select(Target.id).where(Target.key == TARGET))
        s.add(Receptor(target_id=tid, **receptor_rows[TARGET]))
    add_library(db)
    return db


def _one_line_error(r: Any, code: int, *words: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr
    assert all(w in lines[0] for w in words), (words, r.stderr)


def test_bad_input_is_exit_2_in_one_line(dock_db: Database, cli_env: dict[str, str]) -> None:
    dock = ["dock", "--smiles", PARACETAMOL, "--exhaustiveness", "1"]
    cases: list[tuple[list[str], tuple[str, ...]]] = [
        ([*dock, "--target", "nope"], ("unknown target 'nope'", TARGET)),
        (["dock", "--target", TARGET, "--smiles", "C1CC("], ("cannot parse SMILES 'C1CC('",)),
        (["dock", "--target", TARGET, "--smiles", " "], ("empty SMILES",)),
        ([*dock, "--target", TARGET, "--out", "/proc/nope"], ("--out /proc/nope", "writable")),
        (["campaign", "create", "--name", "x", "--targets", TARGET, "--library", "nope"],
         ("unknown library 'nope'", "test-lib")),
        (["campaign", "create", "--name", "x", "--targets", "nope", "--library", "test-lib"], ("'nope'",)),
    ]
    for args, words in cases:
        _one_line_error(run_cli(args, env=cli_env), 2, *words)


def test_torch_engine_without_torch_says_what_to_install(db: Database, cli_env: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as on a machine where PyTorch is not installed
    r = run_cli(["dock", "--target", TARGET, "--smiles", "CCO", "--engine", "torch", "--device", "cpu"],
                env=cli_env)
    _one_line_error(r, 2, "needs PyTorch", "pip install torch")


def _sdf(path: Path) -> Chem.Mol:
    mols = list(Chem.SDMolSupplier(str(path), removeHs=False))
    assert len(mols) == 1 and mols[0] is not None
    return mols[0]


def test_dock_out_titles_tags_and_keeps_earlier_runs(dock_db: Database, cli_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    out = tmp_path / "poses"
    args = ["dock", "--target", TARGET, "--smiles", PARACETAMOL, "--exhaustiveness", "1", "--poses", "2",
            "--out", str(out), "--json"]
    first = run_cli([*args, "--name", "paracetamol"], env=cli_env)
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    pose1 = out / f"{TARGET}_paracetamol_pose1.sdf"
    mol = _sdf(pose1)
    assert mol.GetProp("_Name") == f"paracetamol | {TARGET} | pose 1"
    tags = mol.GetPropsAsDict()
    assert (tags["drug"], tags["target"], tags["rank"]) == ("paracetamol", TARGET, 1)
    assert tags["score"] == pytest.approx(data["poses"][0]["score"], abs=1e-3)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    second = run_cli([*args, "--name", "paracetamol", "--seed", "7"], env=cli_env)
    assert second.exit_code == 0, second.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    again = json.loads(second.stdout)["files"]
    assert again and all(Path(f).name.startswith(f"{TARGET}_paracetamol_run2_pose") for f in again)
    assert _sdf(out / f"{TARGET}_paracetamol_run2_pose1.sdf").GetProp("_Name") == f"paracetamol | {TARGET} | pose 1"

    unnamed = run_cli(args, env=cli_env)  # no --name: the SMILES stands for the drug
    assert unnamed.exit_code == 0, unnamed.stderr
    assert _sdf(out / f"{TARGET}_pose1.sdf").GetProp("drug") == PARACETAMOL
