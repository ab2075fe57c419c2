"""Where campaigns run: Slurm profiles and job scripts (no submission), unreachable schedulers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dockdb.errors import ConfigError, SchedulerError
from jobs.cluster import load_slurm_profiles, open_cluster, slurm_job_script


def test_packaged_profiles() -> None:
    profiles = load_slurm_profiles(None)
    assert {"cpu", "gpu", "debug"} <= set(profiles)
    assert profiles["gpu"]["gpus"] == 1 and profiles["cpu"]["processes"] == 32


def test_gpu_profile_job_script() -> None:
    script = slurm_job_script("gpu")
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "#SBATCH --gres=gpu:1" in lines
    assert "#SBATCH -t 12:00:00" in lines
    assert "#SBATCH --mem=45G" in lines  # the profile's 48GB (decimal) is 44.7 GiB, rounded up
    assert any(line.startswith("#SBATCH -n 1") for line in lines)
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert "--resources GPU=1" in worker and "--nthreads 8" in worker and "--nworkers" not in worker


def test_user_profile_overrides_and_adds(tmp_path: Path) -> None:
    (tmp_path / "slurm_profiles.yaml").write_text(
        "profiles:\n"
        "  cpu:\n    queue: long\n    walltime: '24:00:00'\n    account: covid\n"
        "  tiny:\n    cores: 1\n    processes: 1\n    memory: 1GB\n"
    )
    profiles = load_slurm_profiles(tmp_path)
    assert profiles["cpu"]["queue"] == "long" and profiles["cpu"]["processes"] == 32
    script = slurm_job_script("cpu", tmp_path)
    assert "#SBATCH -p long" in script and "#SBATCH -A covid" in script and "#SBATCH -t 24:00:00" in script
    assert "--nworkers 32" in script and "--nthreads 1" in script
    assert "--nthreads 1" in slurm_job_script("tiny", tmp_path)
    with pytest.raises(ConfigError, match="unknown Slurm profile 'nope'; known: cpu, debug, gpu, tiny"):
        slurm_job_script("nope", tmp_path)
    (tmp_path / "slurm_profiles.yaml").write_text("profiles: [1, 2")
    with pytest.raises(ConfigError, match="cannot read Slurm profiles"):
        load_slurm_profiles(tmp_path)


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never answers: a client without a connect
    timeout waits there for ever (the pytest timeout marks such a hang as a failure)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(60)
def test_unreachable_scheduler_fails_after_the_connect_timeout() -> None:
    port = closed_port()
    with pytest.raises(SchedulerError) as err, open_cluster(scheduler=f"tcp://127.0.0.1:{port}"):
        pass
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"cannot reach Dask scheduler at tcp://127.0.0.1:{port} within 5 s")
    with silent_server() as port, pytest.raises(SchedulerError, match=f"127.0.0.1:{port} within 5 s"):
        with open_cluster(scheduler=f"tcp://127.0.0.1:{port}"):
            pass


def test_bad_cluster_options() -> None:
    with pytest.raises(SchedulerError, match="either --scheduler or --slurm"), open_cluster(
        scheduler="tcp://x:1", slurm="cpu"
    ):
        pass
    with pytest.raises(SchedulerError, match="--local-workers must be at least 1"), open_cluster(local_workers=0):
        pass


def test_existing_scheduler_is_joined() -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as lc:
        with open_cluster(scheduler=lc.scheduler_address) as handle:
            assert handle.kind == "scheduler" and "(1 workers)" in handle.description
            assert handle.client.submit(sum, [1, 2, 3]).result() == 6


@pytest.mark.timeout(120)
def test_cli_unreachable_database_and_scheduler(campaign_db, cli_env: dict[str, str]) -> None:
    from tests.conftest import run_cli

    port = closed_port()
    r = run_cli(["campaign", "list"], env={**cli_env, "DOCKDB_DATABASE_URL": f"postgresql://u@127.0.0.1:{port}/x"})
    assert r.exit_code == 1
    assert r.stderr.startswith(f"error: cannot use database postgresql://u@127.0.0.1:{port}/x: ")
    assert len(r.stderr.strip().splitlines()) == 1
    with silent_server() as silent:  # a server that never answers: the connect timeout ends the wait
        url = f"postgresql://u@127.0.0.1:{silent}/x"
        # a subprocess: a hang inside libpq's poll() would not see pytest-timeout's signal
        proc = subprocess.run([str(Path(sys.executable).parent / "dockdb"), "campaign", "list"],
                              env={**os.environ, **cli_env, "DOCKDB_DATABASE_URL": url},
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: cannot use database {url}: ")
    cid = run_cli(["campaign", "create", "--name", "s", "--targets", "tmprss2", "--library", "test-lib"],
                  env=cli_env).stdout.strip()
    r = run_cli(["campaign", "run", cid, "--scheduler", f"tcp://127.0.0.1:{port}"], env=cli_env)
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith(f"error: cannot reach Dask scheduler at tcp://127.0.0.1:{port} within 5 s")
    status = run_cli(["campaign", "status", cid, "--json"], env=cli_env).stdout
    assert '"status": "created"' in status  # a run that could not start changes nothing


def _worker_settings() -> dict[str, object]:
    import dask.config

    from jobs.cluster import CAMPAIGN_DASK

    return {k: dask.config.get(k) for k in CAMPAIGN_DASK}


@pytest.mark.timeout(120)
def test_local_campaign_cluster_runs_with_the_campaign_dask_settings() -> None:
    """Dask's defaults poll every 10-100 ms (a few % of a core per process while dockings run);
    the scheduler and the workers of a campaign's own cluster start with jobs.cluster.CAMPAIGN_DASK,
    and the process's Dask configuration is left as it was."""
    import dask.config

    from jobs.cluster import CAMPAIGN_DASK

    before = _worker_settings()
    with open_cluster(local_workers=1) as handle:
        (worker,) = handle.client.run(_worker_settings).values()
        assert worker == CAMPAIGN_DASK
        assert dask.config.get("distributed.admin.tick.interval") == "1s"  # the in-process scheduler's
    assert _worker_settings() == before


