"""`dockdb validate redock`: a real (tiny) redock of the smallest PoseBusters complex stored as a
validation run on both backends; bad options answered with one line and exit 2."""

from __future__ import annotations

import base64

import pytest
from rdkit import Chem
from sqlalchemy import select

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import ValidationRun
from docking.redock import (
    PreparedComplex,
    RedockRecord,
    dock_complex,
    engine_for_redock,
    prepare_complex,
    success_summary,
)
from jobs.validation.redock import (
    RedockOptions,
    RedockOutcome,
    SetResult,
    engine_spec,
    load_set,
    parse_engines,
    parse_sets,
    redock_engine,
)
from tests.conftest import run_cli

# 1ia1: 19 heavy atoms, 3,128 protein atoms: the quickest of the four PoseBusters complexes
SMALLEST = "1ia1"


@pytest.mark.slow
def test_redock_smallest_posebusters_complex(db: Database, cli_env: dict[str, str], config: Config,
                                            mirror: object) -> None:
    args = ["validate", "redock", "--set", "posebusters", "--complex", SMALLEST, "--engine", "vina",
            "--exhaustiveness", "1", "--poses", "3", "--cpu", "1", "--quiet"]
    res = run_cli(args, env=cli_env)
    assert res.exit_code == 0, res.stderr
    assert "posebusters  vina" in res.stdout
    assert "stored 1 validation run(s)" in res.stdout
    with db.session() as s:
        runs = s.scalars(select(ValidationRun)).all()
        assert len(runs) == 1
        run = runs[0]
        assert (run.kind, run.label, run.engine, run.n_items) == ("redock", "posebusters", "vina", 1)
        assert run.command == ("dockdb validate redock --set posebusters --engine vina --exhaustiveness 1 "
                               f"--poses 3 --complex {SMALLEST} --seed 42 --cpu 1")
        assert run.params["exhaustiveness"] == 1 and run.params["complexes"] == [SMALLEST]
        assert run.params["engine_params"]["cpu"] == 1 and run.params["engine_version"].startswith("1.2")
        row = run.rows[0]
        assert row["id"] == SMALLEST and row["heavy_atoms"] == 19 and row["error"] is None
        assert 1 <= row["n_poses"] <= 3 and row["seconds"] > 0
        assert row["best_rmsd"] <= row["top_rmsd"]
        # success is decided on the unrounded RMSD; the row keeps two decimals (1.996 -> 2.0, a success)
        assert row["success"] == (row["top_rmsd"] < 2.0) or abs(row["top_rmsd"] - 2.0) <= 0.005
        # the numbers stored are the library's for the same complex, engine options and seed, to the two
        # decimals stored: receptor and ligand preparation are reproducible, and Vina on one thread is seeded
        (c,) = load_set(config, "posebusters", only={SMALLEST})
        prepared = prepare_complex(c.id, c.protein_pdb, c.ligand, smiles=c.smiles,
                                   keep_chains=list(c.keep_chains), seed=42)
        rec = dock_complex(prepared, engine_for_redock("vina", exhaustiveness=1, n_poses=3, cpu=1), seed=42)
        assert rec.error is None
        assert row["top_rmsd"] == pytest.approx(rec.top_rmsd, abs=0.005)
        assert row["best_rmsd"] == pytest.approx(rec.best_rmsd, abs=0.005)
        assert row["top_score"] == pytest.approx(rec.top_score, abs=0.005)
        summary = run.summary
        assert summary["n"] == 1 and summary["n_errors"] == 0
        assert summary["top_success"] == int(row["success"])
        assert summary["top_rmsd_median"] == row["top_rmsd"]
        assert base64.b64decode(run.plots["rmsd_ecdf"]).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "casf"], "unknown redocking set 'casf'"),
        (["--engine", "glide"], "unknown docking engine 'glide'"),
        (["--engine", "vina,glide"], "unknown docking engine 'glide'"),
        (["--set", ""], "--set is empty"),
        (["--exhaustiveness", "0"], "--exhaustiveness must be at least 1"),
        (["--set", "posebusters", "--complex", "9xyz"], "no complex 9xyz"),
    ],
)
def test_bad_options_one_line_exit_2(db: Database, cli_env: dict[str, str], args: list[str], message: str) -> None:
    res = run_cli(["validate", "redock", "--quiet", *args], env=cli_env)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    with db.session() as s:
        assert s.scalars(select(ValidationRun)).all() == []


