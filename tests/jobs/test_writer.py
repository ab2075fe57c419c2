"""The result writer: idempotent upserts, whole pose sets per transaction, pausing on DB loss."""

from __future__ import annotations

import dataclasses
import re
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
from jobs.writer import DockingOutcome, PoseRow, ResultWriter
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
    poses = [PoseRow(rank=i + 1, score=sc, pdbqt=f"MODEL {i}", sdf=None, score_terms={"inter": sc})
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


def test_write_many_is_one_transaction_idempotent_and_acknowledges_what_committed(db: Database, config) -> None:
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    w.write(_outcome(rid, drugs[0], [-9.0, -8.0, -7.0, -6.0]))  # an earlier run's result, to be replaced
    batch = [_outcome(rid, drugs[0], [-7.5, -6.9]), _outcome(rid, drugs[1], [-5.0]),
             DockingOutcome(rid, drugs[2], "failed", error="metal Hg", attempts=3),
             _outcome(rid, drugs[1], [-5.5, -5.2, -4.0])]  # a key twice in one batch: the last one wins
    stored = w.write_many(batch)
    assert stored == batch and w.transactions == 2  # the single write, then the whole batch in one
    assert _counts(db) == (3, 5)
    with db.session() as s:
        by_drug = {r.drug_id: r for r in s.scalars(select(DockingResult))}
        assert [p.score for p in by_drug[drugs[0]].poses] == [-7.5, -6.9]
        assert [p.rank for p in by_drug[drugs[1]].poses] == [1, 2, 3] and by_drug[drugs[1]].best_score == -5.5
        assert (by_drug[drugs[2]].status, by_drug[drugs[2]].poses) == ("failed", [])
    # the same batch again (a resumed run): the same rows, nothing duplicated
    w.write_many(batch)
    assert _counts(db) == (3, 5)
    assert w.counts == {"done": 7, "failed": 2, "skipped": 0}
    assert w.write_many([]) == [] and w.transactions == 3


@pytest.mark.parametrize("copy_format", ["binary", "text"])
def test_a_result_without_poses_does_not_end_the_batch_s_pose_copy(db: Database, config,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   copy_format: str) -> None:
    """A failed result (no poses) between done ones: every done result keeps its whole pose set.

    On PostgreSQL poses stream into one COPY a result at a time; an empty chunk read as the end
    of the data once dropped the poses of every result after the failed one (CI's kill-worker
    drill: a done result with no poses)."""
    import jobs.writer as writer

    if db.backend != "postgresql" and copy_format == "text":
        pytest.skip("COPY formats are PostgreSQL's")
    if copy_format == "text":
        real_server = writer._server
        monkeypatch.setattr(writer, "_server", lambda conn: dataclasses.replace(real_server(conn), binary=False))
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    batch = [_outcome(rid, drugs[0], [-6.0, -5.0]),
             DockingOutcome(rid, drugs[1], "failed", error="metal Hg", attempts=3),
             _outcome(rid, drugs[2], [-8.0, -7.5, -7.0])]
    assert w.write_many(batch) == batch
    with db.session() as s:
        ranks = {r.drug_id: sorted(p.rank for p in r.poses) for r in s.scalars(select(DockingResult))}
    assert ranks == {drugs[0]: [1, 2], drugs[1]: [], drugs[2]: [1, 2, 3]}


def test_a_done_result_that_lost_its_poses_is_docked_again_on_resume(db: Database, config) -> None:
    """A done result without poses (what the empty-chunk COPY defect left on PostgreSQL) is not
    counted as stored, so `dockdb campaign run` redocks it; failed ones still count."""
    from sqlalchemy import delete

    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    w.write_many([_outcome(rid, drugs[0], [-6.0]), _outcome(rid, drugs[1], [-7.0, -6.5]),
                  DockingOutcome(rid, drugs[2], "failed", error="metal Hg", attempts=3)])
    with db.session() as s:
        lost = s.scalar(select(DockingResult.id).where(DockingResult.drug_id == drugs[1]))
        s.execute(delete(Pose).where(Pose.result_id == lost))
    assert w.existing_keys() == {(rid, drugs[0]), (rid, drugs[2])}
    assert w.existing_keys(("done", "skipped")) == {(rid, drugs[0])}


def test_write_many_stores_a_refused_result_as_failed_and_keeps_the_rest(db: Database, config) -> None:
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid)
    bad = _outcome(rid, drugs[1], [-7.0, -6.0])
    bad.poses[1].rank = 1  # violates uq(result_id, rank): the database refuses this pose set
    batch = [_outcome(rid, drugs[0], [-6.0, -5.0]), bad, _outcome(rid, drugs[2], [-4.0])]
    stored = w.write_many(batch)
    assert [(o.drug_id, o.status) for o in stored] == [(drugs[0], "done"), (drugs[1], "failed"), (drugs[2], "done")]
    assert len(w.rejected) == 1 and w.rejected[0][0] is bad
    assert _counts(db) == (3, 3)  # no half-written pose set: the refused result has none
    with db.session() as s:
        r = s.scalars(select(DockingResult).where(DockingResult.drug_id == drugs[1])).one()
        assert r.status == "failed" and r.poses == []
        assert re.match(r"storing the result failed: \w+: .*(?i:unique|duplicate)", r.error), r.error
        assert r.runtime_s == 1.5


