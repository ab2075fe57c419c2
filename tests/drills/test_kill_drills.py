"""The kill drills of bench/drills/: a worker, the client, the database lost mid-campaign, then resume.

The PostgreSQL drill cuts a TCP proxy in front of the server; the suite never restarts the server itself.
The drills run on PostgreSQL only (the production backend): tests/jobs/test_resume.py already kills
workers and clients on both backends, so repeating that on SQLite would only lengthen the suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.drills import kill_bulk_write, kill_client, kill_worker, pg_restart

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("kill drills run on PostgreSQL; tests/jobs/test_resume.py covers SQLite")


def test_kill_worker_drill(db_url: str, tmp_path: Path, drill_receptors: dict[str, dict[str, Any]]) -> None:
    v = kill_worker.drill(db_url, tmp_path, drill_receptors)
    assert v.ok, v.line()
    assert v.details["killed_pid"] > 0 and 1 <= v.details["results_before_kill"] < 6


def test_kill_client_drill(db_url: str, tmp_path: Path, drill_receptors: dict[str, dict[str, Any]]) -> None:
    v = kill_client.drill(db_url, tmp_path, drill_receptors)
    assert v.ok, v.line()
    assert 1 <= v.details["stored_at_kill"] < 6


def test_database_outage_drill(db_url: str, tmp_path: Path, drill_receptors: dict[str, dict[str, Any]]) -> None:
    v = pg_restart.drill(db_url, tmp_path, drill_receptors, outage_s=3.0, real_restart=False)
    assert v.ok, v.line()
    assert v.details["outage"] == "proxy cut for 3 s" and 1 <= v.details["stored_at_outage"] < 6


def test_kill_client_mid_bulk_transaction_drill(db_url: str, tmp_path: Path,
                                                drill_receptors: dict[str, dict[str, Any]]) -> None:
    v = kill_bulk_write.drill(db_url, tmp_path, drill_receptors, batch=100, n_drugs=200)
    assert v.ok, v.line()
    d = v.details
    assert d["stored_at_kill"] % 100 == 0 and 200 <= d["stored_at_kill"] < 400
    assert d["resumed"] == 400 - d["stored_at_kill"] and d["resume_transactions"] == d["resumed"] // 100
