"""Where a campaign runs: a LocalCluster, an existing Dask scheduler, or Slurm via dask-jobqueue.

Every way in fails with one :class:`~dockdb.errors.SchedulerError` line naming the fix; an
unreachable scheduler is given up after :data:`CONNECT_TIMEOUT_S` seconds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dockdb.errors import ConfigError, SchedulerError, one_line

__all__ = [
    "CAMPAIGN_DASK",
    "CONNECT_TIMEOUT_S",
    "ClusterHandle",
    "campaign_dask_config",
    "default_local_workers",
    "load_slurm_profiles",
    "open_cluster",
    "slurm_cluster",
    "slurm_job_script",
    "start_local_cluster",
]

CONNECT_TIMEOUT_S = 5
USER_PROFILES_FILE = "slurm_profiles.yaml"
_OWN_KEYS = {"jobs", "gpus", "description"}

log = logging.getLogger(__name__)

# Dask's defaults suit sub-second tasks: every server checks its event loop each 20 ms, a nanny
# polls its worker's memory each 100 ms, and each worker runs a statistical profiler that samples
# its threads every 10 ms.  A docking task runs for seconds to minutes.  Measured on an idle
# 1-worker LocalCluster (docs/benchmarks.md, "Dask's own CPU"): 3.5 % of a core in the client
# process and 3.3-4.4 % in the worker with the defaults, 0.6 % and 0.35 % with these settings.
CAMPAIGN_DASK: dict[str, Any] = {
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
    "distributed.scheduler.work-stealing-interval": "2s",
    "distributed.worker.profile.enabled": False,
}


def campaign_dask_config() -> dict[str, Any]:
    """The settings of :data:`CAMPAIGN_DASK` that the Dask configuration in force leaves at Dask's
    shipped defaults (or already has, inside :func:`open_cluster`): a value the user set (Dask
    YAML file, ``DASK_*`` variable) wins."""
    import dask.config
    import distributed  # noqa: F401  (its defaults join dask.config.defaults on import)

    shipped = dask.config.merge(*dask.config.defaults)
    return {k: v for k, v in CAMPAIGN_DASK.items()
            if dask.config.get(k, None) in (v, dask.config.get(k, None, config=shipped))}


def _env_exports(settings: dict[str, Any]) -> list[str]:
    """Shell lines that give a worker started by a batch script these Dask settings."""
    return [f"export DASK_{k.upper().replace('.', '__').replace('-', '_')}={v}" for k, v in settings.items()]


def default_local_workers() -> int:
    """One single-threaded worker per usable core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class ClusterHandle:
    """A connected client and a description of the cluster behind it."""

    client: Any
    kind: str  # local | scheduler | slurm
    description: str
    cluster: Any | None = None
    jobs: int = 0  # Slurm jobs to keep submitted
    expected_workers: int = 0  # Slurm: workers once every job runs (they join over minutes)

    def keep_up(self) -> None:
        """Slurm: submit a replacement for each job that ended (scancel, preemption, walltime).

        dask-jobqueue forgets a job whose workers have been gone for
        ``distributed.deploy.lost-worker-timeout``; scaling to the same number of jobs again
        submits a new one in its place.  Called from the campaign's heartbeat."""
        if self.kind == "slurm" and self.cluster is not None and self.jobs:
            self.cluster.scale(jobs=self.jobs)

    def worker_pids(self) -> dict[str, int]:
        """Worker address -> process id (local clusters; used by tests and diagnostics)."""
        return self.client.run(os.getpid)


# ------------------------------------------------------------------------ Slurm profiles
def _read_yaml(source: Path | str) -> dict[str, Any]:
    """The ``profiles:`` mapping of a profiles file (a Path) or of the packaged profiles' text (a str)."""
    where = source if isinstance(source, Path) else "(packaged)"
    try:
        data = yaml.safe_load(source.read_text() if isinstance(source, Path) else source)
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read Slurm profiles {where}: {e}; fix the YAML") from e
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("profiles", {}), dict):
        raise ConfigError(f"Slurm profiles {where} must be a mapping with a `profiles:` mapping")
    return data.get("profiles") or {}