@pytest.mark.timeout(120)
def test_a_users_own_dask_setting_wins() -> None:
    import dask.config

    from jobs.cluster import CAMPAIGN_DASK, campaign_dask_config

    with dask.config.set({"distributed.admin.tick.interval": "50ms"}):
        assert "distributed.admin.tick.interval" not in campaign_dask_config()
        with open_cluster(local_workers=1) as handle:
            (worker,) = handle.client.run(_worker_settings).values()
    assert worker == {**CAMPAIGN_DASK, "distributed.admin.tick.interval": "50ms"}


def test_slurm_workers_get_the_campaign_dask_settings(tmp_path: Path) -> None:
    """The job script exports the settings as DASK_* variables, which Dask reads back as the
    same values in the worker's process; a variable the profile's own prologue sets wins."""
    from jobs.cluster import CAMPAIGN_DASK

    script = slurm_job_script("debug")
    exports = [line for line in script.splitlines() if line.startswith("export DASK_")]
    assert len(exports) == len(CAMPAIGN_DASK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    for line in exports:
        key, value = line.removeprefix("export ").split("=", 1)
        env[key] = value
    code = ("import json, dask.config; from jobs.cluster import CAMPAIGN_DASK; "
            "print(json.dumps({k: dask.config.get(k) for k in CAMPAIGN_DASK}))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert json.loads(out.stdout) == CAMPAIGN_DASK
    # open_cluster builds the job script while the settings are in force in this process
    import dask.config

    from jobs.cluster import campaign_dask_config

    with dask.config.set(campaign_dask_config()):
        assert [line for line in slurm_job_script("debug").splitlines() if line.startswith("export DASK_")] == exports
    (tmp_path / "slurm_profiles.yaml").write_text(
        "profiles:\n  mine:\n    cores: 1\n    processes: 1\n    memory: 1GB\n"
        "    job_script_prologue: ['export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=True']\n"
    )
    lines = slurm_job_script("mine", tmp_path).splitlines()
    profile_lines = [line for line in lines if "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED" in line]
    assert profile_lines == ["export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=True"]


@pytest.mark.timeout(180)
def test_second_cluster_in_a_fresh_process() -> None:
    """The settings are lifted when a cluster closes; lifting them must not drop Dask's own
    `distributed` defaults that importing distributed added meanwhile (the second cluster of a
    process that had not imported distributed before failed with KeyError: 'distributed')."""
    code = ("import sys; assert 'distributed' not in sys.modules\n"
            "from jobs.cluster import open_cluster\n"
            "for _ in range(2):\n"
            "    with open_cluster(local_workers=1) as h:\n"
            "        assert h.client.submit(sum, [1, 2]).result() == 3\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=170,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
