"""A campaign on a real single-node Slurm cluster (munged + slurmctld + slurmd on localhost, see
tests/slurm_local.py): workers start through `sbatch` via dask-jobqueue, one worker job is
`scancel`led mid-run, and the run plus a rerun end with exact counts, no duplicate and no
partial pose set.  PostgreSQL only (the production backend; the Slurm part is the same on both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.drills._campaign import EXPECTED, campaign_problems, n_results
from dockdb.db import Database
from jobs.campaign import CampaignSpec, create_campaign
from tests.environment import missing
from tests.jobs.conftest import FAST, TEST_LIBRARY
from tests.slurm_local import PACKAGES, SlurmUnavailable, local_slurm, missing_programs

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _ensure_slurm() -> None:
    """Install slurm-wlm and munge when missing and we can (root with apt-get), else skip (fail in CI)."""
    if not missing_programs():
        return
    why = "not root" if os.geteuid() != 0 else "no apt-get" if shutil.which("apt-get") is None else ""
    if not why:
        r = subprocess.run(f"apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {PACKAGES}",
                           shell=True, capture_output=True, text=True, timeout=900)
        why = f"apt-get failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}" if r.returncode else ""
    if missing_programs():
        missing(f"cannot install {PACKAGES} ({why or 'still missing: ' + ', '.join(missing_programs())}); "
                f"run `apt-get install -y {PACKAGES}` as root")


@pytest.fixture(scope="module")
def slurm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A running local Slurm cluster (munged, slurmctld, slurmd) for this module's tests."""
    _ensure_slurm()
    try:
        cluster = local_slurm(tmp_path_factory.mktemp("slurm"))
        env = cluster.__enter__()
    except SlurmUnavailable as e:
        missing(f"cannot start a local Slurm cluster: {e}")
    try:
        yield env
    finally:
        cluster.__exit__(None, None, None)


def _squeue(env: dict[str, str]) -> list[str]:
    r = subprocess.run(["squeue", "-h", "-o", "%i %j %T %M %R"], capture_output=True, text=True, env=env)
    return r.stdout.split("\n") if r.returncode == 0 else []


def test_campaign_on_slurm_survives_scancel_of_a_worker_job(
        db_url: str, campaign_db: Database, cli_env: dict[str, str], tmp_path: Path,
        slurm_env: dict[str, str]) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the Slurm campaign runs on PostgreSQL; the Slurm part does not depend on the backend")
    db = campaign_db
    cid = create_campaign(db, CampaignSpec(name="slurm", targets="tmprss2,spike-rbd", library=TEST_LIBRARY,
                                           params=dict(FAST)))
    home = Path(cli_env["DOCKDB_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    logs = tmp_path / "slurm-jobs"
    # the packaged debug profile, as two 1-core jobs (one worker each) so one can be cancelled
    (home / "slurm_profiles.yaml").write_text(
        f"profiles:\n  debug:\n    cores: 1\n    processes: 1\n    memory: 4GB\n    jobs: 2\n"
        f"    walltime: '00:15:00'\n    log_directory: {logs}\n")
    env = {**slurm_env, **cli_env}
    dockdb = str(Path(sys.executable).parent / "dockdb")
    proc = subprocess.Popen([dockdb, "campaign", "run", str(cid), "--slurm", "debug", "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    cancelled, seen, at_cancel = "", {}, ""
    deadline = time.monotonic() + 420
    while proc.poll() is None and time.monotonic() < deadline:
        running = [ln for ln in _squeue(env) if " RUNNING " in ln]
        seen.update({ln.split()[0]: ln for ln in running if ln.split()[0] not in seen})
        # both worker jobs run: the campaign's tasks are on them (results are committed in bulk
        # batches, so waiting for a stored result can miss the whole run on a fast machine)
        if not cancelled and len(running) == 2:
            at_cancel = subprocess.run(["squeue"], capture_output=True, text=True, env=env).stdout
            cancelled = running[0].split()[0]
            subprocess.run(["scancel", cancelled], check=True, env=env)
        time.sleep(0.5)
    if proc.poll() is None:
        os.killpg(proc.pid, 9)
        pytest.fail(f"the Slurm campaign did not finish in time; squeue saw {list(seen.values())}")
    out, err = proc.communicate()
    print(f"squeue before `scancel {cancelled}`:\n{at_cancel}worker jobs seen running: {sorted(seen)}")
    assert cancelled, f"no moment with 2 running worker jobs; squeue saw {list(seen.values())}"
    assert proc.returncode == 4, err[-2000:]  # the mercury compound fails on both targets
    assert "stored 6/6, status partial" in out, out
    assert "on slurm/2 workers" in out, out  # batches sized for both jobs, before their workers join
    assert campaign_problems(db, cid) == []
    # the rerun resumes: nothing is missing, nothing is docked twice
    r = subprocess.run([dockdb, "campaign", "run", str(cid), "--slurm", "debug", "--quiet"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 4 and "nothing to do, all 6 dockings stored (4 done, 2 failed)" in r.stdout, r.stdout
    assert campaign_problems(db, cid) == [] and sum(EXPECTED.values()) == n_results(db, cid) == 6
    # the workers ran as Slurm jobs through sbatch: their job logs are there
    assert len(list(logs.glob("*.err"))) >= 2


def test_a_cancelled_worker_job_is_replaced(tmp_path: Path, slurm_env: dict[str, str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """keep_up (the campaign heartbeat's call) submits a new job in place of one that ended."""
    from jobs.cluster import open_cluster

    monkeypatch.setenv("SLURM_CONF", slurm_env["SLURM_CONF"])  # for dask-jobqueue's sbatch and scancel
    (tmp_path / "slurm_profiles.yaml").write_text(
        f"profiles:\n  debug:\n    cores: 1\n    processes: 1\n    memory: 1GB\n    jobs: 1\n"
        f"    walltime: '00:10:00'\n    log_directory: {tmp_path / 'logs'}\n")
    def jobs() -> set[str]:
        return {ln.split()[0] for ln in _squeue(slurm_env) if ln.strip()}

    earlier = jobs()  # anything left of another test
    with open_cluster(slurm="debug", home=tmp_path) as handle:
        handle.client.wait_for_workers(1, timeout=120)
        first = jobs() - earlier
        assert len(first) == 1
        subprocess.run(["scancel", *first], check=True, env=slurm_env)
        deadline, replacement = time.monotonic() + 120, set()
        while not replacement and time.monotonic() < deadline:
            handle.keep_up()
            replacement = jobs() - earlier - first
            time.sleep(1)
        assert replacement, "no job was submitted in place of the cancelled one"
        handle.client.wait_for_workers(1, timeout=120)  # the replacement's worker joins the scheduler
