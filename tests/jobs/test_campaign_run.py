"""A small campaign end to end on a real LocalCluster: counts, failing ligand, status, manifest,
exports parsed back, rerun reproducing the scores."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.errors import CampaignError, InputError, NotFoundError
from dockdb.models import Campaign, DockingResult, Pose, PreparedLigand
from jobs.campaign import CampaignSpec, campaign_status, create_campaign, rerun_campaign
from jobs.export import export_campaign, manifest_json
from jobs.run import RunOptions, RunSummary, run_campaign
from tests.conftest import run_cli
from tests.jobs.conftest import FAST, TEST_DRUGS, TEST_LIBRARY

OPTS = RunOptions(local_workers=2, progress=False)


def _results(db: Database, cid: int) -> list[DockingResult]:
    with db.session() as s:
        rows = s.scalars(select(DockingResult).where(DockingResult.campaign_id == cid)).all()
        for r in rows:
            _ = r.poses
        return list(rows)


def test_small_campaign_end_to_end(campaign_db: Database, tmp_path: Path) -> None:
    db = campaign_db
    cid = create_campaign(db, CampaignSpec(name="e2e", targets="tmprss2", library=TEST_LIBRARY, params=FAST))
    st = campaign_status(db, cid)
    assert (st["status"], st["total"], st["missing"], st["done"]) == ("created", 3, 3, 0)

    summary = run_campaign(db, cid, OPTS)
    assert (summary.todo, summary.done, summary.failed) == (3, 2, 1)
    assert summary.exit_code == 4  # partly done: the mercury compound cannot be docked
    assert summary.stored == {"done": 2, "failed": 1, "skipped": 0}
    # worker CPU of the two dockings' science (bench_campaign_scaling.py's CPU accounting): Vina
    # searches on threads of its own, so this is the worker's process CPU, not its thread's
    assert 0.5 * summary.engine_s < summary.cpu_s < 3 * (summary.engine_s + summary.extra_s)

    results = _results(db, cid)
    assert len(results) == 3
    assert len({r.drug_id for r in results}) == 3
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 1 and "metal Hg" in failed[0].error and failed[0].poses == []
    for r in results:
        if r.status == "done":
            ranks = [p.rank for p in r.poses]
            assert 1 <= len(ranks) <= FAST["n_poses"] and ranks == list(range(1, len(ranks) + 1))
            assert r.best_score == min(p.score for p in r.poses) < -2.0
            assert all(p.sdf and "M  END" in p.sdf and p.pdbqt for p in r.poses)
            assert r.poses[0].interactions and {"chain", "resnum", "type"} <= set(r.poses[0].interactions[0])
    with db.session() as s:
        n_poses = s.scalar(select(func.count()).select_from(Pose))
        cached = s.scalar(select(func.count()).select_from(PreparedLigand))
        c = s.get(Campaign, cid)
        assert c.status == "partial" and c.finished_at is not None and c.runner is None
    assert cached == 3  # each ligand prepared once, failures cached with their reason
    assert n_poses == sum(len(r.poses) for r in results)

    st = campaign_status(db, cid)
    assert (st["status"], st["done"], st["failed"], st["missing"]) == ("partial", 2, 1, 0)
    assert st["dockings_per_s"] and st["dockings_per_s"] > 0

    # running again: nothing is missing, nothing is written twice
    again = run_campaign(db, cid, OPTS)
    assert again.todo == 0 and again.exit_code == 4
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Pose)) == n_poses
        assert s.scalar(select(func.count()).select_from(DockingResult)) == 3

    # manifest
    m = json.loads(manifest_json(db, cid))
    assert m["engine"]["name"] == "vina" and m["engine"]["params"]["exhaustiveness"] == 1
    assert m["seed"] == 42 and m["manifest_hash"] == c.manifest_hash and len(m["manifest_hash"]) == 64
    assert [r["target"] for r in m["receptors"]] == ["tmprss2"]
    assert len(m["receptors"][0]["input_hash"]) == 64 and m["receptors"][0]["pocket"]["kind"] == "focused"
    assert sorted(d["name"] for d in m["library"]["members"]) == sorted(TEST_DRUGS)
    assert "vina" in m["software_versions"] and "rdkit" in m["software_versions"]

    # exports parsed back
    n, _ = export_campaign(db, cid, "csv", tmp_path / "r.csv")
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert n == 3 and len(rows) == 3
    assert {r["drug"]: r["status"] for r in rows} == {"acetaminophen": "done", "aspirin": "done",
                                                      "dimethylmercury": "failed"}
    scores = {r.drug_id: r.best_score for r in results if r.status == "done"}
    assert {int(r["drug_id"]): float(r["best_score"]) for r in rows if r["status"] == "done"} == pytest.approx(scores)

    import pandas as pd
    from rdkit import Chem

    n, _ = export_campaign(db, cid, "parquet", tmp_path / "r.parquet")
    df = pd.read_parquet(tmp_path / "r.parquet")
    assert n == 3 and len(df) == 3 and set(df["status"]) == {"done", "failed"}
    assert df.loc[df.status == "done", "n_poses"].sum() == n_poses

    n, _ = export_campaign(db, cid, "sdf", tmp_path / "p.sdf")
    mols = [m for m in Chem.SDMolSupplier(str(tmp_path / "p.sdf"), removeHs=False)]
    assert n == n_poses == len(mols) and all(m is not None for m in mols)
    assert {m.GetProp("target") for m in mols} == {"tmprss2"}
    best = {(m.GetProp("drug"), int(m.GetProp("rank"))): float(m.GetProp("score")) for m in mols}
    assert best[("aspirin", 1)] == pytest.approx(scores[_drug_id(db, "aspirin")], abs=1e-3)
    assert all(m.GetNumAtoms() > 5 for m in mols)

@pytest.mark.slow
def test_rerun_reproduces_scores(campaign_db: Database, cli_env: dict[str, str]) -> None:
    db = campaign_db
    cid = create_campaign(db, CampaignSpec(name="orig", targets="tmprss2", library=TEST_LIBRARY,
                                           drugs=["aspirin", "acetaminophen"], params=FAST, seed=11))
    run_campaign(db, cid, OPTS)
    scores = {r.drug_id: r.best_score for r in _results(db, cid)}
    r = run_cli(["campaign", "rerun", str(cid), "--local-workers", "2", "--quiet"], env=cli_env)
    assert r.exit_code == 0, r.stderr
    assert "warning" not in r.stderr  # same installed versions: no difference to warn about
    new_id = int(r.stdout.splitlines()[0])
    assert "2 done, 0 failed" in r.stdout and "status done" in r.stdout
    rerun = {r.drug_id: r.best_score for r in _results(db, new_id)}
    assert len(scores) == 2 and rerun == scores
    with db.session() as s:
        parent, child = s.get(Campaign, cid), s.get(Campaign, new_id)
        assert (child.parent_id, child.name, child.seed) == (cid, "orig-rerun-1", 11)
        assert child.manifest_hash == parent.manifest_hash
        # a recorded version that differs from the installed one is reported
        parent.manifest = {**parent.manifest, "software_versions": {**parent.software_versions, "vina": "1.0.0"}}
    _, diffs = rerun_campaign(db, cid, name="orig-again")
    assert any(d.startswith("vina: recorded 1.0.0, installed ") for d in diffs)


@pytest.mark.slow
def test_campaign_beside_another_default_client(campaign_db: Database) -> None:
    """A process whose default Dask client is another one (a notebook's ``with Client(...)``) runs a
    campaign on the campaign's own client: its futures are not tracked on the other client's loop.

    The other client's loop is blocked while the campaign runs; tracked there, the campaign would wait
    for it (and a result lost with a killed worker would fail as 'bound to a different event loop').
    """
    import threading

    from distributed import Client, LocalCluster

    db = campaign_db
    cid = create_campaign(db, CampaignSpec(name="beside", targets="tmprss2", library=TEST_LIBRARY,
                                           drugs=["aspirin"], params=FAST))
    release = threading.Event()
    blocked_out: list[bool] = []

    def block() -> None:
        blocked_out.append(not release.wait(150))

    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as other, Client(other) as foreign:
        foreign.loop.add_callback(block)
        try:
            summary = run_campaign(db, cid, RunOptions(local_workers=1, progress=False))
            assert not blocked_out, "the campaign waited for another client's event loop"
        finally:
            release.set()
    assert (summary.done, summary.failed) == (1, 0)


def _drug_id(db: Database, name: str) -> int:
    from dockdb.models import Drug

    with db.session() as s:
        return s.scalar(select(Drug.id).where(Drug.name == name))


def test_create_errors(campaign_db: Database) -> None:
    db = campaign_db
    with pytest.raises(NotFoundError, match="unknown target 'nope'"):
        create_campaign(db, CampaignSpec(name="x", targets="nope", library=TEST_LIBRARY))
    with pytest.raises(NotFoundError, match="unknown library 'nolib'"):
        create_campaign(db, CampaignSpec(name="x", targets="tmprss2", library="nolib"))
    with pytest.raises(NotFoundError, match="no drug 'unobtainium'"):
        create_campaign(db, CampaignSpec(name="x", targets="tmprss2", library=TEST_LIBRARY, drugs=["unobtainium"]))
    with pytest.raises(InputError, match="unknown docking engine 'gold'"):
        create_campaign(db, CampaignSpec(name="x", targets="tmprss2", library=TEST_LIBRARY, engine="gold"))
    cid = create_campaign(db, CampaignSpec(name="x", targets="tmprss2,spike-rbd", library=TEST_LIBRARY,
                                           drugs=["aspirin"], params=FAST))
    assert campaign_status(db, cid)["total"] == 2
    with pytest.raises(CampaignError, match="a campaign named 'x' exists"):
        create_campaign(db, CampaignSpec(name="x", targets="tmprss2", library=TEST_LIBRARY))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1


def test_cli_create_status_list_cancel(campaign_db: Database, cli_env: dict[str, str]) -> None:
    r = run_cli(["campaign", "create", "--name", "cli", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                 "--limit", "2", "--exhaustiveness", "1", "--poses", "2", "--seed", "7"], env=cli_env)
    assert r.exit_code == 0, r.stderr
    cid = int(r.stdout.strip())
    r = run_cli(["campaign", "status", str(cid), "--json"], env=cli_env)
    st = json.loads(r.stdout)
    assert (st["total"], st["seed"], st["params"]["n_poses"], st["status"]) == (2, 7, 2, "created")
    r = run_cli(["campaign", "list"], env=cli_env)
    assert "cli" in r.stdout and "0/2 done" in r.stdout
    r = run_cli(["campaign", "cancel", str(cid)], env=cli_env)
    assert r.exit_code == 0 and "cancelled" in r.stdout
    assert json.loads(run_cli(["campaign", "status", "cli", "--json"], env=cli_env).stdout)["status"] == "cancelled"
    r = run_cli(["campaign", "status", "999"], env=cli_env)
    assert r.exit_code == 1
    assert r.stderr.strip() == "error: no campaign '999'; `dockdb campaign list` shows the campaigns"
    r = run_cli(["campaign", "create", "--name", "bad", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                 "--pocket", "inside"], env=cli_env)
    assert r.exit_code == 2 and "inside" in r.stderr


def test_exit_code_counts_the_failures_an_earlier_run_stored() -> None:
    # a resume docks the last 4 pairs; the run before it stored the 2 that cannot be docked
    assert RunSummary(1, "c", total=6, todo=4, done=4, stored={"done": 4, "failed": 2}).exit_code == 4
    assert RunSummary(1, "c", total=6, todo=4, done=4, stored={"done": 6}).exit_code == 0
    assert RunSummary(1, "c", total=6, todo=4, done=0, failed=4, stored={"failed": 6}).exit_code == 3
    assert RunSummary(1, "c", total=6, todo=0, stored={"done": 4, "failed": 2}).exit_code == 4