def load_slurm_profiles(home: Path | None = None) -> dict[str, dict[str, Any]]:
    """Packaged profiles, each updated by the same-named profile in ``HOME/slurm_profiles.yaml``."""
    packaged = resources.files("jobs").joinpath("slurm_profiles.yaml").read_text()
    profiles = {k: dict(v or {}) for k, v in _read_yaml(packaged).items()}
    if home is not None:
        user_file = Path(home) / USER_PROFILES_FILE
        if user_file.is_file():
            for name, values in _read_yaml(user_file).items():
                if not isinstance(values, dict):
                    raise ConfigError(f"Slurm profile {name!r} in {user_file} must be a mapping of options")
                profiles.setdefault(name, {}).update(values)
    return profiles


def _profile(name: str, home: Path | None) -> dict[str, Any]:
    profiles = load_slurm_profiles(home)
    if name not in profiles:
        raise ConfigError(
            f"unknown Slurm profile {name!r}; known: {', '.join(sorted(profiles))} "
            f"(add one in $DOCKDB_HOME/{USER_PROFILES_FILE})"
        )
    return profiles[name]


def _slurm_kwargs(profile: dict[str, Any]) -> dict[str, Any]:
    kwargs = {k: v for k, v in profile.items() if k not in _OWN_KEYS}
    kwargs.setdefault("scheduler_options", {"dashboard_address": ":0"})
    gpus = int(profile.get("gpus") or 0)
    if gpus:
        directives = list(kwargs.get("job_extra_directives") or [])
        if not any("--gres" in d for d in directives):
            directives.append(f"--gres=gpu:{gpus}")
        kwargs["job_extra_directives"] = directives
        extra = list(kwargs.get("worker_extra_args") or [])
        if "--resources" not in extra:
            extra += ["--resources", f"GPU={gpus}"]
        kwargs["worker_extra_args"] = extra
    # workers on the nodes get the campaign's Dask settings (a variable the profile sets wins)
    prologue = list(kwargs.get("job_script_prologue") or [])
    kwargs["job_script_prologue"] = [
        *(line for line in _env_exports(campaign_dask_config())
          if not any(line.split("=")[0] in own for own in prologue)),
        *prologue,
    ]
    return kwargs


