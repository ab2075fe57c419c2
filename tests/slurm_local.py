"""A real single-node Slurm cluster on localhost for tests: munged, slurmctld and slurmd from
Debian's packages (``slurm-wlm``, ``munge``), everything under one scratch directory with a
``slurm.conf`` written at run time (free ports, this host's name, CPUs and memory).

``local_slurm(workdir)`` starts the three daemons, waits until the node is idle and yields the
environment (``SLURM_CONF``) under which ``sbatch``, ``squeue``, ``scancel`` and dask-jobqueue
use it; on exit it cancels what is left and stops the daemons it started (by their pids).
Needs root (slurmd runs jobs as their submitter) on Linux.

    python tests/slurm_local.py WORKDIR     # start one by hand; Ctrl-C stops it
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
COMMANDS = ("sbatch", "squeue", "scancel", "sinfo")
PACKAGES = "slurm-wlm munge"


class SlurmUnavailable(RuntimeError):
    """The machine cannot run a local Slurm cluster (the message says why and what to install)."""


def _find(name: str) -> str | None:
    return shutil.which(name) or next((p for d in ("/usr/sbin", "/sbin") if os.access(p := f"{d}/{name}", os.X_OK)),
                                      None)


def missing_programs() -> list[str]:
    """Daemons and commands of the packages that are not installed."""
    return [n for n in (*DAEMONS, *COMMANDS) if _find(n) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_conf(root: Path) -> Path:
    """``slurm.conf`` for one node (this host, all its CPUs) and one default partition ``debug``;
    daemons talk over 127.0.0.1, so the host name need not resolve."""
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    mem_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    for sub in ("state", "spool", "log", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=dockdbtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root / "run" / "munge.socket"}
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "run" / "slurmctld.pid"}
SlurmdPidFile={root / "run" / "slurmd.pid"}
SlurmctldLogFile={root / "log" / "slurmctld.log"}
SlurmdLogFile={root / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={max(1, mem_mb - 512)} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
""")
    return conf


def _wait(check: Callable[[], bool], what: str, logs: list[Path], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tails = []
    for log in logs:
        if log.is_file():
            tails.append(f"{log.name}: " + " | ".join(log.read_text(errors="replace").splitlines()[-3:]))
    raise SlurmUnavailable(f"{what} within {timeout_s:.0f} s; {'; '.join(tails) or 'no log'}")


def _pid(path: Path) -> int | None:
    """The process id in a daemon's pid file, or None while the file is missing or not yet written."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _started(pid_file: Path, what: str, logs: list[Path], timeout_s: float) -> int:
    """The daemon's process id once its pid file holds one: a daemon creates the file before it
    writes the number, so the file's existence alone is not enough (read too early, it is empty)."""
    _wait(lambda: _pid(pid_file) is not None, what, logs, timeout_s)
    pid = _pid(pid_file)
    if pid is None:
        raise SlurmUnavailable(f"{what}: {pid_file.name} became unreadable")
    return pid


@contextmanager
def local_slurm(workdir: Path) -> Iterator[dict[str, str]]:
    """Start munged + slurmctld + slurmd under *workdir*; yield the environment to use them."""
    lacking = missing_programs()
    if lacking:
        raise SlurmUnavailable(f"not installed: {', '.join(lacking)} (apt-get install -y {PACKAGES})")
    if os.geteuid() != 0:
        raise SlurmUnavailable("a local Slurm cluster needs root (slurmd runs jobs as their users)")
    root = workdir.resolve()
    conf = write_conf(root)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    run, log = root / "run", root / "log"
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    started: list[int] = []
    try:
        subprocess.run([str(_find("munged")), "--force", f"--key-file={key}", f"--socket={run / 'munge.socket'}",
                        f"--pid-file={run / 'munged.pid'}", f"--log-file={log / 'munged.log'}",
                        f"--seed-file={run / 'munge.seed'}"], check=True, capture_output=True, env=env)
        started.append(_started(run / "munged.pid", "munged did not start", [log / "munged.log"], 20))
        subprocess.run([str(_find("slurmctld")), "-f", str(conf)], check=True, capture_output=True, env=env)
        started.append(_started(run / "slurmctld.pid", "slurmctld did not start", [log / "slurmctld.log"], 30))
        subprocess.run([str(_find("slurmd")), "-f", str(conf)], check=True, capture_output=True, env=env)
        started.append(_started(run / "slurmd.pid", "slurmd did not start", [log / "slurmd.log"], 30))

        def idle() -> bool:
            r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=env)
            return r.returncode == 0 and r.stdout.strip() in ("idle", "mixed", "allocated")

        _wait(idle, "the node did not come up idle", [log / "slurmctld.log", log / "slurmd.log"], 60)
        yield env
    except subprocess.CalledProcessError as e:
        raise SlurmUnavailable(f"{Path(e.cmd[0]).name} failed: {(e.stderr or b'').decode(errors='replace')[-300:]}"
                               ) from e
    finally:
        _stop(started, env)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pids: list[int], env: dict[str, str]) -> None:
    """Cancel what is left, let the jobs finish ending, then stop the daemons (slurmd first):
    SIGTERM, and SIGKILL for one still running after 10 s."""
    if len(pids) == len(DAEMONS):
        subprocess.run(["scancel", "--full", "--user", str(os.geteuid())], capture_output=True, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=env)
            if r.returncode != 0 or not r.stdout.strip():
                break
            time.sleep(0.5)
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the daemons on SIGTERM too
    with local_slurm(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/dockdb-slurm")) as e:
        print(f"export SLURM_CONF={e['SLURM_CONF']}")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
