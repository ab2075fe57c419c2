"""`campaign run` (CLI or ``jobs.run.run_campaign``) stores the size-aware scores when the campaign finishes;
`campaign rescore` recomputes them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dockdb.db import Database
from dockdb.models import DockingResult, Drug, SizeScore
from jobs.campaign import CampaignSpec, create_campaign
from jobs.run import RunOptions, run_campaign
from tests.conftest import run_cli
from tests.jobs.conftest import FAST, TEST_LIBRARY


def _sizes(db: Database, cid: int) -> dict[int, tuple[float | None, float, int]]:
    with db.session() as s:
        rows = s.execute(select(SizeScore.result_id, SizeScore.ligand_efficiency, DockingResult.best_score,
                                Drug.heavy_atoms)
                         .join(DockingResult, DockingResult.id == SizeScore.result_id)
                         .join(Drug, Drug.id == DockingResult.drug_id)
                         .where(SizeScore.campaign_id == cid)).all()
    return {r: (le, score, heavy) for r, le, score, heavy in rows}


def test_run_stores_size_aware_scores_and_rescore_recomputes(campaign_db: Database, cli_env: dict[str, str]) -> None:
    cid = int(run_cli(["campaign", "create", "--name", "sz", "--targets", "tmprss2", "--library", TEST_LIBRARY,
                       "--exhaustiveness", "1", "--poses", "2"], env=cli_env).stdout.strip().splitlines()[-1])
    ran = run_cli(["campaign", "run", str(cid), "--local-workers", "1", "--quiet"], env=cli_env)
    assert ran.exit_code == 4  # the mercury compound of the test library cannot be docked
    assert "size-aware scores" in ran.stderr and "for 2 results" in ran.stderr
    sizes = _sizes(campaign_db, cid)
    assert len(sizes) == 2
    for le, score, heavy in sizes.values():
        assert le == pytest.approx(score / heavy, abs=1e-4)
    with campaign_db.session() as s:
        s.execute(SizeScore.__table__.delete())
    again = run_cli(["campaign", "rescore", "sz"], env=cli_env)
    assert again.exit_code == 0 and f"campaign {cid}: size-aware scores for 2 results" in again.stdout
    assert _sizes(campaign_db, cid) == sizes
    missing = run_cli(["campaign", "rescore", "nope"], env=cli_env)
    assert missing.exit_code != 0 and "no campaign 'nope'" in missing.stderr


def test_python_api_run_stores_size_aware_scores_once(campaign_db: Database) -> None:
    """``jobs.run.run_campaign`` itself stores the scores (the CLI only reports them); a run with nothing
    left to do recomputes the same rows instead of adding more."""
    cid = create_campaign(campaign_db, CampaignSpec(name="sz-api", targets="tmprss2", library=TEST_LIBRARY,
                                                    params=FAST))
    summary = run_campaign(campaign_db, cid, RunOptions(local_workers=1, progress=False))
    assert (summary.done, summary.failed, summary.size_scored) == (2, 1, 2)
    sizes = _sizes(campaign_db, cid)
    assert len(sizes) == 2
    for le, score, heavy in sizes.values():
        assert le == pytest.approx(score / heavy, abs=1e-4)
    again = run_campaign(campaign_db, cid, RunOptions(local_workers=1, progress=False))
    assert (again.todo, again.size_scored) == (0, 2)
    assert _sizes(campaign_db, cid) == sizes
