"""SIGKILL of a worker and of the client mid-run, then resume: exact counts, no duplicates,
no result without its poses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dockdb.db import Database
from dockdb.models import Campaign, DockingResult, Pose
from jobs.campaign import CampaignSpec, campaign_status, create_campaign
from jobs.run import RunOptions, run_campaign
from tests.conftest import run_cli
from tests.jobs.conftest import FAST, TEST_LIBRARY

pytestmark = pytest.mark.slow


def _create(db: Database, name: str) -> int:
    return create_campaign(db, CampaignSpec(name=name, targets="tmprss2,spike-rbd", library=TEST_LIBRARY,
                                            params=FAST))


def _n_results(db: Database, cid: int) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).where(DockingResult.campaign_id == cid)) or 0)


def _check_complete(db: Database, cid: int) -> None:
    """2 targets x 3 drugs: 4 done with their whole pose sets, 1 metal compound failed per target."""
    with db.session() as s:
        rows = s.scalars(select(DockingResult).where(DockingResult.campaign_id == cid)).all()
        keys = [(r.receptor_id, r.drug_id) for r in rows]
        assert len(rows) == 6 and len(set(keys)) == 6
        assert sorted(r.status for r in rows) == ["done"] * 4 + ["failed"] * 2
        for r in rows:
            ranks = [p.rank for p in r.poses]
            if r.status == "done":
                assert 1 <= len(ranks) <= FAST["n_poses"] and ranks == list(range(1, len(ranks) + 1))
                assert r.best_score == min(p.score for p in r.poses)
            else:
                assert ranks == [] and "metal Hg" in r.error
        n_poses = s.scalar(select(func.count()).select_from(Pose))
        assert n_poses == sum(len(r.poses) for r in rows)
        orphans = s.scalar(select(func.count()).select_from(Pose).where(
            Pose.result_id.not_in(select(DockingResult.id))))
        assert orphans == 0


def test_worker_sigkill_mid_run(campaign_db: Database) -> None:
    from distributed import Client, LocalCluster

    db = campaign_db
    cid = _create(db, "kill-worker")
    killed: list[int] = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            Client(lc) as client:
        def killer() -> None:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                busy = {w: ts for w, ts in client.processing().items() if any(t.startswith("dock-") for t in ts)}
                if busy and _n_results(db, cid) >= 1:
                    pids = client.run(os.getpid)
                    pid = pids[next(iter(busy))]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
                time.sleep(0.2)

        t = threading.Thread(target=killer)
        t.start()
        summary = run_campaign(db, cid, RunOptions(scheduler=lc.scheduler_address, progress=False, batch_size=1))
        t.join()
    assert killed, "no worker was killed while docking"
    assert summary.stored == {"done": 4, "failed": 2, "skipped": 0}
    _check_complete(db, cid)


def test_client_sigkill_then_resume(campaign_db: Database, cli_env: dict[str, str], reap: list[int]) -> None:
    db = campaign_db
    cid = _create(db, "kill-client")
    dockdb = Path(sys.executable).parent / "dockdb"
    env = {**os.environ, **cli_env}
    # one ligand per task: results arrive one docking at a time, so the kill lands mid-run (with the
    # default batches of 3, both workers' batches could arrive together and store all 6 at once)
    proc = subprocess.Popen([str(dockdb), "campaign", "run", str(cid), "--local-workers", "2", "--quiet",
                             "--batch-size", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    reap.append(proc.pid)
    deadline = time.monotonic() + 240
    while _n_results(db, cid) < 1 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _n_results(db, cid)
    assert 1 <= before < 6
    st = campaign_status(db, cid)
    assert st["status"] == "interrupted" and st["missing"] == 6 - before
    with db.session() as s:
        assert s.get(Campaign, cid).status == "running"  # as the killed client left it

    r = run_cli(["campaign", "run", str(cid), "--local-workers", "2", "--quiet"], env=cli_env)
    assert r.exit_code == 4, r.stderr  # 2 metal compounds failed: partial
    m = re.search(r": (\d+) done, (\d+) failed, 0 skipped", r.stdout)
    assert m and int(m.group(1)) + int(m.group(2)) == 6 - before  # only what was missing ran
    assert "stored 6/6, status partial" in r.stdout
    _check_complete(db, cid)
