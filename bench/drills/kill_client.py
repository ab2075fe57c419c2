"""Drill: SIGKILL the `dockdb campaign run` client in the middle of a campaign, then resume it.

PASS: after the kill the campaign is incomplete; `dockdb campaign run` docks only what is
missing and the campaign holds exactly 6 results (4 done, 2 failed), no duplicate
(campaign, receptor, drug) key and no half-written pose set.

    .venv/bin/python bench/drills/kill_client.py [--backend sqlite|postgres]
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills._campaign import (
    EXPECTED,
    campaign_problems,
    n_results,
    open_campaign,
    reap,
    resume,
    resume_problems,
    start_run,
    wait_for_results,
)
from bench.drills._common import Verdict, scratch_drill_main

NAME = "kill_client"


def drill(db_url: str, workdir: Path, receptors: dict[str, dict[str, Any]] | None = None) -> Verdict:
    from jobs.campaign import campaign_status

    v = Verdict(NAME)
    total = sum(EXPECTED.values())
    db, cid, env = open_campaign(db_url, workdir, "drill-kill-client", receptors)
    try:
        proc = start_run(cid, env, batch_size=1)
        try:
            if not wait_for_results(db, cid, proc):
                v.problems.append(f"the client ended (exit {proc.poll()}) or stalled before storing a result")
                return v
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            reap(proc)
        before = n_results(db, cid)
        st = campaign_status(db, cid)
        if not 1 <= before < total:
            v.problems.append(f"{before}/{total} results stored at the kill; the drill needs a run in the middle")
        if st["missing"] != total - before:
            v.problems.append(f"status reports {st['missing']} missing, expected {total - before}")
        rc, out, err = resume(cid, env)
        v.problems += resume_problems(rc, out, err)
        m = re.search(r": (\d+) done, (\d+) failed, 0 skipped", out)
        ran = int(m.group(1)) + int(m.group(2)) if m else -1
        if ran != total - before:
            v.problems.append(f"the resume docked {ran} pairs, expected only the {total - before} missing")
        v.problems += campaign_problems(db, cid)
        v.details = {"stored_at_kill": before, "status_after_kill": st["status"], "resume": out.strip()}
        v.summary = (f"client pid {proc.pid} SIGKILLed with {before}/{total} results stored (status "
                     f"{st['status']}); resume docked the {ran} missing, exit {rc}; {total} results "
                     "(4 done, 2 failed), 0 duplicates, 0 partial pose sets")
    finally:
        db.dispose()
    return v


def main(argv: list[str] | None = None) -> int:
    return scratch_drill_main(NAME, __doc__.splitlines()[0], drill, argv)


if __name__ == "__main__":
    sys.exit(main())