def slurm_cluster(profile_name: str, home: Path | None = None) -> Any:
    """A ``dask_jobqueue.SLURMCluster`` for the named profile (nothing is submitted)."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as e:
        raise SchedulerError("--slurm needs dask-jobqueue; install it with `pip install dockdb[slurm]`") from e
    profile = _profile(profile_name, home)
    try:
        return SLURMCluster(**_slurm_kwargs(profile))
    except (TypeError, ValueError) as e:
        raise ConfigError(f"Slurm profile {profile_name!r} is invalid: {e}; fix it in {USER_PROFILES_FILE}") from e


def slurm_job_script(profile_name: str, home: Path | None = None) -> str:
    """The batch script the profile would submit (for checking; submits nothing)."""
    cluster = slurm_cluster(profile_name, home)
    try:
        return cluster.job_script()
    finally:
        cluster.close()


# ------------------------------------------------------------------------ opening
def _handshake(address: str) -> None:
    """Open and close one connection to ``address``, handshake included, within
    :data:`CONNECT_TIMEOUT_S`: distributed bounds the TCP connect but not the handshake, so a
    server that accepts and never answers (not a Dask scheduler) would hang ``Client`` for ever."""
    import asyncio

    from distributed.comm import connect

    async def probe() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT_S), CONNECT_TIMEOUT_S)
        await comm.close()

    try:
        asyncio.run(probe())
    except TimeoutError as e:
        raise TimeoutError("no handshake: is it a Dask scheduler?") from e


def _connect(address: str) -> Any:
    from distributed import Client

    try:
        _handshake(address)
        return Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as e:
        reason = one_line(e)
        raise SchedulerError(
            f"cannot reach Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s ({reason}); "
            "start it with `dask scheduler` or fix --scheduler"
        ) from e


@contextmanager
def open_cluster(
    local_workers: int | None = None,
    scheduler: str | None = None,
    slurm: str | None = None,
    home: Path | None = None,
    gpu: bool = False,
) -> Iterator[ClusterHandle]:
    """A client for the chosen cluster; at most one of *scheduler* / *slurm* may be given.

    With *gpu* (a GPU engine) the local cluster is one worker with the resource ``GPU=1`` and
    *local_workers* threads (at least 2): a docking batch holds the GPU on one thread while the
    others prepare the ligands of the next batches."""
    if scheduler and slurm:
        raise SchedulerError("give either --scheduler or --slurm, not both")
    if local_workers is not None and local_workers < 1:
        raise SchedulerError(f"--local-workers must be at least 1 (got {local_workers})")
    if scheduler:
        client = _connect(scheduler)
        try:
            n = len(client.scheduler_info(n_workers=-1).get("workers", {}))
            yield ClusterHandle(client, "scheduler", f"Dask scheduler {scheduler} ({n} workers)")
        finally:
            client.close()
        return
    from dask import config as dask_config

    # campaign_dask_config imports distributed first, so lifting the settings keeps its defaults
    with dask_config.set(campaign_dask_config()):  # the scheduler and local workers start with them
        yield from _own_cluster(local_workers, slurm, home, gpu)


def start_local_cluster(n: int, gpu: bool = False) -> tuple[Any, str]:
    """A LocalCluster of *n* single-threaded worker processes (a GPU engine: one worker with the
    resource ``GPU=1`` and *n* threads, at least 2), and its description.  It takes the Dask
    settings in force: :func:`open_cluster` starts it under :func:`campaign_dask_config`."""
    from distributed import LocalCluster

    layout: dict[str, Any] = {"n_workers": n, "threads_per_worker": 1}
    description = f"local Dask cluster ({n} workers x 1 thread)"
    if gpu:
        threads = max(2, n)
        layout = {"n_workers": 1, "threads_per_worker": threads, "resources": {"GPU": 1}}
        description = (f"local Dask cluster (1 GPU worker x {threads} threads: GPU batches on one, "
                       "ligand preparation on the others)")
    try:
        cluster = LocalCluster(
            **layout,
            processes=True,
            dashboard_address=":0",  # a free port: no "port 8787 is already in use" warning
            silence_logs=logging.ERROR,
            # third-party deprecation notices (MDAnalysis via ProLIF) are for developers, not campaign logs
            env={"PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning"},
        )
    except Exception as e:
        raise SchedulerError(f"cannot start a local Dask cluster: {e}") from e
    return cluster, description


def _own_cluster(local_workers: int | None, slurm: str | None, home: Path | None, gpu: bool) -> Iterator[ClusterHandle]:
    if slurm:
        from distributed import Client

        cluster = slurm_cluster(slurm, home)
        profile = _profile(slurm, home)
        jobs = int(profile.get("jobs") or 1)
        try:
            cluster.scale(jobs=jobs)
            client = Client(cluster)
        except Exception as e:
            cluster.close()
            raise SchedulerError(f"cannot start Slurm cluster {slurm!r}: {e}; check sbatch and the profile") from e
        try:
            yield ClusterHandle(client, "slurm", f"Slurm profile {slurm} ({jobs} jobs)", cluster, jobs,
                                jobs * int(profile.get("processes") or 1))
        finally:
            client.close()
            cluster.close()
        return
    from distributed import Client

    cluster, description = start_local_cluster(local_workers or default_local_workers(), gpu)
    client = Client(cluster)
    try:
        yield ClusterHandle(client, "local", description, cluster)
    finally:
        client.close()
        cluster.close()
