"""Migration 0006: ``ix_pose_result_id`` dropped; the unique (result_id, rank) index serves result_id."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from dockdb.db import Database
from dockdb.migrate import alembic_config, current_revision, upgrade

INDEX = "ix_pose_result_id"


def _pose_indexes(engine: Engine) -> set[str]:
    return {ix["name"] for ix in inspect(engine).get_indexes("pose") if ix["name"]}


def _plan(engine: Engine, query: str) -> str:
    """The query plan of *query* (PostgreSQL: sequential scans priced out, so an index that can
    serve the query is the plan; SQLite: its query plan)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            lines = [str(r[0]) for r in conn.execute(text(f"EXPLAIN {query}"))]
        else:
            lines = [str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}"))]
        return "\n".join(lines)


def test_upgrade_drops_the_index_and_downgrade_restores_it(db_url: str) -> None:
    database = Database(db_url)
    upgrade(database.engine, "0005")
    assert INDEX in _pose_indexes(database.engine)
    upgrade(database.engine)
    assert current_revision(database.engine) == "0006"
    assert INDEX not in _pose_indexes(database.engine)
    uniques = inspect(database.engine).get_unique_constraints("pose")
    assert [u["column_names"] for u in uniques] == [["result_id", "rank"]]
    command.downgrade(alembic_config(database.engine), "0005")
    assert INDEX in _pose_indexes(database.engine)
    upgrade(database.engine)
    assert INDEX not in _pose_indexes(database.engine)
    database.dispose()


def test_lookups_by_result_id_still_use_an_index(db: Database) -> None:
    assert INDEX not in _pose_indexes(db.engine)
    lookups = ["SELECT id, rank FROM pose WHERE result_id = 1",
               "DELETE FROM pose WHERE result_id IN (1, 2, 3)"]
    if db.engine.dialect.name == "postgresql":  # the writer deletes a batch's old poses this way
        lookups.append("DELETE FROM pose WHERE result_id = ANY(ARRAY[1, 2, 3])")
    for query in lookups:
        plan = _plan(db.engine, query)
        if db.engine.dialect.name == "postgresql":
            assert "uq_pose_result_id_rank" in plan, plan
        else:
            assert plan.startswith("SEARCH pose USING") and "INDEX" in plan and "(result_id=?)" in plan, plan
