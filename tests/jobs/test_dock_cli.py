"""`dockdb dock` and `dockdb target prepare` against a real database and real Vina."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdkit import Chem
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.models import Receptor
from jobs.quickdock import QuickDockResult
from jobs.receptors import ReceptorChoice
from jobs.writer import PoseRow
from tests.conftest import run_cli


def _prepare_args(*args: str) -> list[str]:
    return ["target", "prepare", *args]


def test_target_prepare_is_loaded_lazily(cli_env: dict[str, str]) -> None:
    """``prepare`` lives in its own module: the group lists and runs it without it being attached."""
    from dockdb.cli.target import target

    assert "prepare" not in target.commands
    r = run_cli(["target", "--help"], env=cli_env)
    assert r.exit_code == 0 and "prepare" in r.stdout
    r = run_cli(["target", "prepare", "--help"], env=cli_env)
    assert r.exit_code == 0 and "--all" in r.stdout
    assert "prepare" not in target.commands  # the global group is left as it was


def test_dock_happy_path(campaign_db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "poses"
    args = ["dock", "--target", "tmprss2", "--smiles", "CC(=O)Nc1ccc(O)cc1", "--exhaustiveness", "1",
            "--poses", "2", "--seed", "3", "--out", str(out)]
    r = run_cli([*args, "--json"], env=cli_env)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["target"] == "tmprss2" and data["pocket"]["kind"] == "focused" and data["seed"] == 3
    assert data["receptor"]["reused"] is True  # the stored receptor, not a new preparation
    assert 1 <= len(data["poses"]) <= 2 and [p["rank"] for p in data["poses"]] == list(range(1, len(data["poses"]) + 1))
    assert data["best_score"] == data["poses"][0]["score"] < -3
    assert all(i["type"] and i["resnum"] for i in data["poses"][0]["interactions"])
    sdf = Chem.SDMolSupplier(str(out / "tmprss2_pose1.sdf"), removeHs=False)[0]
    assert sdf is not None and sdf.GetNumHeavyAtoms() == 11
    assert (out / "tmprss2_pose1.pdbqt").read_text().count("ATOM") + \
        (out / "tmprss2_pose1.pdbqt").read_text().count("HETATM") >= 11
    complex_pdb = (out / "tmprss2_pose1_complex.pdb").read_text()
    assert " LIG L   1" in complex_pdb and complex_pdb.count("ATOM  ") > 1000
    with campaign_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Receptor)) == 2


def test_dock_best_score_is_the_lowest_pose_score() -> None:
    """The JSON's ``best_score`` is the minimum over the poses (as stored in ``DockingResult``), not the first's."""
    result = QuickDockResult(
        target="t", pocket="focused", center=(0.0, 0.0, 0.0), size=(20.0, 20.0, 20.0), engine="vina", params={},
        seed=1, smiles="C", receptor=ReceptorChoice("t", 1, "h", "1", True),
        poses=[PoseRow(rank=1, score=-5.1, pdbqt=""), PoseRow(rank=2, score=-7.3, pdbqt="")])
    assert result.best_score == result.as_dict()["best_score"] == -7.3
    assert QuickDockResult(**{**result.__dict__, "poses": []}).as_dict()["best_score"] is None


@pytest.mark.slow
def test_dock_same_seed_same_scores(campaign_db: Database, cli_env: dict[str, str]) -> None:
    args = ["dock", "--target", "tmprss2", "--smiles", "CC(=O)Oc1ccccc1C(=O)O", "--exhaustiveness", "1",
            "--poses", "3", "--seed", "5"]
    first = json.loads(run_cli([*args, "--json"], env=cli_env).stdout)
    r = run_cli(args, env=cli_env)
    assert r.exit_code == 0
    for p in first["poses"]:
        assert f"pose {p['rank']}: {p['score']:7.2f} kcal/mol" in r.stdout


def test_dock_errors(campaign_db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    base = ["dock", "--smiles", "CCO", "--exhaustiveness", "1"]
    cases = [
        (["--target", "nope"], 2, "error: unknown target 'nope'; known targets: "),
        (["--target", "tmprss2", "--smiles", "C1CC("], 2, "error: cannot parse SMILES 'C1CC('"),
        (["--target", "tmprss2", "--smiles", "C[Hg]C"], 1, "error: ligand contains metal Hg"),
        (["--target", "tmprss2", "--engine", "gold"], 2, "error: unknown docking engine 'gold'"),
        (["--target", "tmprss2", "--exhaustiveness", "0"], 2, "error: --exhaustiveness must be at least 1"),
        (["--target", "tmprss2", "--pocket", "side"], 2, "Invalid value for '--pocket'"),
    ]
    for extra, code, message in cases:
        r = run_cli([*base, *extra], env=cli_env)
        assert r.exit_code == code, (extra, r.stderr)
        assert message in r.stderr, (extra, r.stderr)
        assert "Traceback" not in r.stderr
        if message.startswith("error: "):
            assert len(r.stderr.strip().splitlines()) == 1


def test_target_prepare_reuses(campaign_db: Database, cli_env: dict[str, str]) -> None:
    r = run_cli(_prepare_args("tmprss2"), env=cli_env)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("tmprss2: reused receptor ")
    with campaign_db.session() as s:
        assert s.scalar(select(func.count()).select_from(Receptor)) == 2
    r = run_cli(_prepare_args(), env=cli_env)
    assert r.exit_code == 2 and "give a target KEY or --all" in r.stderr
    r = run_cli(_prepare_args("nope"), env=cli_env)
    assert r.exit_code == 2 and "unknown target 'nope'" in r.stderr
