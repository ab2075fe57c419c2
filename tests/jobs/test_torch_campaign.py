"""A campaign with the torch engine on the CPU, created and run through the CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dockdb.db import Database
from dockdb.models import Campaign, DockingResult
from tests.conftest import run_cli
from tests.environment import require_module
from tests.jobs.conftest import TEST_LIBRARY

require_module("torch", "pip install torch (scripts/test.sh installs the CPU build)")


@pytest.mark.slow
def test_torch_campaign_via_cli(campaign_db: Database, cli_env: dict[str, str]) -> None:
    made = run_cli(["campaign", "create", "--name", "t1", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                    "--engine", "torch", "--device", "cpu", "--poses", "3", "--param", "chains=8",
                    "--param", "steps=40"], cli_env)
    assert made.exit_code == 0, made.stderr
    cid = int(made.stdout.strip().splitlines()[-1])
    with campaign_db.session() as s:
        c = s.get(Campaign, cid)
        assert c.engine == "torch"
        assert (c.params["device"], c.params["chains"], c.params["steps"], c.params["n_poses"]) == ("cpu", 8, 40, 3)

    ran = run_cli(["campaign", "run", str(cid), "--local-workers", "1"], cli_env)
    assert ran.exit_code == 4, ran.stderr  # dimethylmercury cannot be docked: partial
    with campaign_db.session() as s:
        results = {r.drug_id: r for r in s.scalars(select(DockingResult).where(DockingResult.campaign_id == cid))}
        done = [r for r in results.values() if r.status == "done"]
        assert len(results) == 3 and len(done) == 2
        for r in done:
            assert 1 <= len(r.poses) <= 3 and r.best_score == min(p.score for p in r.poses) < -3.0
            assert all(p.sdf and "M  END" in p.sdf and p.pdbqt for p in r.poses)
            # interacting residues are stored with the poses, and the analysis never failed on one.
            # A pose may still have no ProLIF contact: paracetamol on TMPRSS2 sits between polar
            # backbone groups with no hydrophobic pair within 4.5 A, held by a phenol O-H...O=C(Asn433)
            # at 2.75 A whose best reachable D-H-A angle (127 degrees, hydrogen turned to its best) is
            # under ProLIF's 130; so one contact is asked per drug, not per best pose
            assert all(p.interactions_error is None for p in r.poses)
            assert any(p.interactions for p in r.poses)
            assert all({"chain", "resnum", "resname", "type"} <= set(i) for p in r.poses for i in p.interactions)
    status = run_cli(["campaign", "status", str(cid), "--json"], cli_env)
    st = json.loads(status.stdout)
    assert (st["done"], st["failed"], st["missing"]) == (2, 1, 0)


def test_bad_engine_options_are_one_line(campaign_db: Database, cli_env: dict[str, str]) -> None:
    bad = run_cli(["campaign", "create", "--name", "t2", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                   "--engine", "torch", "--param", "chains"], cli_env)
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli(["campaign", "create", "--name", "t3", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                   "--engine", "torch", "--device", "tpu"], cli_env)
    assert bad.exit_code == 2 and "unknown device 'tpu'" in bad.stderr
    bad = run_cli(["campaign", "create", "--name", "t5", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                   "--engine", "torch", "--param", "mode=bogus", "--param", "chains=-1"], cli_env)
    assert bad.exit_code == 2 and bad.stderr.strip().splitlines() == [
        "error: bad torch engine parameters: mode must be one of fast, balanced, detail, not 'bogus'; "
        "chains must be >= 0, not -1"
    ], bad.stderr
    bad = run_cli(["campaign", "create", "--name", "t4", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                   "--engine", "vina", "--device", "cuda"], cli_env)
    assert bad.exit_code == 2 and "device" in bad.stderr
    with campaign_db.session() as s:
        assert s.scalars(select(Campaign)).all() == []