def test_parse_sets_and_engines() -> None:
    assert parse_sets("all") == ("posebusters", "xchem")
    assert parse_sets("xchem,posebusters,xchem") == ("xchem", "posebusters")
    assert parse_engines("vina, torch,vina") == ("vina", "torch")
    # an engine with its own parameters is its own row: torch balanced beside torch detail
    assert parse_engines("vina,torch,torch:mode=detail:chains=32") == ("vina", "torch", "torch:mode=detail:chains=32")
    assert engine_spec("torch:mode=detail:chains=32") == ("torch", {"mode": "detail", "chains": 32})
    for bad in ("torch:mode", "nope:mode=fast", "torch:=3"):
        with pytest.raises(InputError):
            parse_engines(bad)


def test_engine_options_follow_each_engine() -> None:
    vina = engine_for_redock("vina", exhaustiveness=2, n_poses=4, cpu=1)
    assert (vina.params["exhaustiveness"], vina.params["n_poses"], vina.params["cpu"]) == (2, 4, 1)
    torch = engine_for_redock("torch", exhaustiveness=16, n_poses=4, cpu=1, device="cpu")
    assert (torch.params["exhaustiveness"], torch.params["n_poses"], torch.params["threads"]) == (16, 4, 1)
    # exhaustiveness 16 doubles the balanced mode's chains, as Vina's 16 runs double its 8
    from docking.engines.torch_engine.modes import MODES, Budget

    assert Budget(mode="balanced", exhaustiveness=16).chains_per_ligand() == 2 * MODES["balanced"].chains


def test_an_engine_spec_overrides_the_commands_search_settings() -> None:
    """``torch:exhaustiveness=32`` next to ``--exhaustiveness 8`` gives that engine 32 (it was a
    TypeError traceback); the other engines keep the command's settings."""
    options = RedockOptions(engines=("vina", "torch:mode=detail:exhaustiveness=32:n_poses=5"), exhaustiveness=8,
                            n_poses=9, cpu=1)
    vina = redock_engine("vina", options)
    assert (vina.params["exhaustiveness"], vina.params["n_poses"], vina.params["cpu"]) == (8, 9, 1)
    torch = redock_engine("torch:mode=detail:exhaustiveness=32:n_poses=5:cpu=2", options)
    p = torch.params
    assert (p["mode"], p["exhaustiveness"], p["n_poses"], p["threads"]) == ("detail", 32, 5, 2)
    with pytest.raises(InputError, match="unknown docking engine"):
        redock_engine("nosuch:mode=detail", options)


def test_failed_complex_is_recorded_and_counted() -> None:
    ligand = Chem.AddHs(Chem.MolFromSmiles("c1ccccc1O"))
    failed = dock_complex(PreparedComplex("bad", ligand, 7, prep_s=1.25, error="receptor has no atoms"), "vina")
    assert failed.error == "receptor has no atoms" and not failed.success and failed.top_rmsd is None
    assert failed.runtime_s >= 1.2
    good = RedockRecord("ok", 7, 1.5, 0.8, -7.0, True, 9, 3.0)
    far = RedockRecord("far", 7, 6.0, 1.0, -6.0, False, 9, 3.0)
    summary = success_summary([good, far, failed])
    assert summary["n"] == 3 and summary["n_docked"] == 2 and summary["n_errors"] == 1
    assert summary["top_success"] == 1 and summary["top_success_rate"] == pytest.approx(0.333)
    assert summary["any_pose_success"] == 2 and summary["any_pose_success_rate"] == pytest.approx(0.667)
    assert summary["top_rmsd_median"] == 3.75
    assert (summary["top_rmsd_q1"], summary["top_rmsd_q3"]) == (2.62, 4.88)
    partial = RedockOutcome([SetResult("posebusters", "vina", 1, summary, [good, far, failed])])
    assert partial.exit_code == 4 and [e[2].id for e in partial.errors] == ["bad"]
    assert RedockOutcome([SetResult("posebusters", "vina", 1, summary, [failed])]).exit_code == 3
    assert RedockOutcome([SetResult("posebusters", "vina", 1, summary, [good])]).exit_code == 0