@pytest.mark.parametrize("copy_format", ["binary", "text"])
def test_pose_text_round_trips_exactly(db: Database, config, monkeypatch: pytest.MonkeyPatch,
                                       copy_format: str) -> None:
    """Tabs, backslashes, CR/LF, quotes and non-ASCII survive (PostgreSQL writes poses with a
    binary COPY, or a text COPY where the pose columns have other types than it encodes), and
    large pose texts are TOAST-compressed with lz4 where the server has it."""
    from sqlalchemy import text

    import jobs.writer as writer

    if db.backend != "postgresql" and copy_format == "text":
        pytest.skip("COPY formats are PostgreSQL's")
    copies: list[str] = []
    real_copy, real_server = writer._copy_poses, writer._server

    def copy(conn, sql, chunks):  # type: ignore[no-untyped-def]
        copies.append(sql)
        real_copy(conn, sql, chunks)

    monkeypatch.setattr(writer, "_copy_poses", copy)
    if copy_format == "text":
        monkeypatch.setattr(writer, "_server", lambda conn: dataclasses.replace(real_server(conn), binary=False))
    cid, rid, drugs = _setup(db, config)
    odd = 'REMARK a\ttab, a \\ backslash, \\N, "quotes", é ü 漢\r\nATOM  1\n\\.\n'
    big = "".join(f"ATOM  {i:5d}  C   UNL     1    {i * 0.37:8.3f}{i * 1.1:8.3f}{-i * 0.5:8.3f}\n" for i in range(80))
    poses = [PoseRow(rank=1, score=-7.25, pdbqt=odd, sdf=None, score_terms={"inter": -7.0, "intra": 0.5},
                        interactions=[{"resname": 'HIS"41', "note": "a\tb\\c"}], interactions_error=None),
             PoseRow(rank=2, score=-6.5, pdbqt=big, sdf=odd + big, interactions_error="analysis\tfailed: x\\y")]
    w = ResultWriter(db, cid)
    w.write_many([DockingOutcome(rid, drugs[0], "done", poses=poses, runtime_s=1.0, ligand_smiles="C")])
    with db.session() as s:
        stored = s.execute(select(Pose.pdbqt, Pose.sdf, Pose.score, Pose.score_terms, Pose.interactions,
                                  Pose.interactions_error).order_by(Pose.rank)).all()
        assert [tuple(r) for r in stored] == [
            (odd, None, -7.25, {"inter": -7.0, "intra": 0.5}, [{"resname": 'HIS"41', "note": "a\tb\\c"}], None),
            (big, odd + big, -6.5, {}, [], "analysis\tfailed: x\\y")]
        if db.backend == "postgresql":
            lz4 = s.execute(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                                 "WHERE name = 'default_toast_compression'")).scalar()
            method = s.execute(text("SELECT pg_column_compression(pdbqt) FROM pose WHERE rank = 2")).scalar()
            assert method == ("lz4" if lz4 else "pglz")
    # PostgreSQL: one COPY of the format asked for (binary unless the schema's types differ)
    expected = {"binary": [writer._COPY_BINARY], "text": [writer._COPY_TEXT]}[copy_format]
    assert copies == (expected if db.backend == "postgresql" else [])


def test_unencodable_pose_value_is_stored_as_failed_and_the_rest_kept(db: Database, config) -> None:
    """A value that the binary COPY cannot encode (a rank that is no integer) or that the server
    refuses (NaN in JSON) refuses the batch; each result is then written alone, the bad ones
    stored as failed with the reason, without poses, and the good ones whole."""
    if db.backend != "postgresql":
        pytest.skip("SQLite stores any value in any column")
    cid, rid, drugs = _setup(db, config)
    w = ResultWriter(db, cid, max_wait_s=2)  # an aborted COPY is no lost connection: no waiting for one
    rank = _outcome(rid, drugs[1], [-7.0, -6.0])
    rank.poses[1].rank = "second"  # type: ignore[assignment]
    nan = _outcome(rid, drugs[2], [-5.0])
    nan.poses[0].score_terms = {"inter": float("nan")}
    batch = [rank, _outcome(rid, drugs[0], [-6.0, -5.0]), nan]
    stored = w.write_many(batch)
    assert [o.status for o in stored] == ["failed", "done", "failed"]
    assert [o for o, _ in w.rejected] == [rank, nan]
    assert re.match(r"storing the result failed: ValueError: a pose value cannot be stored: .*integer",
                    stored[0].error or ""), stored[0].error
    assert re.search(r"(?i)json", stored[2].error or ""), stored[2].error
    assert _counts(db) == (3, 2)  # the good result whole, the refused ones without poses
