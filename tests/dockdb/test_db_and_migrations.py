from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from dockdb import models as m
from dockdb.db import Database
from dockdb.migrate import current_revision, head_revision, upgrade
from dockdb.stats import COUNTED, row_counts


def test_upgrade_builds_whole_schema_and_is_idempotent(db_url: str) -> None:
    database = Database(db_url)
    before, after = upgrade(database.engine)
    assert before is None and after == head_revision()
    tables = set(inspect(database.engine).get_table_names())
    assert set(m.Base.metadata.tables) <= tables
    again = upgrade(database.engine)
    assert again == (after, after)
    database.dispose()


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, m.Base.metadata)
    assert diff == []
    assert current_revision(db.engine) == head_revision()


def test_stats_counts_every_kind_of_row(db: Database) -> None:
    counts = row_counts(db)
    assert set(counts) == set(COUNTED)
    assert all(v == 0 for v in counts.values())
    with db.session() as s:
        drug = m.Drug(
            name="Aspirin", name_lower="aspirin", smiles="CC(=O)Oc1ccccc1C(=O)O", inchikey="BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
        )
        s.add(drug)
        s.flush()
        s.add(m.DrugSynonym(drug_id=drug.id, name="acetylsalicylic acid", name_lower="acetylsalicylic acid"))
    counts = row_counts(db)
    assert counts["drugs"] == 1 and counts["synonyms"] == 1 and counts["poses"] == 0


def test_unique_constraints_make_loads_idempotent(db: Database) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    with db.session() as s:
        s.add(m.Target(key="3clpro", name="Mpro"))
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(m.Target(key="3clpro", name="again"))
    with db.session() as s:
        assert s.query(m.Target).count() == 1
