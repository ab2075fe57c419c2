"""The result writer: idempotent upserts, whole pose sets per transaction, pausing on DB loss."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select

from bench.drills._common import TcpProxy as _Proxy
from dockdb.db import Database
from dockdb.errors import DatabaseError
from dockdb.models import Campaign, DockingResult, Pose
from jobs.writer import DockingOutcome, PoseRecord, ResultWriter
from tests.jobs.conftest import add_library, load_targets


def _setup(db: Database, config) -> tuple[int, int, list[int]]:
    """A campaign row with one receptor row (unprepared text is fine for the writer)."""
    from dockdb.models import Receptor, Target

    load_targets(db, config)
    drugs = add_library(db)
    with db.session() as s:
        tid = s.scalar(select(Target.id).where(Target.key == "tmprss2"))
        rec = Receptor(target_id=tid, input_hash="h" * 64, protocol_version="test", pdb="END", pdbqt="END")
        c = Campaign(name="w", engine="vina", seed=1)
        s.add_all([rec, c])
        s.flush()
        return c.id, rec.id, list(drugs.values())


def _outcome(rid: int, did: int, scores: list[float]) -> DockingOutcome:
    poses = [PoseRecord(rank=i + 1, score=sc, pdbqt=f"MODEL {i}", sdf=None, score_terms={"inter": sc})
             for i, sc in enumerate(scores)]
    return DockingOutcome(rid, did, "done", poses=poses, runtime_s=1.5, ligand_smiles="C")


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(DockingResult)),
                s.scalar(select(func.count()).select_from(Pose)))


def test_upsert_is_idempotent_and_replaces_pose_sets(db: Database, config) -> None:
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    first = w.write(_outcome(rid, drugs[0], [-7.0, -6.5, -6.0]))
    w.write(_outcome(rid, drugs[1], [-5.0]))
    assert _counts(db) == (2, 4)
    # the same key again (a resumed run): same row, pose set replaced, nothing duplicated
    again = w.write(_outcome(rid, drugs[0], [-7.5, -6.9]))
    assert again == first
    assert _counts(db) == (2, 3)
    with db.session() as s:
        r = s.get(DockingResult, first)
        assert (r.status, r.best_score, [p.score for p in r.poses]) == ("done", -7.5, [-7.5, -6.9])
    # a failure replaces poses with none
    w.write(DockingOutcome(rid, drugs[0], "failed", error="boom", attempts=3))
    with db.session() as s:
        r = s.get(DockingResult, first)
        assert (r.status, r.error, r.attempts, r.best_score, r.poses) == ("failed", "boom", 3, None, [])
    assert _counts(db) == (2, 1)
    assert w.existing_keys() == {(rid, drugs[0]), (rid, drugs[1])}
    assert w.existing_keys(("done",)) == {(rid, drugs[1])}
    assert w.counts == {"done": 3, "failed": 1, "skipped": 0}


def test_interaction_failures_are_stored_per_pose(db: Database, config) -> None:
    cid, rid, drugs = _setup(db, config)
    o = _outcome(rid, drugs[0], [-7.0, -6.0])
    o.poses[0].interactions = [{"chain": "A", "resnum": 41, "resname": "HIS", "type": "Hydrophobic"}]
    o.poses[1].interactions_error = "interaction analysis failed: boom"
    ResultWriter(db, cid).write(o)
    with db.session() as s:
        stored = s.execute(select(Pose.rank, Pose.interactions, Pose.interactions_error).order_by(Pose.rank)).all()
    assert [tuple(r) for r in stored] == [(1, o.poses[0].interactions, None),
                                          (2, [], "interaction analysis failed: boom")]


def test_pose_set_is_all_or_nothing(db: Database, config) -> None:
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    # a duplicated rank violates uq(result_id, rank): the whole result must roll back
    bad = _outcome(rid, drugs[0], [-7.0, -6.0])
    bad.poses[1].rank = 1
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        w.write(bad)
    assert _counts(db) == (0, 0)


def _until(condition: Callable[[], bool], limit_s: float = 60.0) -> bool:
    """Poll ``condition`` until true (True) or ``limit_s`` passes (False)."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.postgres
def test_database_outage_pauses_and_resumes(db: Database, config) -> None:
    if db.backend != "postgresql":
        pytest.skip("network outage applies to a database server")
    cid, rid, drugs = _setup(db, config)
    parts = urlsplit(db.url)
    proxy = _Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
    via = Database(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)))
    try:
        w = ResultWriter(via, cid, max_wait_s=60)
        w.write(_outcome(rid, drugs[0], [-6.0]))
        assert w.pauses == 0
        proxy.cut()
        # the server comes back once the writer has paused twice (a counter, not a clock)
        restorer = threading.Thread(target=lambda: _until(lambda: w.pauses >= 2) and proxy.restore(), daemon=True)
        restorer.start()
        w.write(_outcome(rid, drugs[1], [-5.0, -4.0]))  # waits through the outage, then lands
        restorer.join(5)
        assert w.pauses >= 2
        assert _counts(db) == (2, 3)
        # an outage longer than max_wait_s ends with one clear line, results so far kept: the
        # backoff waits 0.25, 0.5 and 1 s, then the 1.75 s waited exceed max_wait_s = 1
        w.max_wait_s = 1.0
        pauses = w.pauses
        proxy.cut()
        with pytest.raises(DatabaseError, match=r"lost database .* for 2 s .* run the campaign again"):
            w.write(_outcome(rid, drugs[2], [-3.0]))
        assert w.pauses - pauses == 3
        assert _counts(db) == (2, 3)
    finally:
        via.dispose()
        proxy.close()
